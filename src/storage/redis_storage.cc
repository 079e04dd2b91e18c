#include "storage/redis_storage.h"

#include <fcntl.h>
#include <hiredis/hiredis.h>
#include <pthread.h>
#include <signal.h>
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

// Downloads are batched by expected reply size (replies are read after a
// batch is sent); uploads by how much a retry would send again.
constexpr size_t kBatchBytes = 32 << 20;
constexpr size_t kRetryBatchBytes = 256 << 20;
constexpr size_t kBatchCommands = 2000;
// Buffered commands are written to the socket once this much is waiting.
constexpr size_t kWriteChunk = 1 << 20;
// Chunks are read in commands of at most this size.
constexpr uint64_t kPieceSize = 1 << 20;

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

/// Reads file ranges into one reused buffer (no zeroing, no reallocation
/// per object).
class FileReader {
 public:
  Result<std::string_view> Read(const std::string& path, uint64_t offset, uint64_t size) {
    if (size > cap_) {
      buf_.reset(new char[size]);
      cap_ = size;
    }
    if (path != path_) {
      if (fd_ >= 0) close(fd_);
      fd_ = open(path.c_str(), O_RDONLY | O_CLOEXEC);
      if (fd_ < 0) {
        path_.clear();
        return Status::FromErrno("cannot open " + path, errno);
      }
      path_ = path;
    }
    uint64_t done = 0;
    while (done < size) {
      ssize_t n = pread(fd_, buf_.get() + done, size - done, offset + done);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return Status::FromErrno("cannot read " + path, errno);
      if (n == 0) return Status::Corrupt(path + " is shorter than its name says");
      done += n;
    }
    return std::string_view(buf_.get(), size);
  }
  ~FileReader() {
    if (fd_ >= 0) close(fd_);
  }

 private:
  std::unique_ptr<char[]> buf_;
  uint64_t cap_ = 0;
  std::string path_;
  int fd_ = -1;
};

/// Blocks SIGPIPE on this thread while hiredis writes to a socket whose
/// server may have died (hiredis uses plain write()), then discards a
/// SIGPIPE that arrived meanwhile: a dead server becomes an error to
/// report, not the end of the process.
class NoSigpipe {
 public:
  NoSigpipe() {
    sigset_t pipe;
    sigemptyset(&pipe);
    sigaddset(&pipe, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe, &old_);
  }
  ~NoSigpipe() {
    sigset_t pipe;
    sigemptyset(&pipe);
    sigaddset(&pipe, SIGPIPE);
    timespec zero{0, 0};
    while (sigtimedwait(&pipe, nullptr, &zero) > 0) {
    }
    pthread_sigmask(SIG_SETMASK, &old_, nullptr);
  }
  NoSigpipe(const NoSigpipe&) = delete;
  NoSigpipe& operator=(const NoSigpipe&) = delete;

 private:
  sigset_t old_;
};

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
    std::vector<Name> small;
    uint64_t bytes = 0;
    auto flush = [&]() -> Status {
      if (small.empty()) return Status::Ok();
      // Each SET is read from its file and handed to hiredis as the pipe
      // drains, so files are read while the server stores earlier ones.
      std::string key;
      FileReader reader;
      Status s = Pipeline(
          small.size(),
          [&](size_t i, Command* cmd) -> Status {
            key = BlobKey(small[i]);
            GG_ASSIGN_OR_RETURN(std::string_view data, reader.Read(local.BlobPath(small[i]), 0, small[i].size()));
            *cmd = {"SET", key, data};
            return Status::Ok();
          },
          [&](size_t, redisReply* r) { return ExpectOk("SET", r); });
      small.clear();
      bytes = 0;
      return s;
    };
    for (const auto& n : names) {
      GG_RETURN_IF_ERROR(local.Verify(n));
      if (n.size() > kRedisChunkSize) {
        GG_RETURN_IF_ERROR(PutChunked(n, local.BlobPath(n)));
        continue;
      }
      small.push_back(n);
      bytes += n.size();
      if (bytes >= kRetryBatchBytes || small.size() >= kBatchCommands) GG_RETURN_IF_ERROR(flush());
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

  Status PutChunked(const Name& n, const std::string& path) {
    uint64_t chunks = (n.size() + kRedisChunkSize - 1) / kRedisChunkSize;
    std::string key;
    FileReader reader;
    GG_RETURN_IF_ERROR(Pipeline(
        chunks,
        [&](size_t i, Command* cmd) -> Status {
          key = ChunkKey(n, i);
          uint64_t off = i * kRedisChunkSize;
          GG_ASSIGN_OR_RETURN(std::string_view data, reader.Read(path, off, std::min(kRedisChunkSize, n.size() - off)));
          *cmd = {"SET", key, data};
          return Status::Ok();
        },
        [&](size_t, redisReply* r) { return ExpectOk("SET", r); }));
    // The marker goes last: a reader that sees it finds every chunk.
    key = BlobKey(n);
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
    // Read in GETRANGEs of at most 1 MiB (chunks written with a larger chunk
    // size are read piecewise too: small replies keep hiredis's buffers small),
    // a batch at a time; a batch's pieces are kept until it has all
    // arrived, so a retried batch is written once.
    BlobWriter writer(local, n, uri());
    const uint64_t piece = std::min<uint64_t>(kPieceSize, chunk_size);
    const uint64_t pieces_per_chunk = (chunk_size + piece - 1) / piece;
    const uint64_t pieces = (n.size() + piece - 1) / piece;
    const uint64_t per_batch = std::max<uint64_t>(1, kBatchBytes / piece);
    std::vector<std::string> parts(per_batch);
    for (uint64_t first = 0; first < pieces; first += per_batch) {
      uint64_t count = std::min(per_batch, pieces - first);
      std::string chunk_key, from, to;
      auto expected = [&](uint64_t p) {
        uint64_t off = (p / pieces_per_chunk) * chunk_size + (p % pieces_per_chunk) * piece;
        uint64_t chunk_end = std::min<uint64_t>(n.size(), (p / pieces_per_chunk + 1) * chunk_size);
        return std::make_pair(off, std::min(piece, chunk_end - off));
      };
      GG_RETURN_IF_ERROR(Pipeline(
          count,
          [&](size_t i, Command* cmd) -> Status {
            uint64_t p = first + i;
            auto [off, len] = expected(p);
            uint64_t in_chunk = off - (p / pieces_per_chunk) * chunk_size;
            chunk_key = ChunkKey(n, p / pieces_per_chunk);
            from = std::to_string(in_chunk);
            to = std::to_string(in_chunk + len - 1);
            *cmd = {"GETRANGE", chunk_key, from, to};
            return Status::Ok();
          },
          [&](size_t i, redisReply* r) -> Status {
            if (r->type != REDIS_REPLY_STRING) return Unexpected("GETRANGE", r);
            if (static_cast<uint64_t>(r->len) != expected(first + i).second) {
              return Status::Corrupt("object " + n.object().str() + " in " + uri() + " is missing part of chunk " +
                                     std::to_string((first + i) / pieces_per_chunk) +
                                     "; push it again from a machine that has it");
            }
            parts[i].assign(r->str, r->len);
            return Status::Ok();
          }));
      for (uint64_t i = 0; i < count; ++i) GG_RETURN_IF_ERROR(writer.Append(parts[i]));
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
    NoSigpipe guard;
    for (auto& c : setup) {
      redisAppendCommandArgv(ctx_, static_cast<int>(c.argv.size()), const_cast<const char**>(c.argv.data()),
                             c.lens.data());
    }
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

  using Reply = std::function<Status(size_t, redisReply*)>;
  using Make = std::function<Status(size_t, Command*)>;

  Status Pipeline(const std::vector<Command>& cmds, const Reply& on_reply) {
    return Pipeline(
        cmds.size(),
        [&](size_t i, Command* c) {
          *c = cmds[i];
          return Status::Ok();
        },
        on_reply);
  }

  /// Sends `count` commands made by `make` (each is copied into hiredis's
  /// buffer at once, so `make` may reuse its memory), writing to the socket
  /// whenever a few MiB are waiting, then reads one reply per command and
  /// hands it to `on_reply`. Replies are read only at the end, so this is
  /// for commands with small replies or few commands. On a dropped
  /// connection the whole batch is sent again (every command gg sends is
  /// idempotent) after a back-off, within the retry policy; other errors are
  /// returned at once.
  Status Pipeline(size_t count, const Make& make, const Reply& on_reply) {
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
      if (s.ok()) s = RunOnce(count, make, on_reply);
      if (s.ok() || s.code() != Status::Code::kUnavailable) return s;
      if (attempt == 1) first_failure = Clock::now();
      last = s;
    }
  }

  Status Lost() {
    std::string err = ctx_->errstr;
    if (err.empty()) err = std::strerror(errno);
    // The connection is unusable now; the next attempt reconnects.
    redisFree(ctx_);
    ctx_ = nullptr;
    return Status::Unavailable("lost the connection to " + uri() + ": " + err);
  }

  Status RunOnce(size_t count, const Make& make, const Reply& on_reply) {
    NoSigpipe guard;
    auto write_out = [&]() -> bool {
      int done = 0;
      while (!done) {
        if (redisBufferWrite(ctx_, &done) != REDIS_OK) return false;
      }
      return true;
    };
    for (size_t i = 0; i < count; ++i) {
      Command c{};
      Status s = make(i, &c);
      if (!s.ok()) {
        // Half a batch was sent: drop the connection rather than read its replies.
        redisFree(ctx_);
        ctx_ = nullptr;
        return s;
      }
      if (redisAppendCommandArgv(ctx_, static_cast<int>(c.argv.size()), const_cast<const char**>(c.argv.data()),
                                 c.lens.data()) != REDIS_OK) {
        return Status::Io("cannot build a command for " + uri() + ": " + ctx_->errstr);
      }
      if (sdslen(ctx_->obuf) >= kWriteChunk && !write_out()) return Lost();
    }
    Status first_error;
    for (size_t i = 0; i < count; ++i) {
      void* raw = nullptr;
      if (redisGetReply(ctx_, &raw) != REDIS_OK) return Lost();
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
