// `gg describe` and `gg cat`: looking at objects.
#include <unistd.h>

#include <cstdio>
#include <cstring>

#include "core/byte_size.h"
#include "cli/command.h"
#include "coordinator/trace.h"
#include "core/tree.h"
#include "gg/thunk.h"

namespace gg::cli {
namespace {

std::string JsonList(const std::vector<std::string>& items) {
  std::string out = "[";
  for (size_t i = 0; i < items.size(); ++i) out += (i ? "," : "") + JsonString(items[i]);
  return out + "]";
}

void DescribeThunk(LocalStore* store, const Name& name, const Thunk& t, bool json) {
  auto reduction = store->reductions().Get(name);
  if (json) {
    std::string out = "{\"name\":" + JsonString(name.str()) + ",\"type\":\"thunk\",\"function\":" +
                      JsonString(t.function) + ",\"args\":" + JsonList(t.args) + ",\"env\":" + JsonList(t.env) +
                      ",\"inputs\":[";
    for (size_t i = 0; i < t.inputs.size(); ++i) {
      const auto& in = t.inputs[i];
      out += std::string(i ? "," : "") + "{\"name\":" + JsonString(in.name) + ",\"path\":" + JsonString(in.path) +
             ",\"sandbox_path\":" + JsonString(t.SandboxPath(in)) +
             ",\"executable\":" + (in.executable ? "true" : "false") + "}";
    }
    out += "],\"outputs\":" + JsonList(t.outputs) + ",\"timeout_ms\":" + std::to_string(t.timeout_ms) +
           ",\"workdir\":" + JsonString(t.effective_workdir());
    if (t.limits.any()) {
      const ThunkLimits& l = t.limits;
      out += ",\"limits\":{\"memory_bytes\":" + std::to_string(l.memory_bytes) +
             ",\"processes\":" + std::to_string(l.processes) + ",\"tmp_bytes\":" + std::to_string(l.tmp_bytes) +
             ",\"file_bytes\":" + std::to_string(l.file_bytes) +
             ",\"workdir_bytes\":" + std::to_string(l.workdir_bytes) + "}";
    }
    if (reduction.ok() && reduction->has_value()) {
      out += ",\"reduction\":{";
      const auto& outs = (*reduction)->outputs;
      for (size_t i = 0; i < outs.size(); ++i) {
        out += std::string(i ? "," : "") + JsonString(outs[i].tag) + ":" + JsonString(outs[i].name.str());
      }
      out += "}";
    }
    std::printf("%s}\n", out.c_str());
    return;
  }
  std::printf("thunk %s\n  function: %s\n  args:", name.str().c_str(), t.function.c_str());
  for (const auto& a : t.args) std::printf(" %s", a.c_str());
  std::printf("\n  workdir: %s\n", t.effective_workdir().c_str());
  if (t.timeout_ms) std::printf("  timeout: %.3f s\n", t.timeout_ms / 1000.0);
  // Only the thunk's own; the others come from the force that runs it.
  const ThunkLimits& l = t.limits;
  if (l.memory_bytes) std::printf("  limit: memory %s\n", FormatBytes(l.memory_bytes).c_str());
  if (l.processes) std::printf("  limit: %llu processes\n", static_cast<unsigned long long>(l.processes));
  if (l.tmp_bytes) std::printf("  limit: /tmp and /dev/shm %s each\n", FormatBytes(l.tmp_bytes).c_str());
  if (l.file_bytes) std::printf("  limit: %s per file\n", FormatBytes(l.file_bytes).c_str());
  if (l.workdir_bytes) std::printf("  limit: work dir %s\n", FormatBytes(l.workdir_bytes).c_str());
  for (const auto& e : t.env) std::printf("  env: %s\n", e.c_str());
  for (const auto& in : t.inputs) {
    std::printf("  input: %s at %s%s\n", in.name.c_str(), t.SandboxPath(in).c_str(), in.executable ? " (executable)" : "");
  }
  for (const auto& o : t.outputs) std::printf("  output: %s\n", o.c_str());
  if (reduction.ok() && reduction->has_value()) {
    for (const auto& o : (*reduction)->outputs) std::printf("  reduced: %s -> %s\n", o.tag.c_str(), o.name.str().c_str());
  }
}

}  // namespace

int DescribeMain(int argc, char** argv) {
  bool json = argc > 1 && std::strcmp(argv[1], "--json") == 0;
  int first = json ? 2 : 1;
  if (WantsHelp(argc, argv) || argc != first + 1) {
    std::fprintf(WantsHelp(argc, argv) ? stdout : stderr,
                 "usage: gg describe [--json] NAME\n\nShows a thunk (its function, arguments, inputs\n"
                 "and where it sees them, outputs, and its reduction if it has one), a tree's\n"
                 "entries, or a value's size.\n");
    return WantsHelp(argc, argv) ? kExitOk : kExitUsage;
  }
  auto store = OpenStoreOrComplain();
  if (!store) return kExitError;
  auto name = Name::Parse(argv[first]);
  if (!name.ok()) return Fail(name.status());
  if (name->type() == ObjectType::kValue) {
    bool present = store->Has(*name);
    if (json) {
      std::printf("{\"name\":%s,\"type\":\"value\",\"size\":%llu,\"present\":%s}\n", JsonString(name->str()).c_str(),
                  static_cast<unsigned long long>(name->size()), present ? "true" : "false");
    } else {
      std::printf("value %s\n  size: %llu bytes\n  in store: %s\n", name->str().c_str(),
                  static_cast<unsigned long long>(name->size()), present ? "yes" : "no");
    }
    return kExitOk;
  }
  auto bytes = store->Get(*name);
  if (!bytes.ok()) return Fail(bytes.status());
  if (name->type() == ObjectType::kTree) {
    auto tree = Tree::Parse(*bytes);
    if (!tree.ok()) return Fail(tree.status());
    if (json) std::printf("{\"name\":%s,\"type\":\"tree\",\"entries\":[", JsonString(name->str()).c_str());
    else std::printf("tree %s\n", name->str().c_str());
    bool firstEntry = true;
    for (const auto& e : tree->entries) {
      const char* kind = e.kind == TreeEntry::Kind::kDir ? "dir" : e.kind == TreeEntry::Kind::kSymlink ? "symlink" : "file";
      std::string what = e.kind == TreeEntry::Kind::kFile ? e.name.str() : e.target;
      if (json) {
        std::printf("%s{\"path\":%s,\"kind\":\"%s\",\"executable\":%s,\"object\":%s}", firstEntry ? "" : ",",
                    JsonString(e.path).c_str(), kind, e.executable ? "true" : "false", JsonString(what).c_str());
      } else {
        std::printf("  %-7s %s %s%s\n", kind, e.path.c_str(), what.c_str(), e.executable ? " (executable)" : "");
      }
      firstEntry = false;
    }
    if (json) std::printf("]}\n");
    return kExitOk;
  }
  auto thunk = Thunk::Parse(*bytes);
  if (!thunk.ok()) return Fail(thunk.status().Prefix(name->str()));
  DescribeThunk(store.get(), *name, *thunk, json);
  return kExitOk;
}

int CatMain(int argc, char** argv) {
  if (WantsHelp(argc, argv) || argc != 2) {
    std::fprintf(WantsHelp(argc, argv) ? stdout : stderr,
                 "usage: gg cat NAME\n\nWrites an object's content to stdout, after checking it against its name.\n"
                 "For T...#TAG or a reduced thunk, writes the output it reduced to.\n");
    return WantsHelp(argc, argv) ? kExitOk : kExitUsage;
  }
  auto store = OpenStoreOrComplain();
  if (!store) return kExitError;
  auto name = Name::Parse(argv[1]);
  if (!name.ok()) return Fail(name.status());
  Name target = *name;
  if (name->has_tag()) {
    auto r = store->reductions().Get(*name);
    if (!r.ok()) return Fail(r.status());
    const ReductionOutput* out = r->has_value() ? (*r)->Find(name->tag()) : nullptr;
    if (out == nullptr) return Fail(Status::NotFound("no output " + name->str() + ": force the thunk first"));
    target = out->name;
  }
  // A reduced thunk stands for its first output (through any thunks it
  // tail-called); an unreduced one is printed as it is.
  for (int hops = 0; target.is_thunk() && hops < 1000; ++hops) {
    auto r = store->reductions().Get(target);
    if (!r.ok()) return Fail(r.status());
    const ReductionOutput* out = r->has_value() ? (*r)->Find("") : nullptr;
    if (out == nullptr) break;
    target = out->name;
  }
  auto content = store->Get(target);
  if (!content.ok()) return Fail(content.status());
  size_t done = 0;
  while (done < content->size()) {
    ssize_t n = write(1, content->data() + done, content->size() - done);
    if (n <= 0) return kExitError;
    done += n;
  }
  return kExitOk;
}

}  // namespace gg::cli
