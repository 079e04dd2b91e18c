// The lambda engine's options, and its two modes: one AWS Lambda invocation
// per thunk of a function deployed with `gg lambda deploy` (a FunctionEngine),
// or invocations that serve as workers for the whole job. See docs/lambda.md.
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "core/local_store.h"
#include "engines/engine.h"
#include "engines/function_budget.h"
#include "storage/remote_cache.h"
#include "storage/retry.h"

namespace gg {

struct LambdaOptions {
  std::string function;   ///< name or ARN
  std::string region;     ///< default: $AWS_REGION, $AWS_DEFAULT_REGION, us-east-1
  std::string endpoint;   ///< default: https://lambda.REGION.amazonaws.com
  int slots = 100;        ///< invocations in flight at once (per worker with `workers`)
  bool slots_given = false;
  int workers = 0;        ///< >0: the long-running mode, this many functions serving as workers
  std::string host;       ///< where those workers connect back (default $GG_COORDINATOR_HOST, hostname)
  /// With `workers`: seconds a worker takes thunks before it drains and a
  /// replacement starts (0: the function's own time limit, less a margin).
  double budget = 0;
  FunctionBudget limits;  ///< `tmp=`, `memory=`: thunks that do not fit go elsewhere
  int max_attempts = 6;   ///< per invocation, on throttling, 5xx and dropped connections
  double max_delay = 8;   ///< cap of the exponential back-off, seconds

  /// Parses `FUNCTION[,region=R][,endpoint=URL][,slots=N][,tmp=SIZE][,memory=SIZE]`
  /// `[,workers=W[,host=H][,budget=SECONDS]]`.
  static Result<LambdaOptions> Parse(const std::string& arg);
  /// How Invoke calls are retried: exponential back-off with jitter.
  RetryPolicy Retry() const;
  /// The Invoke URL.
  std::string InvokeUrl() const;
};

/// The long-running mode: `options.workers` invocations (InvocationType
/// Event) of the function, each of which connects back to `connect` as a gg
/// worker and serves until the coordinator closes the connection or, near its
/// budget (`options.budget`, else the function's time limit), drains. Each
/// drained worker is replaced by a fresh invocation, so W keep serving for a
/// job of any length.
class LambdaWorkers {
 public:
  LambdaWorkers(const LambdaOptions& options, const std::string& connect, const std::string& secret);
  /// Starts the first W (an error if the function refuses to start them).
  Status Start();
  /// Stops starting replacements (one being started is finished first).
  ~LambdaWorkers();
  /// Starts one replacement, in the background (a failure is reported on stderr).
  void Replace();

 private:
  Status Launch(int count);
  void Loop();

  LambdaOptions options_;
  std::string payload_;
  std::mutex mu_;
  std::condition_variable cv_;
  int wanted_ = 0;
  bool stopping_ = false;
  std::thread thread_;
};

/// The one-invocation-per-thunk engine for these options (needs AWS
/// credentials to sign Invoke requests).
Result<std::unique_ptr<Engine>> CreateLambdaEngine(LocalStore* store, RemoteCache* shared,
                                                   const std::string& storage_uri, const LambdaOptions& options);

}  // namespace gg
