#include "storage/redis_storage.h"

#include <fcntl.h>
#include <hiredis/hiredis.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <functional>
#include <mutex>
#include <thread>

#include "storage/blob_writer.h"
#include "storage/retry.h"

namespace gg {
namespace {

// Batches are flushed once they hold this many bytes or commands, which
// bounds memory while keeping the pipe full.
constexpr size_t kBatchBytes = 32 << 20;
constexpr size_t kBatchCommands = 2000;

std::string BlobKey(const Name& n) { return "blobs/" + n.object().str(); }
std::string ChunkKey(const Name& n, uint64_t i) { return BlobKey(n) + "/" + std::to_string(i); }
std::string ReductionKey(const Name& n) { return "reductions/" + n.object().str(); }

struct ReplyDeleter {
  void operator()(redisReply* r) const { freeReplyObject(r); }
};
using ReplyPtr = std::unique_ptr<redisReply, ReplyDeleter>;

/// One command: its arguments point into buffers the caller keeps alive.
struct Command {
  std::vector<const char*> argv;
  std::vector<size_t> lens;
  Command(std::initializer_list<std::string_view> args) {
    for (auto a : args) Add(a);
  }
  void Add(std::string_view a) {
    argv.push_back(a.data());
    lens.push_back(a.size());
  }
};

Result<std::string> ReadRange(int fd, const std::string& path, uint64_t offset, uint64_t size) {
  std::string buf(size, '\0');
  uint64_t done = 0;
  while (done < size) {
    ssize_t n = pread(fd, buf.data() + done, size - done, offset + done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Status::FromErrno("cannot read " + path, errno);
    if (n == 0) return Status::Corrupt(path + " is shorter than its name says");
    done += n;
  }
  return buf;
}

class RedisStorage : public Storage {
 public:
  RedisStorage(std::string host, int port, std::string user, std::string password, int db)
      : host_(std::move(host)), port_(port), user_(std::move(user)), password_(std::move(password)), db_(db),
        policy_(RetryPolicy::FromEnv()) {}
  ~RedisStorage() override {
    if (ctx_ != nullptr) redisFree(ctx_);
  }

  std::string uri() const override {
    std::string u = "redis://";
    if (!user_.empty()) u += user_ + "@";
    return u + host_ + ":" + std::to_string(port_) + "/" + std::to_string(db_);
  }

  Result<std::vector<bool>> Has(const std::vector<Name>& names) override {
    std::vector<bool> out(names.size());
    std::vector<std::string> keys;
    keys.reserve(names.size());
    for (const auto& n : names) keys.push_back(BlobKey(n));
    for (size_t start = 0; start < names.size(); start += kBatchCommands) {
      size_t end = std::min(names.size(), start + kBatchCommands);
      std::vector<Command> cmds;
      for (size_t i = start; i < end; ++i) cmds.push_back({"EXISTS", keys[i]});
      GG_RETURN_IF_ERROR(Pipeline(cmds, [&](size_t i, redisReply* r) -> Status {
        if (r->type != REDIS_REPLY_INTEGER) return Unexpected("EXISTS", r);
        out[start + i] = r->integer > 0;
        return Status::Ok();
      }));
    }
    return out;
  }

  Status Put(LocalStore& local, const std::vector<Name>& names) override {
    std::vector<std::string> bodies, keys;
    std::vector<Command> cmds;
    size_t bytes = 0;
    auto flush = [&]() -> Status {
      if (cmds.empty()) return Status::Ok();
      Status s = Pipeline(cmds, [&](size_t, redisReply* r) { return ExpectOk("SET", r); });
      cmds.clear();
      bodies.clear();
      keys.clear();
      bytes = 0;
      return s;
    };
    // Reserve so the string_views in cmds stay valid while the batch grows.
    bodies.reserve(kBatchCommands + 1);
    keys.reserve(kBatchCommands + 1);
    for (const auto& n : names) {
      GG_RETURN_IF_ERROR(local.Verify(n));
      std::string path = local.BlobPath(n);
      if (n.size() > kRedisChunkSize) {
        GG_RETURN_IF_ERROR(flush());
        GG_RETURN_IF_ERROR(PutChunked(n, path));
        continue;
      }
      auto content = ReadFileContent(path, n.size());
      if (!content.ok()) return content.status();
      bytes += content->size();
      keys.push_back(BlobKey(n));
      bodies.push_back(std::move(*content));
      cmds.push_back({"SET", keys.back(), bodies.back()});
      if (bytes >= kBatchBytes || cmds.size() >= kBatchCommands) GG_RETURN_IF_ERROR(flush());
    }
    return flush();
  }

  Status Get(LocalStore& local, const std::vector<Name>& names) override {
    std::vector<std::unique_ptr<BlobWriter>> writers;
    std::vector<std::string> keys;
    std::vector<Command> cmds;
    size_t bytes = 0;
    auto flush = [&]() -> Status {
      if (cmds.empty()) return Status::Ok();
      Status s = Pipeline(cmds, [&](size_t i, redisReply* r) -> Status {
        if (r->type == REDIS_REPLY_NIL) return Missing(writers[i]->name());
        if (r->type != REDIS_REPLY_STRING) return Unexpected("GET", r);
        GG_RETURN_IF_ERROR(writers[i]->Reset());
        return writers[i]->Append({r->str, static_cast<size_t>(r->len)});
      });
      for (auto& w : writers) {
        if (s.ok()) s = w->Commit();
      }
      writers.clear();
      cmds.clear();
      keys.clear();
      bytes = 0;
      return s;
    };
    keys.reserve(kBatchCommands + 1);
    for (const auto& n : names) {
      if (n.size() > kRedisChunkSize) {
        GG_RETURN_IF_ERROR(flush());
        GG_RETURN_IF_ERROR(GetChunked(local, n));
        continue;
      }
      writers.push_back(std::make_unique<BlobWriter>(local, n, uri()));
      keys.push_back(BlobKey(n));
      cmds.push_back({"GET", keys.back()});
      bytes += n.size();
      if (bytes >= kBatchBytes || cmds.size() >= kBatchCommands) GG_RETURN_IF_ERROR(flush());
    }
    return flush();
  }

  Result<std::optional<Reduction>> GetReduction(const Name& thunk) override {
    GG_ASSIGN_OR_RETURN(auto v, GetReductions({thunk}));
    return std::move(v[0]);
  }

  Result<std::vector<std::optional<Reduction>>> GetReductions(const std::vector<Name>& thunks) override {
    std::vector<std::optional<Reduction>> out(thunks.size());
    std::vector<std::string> keys;
    keys.reserve(thunks.size());
    for (const auto& t : thunks) keys.push_back(ReductionKey(t));
    for (size_t start = 0; start < thunks.size(); start += kBatchCommands) {
      size_t end = std::min(thunks.size(), start + kBatchCommands);
      std::vector<Command> cmds;
      for (size_t i = start; i < end; ++i) cmds.push_back({"GET", keys[i]});
      GG_RETURN_IF_ERROR(Pipeline(cmds, [&](size_t i, redisReply* r) -> Status {
        if (r->type == REDIS_REPLY_NIL) return Status::Ok();
        if (r->type != REDIS_REPLY_STRING) return Unexpected("GET", r);
        auto red = Reduction::Parse({r->str, static_cast<size_t>(r->len)});
        if (red.ok()) out[start + i] = std::move(*red);  // a damaged record is a miss
        return Status::Ok();
      }));
    }
    return out;
  }

  Status PutReduction(const Name& thunk, const Reduction& r) override {
    std::string key = ReductionKey(thunk), value = r.Serialize();
    return Pipeline({{"SET", key, value}}, [&](size_t, redisReply* reply) { return ExpectOk("SET", reply); });
  }

 private:
  Status Missing(const Name& n) const {
    return Status::NotFound("object " + n.object().str() + " is not in " + uri());
  }
  Status Unexpected(const char* what, redisReply* r) const {
    if (r->type == REDIS_REPLY_ERROR) {
      std::string msg(r->str, r->len);
      if (msg.starts_with("NOAUTH") || msg.starts_with("WRONGPASS") || msg.starts_with("NOPERM")) {
        return Status::Invalid("access denied by " + uri() + ": " + msg + " (check the user and password in the URI)");
      }
      if (msg.starts_with("OOM")) return Status::Io(uri() + " is out of memory: " + msg);
      return Status::Io(uri() + " refused " + what + ": " + msg);
    }
    return Status::Io(uri() + " answered " + what + " with an unexpected reply (type " + std::to_string(r->type) + ")");
  }
  Status ExpectOk(const char* what, redisReply* r) const {
    if (r->type == REDIS_REPLY_STATUS) return Status::Ok();
    return Unexpected(what, r);
  }

  static Result<std::string> ReadFileContent(const std::string& path, uint64_t size) {
    int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return Status::FromErrno("cannot open " + path, errno);
    auto r = ReadRange(fd, path, 0, size);
    close(fd);
    return r;
  }

  Status PutChunked(const Name& n, const std::string& path) {
    int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return Status::FromErrno("cannot open " + path, errno);
    uint64_t chunks = (n.size() + kRedisChunkSize - 1) / kRedisChunkSize;
    const uint64_t per_batch = std::max<uint64_t>(1, kBatchBytes / kRedisChunkSize);
    Status s;
    for (uint64_t c = 0; c < chunks && s.ok(); c += per_batch) {
      std::vector<std::string> bodies, keys;
      std::vector<Command> cmds;
      uint64_t end = std::min(chunks, c + per_batch);
      bodies.reserve(end - c);
      keys.reserve(end - c);
      for (uint64_t i = c; i < end && s.ok(); ++i) {
        uint64_t off = i * kRedisChunkSize;
        auto data = ReadRange(fd, path, off, std::min(kRedisChunkSize, n.size() - off));
        if (!data.ok()) {
          s = data.status();
          break;
        }
        keys.push_back(ChunkKey(n, i));
        bodies.push_back(std::move(*data));
        cmds.push_back({"SET", keys.back(), bodies.back()});
      }
      if (s.ok()) s = Pipeline(cmds, [&](size_t, redisReply* r) { return ExpectOk("SET", r); });
    }
    close(fd);
    GG_RETURN_IF_ERROR(s);
    // The marker goes last: a reader that sees it finds every chunk.
    std::string key = BlobKey(n);
    std::string marker = "gg-chunked " + std::to_string(chunks) + " " + std::to_string(kRedisChunkSize) + "\n";
    return Pipeline({{"SET", key, marker}}, [&](size_t, redisReply* r) { return ExpectOk("SET", r); });
  }

  Status GetChunked(LocalStore& local, const Name& n) {
    std::string key = BlobKey(n), marker;
    GG_RETURN_IF_ERROR(Pipeline({{"GET", key}}, [&](size_t, redisReply* r) -> Status {
      if (r->type == REDIS_REPLY_NIL) return Missing(n);
      if (r->type != REDIS_REPLY_STRING) return Unexpected("GET", r);
      marker.assign(r->str, r->len);
      return Status::Ok();
    }));
    unsigned long long chunks = 0, chunk_size = 0;
    if (std::sscanf(marker.c_str(), "gg-chunked %llu %llu", &chunks, &chunk_size) != 2 || chunk_size == 0 ||
        chunks != (n.size() + chunk_size - 1) / chunk_size) {
      return Status::Corrupt("object " + n.object().str() + " in " + uri() +
                             " has a damaged chunk list; push it again from a machine that has it");
    }
    BlobWriter writer(local, n, uri());
    const uint64_t per_batch = std::max<uint64_t>(1, kBatchBytes / chunk_size);
    for (uint64_t c = 0; c < chunks; c += per_batch) {
      uint64_t end = std::min<uint64_t>(chunks, c + per_batch);
      std::vector<std::string> keys;
      std::vector<Command> cmds;
      keys.reserve(end - c);
      for (uint64_t i = c; i < end; ++i) {
        keys.push_back(ChunkKey(n, i));
        cmds.push_back({"GET", keys.back()});
      }
      // Replies are buffered per batch, so a retried batch appends once.
      std::vector<std::string> parts(cmds.size());
      GG_RETURN_IF_ERROR(Pipeline(cmds, [&](size_t i, redisReply* r) -> Status {
        if (r->type == REDIS_REPLY_NIL) {
          return Status::Corrupt("object " + n.object().str() + " in " + uri() + " is missing chunk " +
                                 std::to_string(c + i) + "; push it again from a machine that has it");
        }
        if (r->type != REDIS_REPLY_STRING) return Unexpected("GET", r);
        parts[i].assign(r->str, r->len);
        return Status::Ok();
      }));
      for (const auto& p : parts) GG_RETURN_IF_ERROR(writer.Append(p));
    }
    return writer.Commit();
  }

  /// Connects (or reconnects) and authenticates; ctx_ is valid on success.
  Status Connect() {
    if (ctx_ != nullptr && ctx_->err == 0) return Status::Ok();
    if (ctx_ != nullptr) {
      redisFree(ctx_);
      ctx_ = nullptr;
    }
    timeval tv{static_cast<time_t>(policy_.connect_timeout),
               static_cast<suseconds_t>((policy_.connect_timeout - static_cast<time_t>(policy_.connect_timeout)) * 1e6)};
    ctx_ = redisConnectWithTimeout(host_.c_str(), port_, tv);
    if (ctx_ == nullptr) return Status::Unavailable("cannot reach " + uri() + ": out of memory");
    if (ctx_->err != 0) return Status::Unavailable("cannot reach " + uri() + ": " + ctx_->errstr);
    timeval io{60, 0};
    redisSetTimeout(ctx_, io);
    redisEnableKeepAlive(ctx_);
    std::vector<Command> setup;
    std::string db = std::to_string(db_);
    if (!password_.empty()) {
      setup.push_back(user_.empty() ? Command{"AUTH", password_} : Command{"AUTH", user_, password_});
    }
    if (db_ != 0) setup.push_back({"SELECT", db});
    if (setup.empty()) return Status::Ok();
    for (auto& c : setup) redisAppendCommandArgv(ctx_, static_cast<int>(c.argv.size()), c.argv.data(), c.lens.data());
    for (size_t i = 0; i < setup.size(); ++i) {
      void* raw = nullptr;
      if (redisGetReply(ctx_, &raw) != REDIS_OK) return Status::Unavailable("cannot reach " + uri() + ": " + ctx_->errstr);
      ReplyPtr reply(static_cast<redisReply*>(raw));
      if (reply->type == REDIS_REPLY_ERROR) {
        Status s = Unexpected(i == 0 && !password_.empty() ? "AUTH" : "SELECT", reply.get());
        redisFree(ctx_);
        ctx_ = nullptr;
        return s;
      }
    }
    return Status::Ok();
  }

  /// Sends all commands, then reads one reply per command and hands it to
  /// `on_reply`. On a dropped connection the whole batch is sent again
  /// (every command gg sends is idempotent) after a back-off, within the
  /// retry policy; other errors are returned at once.
  Status Pipeline(const std::vector<Command>& cmds, const std::function<Status(size_t, redisReply*)>& on_reply) {
    std::lock_guard<std::mutex> lock(mu_);
    Clock::time_point first_failure{};
    Status last;
    for (int attempt = 1;; ++attempt) {
      if (attempt > 1) {
        if (attempt > policy_.max_attempts || SecondsSince(first_failure) > policy_.budget_seconds) {
          char buf[64];
          std::snprintf(buf, sizeof buf, " (gave up after %d attempts over %.1f s)", attempt - 1,
                        SecondsSince(first_failure));
          return Status::Unavailable(last.message() + buf);
        }
        std::this_thread::sleep_for(std::chrono::duration<double>(policy_.Delay(attempt)));
      }
      Status s = Connect();
      if (s.ok()) s = RunOnce(cmds, on_reply);
      if (s.ok() || s.code() != Status::Code::kUnavailable) return s;
      if (attempt == 1) first_failure = Clock::now();
      last = s;
    }
  }

  Status RunOnce(const std::vector<Command>& cmds, const std::function<Status(size_t, redisReply*)>& on_reply) {
    for (const auto& c : cmds) {
      if (redisAppendCommandArgv(ctx_, static_cast<int>(c.argv.size()), c.argv.data(), c.lens.data()) != REDIS_OK) {
        return Status::Io("cannot build a command for " + uri() + ": " + ctx_->errstr);
      }
    }
    Status first_error;
    for (size_t i = 0; i < cmds.size(); ++i) {
      void* raw = nullptr;
      if (redisGetReply(ctx_, &raw) != REDIS_OK) {
        std::string err = ctx_->errstr;
        if (err.empty()) err = std::strerror(errno);
        // The connection is unusable now; the next attempt reconnects.
        redisFree(ctx_);
        ctx_ = nullptr;
        return Status::Unavailable("lost the connection to " + uri() + ": " + err);
      }
      ReplyPtr reply(static_cast<redisReply*>(raw));
      if (reply->type == REDIS_REPLY_ERROR &&
          (std::strncmp(reply->str, "LOADING", 7) == 0 || std::strncmp(reply->str, "BUSY", 4) == 0)) {
        if (first_error.ok()) first_error = Status::Unavailable(uri() + " is busy: " + std::string(reply->str, reply->len));
        continue;
      }
      // Keep reading after an error so the connection stays in step.
      if (first_error.ok()) first_error = on_reply(i, reply.get());
    }
    return first_error;
  }

  std::string host_;
  int port_;
  std::string user_, password_;
  int db_;
  RetryPolicy policy_;
  std::mutex mu_;
  redisContext* ctx_ = nullptr;
};

}  // namespace

Result<std::unique_ptr<Storage>> OpenRedisStorage(const ParsedUri& u) {
  std::string host = u.host;
  int port = 6379;
  if (size_t colon = host.rfind(':'); colon != std::string::npos && host.find(']') == std::string::npos) {
    std::string p = host.substr(colon + 1);
    host.resize(colon);
    char* end = nullptr;
    long v = std::strtol(p.c_str(), &end, 10);
    if (p.empty() || *end != '\0' || v <= 0 || v > 65535) {
      return Status::Invalid("redis URI has a bad port '" + p + "': use redis://[user:password@]host[:port][/db]");
    }
    port = static_cast<int>(v);
  }
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  if (host.empty()) host = "127.0.0.1";
  std::string user, password;
  if (!u.userinfo.empty()) {
    size_t colon = u.userinfo.find(':');
    if (colon == std::string::npos) {
      password = PercentDecode(u.userinfo);  // redis://password@host, as redis-cli -u reads it
    } else {
      user = PercentDecode(u.userinfo.substr(0, colon));
      password = PercentDecode(u.userinfo.substr(colon + 1));
    }
  }
  int db = 0;
  if (!u.path.empty()) {
    char* end = nullptr;
    long v = std::strtol(u.path.c_str(), &end, 10);
    if (*end != '\0' || v < 0) return Status::Invalid("redis URI has a bad database number '" + u.path + "'");
    db = static_cast<int>(v);
  }
  return std::unique_ptr<Storage>(new RedisStorage(host, port, user, password, db));
}

}  // namespace gg
