#include "storage/s3_client.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <deque>

#include "core/sha256.h"
#include "storage/blob_writer.h"
#include "storage/uri.h"

namespace gg {

struct S3Request::State {
  CURL* easy = nullptr;
  curl_slist* headers = nullptr;
  char error[CURL_ERROR_SIZE] = {};
  int fd = -1;
  uint64_t read_pos = 0;
  Clock::time_point first_failure{};
  Clock::time_point not_before{};
  bool failing = false;
  const S3Client* client = nullptr;
  S3Request* req = nullptr;

  void Release() {
    if (easy != nullptr) curl_easy_cleanup(easy);
    easy = nullptr;
    if (headers != nullptr) curl_slist_free_all(headers);
    headers = nullptr;
    if (fd >= 0) close(fd);
    fd = -1;
  }
  ~State() { Release(); }
};

namespace {

constexpr size_t kMaxErrorBody = 64 << 10;
constexpr char kEmptySha256[] = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

bool TransientCurl(CURLcode c) {
  switch (c) {
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_HTTP3:
      return true;
    default:
      return false;
  }
}

bool Retryable(const S3Request& r) {
  if (!r.local_error.ok()) return false;
  if (r.curl != CURLE_OK) return TransientCurl(r.curl);
  if (r.http >= 500 || r.http == 429) return true;
  // S3 says RequestTimeout (400) when a client's upload stalled.
  return r.http == 400 && S3Client::XmlValue(r.response, "Code") == "RequestTimeout";
}

std::once_flag curl_init_once;

}  // namespace

std::string S3Config::Uri() const {
  std::string u = scheme + "://" + bucket;
  if (!prefix.empty()) u += "/" + prefix;
  if (scheme == "s3") {
    u += "?region=" + region;
    if (!endpoint.empty()) u += "&endpoint=" + endpoint;
  }
  return u;
}

S3Client::S3Client(S3Config config) : config_(std::move(config)), uri_(config_.Uri()) {
  std::call_once(curl_init_once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  sigv4_ = "aws:amz:" + config_.region + ":s3";
  share_ = curl_share_init();
  curl_share_setopt(share_, CURLSHOPT_LOCKFUNC, &S3Client::Lock);
  curl_share_setopt(share_, CURLSHOPT_UNLOCKFUNC, &S3Client::Unlock);
  curl_share_setopt(share_, CURLSHOPT_USERDATA, this);
  curl_share_setopt(share_, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
  curl_share_setopt(share_, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
  curl_share_setopt(share_, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT);
}

S3Client::~S3Client() { curl_share_cleanup(share_); }

void S3Client::Lock(CURL*, curl_lock_data data, curl_lock_access, void* arg) {
  static_cast<S3Client*>(arg)->share_mu_[data].lock();
}

void S3Client::Unlock(CURL*, curl_lock_data data, void* arg) {
  static_cast<S3Client*>(arg)->share_mu_[data].unlock();
}

std::string S3Client::XmlValue(const std::string& xml, const std::string& tag) {
  size_t b = xml.find("<" + tag + ">");
  if (b == std::string::npos) return "";
  b += tag.size() + 2;
  size_t e = xml.find("</" + tag + ">", b);
  if (e == std::string::npos) return "";
  std::string v = xml.substr(b, e - b);
  static const std::pair<const char*, const char*> kEntities[] = {
      {"&quot;", "\""}, {"&apos;", "'"}, {"&lt;", "<"}, {"&gt;", ">"}, {"&#34;", "\""}, {"&amp;", "&"}};
  for (const auto& [from, to] : kEntities) {
    for (size_t p = v.find(from); p != std::string::npos; p = v.find(from, p + 1)) v.replace(p, std::strlen(from), to);
  }
  return v;
}

std::string S3Client::Url(const S3Request& r) const {
  std::string url;
  std::string key = PercentEncode(r.key, true);
  if (config_.path_style) {
    url = config_.endpoint + "/" + config_.bucket + (r.key.empty() ? "" : "/" + key);
  } else {
    url = "https://" + config_.bucket + ".s3." + config_.region + ".amazonaws.com/" + key;
  }
  if (!r.query.empty()) url += "?" + r.query;
  return url;
}

size_t S3Client::OnWrite(char* data, size_t size, size_t n, void* arg) {
  auto* st = static_cast<S3Request::State*>(arg);
  S3Request* r = st->req;
  long code = 0;
  curl_easy_getinfo(st->easy, CURLINFO_RESPONSE_CODE, &code);
  size_t len = size * n;
  if (r->sink != nullptr && code >= 200 && code < 300) {
    Status s = r->sink->Append({data, len});
    if (!s.ok()) {
      r->local_error = s;
      return 0;  // aborts the transfer with CURLE_WRITE_ERROR
    }
    return len;
  }
  bool is_error = code >= 300;
  if (!is_error || r->response.size() < kMaxErrorBody) r->response.append(data, len);
  return len;
}

size_t S3Client::OnRead(char* data, size_t size, size_t n, void* arg) {
  auto* st = static_cast<S3Request::State*>(arg);
  S3Request* r = st->req;
  size_t want = size * n;
  uint64_t left = r->body_length - st->read_pos;
  if (left < want) want = static_cast<size_t>(left);
  if (want == 0) return 0;
  if (r->body_path.empty()) {
    std::memcpy(data, r->body.data() + st->read_pos, want);
    st->read_pos += want;
    return want;
  }
  for (;;) {
    ssize_t got = pread(st->fd, data, want, static_cast<off_t>(r->body_offset + st->read_pos));
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) {
      r->local_error = got < 0 ? Status::FromErrno("cannot read " + r->body_path, errno)
                               : Status::Corrupt(r->body_path + " is shorter than its name says");
      return CURL_READFUNC_ABORT;
    }
    st->read_pos += got;
    return static_cast<size_t>(got);
  }
}

int S3Client::OnSeek(void* arg, curl_off_t offset, int origin) {
  auto* st = static_cast<S3Request::State*>(arg);
  if (origin != SEEK_SET || offset < 0 || static_cast<uint64_t>(offset) > st->req->body_length) {
    return CURL_SEEKFUNC_CANTSEEK;
  }
  st->read_pos = static_cast<uint64_t>(offset);
  return CURL_SEEKFUNC_OK;
}

size_t S3Client::OnHeader(char* data, size_t size, size_t n, void* arg) {
  auto* st = static_cast<S3Request::State*>(arg);
  size_t len = size * n;
  std::string_view line(data, len);
  if (line.size() > 5 && strncasecmp(line.data(), "etag:", 5) == 0) {
    line.remove_prefix(5);
    while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) line.remove_prefix(1);
    while (!line.empty() && (line.back() == '\r' || line.back() == '\n' || line.back() == ' ')) line.remove_suffix(1);
    st->req->etag = std::string(line);
  }
  return len;
}

bool S3Client::Start(void* multi, S3Request* r) {
  auto& st = *r->state;
  st.Release();
  st.read_pos = 0;
  r->attempts++;
  r->http = 0;
  r->curl = CURLE_OK;
  r->curl_error.clear();
  r->response.clear();
  r->etag.clear();
  if (r->sink != nullptr) {
    if (Status s = r->sink->Reset(); !s.ok()) {
      r->local_error = s;
      return false;
    }
  }
  if (!r->body_path.empty()) {
    st.fd = open(r->body_path.c_str(), O_RDONLY | O_CLOEXEC);
    if (st.fd < 0) {
      r->local_error = Status::FromErrno("cannot open " + r->body_path, errno);
      return false;
    }
  } else if (r->has_body) {
    r->body_length = r->body.size();
  }
  CURL* e = st.easy = curl_easy_init();
  std::string url = Url(*r);
  curl_easy_setopt(e, CURLOPT_URL, url.c_str());
  curl_easy_setopt(e, CURLOPT_SHARE, share_);
  curl_easy_setopt(e, CURLOPT_PRIVATE, r);
  curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(e, CURLOPT_ERRORBUFFER, st.error);
  curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(e, CURLOPT_TCP_NODELAY, 1L);
  curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(config_.retry.connect_timeout * 1000));
  // A transfer that moves nothing for 30 s is dead (a hung server).
  curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME, 30L);
  curl_easy_setopt(e, CURLOPT_BUFFERSIZE, 512L * 1024);
  curl_easy_setopt(e, CURLOPT_UPLOAD_BUFFERSIZE, 512L * 1024);
  // Not "Expect:" to drop the header: libcurl 7.88 would still sign it and
  // the server would then reject the signature. Just do not wait long.
  curl_easy_setopt(e, CURLOPT_EXPECT_100_TIMEOUT_MS, 200L);
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, &S3Client::OnWrite);
  curl_easy_setopt(e, CURLOPT_WRITEDATA, &st);
  curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, &S3Client::OnHeader);
  curl_easy_setopt(e, CURLOPT_HEADERDATA, &st);

  std::string payload = r->payload_sha256;
  if (payload.empty()) payload = r->has_body && !r->body.empty() ? HexOf(HashBytes(r->body)) : kEmptySha256;
  st.headers = curl_slist_append(st.headers, ("x-amz-content-sha256: " + payload).c_str());
  if (!config_.credentials.session_token.empty()) {
    st.headers = curl_slist_append(st.headers, ("x-amz-security-token: " + config_.credentials.session_token).c_str());
  }
  for (const auto& h : r->headers) st.headers = curl_slist_append(st.headers, h.c_str());

  if (r->method == "HEAD") {
    curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
  } else if (r->method == "PUT" || r->method == "POST") {
    curl_easy_setopt(e, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(e, CURLOPT_READFUNCTION, &S3Client::OnRead);
    curl_easy_setopt(e, CURLOPT_READDATA, &st);
    curl_easy_setopt(e, CURLOPT_SEEKFUNCTION, &S3Client::OnSeek);
    curl_easy_setopt(e, CURLOPT_SEEKDATA, &st);
    curl_easy_setopt(e, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(r->has_body ? r->body_length : 0));
    if (r->method == "POST") curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, "POST");
  } else if (r->method != "GET") {
    curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, r->method.c_str());
  }
  curl_easy_setopt(e, CURLOPT_HTTPHEADER, st.headers);
  if (!config_.credentials.empty()) {
    curl_easy_setopt(e, CURLOPT_AWS_SIGV4, sigv4_.c_str());
    curl_easy_setopt(e, CURLOPT_USERNAME, config_.credentials.access_key_id.c_str());
    curl_easy_setopt(e, CURLOPT_PASSWORD, config_.credentials.secret_access_key.c_str());
  }
  curl_multi_add_handle(static_cast<CURLM*>(multi), e);
  return true;
}

void S3Client::Run(const std::vector<S3Request*>& requests) {
  CURLM* multi = curl_multi_init();
  std::deque<S3Request*> ready;
  std::vector<S3Request*> waiting;  // retries not yet due
  for (S3Request* r : requests) {
    r->state = std::make_shared<S3Request::State>();
    r->state->client = this;
    r->state->req = r;
    r->attempts = 0;
    r->local_error = Status::Ok();
    ready.push_back(r);
  }
  int active = 0;
  while (!ready.empty() || !waiting.empty() || active > 0) {
    auto now = Clock::now();
    for (auto it = waiting.begin(); it != waiting.end();) {
      if ((*it)->state->not_before <= now) {
        ready.push_back(*it);
        it = waiting.erase(it);
      } else {
        ++it;
      }
    }
    while (active < config_.max_in_flight && !ready.empty()) {
      S3Request* r = ready.front();
      ready.pop_front();
      if (Start(multi, r)) {
        active++;
      } else if (r->on_done) {
        r->on_done(*r);
      }
    }
    int running = 0;
    curl_multi_perform(multi, &running);
    int left = 0;
    while (CURLMsg* msg = curl_multi_info_read(multi, &left)) {
      if (msg->msg != CURLMSG_DONE) continue;
      S3Request* r = nullptr;
      curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, reinterpret_cast<char**>(&r));
      auto& st = *r->state;
      r->curl = msg->data.result;
      curl_easy_getinfo(msg->easy_handle, CURLINFO_RESPONSE_CODE, &r->http);
      r->curl_error = st.error[0] != '\0' ? st.error : curl_easy_strerror(r->curl);
      curl_multi_remove_handle(multi, msg->easy_handle);
      st.Release();
      active--;
      if (r->curl == CURLE_WRITE_ERROR && r->local_error.ok()) r->local_error = Status::Io("cannot write the download");
      if (r->curl == CURLE_ABORTED_BY_CALLBACK && r->local_error.ok()) r->local_error = Status::Io("upload aborted");
      if (Retryable(*r)) {
        if (!st.failing) {
          st.failing = true;
          st.first_failure = Clock::now();
        }
        r->seconds_failing = SecondsSince(st.first_failure);
        if (r->attempts < config_.retry.max_attempts && r->seconds_failing < config_.retry.budget_seconds) {
          st.not_before = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                             std::chrono::duration<double>(config_.retry.Delay(r->attempts + 1)));
          waiting.push_back(r);
          continue;
        }
      }
      if (r->on_done) r->on_done(*r);
    }
    if (active == 0 && ready.empty() && !waiting.empty()) {
      auto next = std::min_element(waiting.begin(), waiting.end(), [](S3Request* a, S3Request* b) {
                    return a->state->not_before < b->state->not_before;
                  });
      auto wait = (*next)->state->not_before - Clock::now();
      if (wait > Clock::duration::zero()) {
        int ms = static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(wait).count()) + 1;
        curl_multi_poll(multi, nullptr, 0, ms, nullptr);
      }
    } else if (active > 0) {
      curl_multi_poll(multi, nullptr, 0, waiting.empty() ? 1000 : 20, nullptr);
    }
  }
  curl_multi_cleanup(multi);
  for (S3Request* r : requests) r->state.reset();
}

Status S3Client::ErrorFor(const S3Request& r) const {
  if (!r.local_error.ok()) return r.local_error;
  std::string retried;
  if (r.attempts > 1) {
    char buf[80];
    std::snprintf(buf, sizeof buf, " (gave up after %d attempts over %.1f s)", r.attempts, r.seconds_failing);
    retried = buf;
  }
  std::string where = config_.endpoint.empty() ? "" : " (" + config_.endpoint + ")";
  if (r.curl != CURLE_OK) {
    return Status::Unavailable("cannot reach " + uri_ + where + " for " + r.what + ": " + r.curl_error + retried);
  }
  std::string code = XmlValue(r.response, "Code"), message = XmlValue(r.response, "Message");
  std::string detail = code.empty() ? "" : " (" + code + (message.empty() ? "" : ": " + message) + ")";
  if (r.http == 403 || r.http == 401) {
    if (config_.credentials.empty()) {
      return Status::Invalid("access denied by " + uri_ + detail +
                             ": no credentials were found: set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY "
                             "(or ~/.aws/credentials and AWS_PROFILE)");
    }
    return Status::Invalid("access denied by " + uri_ + detail +
                           ": check AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY (the credentials came from " +
                           config_.credentials.source + ")");
  }
  if (code == "NoSuchBucket") {
    return Status::NotFound("bucket '" + config_.bucket + "' does not exist at " +
                            (config_.endpoint.empty() ? uri_ : config_.endpoint) +
                            ": create it (e.g. 'aws s3 mb s3://" + config_.bucket + "') or fix the URI " + uri_);
  }
  if (r.http == 404) return Status::NotFound(r.what + " is not in " + uri_);
  if (r.http == 301 || r.http == 307 || code == "PermanentRedirect" || code == "AuthorizationHeaderMalformed") {
    return Status::Invalid(uri_ + " answered " + std::to_string(r.http) + detail +
                           ": the bucket is probably in another region; add ?region=REGION to the URI");
  }
  if (r.http >= 500 || r.http == 429) {
    return Status::Unavailable(uri_ + " failed " + r.what + " with HTTP " + std::to_string(r.http) + detail + retried);
  }
  return Status::Io(uri_ + " refused " + r.what + " with HTTP " + std::to_string(r.http) + detail);
}

}  // namespace gg
