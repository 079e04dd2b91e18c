// What `gg report` shows, computed from a trace: each run's kind, the
// critical path, utilisation over time and totals per function.
#pragma once

#include <string>
#include <vector>

#include "report/trace_reader.h"

namespace gg::report {

/// A run's kind from its program and flags: compile, link, archive,
/// discovery, preprocess, test, encode, or the program's name.
std::string KindOf(const Run& run);

/// The chain of runs that ended last, each the latest-finishing dependency
/// of the next (a dependency that reduced to another thunk finishes with the
/// last of its tail calls): what held the force back.
struct CriticalPath {
  std::vector<size_t> runs;  ///< indexes into Trace::runs, first to last
  double busy_seconds = 0;   ///< the runs' own time (fetching to collected)
  double span_seconds = 0;   ///< from the first's start (queued) to the last's end
};
CriticalPath FindCriticalPath(const Trace& trace);

struct Utilisation {
  double bucket_seconds = 0;
  std::vector<double> busy;     ///< slots held (fetching, running, collecting) / slots, per bucket
  std::vector<double> running;  ///< slots running a program / slots
};
Utilisation ComputeUtilisation(const Trace& trace, size_t buckets);

struct FunctionTotal {
  std::string function, kind;
  size_t count = 0;         ///< runs that succeeded
  size_t runs = 0;          ///< all runs, retries and copies included
  double running_seconds = 0;  ///< in the sandbox, summed over all runs
  double slot_seconds = 0;     ///< holding a slot, summed over all runs
  double max_running = 0;
};
/// Per function and kind (gcc compiles and gcc links apart).
std::vector<FunctionTotal> TotalsByFunction(const Trace& trace);

/// Indexes of the `n` runs that ran longest, longest first.
std::vector<size_t> Slowest(const Trace& trace, size_t n);

}  // namespace gg::report
