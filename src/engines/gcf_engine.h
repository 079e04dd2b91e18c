// The gcf engine: one HTTP invocation per thunk of a Google Cloud Function
// whose source `gg gcf package` writes (a Node handler that runs gg's static
// executor). See docs/engines.md.
#pragma once

#include <memory>
#include <string>

#include "core/local_store.h"
#include "engines/engine.h"
#include "engines/function_budget.h"
#include "storage/remote_cache.h"

namespace gg {

struct GcfOptions {
  std::string url;        ///< the function's trigger URL
  int slots = 100;        ///< invocations in flight at once
  FunctionBudget limits;  ///< `tmp=`, `memory=` (its /tmp is in memory)
  int max_attempts = 6;   ///< per invocation, on 429, 5xx and dropped connections
  double max_delay = 8;   ///< cap of the exponential back-off, seconds

  /// Parses `URL[,slots=N][,tmp=SIZE][,memory=SIZE]`.
  static Result<GcfOptions> Parse(const std::string& arg);
};

/// The engine; requests carry `Authorization: Bearer $GG_GCF_TOKEN` when that
/// is set (an identity token, for functions that require authentication).
Result<std::unique_ptr<Engine>> CreateGcfEngine(LocalStore* store, RemoteCache* shared,
                                                const std::string& storage_uri, const GcfOptions& options);

}  // namespace gg
