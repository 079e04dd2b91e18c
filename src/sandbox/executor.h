// The executor: runs one thunk whose inputs are all values or trees. It
// materializes the inputs from the local store, runs the function in a
// sandbox, and moves the declared outputs into the store.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "core/local_store.h"
#include "core/reduction.h"
#include "gg/thunk.h"
#include "sandbox/sandbox.h"

namespace gg {

/// How one execution ended. The kinds are distinct so the coordinator can
/// tell a program's failure (final) from infrastructure trouble (retried).
struct ExecResult {
  enum class Kind {
    kOk,
    kNonzeroExit,    ///< the program exited with exit_code != 0
    kSignaled,       ///< the program died of `signal`
    kMissingOutput,  ///< it exited 0 but left no file for a declared output
    kTimedOut,       ///< it ran past the thunk's timeout and was killed
    kSetupFailed,    ///< inputs could not be materialized or the sandbox built
    kCrashed,        ///< the executor or sandbox died under it
    kCancelled,      ///< killed on request (a straggler's losing copy)
  };
  Kind kind = Kind::kCrashed;
  Reduction reduction;     ///< outputs and run time, for kOk
  int exit_code = -1;
  int signal = 0;
  std::string message;     ///< what went wrong, in words
  std::string stdout_tail; ///< the last few KiB the program wrote
  std::string stderr_tail;
  /// kSetupFailed only: the thunk itself cannot be set up (e.g. an input
  /// path through a symlink), so it would fail the same way anywhere.
  bool thunk_at_fault = false;

  bool ok() const { return kind == Kind::kOk; }
  /// Worth running again elsewhere: the failure was not the program's.
  bool infrastructure_failure() const {
    return (kind == Kind::kSetupFailed && !thunk_at_fault) || kind == Kind::kCrashed;
  }
  std::string KindName() const;
};

class Executor {
 public:
  using Id = sandbox::Server::Id;
  using Callback = std::function<void(ExecResult)>;

  Executor(LocalStore* store, sandbox::Server* server) : store_(store), server_(server) {}

  /// Starts `thunk` (which must have no thunk inputs left); `done` is called
  /// once, from another thread. Returns an id for Cancel.
  Result<Id> Start(const Thunk& thunk, Callback done);
  void Cancel(Id id) { server_->Kill(id); }
  /// Runs a thunk to completion.
  ExecResult Run(const Thunk& thunk);

 private:
  LocalStore* store_;
  sandbox::Server* server_;
};

}  // namespace gg
