// The lambda engine: runs each thunk as one AWS Lambda invocation of a
// function deployed with `gg lambda deploy`. The thunk's inputs go to the
// shared store first (the Invoke payload carries names only); the function
// fetches them, runs the thunk with gg-lambda, puts the outputs in the store
// and answers with their names. See docs/lambda.md.
#pragma once

#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "core/input_closure.h"
#include "engines/engine.h"
#include "storage/credentials.h"
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
  int max_attempts = 6;   ///< per invocation, on throttling, 5xx and dropped connections
  double max_delay = 8;   ///< cap of the exponential back-off, seconds

  /// Parses `FUNCTION[,region=R][,endpoint=URL][,slots=N][,workers=W][,host=H]`.
  static Result<LambdaOptions> Parse(const std::string& arg);
  /// How Invoke calls are retried: exponential back-off with jitter.
  RetryPolicy Retry() const;
  /// The Invoke URL.
  std::string InvokeUrl() const;
};

/// The long-running mode: starts `count` invocations (InvocationType Event)
/// of the function, each of which connects back to `connect` as a gg worker
/// with `slots` slots and serves until the coordinator closes the connection.
Status LaunchLambdaWorkers(const LambdaOptions& options, const std::string& connect, const std::string& secret,
                           int count, int slots);

class LambdaEngine : public Engine {
 public:
  /// `shared` is the store the function reads and writes; `storage_uri` is
  /// how the function reaches it (the URI as given, password included).
  static Result<std::unique_ptr<LambdaEngine>> Create(LocalStore* store, RemoteCache* shared,
                                                      const std::string& storage_uri, LambdaOptions options);
  ~LambdaEngine() override;

  std::string name() const override { return "lambda=" + options_.function; }
  int capacity() const override { return options_.slots; }
  Status Submit(const Job& job, Callback done) override;
  void Cancel(uint64_t job_id) override;

 private:
  struct Pending {
    Job job;
    Callback done;
  };
  LambdaEngine(LocalStore* store, RemoteCache* shared, std::string storage_uri, LambdaOptions options,
               AwsCredentials credentials);
  void Loop();
  ExecResult Run(const Job& job);
  /// One Invoke call with retries: the function's JSON answer, or why not.
  ExecResult Invoke(uint64_t job_id, const std::string& payload);
  bool Cancelled(uint64_t job_id);

  LocalStore* store_;
  InputClosures closures_{store_};
  RemoteCache* shared_;
  std::string storage_uri_;
  LambdaOptions options_;
  AwsCredentials credentials_;
  std::string sigv4_;

  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  int idle_ = 0;
  std::deque<Pending> queue_;
  std::set<uint64_t> running_;
  std::set<uint64_t> cancelled_;
  std::vector<std::thread> threads_;
};

}  // namespace gg
