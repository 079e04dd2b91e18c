// A cloud-function engine: runs each thunk as one HTTP invocation of a
// function that holds gg's static executor (AWS Lambda through its Invoke
// API, a Google Cloud Function through its trigger URL). The thunk's inputs
// go to the shared store first (the request carries names only); the function
// fetches them, runs the thunk, puts the outputs in the store and answers
// with their names (docs/lambda.md, docs/engines.md). The platforms differ
// only in the request (`FunctionTarget`); throttling, 5xx and dropped
// connections are retried with back-off, within a bound.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "core/input_closure.h"
#include "engines/engine.h"
#include "engines/function_budget.h"
#include "storage/credentials.h"
#include "storage/remote_cache.h"
#include "storage/retry.h"

namespace gg {

/// How to invoke one function.
struct FunctionTarget {
  std::string engine_name;  ///< as in traces: "lambda=FN", "gcf=URL"
  std::string what;         ///< for messages: "lambda function FN (URL)"
  std::string url;          ///< where requests are POSTed
  /// AWS SigV4 ("aws:amz:REGION:lambda") with these credentials; empty: unsigned.
  std::string sigv4;
  AwsCredentials credentials;
  std::vector<std::string> headers;  ///< extra request headers ("Name: value")
  std::string hint_404;     ///< appended to a 404's message (how to deploy it)
  std::string hint_403;     ///< appended to a 401/403's message (which credentials)
  size_t max_payload = 6'000'000;  ///< the platform's request size limit
  int slots = 100;          ///< invocations in flight at once
  RetryPolicy retry;        ///< per invocation
  FunctionBudget budget;    ///< what one invocation can hold
};

/// One POST's answer.
struct FunctionResponse {
  long status = 0;
  std::string body;
  std::string function_error;  ///< X-Amz-Function-Error (Lambda)
  std::string error_type;      ///< X-Amzn-ErrorType (Lambda)
  std::string transport_error; ///< why no answer came (empty if one did)
  bool transient = false;      ///< that failure is worth retrying
  bool aborted = false;        ///< `cancelled` said stop
};

/// One POST of `payload` (JSON) to the target, with `extra_headers`; it stops
/// early when `cancelled` (may be empty) returns true.
FunctionResponse PostToFunction(const FunctionTarget& target, const std::string& payload,
                                const std::vector<std::string>& extra_headers, const std::function<bool()>& cancelled);

class FunctionEngine : public Engine {
 public:
  /// `shared` is the store the function reads and writes; `storage_uri` is
  /// how the function reaches it (the URI as given, password included).
  static Result<std::unique_ptr<FunctionEngine>> Create(LocalStore* store, RemoteCache* shared,
                                                        const std::string& storage_uri, FunctionTarget target);
  ~FunctionEngine() override;
  /// Ok if there is a shared store the function can reach; else what to do.
  static Status NeedsStore(const RemoteCache* shared, const std::string& storage_uri);

  std::string name() const override { return target_.engine_name; }
  int capacity() const override { return target_.slots; }
  Status Accepts(const Job& job) const override;
  Status Submit(const Job& job, Callback done) override;
  void Cancel(uint64_t job_id) override;

 private:
  struct Pending {
    Job job;
    Callback done;
  };
  FunctionEngine(LocalStore* store, RemoteCache* shared, std::string storage_uri, FunctionTarget target);
  void Loop();
  ExecResult Run(const Job& job);
  /// One invocation with retries: the function's JSON answer, or why not.
  ExecResult Invoke(uint64_t job_id, const std::string& payload);
  bool Cancelled(uint64_t job_id);

  LocalStore* store_;
  mutable InputClosures closures_{store_};
  RemoteCache* shared_;
  std::string storage_uri_;
  FunctionTarget target_;

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
