// Execution engines: anything that can take a thunk and give back its
// outputs. The coordinator drives one or more of them in a single force; the
// local engine runs thunks on this machine, and remote, cluster and
// cloud-function engines implement the same interface.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "gg/name.h"
#include "gg/thunk.h"
#include "core/exec_result.h"

namespace gg {

/// One run of one thunk. `thunk` has only value and tree inputs left.
struct Job {
  uint64_t id = 0;
  Name name;     ///< the resolved thunk's name
  /// Shared with the coordinator, never copied: a compile's thunk lists
  /// thousands of inputs.
  std::shared_ptr<const Thunk> thunk;
  /// The force's limits (gg force --limit-*): for those the thunk leaves 0.
  ThunkLimits limits;
};

class Engine {
 public:
  using Callback = std::function<void(uint64_t job_id, ExecResult)>;
  virtual ~Engine() = default;

  /// As written on the command line, e.g. "local".
  virtual std::string name() const = 0;
  /// How many jobs it runs at once (may change: remote workers come and go).
  virtual int capacity() const = 0;
  /// Whether it can take this job at all: ok, or why not (a remote engine
  /// refuses thunks whose inputs are too large to ship, a cloud function those
  /// over its /tmp or memory budget; they go to another engine).
  virtual Status Accepts(const Job& /*job*/) const { return Status::Ok(); }
  /// Starts a job; `done` is called once, from any thread. An error here
  /// means the job never started; kUnavailable means "not now, try later".
  virtual Status Submit(const Job& job, Callback done) = 0;
  /// Stops a job; its callback then reports kCancelled (or its real end, if
  /// it finished first).
  virtual void Cancel(uint64_t job_id) = 0;
};

}  // namespace gg
