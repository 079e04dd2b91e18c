// The executor: runs one thunk whose inputs are all values or trees. It
// materializes the inputs from the local store, runs the function in a
// sandbox, and moves the declared outputs into the store.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "core/exec_result.h"
#include "core/local_store.h"
#include "core/reduction.h"
#include "gg/thunk.h"
#include "sandbox/sandbox.h"

namespace gg {

class Executor {
 public:
  using Id = sandbox::Server::Id;
  using Callback = std::function<void(ExecResult)>;

  Executor(LocalStore* store, sandbox::Server* server) : store_(store), server_(server) {}

  /// Starts `thunk` (which must have no thunk inputs left); `done` is called
  /// once, from another thread. Returns an id for Cancel. `force_limits`
  /// (gg force --limit-*) apply where the thunk sets no limit of its own.
  Result<Id> Start(const Thunk& thunk, Callback done, const ThunkLimits& force_limits = {});
  void Cancel(Id id) { server_->Kill(id); }
  /// Runs a thunk to completion.
  ExecResult Run(const Thunk& thunk, const ThunkLimits& force_limits = {});

 private:
  LocalStore* store_;
  sandbox::Server* server_;
};

}  // namespace gg
