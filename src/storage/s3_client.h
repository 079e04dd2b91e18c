// An S3 REST client on libcurl's multi interface: many requests in flight
// on shared keep-alive connections, each signed by libcurl's built-in AWS
// SigV4 (CURLOPT_AWS_SIGV4), retried with back-off on throttling, 5xx
// answers and dropped connections, and turned into clear errors when they
// finally fail. Serves AWS S3, GCS's XML API (HMAC keys), MinIO, Ceph, moto.
#pragma once

#include <curl/curl.h>

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "gg/status.h"
#include "storage/credentials.h"
#include "storage/retry.h"

namespace gg {

class BlobWriter;

struct S3Config {
  std::string scheme = "s3";   ///< "s3" or "gs", for display
  std::string bucket;
  std::string prefix;          ///< "" or "a/b" (no leading or trailing '/')
  std::string region = "us-east-1";
  std::string endpoint;        ///< "http://127.0.0.1:9000"; empty: AWS's own, virtual-hosted
  bool path_style = true;
  AwsCredentials credentials;
  int max_in_flight = 64;
  RetryPolicy retry;

  /// "s3://bucket/prefix?region=...&endpoint=..." without secrets.
  std::string Uri() const;
  /// The object key for `rel` ("blobs/V...") under the prefix.
  std::string Key(const std::string& rel) const { return prefix.empty() ? rel : prefix + "/" + rel; }
};

/// One HTTP request and, once Run returns, its outcome.
struct S3Request {
  std::string method = "GET";  ///< GET, HEAD, PUT, POST, DELETE
  std::string key;             ///< object key, unescaped; empty for the bucket itself
  std::string query;           ///< encoded, canonical order ("partNumber=1&uploadId=...")
  std::string what;            ///< for errors: "object V...", "the reduction of T..."

  // The body: `body`, or `body_length` bytes of `body_path` from `body_offset`.
  bool has_body = false;
  std::string body;
  std::string body_path;
  uint64_t body_offset = 0;
  uint64_t body_length = 0;
  /// Hex SHA-256 of the body, or "UNSIGNED-PAYLOAD"; empty: computed for
  /// in-memory bodies (and the empty body).
  std::string payload_sha256;
  std::vector<std::string> headers;  ///< extra "Name: value" lines

  /// Where a successful GET's body goes; null: into `response`.
  BlobWriter* sink = nullptr;
  /// Called once the request has finished for good (no more retries).
  std::function<void(S3Request&)> on_done;

  // Outcome.
  long http = 0;
  CURLcode curl = CURLE_OK;
  std::string curl_error;
  std::string response;  ///< the body (error bodies are capped)
  std::string etag;
  Status local_error;    ///< the sink or the body file failed (not retried)
  int attempts = 0;
  double seconds_failing = 0;

  bool ok() const { return local_error.ok() && curl == CURLE_OK && http >= 200 && http < 300; }
  bool not_found() const { return local_error.ok() && curl == CURLE_OK && http == 404; }

  // Run's bookkeeping.
  struct State;
  std::shared_ptr<State> state;
};

class S3Client {
 public:
  explicit S3Client(S3Config config);
  ~S3Client();
  S3Client(const S3Client&) = delete;
  S3Client& operator=(const S3Client&) = delete;

  const S3Config& config() const { return config_; }
  std::string uri() const { return uri_; }

  /// Runs every request to completion (success or final failure), with up
  /// to config().max_in_flight at once. Thread-safe.
  void Run(const std::vector<S3Request*>& requests);

  /// The error a finished request that is not ok() stands for.
  Status ErrorFor(const S3Request& r) const;

  /// Text of the first <tag>...</tag> in an XML body, unescaped.
  static std::string XmlValue(const std::string& xml, const std::string& tag);

 private:
  std::string Url(const S3Request& r) const;
  /// Starts one attempt; false if it could not (local_error says why).
  bool Start(void* multi, S3Request* r);
  static size_t OnWrite(char* data, size_t size, size_t n, void* arg);
  static size_t OnRead(char* data, size_t size, size_t n, void* arg);
  static size_t OnHeader(char* data, size_t size, size_t n, void* arg);
  static int OnSeek(void* arg, curl_off_t offset, int origin);
  static void Lock(CURL*, curl_lock_data data, curl_lock_access, void* arg);
  static void Unlock(CURL*, curl_lock_data data, void* arg);

  S3Config config_;
  std::string uri_;
  std::string sigv4_;
  CURLSH* share_ = nullptr;
  std::mutex share_mu_[CURL_LOCK_DATA_LAST];
};

}  // namespace gg
