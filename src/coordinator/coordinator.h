// The coordinator: forces targets by loading the graph below them lazily,
// skipping what is already reduced, running ready thunks on the engines in
// critical-path order, following tail recursion, retrying infrastructure
// failures, duplicating stragglers, and recording every reduction as soon as
// it exists so an interrupted force resumes where it stopped.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "coordinator/durations.h"
#include "coordinator/progress.h"
#include "coordinator/trace.h"
#include "core/local_store.h"
#include "engines/engine.h"
#include "storage/remote_cache.h"

namespace gg {

/// The trace of the last force that ran anything, kept in the store.
inline constexpr char kLastTraceFile[] = "last-trace.json";

struct ForceOptions {
  std::vector<Engine*> engines;      ///< in order of preference
  double straggler_seconds = 0;      ///< duplicate a thunk running longer; 0: adaptive
  int max_attempts = 3;              ///< runs of a thunk whose infrastructure failed
  std::string trace_path;            ///< also write the Chrome trace here, if set
  ThunkLimits limits;                ///< gg force --limit-*: for limits a thunk does not set
  FILE* progress_out = stderr;       ///< status line, when a terminal; nullptr: none
  /// Also told the progress (for the SDK's callback), every 0.1 s and at the end.
  std::function<void(const ForceStats&, double elapsed)> on_progress;
  /// Told each thunk as it is done (run, memoized or reduced through a tail
  /// call), with what it reduced to, on the coordinator's thread: gg test
  /// counts failed tests from it as they finish.
  std::function<void(const Name& thunk, const Reduction& reduction)> on_done;
  const std::atomic<bool>* interrupted = nullptr;  ///< set by a signal handler
  double wait_for_engines_seconds = 120;  ///< give up when nothing can start this long
  /// A store shared with other machines: its reductions are checked before
  /// anything runs, every new reduction (and its outputs) is published to it,
  /// and inputs found only there are fetched before a thunk runs here.
  RemoteCache* shared = nullptr;
  bool download = true;  ///< fetch the targets' outputs from the shared store
  /// Seconds on a monotonic clock; empty: the steady clock. Tests inject a
  /// simulated one so timeouts and stragglers take no real time.
  std::function<double()> clock;
  /// Force() also takes targets given to AddTargets() while it runs and
  /// returns only after EndTargets() once they are done too (gg build forces
  /// thunks as the models write them).
  bool open_ended = false;
};

class Coordinator {
 public:
  Coordinator(LocalStore* store, ForceOptions options);
  ~Coordinator();

  /// Forces every target (a thunk name, maybe with #tag, or a value name) and
  /// returns the output each stands for. On a thunk's failure, the status
  /// names it and carries its command line, exit status and stderr.
  Result<std::vector<ReductionOutput>> Force(const std::vector<Name>& targets);
  const ForceStats& stats() const { return stats_; }
  /// With options.open_ended: more targets for a running Force(), from any
  /// thread. Their outputs are recorded as reductions, not returned.
  void AddTargets(const std::vector<Name>& targets);
  /// No more AddTargets(): Force() returns once every target is done.
  void EndTargets();

 private:
  struct Node;
  struct Running;
  /// The ready queue is a max-heap on priority.
  static bool LowerPriority(const Node* a, const Node* b);
  Node* GetNode(const Name& object);
  Status Expand(Node* n);
  Status LoadAll();
  void ComputePriorities(const std::vector<Node*>& fresh);
  Status MarkDone(Node* n, const Reduction& final_reduction);
  Status WaitOnTail(Node* n, const Name& tail);
  void MakeReady(Node* n);
  Status StartReady();
  Status Launch(Node* n, bool duplicate, bool* launched);
  Status HandleCompletion(uint64_t job_id, ExecResult r);
  /// Records what a substitute computed (substitute.h) and follows the tail.
  /// Counts a thunk as run here and logs it for `gg explain`.
  Status RecordRun(const Thunk& thunk, const Name& name, const Reduction& r);
  Status FinishSubstitute(Node* n, const Reduction& r);
  /// After a substitute failed: the thunk itself runs.
  Status RunInsteadOfSubstitute(Node* n);
  /// Reads and parses thunk `name` from the store.
  Result<Thunk> ReadThunk(const Name& name);
  void CheckStragglers();
  /// Records one finished run (queued, fetching inputs, running, collected).
  void TraceRun(const Running& run, const ExecResult& r);
  /// To --trace's file and the store's last-trace.json.
  Status WriteTraces(const Status& status);
  void CancelAll();
  Status ThunkFailure(Node* n, const ExecResult& r) const;
  /// Fetches from the shared store the inputs (and tree entries) not here.
  Status EnsureLocal(const Thunk& thunk);
  Status SharedError(const Status& s) const;
  Status Stuck(const std::vector<Node*>& targets) const;
  double Now() const;

  LocalStore* store_;
  ForceOptions options_;
  Durations durations_;
  Progress progress_;
  TraceWriter trace_;
  ForceStats stats_;
  double start_ = 0;
  double start_unix_ = 0;
  /// Trace rows: engine i's slot k is row (i + 1) * kSlotsPerEngineRow + k + 1.
  static constexpr int kSlotsPerEngineRow = 100000;
  static constexpr size_t kMaxTracedCommand = 4096;

  /// ReadThunk's: kept from thunk to thunk, so a megabyte thunk is not read
  /// into fresh memory each time (LocalStore::GetInto).
  std::string thunk_bytes_;

  std::unordered_map<std::string, std::unique_ptr<Node>> nodes_;
  std::vector<Node*> to_expand_;
  std::vector<Node*> ready_;   // a heap ordered by priority
  std::map<uint64_t, std::unique_ptr<Running>> running_;
  std::map<Engine*, int> engine_load_;
  uint64_t next_job_ = 1;
  std::map<Engine*, std::set<int>> free_slots_;  // slots released by finished runs
  std::map<Engine*, int> next_slot_;

  /// What other threads hand the force: engines' results, open-ended
  /// targets. Shared with the engines' callbacks, because a cancelled
  /// straggler copy may report after the force (and this object) is gone.
  struct Inbox {
    std::mutex mu;
    std::condition_variable cv;
    std::deque<std::pair<uint64_t, ExecResult>> completions;
    std::vector<Name> added;  // from AddTargets, not yet taken by Force
    bool targets_ended = false;
  };
  std::shared_ptr<Inbox> inbox_ = std::make_shared<Inbox>();
};

}  // namespace gg
