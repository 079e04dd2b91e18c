#include "engines/lambda_engine.h"

#include <curl/curl.h>

#include <chrono>
#include <cstdlib>
#include <thread>

#include "core/input_closure.h"
#include "core/json.h"
#include "engines/engine_set.h"
#include "engines/lambda_payload.h"

namespace gg {
namespace {

struct Response {
  long status = 0;
  std::string body;
  std::string function_error;  // X-Amz-Function-Error
  std::string error_type;      // X-Amzn-ErrorType
};

size_t OnBody(char* data, size_t size, size_t n, void* user) {
  static_cast<Response*>(user)->body.append(data, size * n);
  return size * n;
}

size_t OnHeader(char* data, size_t size, size_t n, void* user) {
  std::string line(data, size * n);
  auto* r = static_cast<Response*>(user);
  size_t colon = line.find(':');
  if (colon != std::string::npos) {
    std::string key = line.substr(0, colon);
    for (char& c : key) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::string value = line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ')) value.erase(0, 1);
    while (!value.empty() && (value.back() == '\r' || value.back() == '\n' || value.back() == ' ')) value.pop_back();
    if (key == "x-amz-function-error") r->function_error = value;
    if (key == "x-amzn-errortype") r->error_type = value;
  }
  return size * n;
}

struct Abort {
  LambdaEngine* engine;
  uint64_t job;
  bool (*cancelled)(LambdaEngine*, uint64_t);
};

std::string Excerpt(const std::string& s) {
  std::string out = s.size() > 600 ? s.substr(0, 600) + "..." : s;
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  return out;
}

ExecResult Failure(ExecResult::Kind kind, std::string message) {
  ExecResult r;
  r.kind = kind;
  r.message = std::move(message);
  return r;
}

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v != nullptr ? v : "";
}

// One signed POST to the Invoke API. `abort` may be null.
CURLcode PostInvoke(const std::string& url, const std::string& sigv4, const AwsCredentials& credentials,
                    const std::string& payload, const char* invocation_type, Response* resp,
                    char (&error)[CURL_ERROR_SIZE], Abort* abort) {
  CURL* e = curl_easy_init();
  curl_slist* headers = nullptr;
  headers = curl_slist_append(headers, "Content-Type: application/json");
  headers = curl_slist_append(headers, (std::string("X-Amz-Invocation-Type: ") + invocation_type).c_str());
  if (!credentials.session_token.empty()) {
    headers = curl_slist_append(headers, ("X-Amz-Security-Token: " + credentials.session_token).c_str());
  }
  curl_easy_setopt(e, CURLOPT_URL, url.c_str());
  curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(e, CURLOPT_ERRORBUFFER, error);
  curl_easy_setopt(e, CURLOPT_POST, 1L);
  curl_easy_setopt(e, CURLOPT_POSTFIELDS, payload.data());
  curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(payload.size()));
  curl_easy_setopt(e, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
  curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, 960L * 1000);  // Lambda's own limit is 900 s
  curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, &OnBody);
  curl_easy_setopt(e, CURLOPT_WRITEDATA, resp);
  curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, &OnHeader);
  curl_easy_setopt(e, CURLOPT_HEADERDATA, resp);
  if (abort != nullptr) {
    curl_easy_setopt(e, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(e, CURLOPT_XFERINFODATA, abort);
    curl_easy_setopt(e, CURLOPT_XFERINFOFUNCTION,
                     +[](void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) -> int {
                       auto* a = static_cast<Abort*>(user);
                       return a->cancelled(a->engine, a->job) ? 1 : 0;
                     });
  }
  curl_easy_setopt(e, CURLOPT_AWS_SIGV4, sigv4.c_str());
  curl_easy_setopt(e, CURLOPT_USERNAME, credentials.access_key_id.c_str());
  curl_easy_setopt(e, CURLOPT_PASSWORD, credentials.secret_access_key.c_str());
  CURLcode code = curl_easy_perform(e);
  curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &resp->status);
  curl_easy_cleanup(e);
  curl_slist_free_all(headers);
  return code;
}

}  // namespace

Result<LambdaOptions> LambdaOptions::Parse(const std::string& arg) {
  LambdaOptions o;
  std::vector<std::string> parts = engines::SplitOptions(arg);
  o.function = parts[0];
  for (size_t i = 1; i < parts.size(); ++i) {
    const std::string& part = parts[i];
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
    } else {
      return Status::Invalid("unknown option '" + part +
                             "' (FUNCTION[,region=R][,endpoint=URL][,slots=N][,workers=W][,host=H])");
    }
  }
  if (o.function.empty()) return Status::Invalid("the function's name is missing (lambda=FUNCTION)");
  if (o.slots < 1) return Status::Invalid("slots must be positive");
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

Result<std::unique_ptr<LambdaEngine>> LambdaEngine::Create(LocalStore* store, RemoteCache* shared,
                                                           const std::string& storage_uri, LambdaOptions options) {
  if (shared == nullptr || storage_uri.empty()) {
    return Status::Invalid("a lambda engine needs a shared store the function can reach: give --storage URI "
                           "(or set GG_STORAGE_URI) to a Redis or S3 store");
  }
  GG_ASSIGN_OR_RETURN(AwsCredentials credentials, LoadAwsCredentials());
  if (credentials.empty()) {
    return Status::Invalid("a lambda engine needs AWS credentials to sign Invoke requests: set AWS_ACCESS_KEY_ID "
                           "and AWS_SECRET_ACCESS_KEY (or a profile in ~/.aws/credentials)");
  }
  curl_global_init(CURL_GLOBAL_DEFAULT);
  return std::unique_ptr<LambdaEngine>(
      new LambdaEngine(store, shared, storage_uri, std::move(options), std::move(credentials)));
}

LambdaEngine::LambdaEngine(LocalStore* store, RemoteCache* shared, std::string storage_uri, LambdaOptions options,
                           AwsCredentials credentials)
    : store_(store),
      shared_(shared),
      storage_uri_(std::move(storage_uri)),
      options_(std::move(options)),
      credentials_(std::move(credentials)),
      sigv4_("aws:amz:" + options_.region + ":lambda") {}

LambdaEngine::~LambdaEngine() {
  std::deque<Pending> left;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
    for (uint64_t id : running_) cancelled_.insert(id);
    left.swap(queue_);
  }
  cv_.notify_all();
  for (auto& t : threads_) t.join();
  for (auto& p : left) p.done(p.job.id, Failure(ExecResult::Kind::kCancelled, "cancelled"));
}

Status LambdaEngine::Submit(const Job& job, Callback done) {
  std::lock_guard<std::mutex> lock(mu_);
  if (static_cast<int>(queue_.size() + running_.size()) >= options_.slots) {
    return Status::Unavailable("all " + std::to_string(options_.slots) + " lambda slots are busy");
  }
  queue_.push_back({job, std::move(done)});
  if (idle_ == 0 && static_cast<int>(threads_.size()) < options_.slots) {
    threads_.emplace_back([this] { Loop(); });
  } else {
    cv_.notify_one();
  }
  return Status::Ok();
}

void LambdaEngine::Cancel(uint64_t job_id) {
  Callback done;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto it = queue_.begin(); it != queue_.end(); ++it) {
      if (it->job.id == job_id) {
        done = std::move(it->done);
        queue_.erase(it);
        break;
      }
    }
    if (!done && running_.count(job_id)) cancelled_.insert(job_id);
  }
  // The invocation itself runs on; its answer is dropped.
  if (done) done(job_id, Failure(ExecResult::Kind::kCancelled, "cancelled"));
}

bool LambdaEngine::Cancelled(uint64_t job_id) {
  std::lock_guard<std::mutex> lock(mu_);
  return cancelled_.count(job_id) > 0;
}

void LambdaEngine::Loop() {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    ++idle_;
    cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
    --idle_;
    if (stopping_) return;
    Pending p = std::move(queue_.front());
    queue_.pop_front();
    running_.insert(p.job.id);
    lock.unlock();
    ExecResult r = Run(p.job);
    lock.lock();
    running_.erase(p.job.id);
    if (cancelled_.erase(p.job.id)) r = Failure(ExecResult::Kind::kCancelled, "cancelled");
    lock.unlock();
    p.done(p.job.id, std::move(r));
    lock.lock();
  }
}

ExecResult LambdaEngine::Run(const Job& job) {
  std::vector<Name> inputs = closures_.Of(job.thunk);
  if (Status s = shared_->Upload(*store_, inputs); !s.ok()) {
    return Failure(ExecResult::Kind::kSetupFailed,
                   "lambda: cannot upload the thunk's inputs to " + shared_->storage().uri() + ": " + s.message());
  }
  std::string payload = lambda::EventToJson(job.thunk.Serialize(), inputs, storage_uri_);
  if (payload.size() > 6'000'000) {
    return Failure(ExecResult::Kind::kSetupFailed,
                   "lambda: the Invoke payload would be " + std::to_string(payload.size()) +
                       " bytes, over Lambda's 6 MB limit (a thunk with too many inputs)");
  }
  ExecResult r = Invoke(job.id, payload);
  if (r.ok()) {
    // The function put the outputs in the store: the coordinator need not.
    std::vector<Name> outputs;
    for (const auto& o : r.reduction.outputs) outputs.push_back(o.name.object());
    if (auto known = shared_->Known(*store_); known.ok()) (void)(*known)->Add(outputs);
  }
  return r;
}

ExecResult LambdaEngine::Invoke(uint64_t job_id, const std::string& payload) {
  const std::string url = options_.InvokeUrl();
  const std::string where = "lambda function " + options_.function + " (" + url + ")";
  const RetryPolicy retry = options_.Retry();
  std::string last_error;
  for (int attempt = 1; attempt <= retry.max_attempts; ++attempt) {
    if (attempt > 1) {
      double delay = retry.Delay(attempt);
      auto until = std::chrono::steady_clock::now() + std::chrono::duration<double>(delay);
      while (std::chrono::steady_clock::now() < until) {
        if (Cancelled(job_id)) return Failure(ExecResult::Kind::kCancelled, "cancelled");
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
    }
    Response resp;
    char error[CURL_ERROR_SIZE] = {};
    Abort abort{this, job_id, [](LambdaEngine* self, uint64_t id) { return self->Cancelled(id); }};
    CURLcode code = PostInvoke(url, sigv4_, credentials_, payload, "RequestResponse", &resp, error, &abort);

    if (code == CURLE_ABORTED_BY_CALLBACK) return Failure(ExecResult::Kind::kCancelled, "cancelled");
    if (code != CURLE_OK) {
      last_error = std::string(error[0] != '\0' ? error : curl_easy_strerror(code));
      bool transient = code == CURLE_COULDNT_CONNECT || code == CURLE_SEND_ERROR || code == CURLE_RECV_ERROR ||
                       code == CURLE_GOT_NOTHING || code == CURLE_PARTIAL_FILE || code == CURLE_OPERATION_TIMEDOUT;
      if (transient) continue;
      return Failure(ExecResult::Kind::kSetupFailed, where + ": " + last_error);
    }
    if (resp.status == 429 || resp.status >= 500) {
      last_error = "HTTP " + std::to_string(resp.status) +
                   (resp.error_type.empty() ? "" : " " + resp.error_type) + ": " + Excerpt(resp.body);
      continue;
    }
    if (resp.status < 200 || resp.status >= 300) {
      std::string hint;
      if (resp.status == 403) hint = " (are AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY right, and may they invoke it?)";
      if (resp.status == 404) hint = " (deploy it first: see 'gg lambda deploy --help')";
      return Failure(ExecResult::Kind::kSetupFailed,
                     where + " refused the Invoke request: HTTP " + std::to_string(resp.status) +
                         (resp.error_type.empty() ? "" : " " + resp.error_type) + hint + ": " + Excerpt(resp.body));
    }
    if (!resp.function_error.empty()) {
      return Failure(ExecResult::Kind::kCrashed,
                     where + " failed (" + resp.function_error + " function error): " + Excerpt(resp.body));
    }
    auto r = lambda::ResultFromJson(resp.body);
    if (!r.ok()) {
      return Failure(ExecResult::Kind::kCrashed, where + " answered something other than a gg result (" +
                                                     r.status().message() + "): " + Excerpt(resp.body));
    }
    if (!r->ok() && r->message.empty()) r->message = r->KindName();
    return std::move(*r);
  }
  return Failure(ExecResult::Kind::kCrashed, where + ": gave up after " + std::to_string(options_.max_attempts) +
                                                 " attempts; last: " + last_error);
}

Status LaunchLambdaWorkers(const LambdaOptions& options, const std::string& connect, const std::string& secret,
                           int count, int slots) {
  GG_ASSIGN_OR_RETURN(AwsCredentials credentials, LoadAwsCredentials());
  if (credentials.empty()) {
    return Status::Invalid("lambda workers need AWS credentials to sign Invoke requests: set AWS_ACCESS_KEY_ID "
                           "and AWS_SECRET_ACCESS_KEY (or a profile in ~/.aws/credentials)");
  }
  curl_global_init(CURL_GLOBAL_DEFAULT);
  const std::string url = options.InvokeUrl();
  const std::string sigv4 = "aws:amz:" + options.region + ":lambda";
  // The secret rides inside the signed (and, on AWS, TLS) request.
  std::string payload = "{\"mode\":\"worker\",\"connect\":" + JsonString(connect) + ",\"secret\":" +
                        JsonString(secret) + ",\"slots\":" + std::to_string(slots) + "}";
  const RetryPolicy retry = options.Retry();
  for (int i = 0; i < count; ++i) {
    std::string last;
    bool started = false;
    for (int attempt = 1; attempt <= retry.max_attempts && !started; ++attempt) {
      if (attempt > 1) std::this_thread::sleep_for(std::chrono::duration<double>(retry.Delay(attempt)));
      Response resp;
      char error[CURL_ERROR_SIZE] = {};
      CURLcode code = PostInvoke(url, sigv4, credentials, payload, "Event", &resp, error, nullptr);
      if (code != CURLE_OK) {
        last = error[0] != '\0' ? error : curl_easy_strerror(code);
      } else if (resp.status == 429 || resp.status >= 500) {
        last = "HTTP " + std::to_string(resp.status) + ": " + Excerpt(resp.body);
      } else if (resp.status < 200 || resp.status >= 300) {
        return Status::Unavailable("lambda function " + options.function + " (" + url +
                                   ") refused to start a worker: HTTP " + std::to_string(resp.status) + ": " +
                                   Excerpt(resp.body));
      } else {
        started = true;
      }
    }
    if (!started) {
      return Status::Unavailable("cannot start lambda worker " + std::to_string(i + 1) + " of " +
                                 std::to_string(count) + " through " + url + ": " + last);
    }
  }
  return Status::Ok();
}

}  // namespace gg
