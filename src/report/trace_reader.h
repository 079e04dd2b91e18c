// Reads a trace written by the coordinator (docs/coordinator.md) back into
// runs: one record per run of a thunk, its phases joined.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "gg/status.h"

namespace gg::report {

/// One run of one thunk on one slot: a first attempt, a retry or a
/// straggler's copy. Times are microseconds from the start of the force; a
/// phase the trace lacks is -1.
struct Run {
  std::string thunk, engine, function, command, resolved, result, message, exit_status, stderr_tail;
  std::vector<std::string> deps, outputs;
  int tid = 0;
  int attempt = 1;
  bool duplicate = false;
  int64_t queued_us = -1, fetch_us = -1, run_us = -1, collect_us = -1, end_us = -1;

  bool ok() const { return result == "ok"; }
  bool cancelled() const { return result == "cancelled"; }
  /// When it took its slot (fetching inputs, else running).
  int64_t slot_start() const { return fetch_us >= 0 ? fetch_us : run_us; }
  int64_t running() const { return collect_us - run_us; }
};

struct Trace {
  std::map<std::string, std::string> info;  ///< the top-level otherData
  std::map<int, std::string> rows;          ///< tid -> row name
  std::vector<Run> runs;                    ///< ordered by slot_start
  double wall_seconds = 0;                  ///< otherData's, else the last event's end
  int slots = 0;                            ///< otherData's, else the rows seen
};

/// `s` split at spaces (the trace's lists: deps, outputs).
std::vector<std::string> SplitWords(const std::string& s);

/// Parses the JSON; an error names what is wrong with it.
Result<Trace> ParseTrace(const std::string& json);
Result<Trace> ReadTrace(const std::string& path);

}  // namespace gg::report
