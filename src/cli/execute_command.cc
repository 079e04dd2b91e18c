#include <cstdio>

#include "cli/command.h"
#include "sandbox/executor.h"

namespace gg::cli {
namespace {

// The value a thunk output reduced to, following tail recursion.
Result<Name> ResolveOutput(LocalStore* store, Name ref) {
  for (int depth = 0; depth < 10000; ++depth) {
    GG_ASSIGN_OR_RETURN(auto r, store->reductions().Get(ref));
    if (!r.has_value()) {
      return Status::NotFound("thunk " + ref.object().str() + " has not been forced yet; 'gg force' it (or this thunk)");
    }
    if (r->outputs[0].name.is_thunk()) {
      ref = r->outputs[0].name.WithTag(ref.tag());
      continue;
    }
    const ReductionOutput* out = r->Find(ref.tag());
    if (out == nullptr) return Status::NotFound("thunk " + ref.object().str() + " has no output '" + ref.tag() + "'");
    return out->name;
  }
  return Status::Invalid("tail recursion from " + ref.str() + " does not end");
}

}  // namespace

int ExecuteMain(int argc, char** argv) {
  if (WantsHelp(argc, argv) || argc != 2) {
    std::fprintf(argc != 2 && !WantsHelp(argc, argv) ? stderr : stdout,
                 "usage: gg execute THUNK-NAME\n\n"
                 "Runs one thunk in the hermetic sandbox (private user, mount, pid and network\n"
                 "namespaces holding only its inputs), stores its outputs, records the\n"
                 "reduction and prints 'TAG NAME' per output. The thunks it depends on must\n"
                 "already be reduced. It runs even if the thunk is already reduced.\n");
    return argc != 2 && !WantsHelp(argc, argv) ? kExitUsage : kExitOk;
  }
  auto store = OpenStoreOrComplain();
  if (!store) return kExitError;
  auto name = Name::Parse(argv[1]);
  if (!name.ok()) return Fail(name.status());
  auto bytes = store->Get(*name);
  if (!bytes.ok()) return Fail(bytes.status());
  auto thunk = Thunk::Parse(*bytes);
  if (!thunk.ok()) return Fail(thunk.status().Prefix(name->str()));
  for (auto& in : thunk->inputs) {
    auto n = Name::Parse(in.name);
    if (!n.ok() || !n->is_thunk()) continue;
    auto value = ResolveOutput(store.get(), *n);
    if (!value.ok()) return Fail(value.status());
    in.name = value->str();
  }
  auto server = sandbox::Server::Start();
  if (!server.ok()) return Fail(server.status());
  Executor executor(store.get(), server->get());
  ExecResult r = executor.Run(*thunk);
  if (!r.ok()) {
    std::fprintf(stderr, "gg: thunk %s: %s\n", name->str().c_str(), r.message.c_str());
    if (!r.stderr_tail.empty()) std::fprintf(stderr, "stderr:\n%s", r.stderr_tail.c_str());
    return r.infrastructure_failure() ? kExitError : kExitThunkFailed;
  }
  if (Status s = store->reductions().Put(*name, r.reduction); !s.ok()) return Fail(s);
  for (const auto& o : r.reduction.outputs) std::printf("%s %s\n", o.tag.c_str(), o.name.str().c_str());
  return kExitOk;
}

}  // namespace gg::cli
