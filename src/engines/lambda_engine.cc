#include "engines/lambda_engine.h"

#include <curl/curl.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>

#include "core/json.h"
#include "engines/engine_set.h"
#include "engines/function_engine.h"
#include "storage/credentials.h"

namespace gg {
namespace {

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v != nullptr ? v : "";
}

Result<FunctionTarget> LambdaTarget(const LambdaOptions& o) {
  FunctionTarget t;
  GG_ASSIGN_OR_RETURN(t.credentials, LoadAwsCredentials());
  if (t.credentials.empty()) {
    return Status::Invalid("a lambda engine needs AWS credentials to sign Invoke requests: set AWS_ACCESS_KEY_ID "
                           "and AWS_SECRET_ACCESS_KEY (or a profile in ~/.aws/credentials)");
  }
  t.engine_name = "lambda=" + o.function;
  t.url = o.InvokeUrl();
  t.what = "lambda function " + o.function + " (" + t.url + ")";
  t.sigv4 = "aws:amz:" + o.region + ":lambda";
  t.hint_403 = " (are AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY right, and may they invoke it?)";
  t.hint_404 = " (deploy it first: see 'gg lambda deploy --help')";
  t.max_payload = 6'000'000;
  t.slots = o.slots;
  t.retry = o.Retry();
  t.budget = o.limits;
  return t;
}

}  // namespace

Result<LambdaOptions> LambdaOptions::Parse(const std::string& arg) {
  LambdaOptions o;
  std::vector<std::string> parts = engines::SplitOptions(arg);
  o.function = parts[0];
  for (size_t i = 1; i < parts.size(); ++i) {
    const std::string& part = parts[i];
    bool budget_option = false;
    GG_RETURN_IF_ERROR(o.limits.ParseOption(part, &budget_option));
    if (budget_option) continue;
    if (part.starts_with("region=")) {
      o.region = part.substr(7);
    } else if (part.starts_with("endpoint=")) {
      o.endpoint = part.substr(9);
    } else if (part.starts_with("slots=")) {
      o.slots = std::atoi(part.c_str() + 6);
      o.slots_given = true;
    } else if (part.starts_with("workers=")) {
      o.workers = std::atoi(part.c_str() + 8);
      if (o.workers < 1) return Status::Invalid("workers must be positive");
    } else if (part.starts_with("host=")) {
      o.host = part.substr(5);
    } else if (part.starts_with("budget=")) {
      o.budget = std::atof(part.c_str() + 7);
      if (o.budget <= 0) return Status::Invalid("budget must be a positive number of seconds");
    } else {
      return Status::Invalid("unknown option '" + part +
                             "' (FUNCTION[,region=R][,endpoint=URL][,slots=N][,tmp=SIZE][,memory=SIZE]"
                             "[,workers=W][,host=H][,budget=SECONDS])");
    }
  }
  if (o.function.empty()) return Status::Invalid("the function's name is missing (lambda=FUNCTION)");
  if (o.slots < 1) return Status::Invalid("slots must be positive");
  if (o.budget > 0 && o.workers == 0) return Status::Invalid("budget= applies to workers=W (the long-running mode)");
  if (o.region.empty()) o.region = Env("AWS_REGION");
  if (o.region.empty()) o.region = Env("AWS_DEFAULT_REGION");
  if (o.region.empty()) o.region = "us-east-1";
  while (!o.endpoint.empty() && o.endpoint.back() == '/') o.endpoint.pop_back();
  return o;
}

RetryPolicy LambdaOptions::Retry() const {
  RetryPolicy p;
  p.max_attempts = max_attempts;
  p.base_delay = 0.1;
  p.max_delay = max_delay;
  return p;
}

std::string LambdaOptions::InvokeUrl() const {
  std::string base = endpoint.empty() ? "https://lambda." + region + ".amazonaws.com" : endpoint;
  char* escaped = curl_easy_escape(nullptr, function.c_str(), static_cast<int>(function.size()));
  std::string url = base + "/2015-03-31/functions/" + escaped + "/invocations";
  curl_free(escaped);
  return url;
}

Result<std::unique_ptr<Engine>> CreateLambdaEngine(LocalStore* store, RemoteCache* shared,
                                                   const std::string& storage_uri, const LambdaOptions& options) {
  GG_RETURN_IF_ERROR(FunctionEngine::NeedsStore(shared, storage_uri));
  GG_ASSIGN_OR_RETURN(FunctionTarget target, LambdaTarget(options));
  GG_ASSIGN_OR_RETURN(auto engine, FunctionEngine::Create(store, shared, storage_uri, std::move(target)));
  return std::unique_ptr<Engine>(std::move(engine));
}

LambdaWorkers::LambdaWorkers(const LambdaOptions& options, const std::string& connect, const std::string& secret)
    : options_(options) {
  // The secret rides inside the signed (and, on AWS, TLS) request.
  payload_ = "{\"mode\":\"worker\",\"connect\":" + JsonString(connect) + ",\"secret\":" + JsonString(secret) +
             ",\"slots\":" + std::to_string(options.slots_given ? options.slots : 1);
  if (options.budget > 0) payload_ += ",\"budget\":" + std::to_string(options.budget);
  payload_ += "}";
}

Status LambdaWorkers::Start() {
  GG_RETURN_IF_ERROR(Launch(options_.workers));
  thread_ = std::thread([this] { Loop(); });
  return Status::Ok();
}

LambdaWorkers::~LambdaWorkers() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void LambdaWorkers::Replace() {
  std::lock_guard<std::mutex> lock(mu_);
  ++wanted_;
  cv_.notify_all();
}

void LambdaWorkers::Loop() {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    cv_.wait(lock, [this] { return stopping_ || wanted_ > 0; });
    if (stopping_) return;
    --wanted_;
    lock.unlock();
    Status s = Launch(1);
    if (!s.ok()) {
      std::fprintf(stderr, "gg: cannot replace a lambda worker that reached its budget: %s\n", s.message().c_str());
    }
    lock.lock();
  }
}

Status LambdaWorkers::Launch(int count) {
  GG_ASSIGN_OR_RETURN(FunctionTarget target, LambdaTarget(options_));
  curl_global_init(CURL_GLOBAL_DEFAULT);
  const RetryPolicy& retry = target.retry;
  for (int i = 0; i < count; ++i) {
    std::string last;
    bool started = false;
    for (int attempt = 1; attempt <= retry.max_attempts && !started; ++attempt) {
      if (attempt > 1) std::this_thread::sleep_for(std::chrono::duration<double>(retry.Delay(attempt)));
      FunctionResponse resp = PostToFunction(target, payload_, {"X-Amz-Invocation-Type: Event"}, {});
      if (!resp.transport_error.empty()) {
        last = resp.transport_error;
      } else if (resp.status == 429 || resp.status >= 500) {
        last = "HTTP " + std::to_string(resp.status) + ": " + resp.body.substr(0, 600);
      } else if (resp.status < 200 || resp.status >= 300) {
        return Status::Unavailable(target.what + " refused to start a worker: HTTP " + std::to_string(resp.status) +
                                   ": " + resp.body.substr(0, 600));
      } else {
        started = true;
      }
    }
    if (!started) {
      return Status::Unavailable("cannot start lambda worker " + std::to_string(i + 1) + " of " +
                                 std::to_string(count) + " through " + target.url + ": " + last);
    }
  }
  return Status::Ok();
}

}  // namespace gg
