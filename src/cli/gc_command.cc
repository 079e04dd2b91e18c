// gg gc: drops what nothing refers to and, with --max-size, evicts the least
// recently used objects until the store fits (the per-user store is a cache).
// Everything goes through LocalStore, which never leaves a partial object
// under a valid name.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <optional>
#include <set>

#include "cli/command.h"
#include "core/byte_size.h"
#include "core/hash_cache.h"
#include "core/tree.h"
#include "sandbox/input_view.h"
#include "gg/thunk.h"

namespace gg::cli {
namespace {

constexpr char kUsage[] =
    "usage: gg gc [--max-size SIZE]\n\n"
    "Drops what nothing refers to: values and trees that no stored thunk uses\n"
    "and no reduction names as an output, their executable copies and\n"
    "materialized trees, reductions of thunks whose outputs are gone, and\n"
    "scratch files left by gg processes that are no longer running. Input\n"
    "views (a sandbox's many inputs as one directory of links) that no\n"
    "running thunk holds are dropped too, and made again when next needed.\n"
    "The hash cache's log keeps only each file's last line.\n"
    "Thunks and the outputs they reduced to are kept.\n\n"
    "  --max-size SIZE   then evict the least recently used objects (and the\n"
    "                    trees holding them) until the store holds at most SIZE\n"
    "                    bytes (suffixes K, M, G: powers of 1024). What is\n"
    "                    evicted is made or fetched again when next needed.\n\n"
    "Prints what it freed. Exit status: 0, 2 bad usage, 3 an object could not\n"
    "be read or removed (named).\n";

struct Gc {
  explicit Gc(LocalStore* s) : store(s) {}
  LocalStore* store;
  std::vector<std::string> errors;
  size_t objects = 0;
  uint64_t freed = 0;
  size_t reductions_dropped = 0;

  void Error(const Status& s) { errors.push_back(s.message()); }

  std::vector<Name> TreeFiles(const Name& tree_name) {
    std::vector<Name> files;
    auto bytes = store->Get(tree_name);
    if (!bytes.ok()) return files;  // being removed, or not a tree we can read: nothing to keep alive
    auto tree = Tree::Parse(*bytes);
    if (!tree.ok()) return files;
    for (const auto& e : tree->entries) {
      if (e.kind == TreeEntry::Kind::kFile) files.push_back(e.name.object());
    }
    return files;
  }

  void Remove(const Name& n) {
    auto r = store->RemoveObject(n);
    if (!r.ok()) return Error(r.status());
    objects++;
    freed += *r;
  }

  // Reductions whose outputs are no longer all in the store are misses:
  // drop them. Returns the outputs of the others.
  std::set<std::string> DropStaleReductions() {
    std::set<std::string> outputs;
    auto thunks = store->reductions().List();
    if (!thunks.ok()) {
      Error(thunks.status());
      return outputs;
    }
    for (const Name& t : *thunks) {
      auto r = store->reductions().Get(t);
      bool keep = r.ok() && r->has_value();
      if (keep) {
        for (const auto& o : (*r)->outputs) keep = keep && store->Has(o.name);
      }
      if (keep) {
        for (const auto& o : (*r)->outputs) outputs.insert(o.name.object().str());
        continue;
      }
      if (Status s = store->reductions().Remove(t); !s.ok()) Error(s);
      else reductions_dropped++;
    }
    return outputs;
  }
};

}  // namespace

int GcMain(int argc, char** argv) {
  if (WantsHelp(argc, argv)) {
    std::printf("%s", kUsage);
    return kExitOk;
  }
  std::optional<uint64_t> max_size;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i], value;
    if (a == "--max-size" && i + 1 < argc) value = argv[++i];
    else if (a.starts_with("--max-size=")) value = a.substr(11);
    else {
      std::fprintf(stderr, "gg gc: unknown argument '%s'\n%s", a.c_str(), kUsage);
      return kExitUsage;
    }
    auto size = value == "0" ? Result<uint64_t>(uint64_t{0}) : ParseByteSize(value);  // 0: keep nothing unneeded
    if (!size.ok()) {
      std::fprintf(stderr, "gg gc: bad size for --max-size: %s\n", size.status().message().c_str());
      return kExitUsage;
    }
    max_size = *size;
  }
  auto store = OpenStoreOrComplain();
  if (!store) return kExitError;
  Gc gc(store.get());

  // Input views first: their hard links would keep removed blobs' space.
  auto views = RemoveViews(store.get());
  if (!views.ok()) gc.Error(views.status());

  auto listed = store->ListObjects();
  if (!listed.ok()) return Fail(listed.status());
  std::vector<LocalStore::ObjectInfo> objects = std::move(*listed);

  // What a stored thunk or a kept reduction names is live, and so is every
  // file of a live tree.
  std::set<std::string> live = gc.DropStaleReductions();
  for (const auto& o : objects) {
    if (!o.name.is_thunk()) continue;
    live.insert(o.name.str());
    auto bytes = store->Get(o.name);
    if (!bytes.ok()) {
      gc.Error(bytes.status());
      continue;
    }
    auto thunk = Thunk::Parse(*bytes);
    if (!thunk.ok()) {
      gc.Error(thunk.status().Prefix("thunk " + o.name.str()));
      continue;
    }
    for (const auto& in : thunk->inputs) {
      auto n = Name::Parse(in.name);
      live.insert(n.ok() ? n->object().str() : in.name);
    }
  }
  // Which trees hold each file, so that evicting a file evicts them too: a
  // tree must never stand with a member missing.
  std::map<std::string, std::vector<Name>> holders;
  for (const auto& o : objects) {
    if (o.name.type() != ObjectType::kTree) continue;
    for (const Name& f : gc.TreeFiles(o.name)) {
      holders[f.str()].push_back(o.name);
      if (live.count(o.name.str())) live.insert(f.str());
    }
  }
  std::vector<LocalStore::ObjectInfo> kept;
  for (const auto& o : objects) {
    if (live.count(o.name.str())) kept.push_back(o);
    else gc.Remove(o.name);
  }

  size_t evicted = 0;
  uint64_t total = 0;
  for (const auto& o : kept) total += o.bytes;
  if (max_size && total > *max_size) {
    std::sort(kept.begin(), kept.end(), [](const auto& a, const auto& b) { return a.last_use < b.last_use; });
    std::map<std::string, uint64_t> size_of;
    for (const auto& o : kept) size_of[o.name.str()] = o.bytes;
    std::set<std::string> gone;
    auto evict = [&](const Name& n) {
      if (!gone.insert(n.str()).second) return;
      size_t before = gc.objects;
      gc.Remove(n);
      if (gc.objects > before) {
        evicted++;
        total -= std::min(total, size_of[n.str()]);
      }
    };
    for (const auto& o : kept) {
      if (total <= *max_size) break;
      evict(o.name);
      for (const Name& t : holders[o.name.str()]) evict(t);
    }
    gc.DropStaleReductions();
  }
  auto scratch = store->RemoveStaleScratch();
  if (!scratch.ok()) gc.Error(scratch.status());
  // Last: the lines this gc appended (the blobs' new ctimes) are kept, the
  // ones they replace dropped.
  auto compacted = HashCache::Compact(store->dir() + "/hashcache");
  if (!compacted.ok()) gc.Error(compacted.status().Prefix("compacting the hash cache"));

  std::string lru = evicted ? ", " + std::to_string(evicted) + " of them least recently used" : "";
  std::printf("gg gc: removed %zu objects (%s)%s, %zu stale reductions, %zu scratch files, %zu input views, %zu "
              "outdated hash cache lines; the store holds %s\n",
              gc.objects, Bytes(gc.freed).c_str(), lru.c_str(), gc.reductions_dropped, scratch.ok() ? *scratch : 0,
              views.ok() ? *views : 0, compacted.ok() ? compacted->lines - compacted->kept : 0, Bytes(total).c_str());
  for (const auto& e : gc.errors) std::fprintf(stderr, "gg gc: %s\n", e.c_str());
  if (!gc.errors.empty()) {
    std::fprintf(stderr, "gg gc: %zu error%s (above); what could be removed was\n", gc.errors.size(),
                 gc.errors.size() == 1 ? "" : "s");
    return kExitError;
  }
  return kExitOk;
}

}  // namespace gg::cli
