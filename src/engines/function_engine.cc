#include "engines/function_engine.h"

#include <curl/curl.h>

#include <chrono>
#include <cstdlib>
#include <thread>

#include "engines/lambda_payload.h"

namespace gg {
namespace {

size_t OnBody(char* data, size_t size, size_t n, void* user) {
  static_cast<FunctionResponse*>(user)->body.append(data, size * n);
  return size * n;
}

size_t OnHeader(char* data, size_t size, size_t n, void* user) {
  std::string line(data, size * n);
  auto* r = static_cast<FunctionResponse*>(user);
  size_t colon = line.find(':');
  if (colon == std::string::npos) return size * n;
  std::string key = line.substr(0, colon);
  for (auto& c : key) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  std::string value = line.substr(colon + 1);
  while (!value.empty() && value.front() == ' ') value.erase(0, 1);
  while (!value.empty() && (value.back() == '\r' || value.back() == '\n' || value.back() == ' ')) value.pop_back();
  if (key == "x-amz-function-error") r->function_error = value;
  if (key == "x-amzn-errortype") r->error_type = value;
  return size * n;
}

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

}  // namespace

FunctionResponse PostToFunction(const FunctionTarget& target, const std::string& payload,
                                const std::vector<std::string>& extra_headers, const std::function<bool()>& cancelled) {
  FunctionResponse resp;
  char error[CURL_ERROR_SIZE] = {};
  CURL* e = curl_easy_init();
  curl_slist* headers = curl_slist_append(nullptr, "Content-Type: application/json");
  for (const auto& h : target.headers) headers = curl_slist_append(headers, h.c_str());
  for (const auto& h : extra_headers) headers = curl_slist_append(headers, h.c_str());
  if (!target.sigv4.empty() && !target.credentials.session_token.empty()) {
    headers = curl_slist_append(headers, ("X-Amz-Security-Token: " + target.credentials.session_token).c_str());
  }
  curl_easy_setopt(e, CURLOPT_URL, target.url.c_str());
  curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(e, CURLOPT_ERRORBUFFER, error);
  curl_easy_setopt(e, CURLOPT_POST, 1L);
  curl_easy_setopt(e, CURLOPT_POSTFIELDS, payload.data());
  curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(payload.size()));
  curl_easy_setopt(e, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
  // Above the platforms' own limits (Lambda 900 s, Cloud Functions 3600 s).
  curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, 3660L * 1000);
  curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, &OnBody);
  curl_easy_setopt(e, CURLOPT_WRITEDATA, &resp);
  curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, &OnHeader);
  curl_easy_setopt(e, CURLOPT_HEADERDATA, &resp);
  if (cancelled) {
    curl_easy_setopt(e, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(e, CURLOPT_XFERINFODATA, &cancelled);
    curl_easy_setopt(e, CURLOPT_XFERINFOFUNCTION,
                     +[](void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) -> int {
                       return (*static_cast<const std::function<bool()>*>(user))() ? 1 : 0;
                     });
  }
  if (!target.sigv4.empty()) {
    curl_easy_setopt(e, CURLOPT_AWS_SIGV4, target.sigv4.c_str());
    curl_easy_setopt(e, CURLOPT_USERNAME, target.credentials.access_key_id.c_str());
    curl_easy_setopt(e, CURLOPT_PASSWORD, target.credentials.secret_access_key.c_str());
  }
  CURLcode code = curl_easy_perform(e);
  curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &resp.status);
  curl_easy_cleanup(e);
  curl_slist_free_all(headers);
  if (code == CURLE_ABORTED_BY_CALLBACK) resp.aborted = true;
  if (code != CURLE_OK) {
    resp.transport_error = error[0] != '\0' ? error : curl_easy_strerror(code);
    resp.transient = code == CURLE_COULDNT_CONNECT || code == CURLE_SEND_ERROR || code == CURLE_RECV_ERROR ||
                     code == CURLE_GOT_NOTHING || code == CURLE_PARTIAL_FILE || code == CURLE_OPERATION_TIMEDOUT;
  }
  return resp;
}

Status FunctionEngine::NeedsStore(const RemoteCache* shared, const std::string& storage_uri) {
  if (shared != nullptr && !storage_uri.empty()) return Status::Ok();
  return Status::Invalid("a cloud-function engine needs a shared store the function can reach: give --storage "
                         "URI (or set GG_STORAGE_URI) to a Redis or S3 store");
}

Result<std::unique_ptr<FunctionEngine>> FunctionEngine::Create(LocalStore* store, RemoteCache* shared,
                                                               const std::string& storage_uri, FunctionTarget target) {
  GG_RETURN_IF_ERROR(NeedsStore(shared, storage_uri));
  if (target.slots < 1) return Status::Invalid("slots must be positive");
  curl_global_init(CURL_GLOBAL_DEFAULT);
  return std::unique_ptr<FunctionEngine>(new FunctionEngine(store, shared, storage_uri, std::move(target)));
}

FunctionEngine::FunctionEngine(LocalStore* store, RemoteCache* shared, std::string storage_uri, FunctionTarget target)
    : store_(store), shared_(shared), storage_uri_(std::move(storage_uri)), target_(std::move(target)) {}

FunctionEngine::~FunctionEngine() {
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

Status FunctionEngine::Accepts(const Job& job) const {
  return target_.budget.Check(closures_.Of(*job.thunk));
}

Status FunctionEngine::Submit(const Job& job, Callback done) {
  std::lock_guard<std::mutex> lock(mu_);
  if (static_cast<int>(queue_.size() + running_.size()) >= target_.slots) {
    return Status::Unavailable("all " + std::to_string(target_.slots) + " slots of " + target_.engine_name +
                               " are busy");
  }
  queue_.push_back({job, std::move(done)});
  if (idle_ == 0 && static_cast<int>(threads_.size()) < target_.slots) {
    threads_.emplace_back([this] { Loop(); });
  } else {
    cv_.notify_one();
  }
  return Status::Ok();
}

void FunctionEngine::Cancel(uint64_t job_id) {
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

bool FunctionEngine::Cancelled(uint64_t job_id) {
  std::lock_guard<std::mutex> lock(mu_);
  return cancelled_.count(job_id) > 0;
}

void FunctionEngine::Loop() {
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

ExecResult FunctionEngine::Run(const Job& job) {
  std::vector<Name> inputs = closures_.Of(*job.thunk);
  if (Status s = shared_->Upload(*store_, inputs); !s.ok()) {
    return Failure(ExecResult::Kind::kSetupFailed, target_.engine_name + ": cannot upload the thunk's inputs to " +
                                                       shared_->storage().uri() + ": " + s.message());
  }
  std::string payload = lambda::EventToJson(job.thunk->Serialize(), inputs, storage_uri_);
  if (payload.size() > target_.max_payload) {
    return Failure(ExecResult::Kind::kSetupFailed,
                   target_.engine_name + ": the request would be " + std::to_string(payload.size()) +
                       " bytes, over the platform's limit of " + std::to_string(target_.max_payload) +
                       " (a thunk with too many inputs)");
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

ExecResult FunctionEngine::Invoke(uint64_t job_id, const std::string& payload) {
  const std::string& where = target_.what;
  const RetryPolicy& retry = target_.retry;
  const std::vector<std::string> sync = target_.sigv4.empty()
                                            ? std::vector<std::string>{}
                                            : std::vector<std::string>{"X-Amz-Invocation-Type: RequestResponse"};
  const std::function<bool()> cancelled = [this, job_id] { return Cancelled(job_id); };
  std::string last_error;
  for (int attempt = 1; attempt <= retry.max_attempts; ++attempt) {
    if (attempt > 1) {
      auto until = std::chrono::steady_clock::now() + std::chrono::duration<double>(retry.Delay(attempt));
      while (std::chrono::steady_clock::now() < until) {
        if (Cancelled(job_id)) return Failure(ExecResult::Kind::kCancelled, "cancelled");
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
    }
    FunctionResponse resp = PostToFunction(target_, payload, sync, cancelled);
    if (resp.aborted) return Failure(ExecResult::Kind::kCancelled, "cancelled");
    if (!resp.transport_error.empty()) {
      last_error = resp.transport_error;
      if (resp.transient) continue;
      return Failure(ExecResult::Kind::kSetupFailed, where + ": " + last_error);
    }
    if (resp.status == 429 || resp.status >= 500) {
      last_error = "HTTP " + std::to_string(resp.status) +
                   (resp.error_type.empty() ? "" : " " + resp.error_type) + ": " + Excerpt(resp.body);
      continue;
    }
    if (resp.status < 200 || resp.status >= 300) {
      std::string hint;
      if (resp.status == 401 || resp.status == 403) hint = target_.hint_403;
      if (resp.status == 404) hint = target_.hint_404;
      return Failure(ExecResult::Kind::kSetupFailed,
                     where + " refused the request: HTTP " + std::to_string(resp.status) +
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
  return Failure(ExecResult::Kind::kCrashed, where + ": gave up after " + std::to_string(retry.max_attempts) +
                                                 " attempts; last: " + last_error);
}

}  // namespace gg
