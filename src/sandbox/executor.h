// The executor: runs one thunk whose inputs are all values or trees. It
// materializes the inputs from the local store, runs the function in a
// sandbox, and moves the declared outputs into the store.
#pragma once

#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "core/exec_result.h"
#include "core/local_store.h"
#include "core/reduction.h"
#include "gg/thunk.h"
#include "sandbox/input_view.h"
#include "sandbox/sandbox.h"

namespace gg {

class Executor {
 public:
  using Id = sandbox::Server::Id;
  using Callback = std::function<void(ExecResult)>;

  Executor(LocalStore* store, sandbox::Server* server);

  /// Starts `thunk` (which must have no thunk inputs left); `done` is called
  /// once, from another thread. Returns an id for Cancel. `force_limits`
  /// (gg force --limit-*) apply where the thunk sets no limit of its own.
  Result<Id> Start(const Thunk& thunk, Callback done, const ThunkLimits& force_limits = {});
  void Cancel(Id id) { server_->Kill(id); }
  /// Runs a thunk to completion.
  ExecResult Run(const Thunk& thunk, const ThunkLimits& force_limits = {});

 private:
  /// Run directories (the host work dir, stdout and stderr), kept for the
  /// next run after a clean one: creating and deleting five inodes per run
  /// on the store's file system cost more CPU than the rest of a trivial
  /// thunk's start-up (ext4 scans past recently deleted inodes on every
  /// create). Shared with the callbacks of running thunks.
  class Slots {
   public:
    explicit Slots(std::string prefix) : prefix_(std::move(prefix)), root_(prefix_ + ".root") {}
    ~Slots();
    /// A directory with work/ (empty), and stdout and stderr once used.
    Result<std::string> Take();
    /// Hands back a directory whose work/ is empty again.
    void Give(std::string dir);
    /// The mount point of every run's root: each run mounts its own tmpfs
    /// there in its own mount namespace, so one empty directory serves all.
    const std::string& root() const { return root_; }

   private:
    std::string prefix_, root_;
    std::mutex mu_;
    uint64_t made_ = 0;
    std::vector<std::string> free_;
  };

  /// Which inputs a run shows through an input view, and that view's key.
  struct ViewPlan {
    std::vector<ViewFile> files;  ///< sorted by path; empty: no view
    std::vector<size_t> others;   ///< the inputs not in the view: mounted one by one
    std::string key;            ///< ViewKey(files, owner)
  };
  /// The plan for `thunk`'s inputs, for a view whose directories belong to
  /// `owner`. The plans of the last few large input lists are kept, by the
  /// list's storage (Thunk::Parse gives every thunk read from the same
  /// inputs bytes one list), the work dir and the owner: every run of a
  /// build's compiles would otherwise group the same thousands of headers
  /// again.
  std::shared_ptr<const ViewPlan> Plan(const Thunk& thunk, const std::string& workdir, uid_t owner);

  struct KnownPlan {
    std::shared_ptr<const std::vector<ThunkInput>> list;  // held: the plan's views point into it
    std::string workdir;
    uid_t owner;
    std::shared_ptr<const ViewPlan> plan;
  };

  LocalStore* store_;
  sandbox::Server* server_;
  std::shared_ptr<Slots> slots_;
  std::mutex plans_mu_;
  std::deque<KnownPlan> plans_;
};

}  // namespace gg
