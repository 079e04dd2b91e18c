#include "core/sha256.h"
#include "storage/s3_storage.h"

#include <cstdlib>

#include "storage/blob_writer.h"

namespace gg {
namespace {

std::string EnvOr(const char* name, const std::string& fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? v : fallback;
}

class S3Storage : public Storage {
 public:
  explicit S3Storage(S3Config config) : client_(std::move(config)) {}

  std::string uri() const override { return client_.uri(); }

  Result<std::vector<bool>> Has(const std::vector<Name>& names) override {
    std::vector<S3Request> reqs(names.size());
    for (size_t i = 0; i < names.size(); ++i) {
      reqs[i].method = "HEAD";
      reqs[i].key = BlobKey(names[i]);
      reqs[i].what = "object " + names[i].object().str();
    }
    RunAll(reqs);
    std::vector<bool> out(names.size());
    bool any_missing = false;
    for (size_t i = 0; i < names.size(); ++i) {
      if (reqs[i].ok()) {
        out[i] = true;
      } else if (reqs[i].not_found()) {
        any_missing = true;
      } else {
        return client_.ErrorFor(reqs[i]);
      }
    }
    // A HEAD answer has no body, so "no such key" and "no such bucket" look
    // alike: ask about the bucket once.
    if (any_missing) GG_RETURN_IF_ERROR(CheckBucket());
    return out;
  }

  Status Put(LocalStore& local, const std::vector<Name>& names) override {
    std::vector<S3Request> reqs;
    reqs.reserve(names.size());
    for (const auto& n : names) {
      GG_RETURN_IF_ERROR(local.Verify(n));
      if (n.size() > kMultipartThreshold) continue;
      S3Request& r = reqs.emplace_back();
      r.method = "PUT";
      r.key = BlobKey(n);
      r.what = "uploading object " + n.object().str();
      r.has_body = true;
      r.body_path = local.BlobPath(n);
      r.body_length = n.size();
      // The name's hash is the body's SHA-256: S3 rejects a body that does
      // not match it, so nothing is ever stored under a wrong name.
      r.payload_sha256 = HexOf(n.hash());
    }
    RunAll(reqs);
    GG_RETURN_IF_ERROR(FirstError(reqs));
    for (const auto& n : names) {
      if (n.size() > kMultipartThreshold) GG_RETURN_IF_ERROR(PutMultipart(local, n));
    }
    return Status::Ok();
  }

  Status Get(LocalStore& local, const std::vector<Name>& names) override {
    std::vector<std::unique_ptr<BlobWriter>> writers;
    std::vector<S3Request> reqs(names.size());
    for (size_t i = 0; i < names.size(); ++i) {
      writers.push_back(std::make_unique<BlobWriter>(local, names[i], uri()));
      reqs[i].key = BlobKey(names[i]);
      reqs[i].what = "object " + names[i].object().str();
      reqs[i].sink = writers[i].get();
      // Committed as soon as it arrives, so open files stay few.
      reqs[i].on_done = [&writers, i](S3Request& r) {
        if (r.ok()) {
          r.local_error = writers[i]->Commit();
          writers[i].reset();
        }
      };
    }
    RunAll(reqs);
    for (size_t i = 0; i < names.size(); ++i) {
      if (reqs[i].not_found()) {
        GG_RETURN_IF_ERROR(CheckBucket());
        return Status::NotFound("object " + names[i].object().str() + " is not in " + uri());
      }
    }
    return FirstError(reqs);
  }

  Result<std::optional<Reduction>> GetReduction(const Name& thunk) override {
    GG_ASSIGN_OR_RETURN(auto v, GetReductions({thunk}));
    return std::move(v[0]);
  }

  Result<std::vector<std::optional<Reduction>>> GetReductions(const std::vector<Name>& thunks) override {
    std::vector<S3Request> reqs(thunks.size());
    for (size_t i = 0; i < thunks.size(); ++i) {
      reqs[i].key = ReductionKey(thunks[i]);
      reqs[i].what = "the reduction of " + thunks[i].object().str();
    }
    RunAll(reqs);
    std::vector<std::optional<Reduction>> out(thunks.size());
    for (size_t i = 0; i < thunks.size(); ++i) {
      if (reqs[i].not_found()) {
        if (client_.XmlValue(reqs[i].response, "Code") == "NoSuchBucket") return client_.ErrorFor(reqs[i]);
        continue;
      }
      if (!reqs[i].ok()) return client_.ErrorFor(reqs[i]);
      auto r = Reduction::Parse(reqs[i].response);
      if (r.ok()) out[i] = std::move(*r);  // a damaged record is a miss
    }
    return out;
  }

  Status PutReduction(const Name& thunk, const Reduction& red) override {
    S3Request r;
    r.method = "PUT";
    r.key = ReductionKey(thunk);
    r.what = "recording the reduction of " + thunk.object().str();
    r.has_body = true;
    r.body = red.Serialize();
    std::vector<S3Request*> one{&r};
    client_.Run(one);
    return r.ok() ? Status::Ok() : client_.ErrorFor(r);
  }

 private:
  std::string BlobKey(const Name& n) const { return client_.config().Key("blobs/" + n.object().str()); }
  std::string ReductionKey(const Name& n) const { return client_.config().Key("reductions/" + n.object().str()); }

  void RunAll(std::vector<S3Request>& reqs) {
    std::vector<S3Request*> ptrs;
    ptrs.reserve(reqs.size());
    for (auto& r : reqs) ptrs.push_back(&r);
    client_.Run(ptrs);
  }

  Status FirstError(const std::vector<S3Request>& reqs) const {
    size_t failed = 0;
    const S3Request* first = nullptr;
    for (const auto& r : reqs) {
      if (!r.ok()) {
        if (first == nullptr) first = &r;
        failed++;
      }
    }
    if (first == nullptr) return Status::Ok();
    Status s = client_.ErrorFor(*first);
    if (failed > 1) s = s.Prefix(std::to_string(failed) + " of " + std::to_string(reqs.size()) + " requests failed, the first");
    return s;
  }

  Status CheckBucket() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (bucket_ok_) return Status::Ok();
    }
    S3Request r;
    r.method = "HEAD";
    r.what = "bucket " + client_.config().bucket;
    std::vector<S3Request*> one{&r};
    client_.Run(one);
    if (r.not_found()) {
      r.response = "<Error><Code>NoSuchBucket</Code></Error>";
      return client_.ErrorFor(r);
    }
    if (r.curl != CURLE_OK || !r.local_error.ok()) return client_.ErrorFor(r);
    // 403 here only means the key may not list the bucket: objects may still work.
    std::lock_guard<std::mutex> lock(mu_);
    bucket_ok_ = true;
    return Status::Ok();
  }

  Status PutMultipart(LocalStore& local, const Name& n) {
    const std::string key = BlobKey(n);
    const std::string what = "uploading object " + n.object().str();
    S3Request create;
    create.method = "POST";
    create.key = key;
    create.query = "uploads=";
    create.has_body = true;
    create.what = what + " (starting a multipart upload)";
    std::vector<S3Request*> one{&create};
    client_.Run(one);
    if (!create.ok()) return client_.ErrorFor(create);
    std::string upload_id = S3Client::XmlValue(create.response, "UploadId");
    if (upload_id.empty()) return Status::Io(uri() + " started a multipart upload for " + n.str() + " without an UploadId");
    std::string id_query = "uploadId=" + PercentEncode(upload_id, false);

    uint64_t part_size = std::max<uint64_t>(kMinPartSize, (n.size() + 9999) / 10000);
    uint64_t parts = (n.size() + part_size - 1) / part_size;
    std::vector<S3Request> reqs(parts);
    for (uint64_t i = 0; i < parts; ++i) {
      S3Request& r = reqs[i];
      r.method = "PUT";
      r.key = key;
      r.query = "partNumber=" + std::to_string(i + 1) + "&" + id_query;
      r.what = what + " (part " + std::to_string(i + 1) + " of " + std::to_string(parts) + ")";
      r.has_body = true;
      r.body_path = local.BlobPath(n);
      r.body_offset = i * part_size;
      r.body_length = std::min(part_size, n.size() - r.body_offset);
      r.payload_sha256 = "UNSIGNED-PAYLOAD";
    }
    RunAll(reqs);
    Status s = FirstError(reqs);
    if (s.ok()) {
      S3Request done;
      done.method = "POST";
      done.key = key;
      done.query = id_query;
      done.what = what + " (completing the multipart upload)";
      done.has_body = true;
      done.headers.push_back("Content-Type: application/xml");
      done.body = "<CompleteMultipartUpload>";
      for (uint64_t i = 0; i < parts; ++i) {
        done.body += "<Part><PartNumber>" + std::to_string(i + 1) + "</PartNumber><ETag>" + reqs[i].etag + "</ETag></Part>";
      }
      done.body += "</CompleteMultipartUpload>";
      one = {&done};
      client_.Run(one);
      // Completion can fail after answering 200, with the error in the body.
      if (done.ok() && done.response.find("<Error>") == std::string::npos) return Status::Ok();
      s = done.ok() ? Status::Io(uri() + " could not complete " + what + ": " +
                                 S3Client::XmlValue(done.response, "Code") + " " +
                                 S3Client::XmlValue(done.response, "Message"))
                    : client_.ErrorFor(done);
      // A retried completion finds the upload gone if the first one worked.
      if (done.attempts > 1 && S3Client::XmlValue(done.response, "Code") == "NoSuchUpload") {
        auto has = Has({n});
        if (has.ok() && (*has)[0]) return Status::Ok();
      }
    }
    S3Request abort;
    abort.method = "DELETE";
    abort.key = key;
    abort.query = id_query;
    abort.what = what + " (aborting the multipart upload)";
    one = {&abort};
    client_.Run(one);
    return s;
  }

  S3Client client_;
  std::mutex mu_;
  bool bucket_ok_ = false;
};

}  // namespace

Result<S3Config> ParseS3Uri(const ParsedUri& u) {
  S3Config c;
  c.scheme = u.scheme;
  c.bucket = u.host;
  if (!u.userinfo.empty()) {
    return Status::Invalid(u.scheme + ":// URIs take no credentials: set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY instead");
  }
  if (c.bucket.empty()) return Status::Invalid(u.scheme + ":// URI has no bucket: use " + u.scheme + "://bucket[/prefix]");
  c.prefix = u.path;
  while (!c.prefix.empty() && c.prefix.back() == '/') c.prefix.pop_back();
  for (const auto& [k, v] : u.query) {
    if (k != "region" && k != "endpoint") {
      return Status::Invalid("unknown parameter '" + k + "' in storage URI: " + u.scheme +
                             ":// takes region= and endpoint=");
    }
  }
  if (u.scheme == "gs") {
    c.region = "auto";
    c.endpoint = "https://storage.googleapis.com";
  } else {
    c.region = EnvOr("AWS_REGION", EnvOr("AWS_DEFAULT_REGION", "us-east-1"));
    c.endpoint = EnvOr("AWS_ENDPOINT_URL_S3", EnvOr("AWS_ENDPOINT_URL", ""));
  }
  if (auto it = u.query.find("region"); it != u.query.end() && !it->second.empty()) c.region = it->second;
  if (auto it = u.query.find("endpoint"); it != u.query.end() && !it->second.empty()) c.endpoint = it->second;
  if (!c.endpoint.empty() && c.endpoint.find("://") == std::string::npos) c.endpoint = "https://" + c.endpoint;
  while (!c.endpoint.empty() && c.endpoint.back() == '/') c.endpoint.pop_back();
  // AWS's own endpoint is addressed virtual-hosted; everything else by path.
  c.path_style = !c.endpoint.empty() || c.bucket.find('.') != std::string::npos;
  if (c.path_style && c.endpoint.empty()) c.endpoint = "https://s3." + c.region + ".amazonaws.com";
  GG_ASSIGN_OR_RETURN(c.credentials, LoadAwsCredentials());
  if (const char* p = std::getenv("GG_STORAGE_CONNECTIONS"); p != nullptr && std::atoi(p) > 0) {
    c.max_in_flight = std::atoi(p);
  }
  c.retry = RetryPolicy::FromEnv();
  return c;
}

std::unique_ptr<Storage> NewS3Storage(S3Config config) { return std::make_unique<S3Storage>(std::move(config)); }

Result<std::unique_ptr<Storage>> OpenS3Storage(const ParsedUri& uri) {
  GG_ASSIGN_OR_RETURN(S3Config c, ParseS3Uri(uri));
  return NewS3Storage(std::move(c));
}

}  // namespace gg
