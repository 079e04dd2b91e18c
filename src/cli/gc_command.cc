#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <set>

#include "cli/command.h"
#include "core/path_util.h"
#include "core/tree.h"
#include "gg/thunk.h"

namespace gg::cli {
namespace {

namespace fs = std::filesystem;

// True if a scratch entry's name carries the pid of a live process.
bool OwnerAlive(const std::string& entry) {
  // Temporary names are "<kind>.<pid>.<thread>.<n>" or "<file>.tmp.<pid>...".
  size_t pos = entry.find(".tmp.");
  pos = pos == std::string::npos ? entry.find('.') : pos + 4;
  if (pos == std::string::npos) return false;
  long pid = std::strtol(entry.c_str() + pos + 1, nullptr, 10);
  return pid > 0 && (kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM);
}

}  // namespace

int GcMain(int argc, char** argv) {
  if (WantsHelp(argc, argv) || argc != 1) {
    std::fprintf(WantsHelp(argc, argv) ? stdout : stderr,
                 "usage: gg gc\n\n"
                 "Drops what nothing refers to: values and trees that no stored thunk uses\n"
                 "and no reduction names as an output, their executable copies and\n"
                 "materialized trees, reductions of thunks whose outputs are gone, and\n"
                 "scratch files left by gg processes that are no longer running.\n"
                 "Thunks and the outputs they reduced to are kept.\n");
    return WantsHelp(argc, argv) ? kExitOk : kExitUsage;
  }
  auto store = OpenStoreOrComplain();
  if (!store) return kExitError;
  const std::string dir = store->dir();
  std::set<std::string> live;
  std::error_code ec;

  auto mark_tree = [&](const std::string& name) {
    auto n = Name::Parse(name);
    if (!n.ok() || n->type() != ObjectType::kTree) return;
    auto bytes = store->Get(*n);
    if (!bytes.ok()) return;
    auto tree = Tree::Parse(*bytes);
    if (!tree.ok()) return;
    for (const auto& e : tree->entries) {
      if (e.kind == TreeEntry::Kind::kFile) live.insert(e.name.str());
    }
  };
  for (const auto& entry : fs::directory_iterator(dir + "/blobs", ec)) {
    std::string name = entry.path().filename().string();
    if (name.empty() || name[0] != 'T') continue;
    live.insert(name);
    auto bytes = ReadFile(entry.path().string());
    if (!bytes.ok()) continue;
    auto thunk = Thunk::Parse(*bytes);
    if (!thunk.ok()) continue;
    for (const auto& in : thunk->inputs) {
      live.insert(in.name);
      mark_tree(in.name);
    }
  }
  size_t reductions_dropped = 0;
  for (const auto& entry : fs::directory_iterator(dir + "/reductions", ec)) {
    auto thunk = Name::Parse(entry.path().filename().string());
    auto r = thunk.ok() ? store->reductions().Get(*thunk) : Result<std::optional<Reduction>>(thunk.status());
    bool keep = r.ok() && r->has_value();
    if (keep) {
      for (const auto& o : (*r)->outputs) {
        keep = keep && store->Has(o.name);
        live.insert(o.name.str());
        mark_tree(o.name.str());
      }
    }
    if (!keep && entry.path().filename().string().find(".tmp.") == std::string::npos) {
      fs::remove(entry.path(), ec);
      reductions_dropped++;
    }
  }
  size_t objects = 0;
  uint64_t bytes_freed = 0;
  for (const char* sub : {"blobs", "blobs-x", "trees"}) {
    for (const auto& entry : fs::directory_iterator(dir + "/" + sub, ec)) {
      std::string name = entry.path().filename().string();
      bool temp = name.find(".tmp.") != std::string::npos;
      if (temp ? OwnerAlive(name) : live.count(name) > 0) continue;
      if (!temp && std::string(sub) == "blobs") {
        objects++;
        bytes_freed += entry.file_size(ec);
      }
      RemoveTree(entry.path().string());
    }
  }
  for (const auto& entry : fs::directory_iterator(dir + "/tmp", ec)) {
    if (!OwnerAlive(entry.path().filename().string())) RemoveTree(entry.path().string());
  }
  std::printf("removed %zu objects (%llu bytes) and %zu stale reductions\n", objects,
              static_cast<unsigned long long>(bytes_freed), reductions_dropped);
  return kExitOk;
}

}  // namespace gg::cli
