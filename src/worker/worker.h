// `gg worker`: a long-running machine (the paper's "warm VM") that connects
// to a coordinator, receives thunks and the inputs it lacks, runs them in the
// same hermetic sandbox as the local engine, and sends back the outputs.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "core/local_store.h"
#include "gg/status.h"

namespace gg {

struct WorkerOptions {
  std::string coordinator;  ///< HOST:PORT to connect to
  std::string secret;
  int slots = 1;
  std::string cache_dir;    ///< its object cache (a gg store)
  double connect_timeout = 60;  ///< keep trying to reach the coordinator this long
  /// >0: after this many seconds the worker drains: it tells the coordinator
  /// it takes no more thunks and serves until the coordinator closes the
  /// connection (once its running thunks are done). For cloud functions,
  /// whose invocations have a time limit.
  double budget_seconds = 0;
  /// A store shared with the coordinator, for inputs and outputs: its
  /// normalized URI and how to move objects to and from it (the gg command
  /// wires these to src/storage; the static worker in a cloud function has
  /// none and moves everything through its connection).
  std::string shared_uri;
  std::function<Status(LocalStore&, const std::vector<Name>&)> fetch;
  std::function<Status(LocalStore&, const std::vector<Name>&)> upload;
};

/// Serves one coordinator until it goes away or says goodbye. Returns ok when
/// the coordinator closed the connection normally.
Status RunWorker(const WorkerOptions& options);

}  // namespace gg
