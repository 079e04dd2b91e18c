// `gg worker`: a long-running machine (the paper's "warm VM") that connects
// to a coordinator, receives thunks and the inputs it lacks, runs them in the
// same hermetic sandbox as the local engine, and sends back the outputs.
#pragma once

#include <string>

#include "gg/status.h"

namespace gg {

struct WorkerOptions {
  std::string coordinator;  ///< HOST:PORT to connect to
  std::string secret;
  int slots = 1;
  std::string cache_dir;    ///< its object cache (a gg store)
  double connect_timeout = 60;  ///< keep trying to reach the coordinator this long
  std::string storage_uri;  ///< a shared store for inputs and outputs (GG_STORAGE_URI), or empty
};

/// Serves one coordinator until it goes away or says goodbye. Returns ok when
/// the coordinator closed the connection normally.
Status RunWorker(const WorkerOptions& options);

}  // namespace gg
