// The client side of Server: spawns the server process, sends it Launch and
// Kill requests, and runs callbacks from one reader thread. If the server
// dies, outstanding runs end as kCrashed and the next Launch restarts it.
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <ftw.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include "sandbox/sandbox.h"
#include "sandbox/wire.h"

namespace gg::sandbox {
namespace {

/// Absolute, no empty, "." or ".." components (a sandbox path must not
/// climb out of the new root while the sandbox is being built).
bool IsCleanAbsolute(const std::string& p) {
  if (p.empty() || p[0] != '/') return false;
  if (p == "/") return true;
  size_t i = 1;
  while (i <= p.size()) {
    size_t j = p.find('/', i);
    if (j == std::string::npos) j = p.size();
    std::string_view c(p.data() + i, j - i);
    if (c.empty() || c == "." || c == "..") return false;
    i = j + 1;
  }
  return true;
}

Status Validate(const Spec& s) {
  for (const std::string* p : {&s.root_dir, &s.work_host_dir, &s.workdir}) {
    if (!IsCleanAbsolute(*p)) return Status::Invalid("sandbox spec: not a clean absolute path: '" + *p + "'");
  }
  if (s.exe.empty() || s.argv.empty()) return Status::Invalid("sandbox spec: no exe or argv");
  if (!s.workdir_view.empty() && !IsCleanAbsolute(s.workdir_view)) {
    return Status::Invalid("sandbox spec: not a clean absolute path: '" + s.workdir_view + "'");
  }
  for (const Mount& m : s.mounts) {
    bool host_ok = m.mkdir_only || (!m.host_path.empty() && m.host_path[0] == '/');
    if (!host_ok || !IsCleanAbsolute(m.sandbox_path) ||
        m.sandbox_path == "/") {
      return Status::Invalid("sandbox spec: bad mount '" + m.host_path + "' -> '" +
                             m.sandbox_path + "'");
    }
  }
  return Status::Ok();
}

bool SendAll(int fd, const std::string& packet) {
  for (;;) {
    if (send(fd, packet.data(), packet.size(), MSG_NOSIGNAL) >= 0) return true;
    if (errno != EINTR) return false;
  }
}

std::atomic<bool> g_warned{false};

class Client final : public Server {
 public:
  explicit Client(const Options& options) : options_(options) {
    const char* env = std::getenv("GG_SANDBOX");
    if (env != nullptr && std::strcmp(env, "none") == 0) options_.force_fallback = true;
  }
  ~Client() override;

  Status Spawn();  // with send_mu_ and mu_ held
  void StartReader() { reader_ = std::thread([this] { ReaderMain(); }); }

  Result<Id> Launch(const Spec& spec, Callback done) override;
  void Kill(Id id) override;
  bool hermetic() const override { return hermetic_; }
  uid_t program_uid() const override { return program_id_; }

 private:
  using Finished = std::pair<Callback, Outcome>;

  void ReaderMain();
  bool ReadOne(int fd);
  void HandleDeath();
  void Deliver();

  Options options_;
  std::atomic<bool> hermetic_{false};
  std::atomic<uid_t> program_id_{0};  // the host uid sandboxed programs run as
  std::mutex send_mu_;  // serializes sends; held to close fd_ (order: send_mu_, mu_)
  std::mutex mu_;
  std::condition_variable cv_;
  int fd_ = -1;
  pid_t pid_ = -1;
  bool dead_ = true;
  bool shutting_down_ = false;
  Id next_id_ = 1;
  std::map<Id, Callback> running_;  // launched (acked or not), not yet done
  std::deque<Finished> finished_;  // callbacks the reader has yet to call
  std::thread reader_;
  std::string recv_buf_ = std::string(wire::kMaxPacket + 64, '\0');
};

Status Client::Spawn() {
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) {
    return Status::FromErrno("sandbox: socketpair", errno);
  }
  int child_fd = sv[1] == 3 ? 4 : 3;
  std::string fd_arg = std::to_string(child_fd);
  std::string exe = ServerProgram(options_.server_exe);
  char mode[] = "fallback";
  char sub[] = "__sandbox-server";
  char* argv[] = {exe.data(), sub, fd_arg.data(), options_.force_fallback ? mode : nullptr,
                  nullptr};
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, sv[1], child_fd);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t set;
  sigemptyset(&set);
  posix_spawnattr_setsigmask(&attr, &set);
  sigaddset(&set, SIGPIPE);
  sigaddset(&set, SIGCHLD);
  posix_spawnattr_setsigdefault(&attr, &set);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  // Symbols bound at start: every sandbox is a fork of the server, and
  // lazily bound ones were looked up again in each (0.3 ms of a core per
  // run). Programs get only their spec's environment.
  std::vector<char*> env;
  char bind_now[] = "LD_BIND_NOW=1";
  for (char** e = environ; *e != nullptr; ++e) env.push_back(*e);
  env.push_back(bind_now);
  env.push_back(nullptr);
  pid_t pid;
  int err = posix_spawn(&pid, exe.c_str(), &actions, &attr, argv, env.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  close(sv[1]);
  if (err != 0) {
    close(sv[0]);
    return Status::FromErrno("sandbox: start server " + exe, err);
  }
  // The server's first word says whether it got its namespaces.
  pollfd p{sv[0], POLLIN, 0};
  int ready = poll(&p, 1, 20000);
  char buf[4096];
  ssize_t n = ready > 0 ? recv(sv[0], buf, sizeof buf, 0) : -1;
  wire::Type type{};
  uint64_t id;
  bool last;
  std::string_view payload;
  if (n <= 0 || !wire::ParsePacket({buf, static_cast<size_t>(n)}, &type, &id, &last,
                                   &payload) ||
      type != wire::kHello) {
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
    close(sv[0]);
    return Status::Unavailable("sandbox: server " + exe +
                               " did not answer; does its main() call "
                               "gg::sandbox::MaybeRunServer first?");
  }
  wire::Reader r(payload);
  bool hermetic = r.U8() != 0;
  int uerr = r.I32();
  std::string why = r.Str();
  uid_t program_id = r.U32();
  if (!hermetic && !options_.force_fallback && !g_warned.exchange(true)) {
    const char* cause =
        uerr == EPERM || uerr == EACCES
            ? "unprivileged user namespaces are probably disabled (sysctl "
              "kernel.unprivileged_userns_clone=0, user.max_user_namespaces=0, or an "
              "AppArmor restriction) or a container's seccomp profile forbids unshare"
        : uerr == ENOSPC ? "user.max_user_namespaces is 0 or its limit is reached"
        : uerr == EINVAL ? "the kernel lacks user or network namespace support"
                         : "namespaces are unavailable";
    std::fprintf(stderr,
                 "gg: warning: cannot sandbox (%s): %s. Running programs UNSANDBOXED in their "
                 "work directories; see docs/sandbox.md (set GG_SANDBOX=none to silence)\n",
                 why.c_str(), cause);
  }
  hermetic_ = hermetic;
  program_id_ = hermetic && !r.failed() ? program_id : geteuid();
  fd_ = sv[0];
  pid_ = pid;
  dead_ = false;
  cv_.notify_all();
  return Status::Ok();
}

Client::~Client() {
  {
    std::lock_guard<std::mutex> s(send_mu_);
    std::lock_guard<std::mutex> l(mu_);
    shutting_down_ = true;
    if (!dead_) shutdown(fd_, SHUT_RDWR);  // wakes the reader; the server exits
  }
  cv_.notify_all();
  if (reader_.joinable()) {
    if (reader_.get_id() == std::this_thread::get_id()) {
      reader_.detach();  // destroyed from a callback: nothing more is delivered
    } else {
      reader_.join();
    }
  }
}

/// Gives the work dir (and the directories the caller made in it) to the
/// host uid the program runs as, which owns nothing else.
Status GiveWorkDir(const std::string& dir, uid_t id) {
  // A directory the executor reuses was given before, and is empty again.
  struct stat st {};
  if (lstat(dir.c_str(), &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == id && st.st_gid == id &&
      st.st_nlink == 2) {
    return Status::Ok();
  }
  static thread_local uid_t t_id;
  static thread_local int t_err;
  t_id = id;
  t_err = 0;
  auto give = [](const char* path, const struct stat*, int, FTW*) -> int {
    if (lchown(path, t_id, t_id) != 0) t_err = errno;
    return t_err;
  };
  if (nftw(dir.c_str(), give, 16, FTW_PHYS) != 0) {
    return Status::FromErrno("sandbox: give work dir " + dir + " to uid " + std::to_string(id),
                             t_err != 0 ? t_err : errno);
  }
  return Status::Ok();
}

Result<Server::Id> Client::Launch(const Spec& spec, Callback done) {
  GG_RETURN_IF_ERROR(Validate(spec));
  wire::Writer w;
  wire::EncodeSpec(spec, w);
  const std::string& body = w.buf();
  Id id;
  std::lock_guard<std::mutex> s(send_mu_);
  int fd;
  {
    std::lock_guard<std::mutex> l(mu_);
    if (shutting_down_) return Status::Unavailable("sandbox: server is shutting down");
    if (dead_) GG_RETURN_IF_ERROR(Spawn());
    if (hermetic_ && program_id_ != geteuid()) {
      GG_RETURN_IF_ERROR(GiveWorkDir(spec.work_host_dir, program_id_));
    }
    id = next_id_++;
    // Registered before sending: the server may answer before send returns.
    running_[id] = std::move(done);
    fd = fd_;
  }
  // No waiting for the server's ack: launches are pipelined, and a launch
  // the server refuses ends through the callback as kSetupFailed.
  constexpr size_t kChunk = wire::kMaxPacket - wire::kHeaderSize;
  bool ok = true;
  for (size_t off = 0; ok && (off < body.size() || off == 0); off += kChunk) {
    bool last = off + kChunk >= body.size();
    ok = SendAll(fd, wire::Packet(wire::kLaunch, id, std::string_view(body).substr(off, kChunk),
                                  last));
    if (last) break;
  }
  if (!ok) {
    std::lock_guard<std::mutex> l(mu_);
    // The reader may already have failed it as part of the server's death.
    if (running_.erase(id) == 0) return id;
    return Status::Unavailable("sandbox: lost the server while launching");
  }
  return id;
}

void Client::Kill(Id id) {
  std::lock_guard<std::mutex> s(send_mu_);
  int fd;
  {
    std::lock_guard<std::mutex> l(mu_);
    if (dead_ || running_.count(id) == 0) return;
    fd = fd_;
  }
  SendAll(fd, wire::Packet(wire::kKill, id, {}));
}

bool Client::ReadOne(int fd) {
  ssize_t n;
  do {
    n = recv(fd, recv_buf_.data(), recv_buf_.size(), 0);
  } while (n < 0 && errno == EINTR);
  if (n <= 0) return false;
  wire::Type type;
  uint64_t id;
  bool last;
  std::string_view payload;
  if (!wire::ParsePacket({recv_buf_.data(), static_cast<size_t>(n)}, &type, &id, &last,
                         &payload)) {
    return true;
  }
  std::lock_guard<std::mutex> l(mu_);
  if (type == wire::kAck) {
    wire::Reader r(payload);
    bool ok = r.U8() != 0;
    std::string error = r.Str();
    auto it = running_.find(id);
    if (ok || it == running_.end()) return true;
    Outcome o;
    o.kind = Outcome::Kind::kSetupFailed;
    o.error = "sandbox server: " + error;
    finished_.emplace_back(std::move(it->second), std::move(o));
    running_.erase(it);
  } else if (type == wire::kDone) {
    auto it = running_.find(id);
    if (it == running_.end()) return true;
    Outcome o;
    if (!wire::DecodeOutcome(payload, &o)) {
      o.kind = Outcome::Kind::kCrashed;
      o.error = "malformed reply from the sandbox server";
    }
    finished_.emplace_back(std::move(it->second), std::move(o));
    running_.erase(it);
  }
  return true;
}

void Client::HandleDeath() {
  std::lock_guard<std::mutex> s(send_mu_);
  std::lock_guard<std::mutex> l(mu_);
  if (dead_) return;
  dead_ = true;
  close(fd_);
  fd_ = -1;
  // On shutdown the server saw EOF and is killing its sandboxes: let it.
  if (!shutting_down_) kill(pid_, SIGKILL);  // if it merely closed the socket
  waitpid(pid_, nullptr, 0);
  for (auto& [id, cb] : running_) {
    Outcome o;
    o.kind = shutting_down_ ? Outcome::Kind::kCancelled : Outcome::Kind::kCrashed;
    o.error = shutting_down_ ? "sandbox server shut down" : "sandbox server died";
    finished_.emplace_back(std::move(cb), std::move(o));
  }
  running_.clear();
  cv_.notify_all();
}

void Client::Deliver() {
  for (;;) {
    Finished f;
    {
      std::lock_guard<std::mutex> l(mu_);
      if (finished_.empty()) return;
      f = std::move(finished_.front());
      finished_.pop_front();
    }
    if (f.first) f.first(f.second);
  }
}

void Client::ReaderMain() {
  for (;;) {
    Deliver();
    int fd;
    {
      std::unique_lock<std::mutex> l(mu_);
      cv_.wait(l, [&] { return !dead_ || shutting_down_ || !finished_.empty(); });
      if (!finished_.empty()) continue;
      if (dead_) return;  // and shutting down
      fd = fd_;
    }
    if (!ReadOne(fd)) HandleDeath();
  }
}

}  // namespace

Result<std::unique_ptr<Server>> Server::Start(const Options& options) {
  auto client = std::make_unique<Client>(options);
  {
    // No other thread knows the client yet; the locks are for the contract.
    Status s = client->Spawn();
    if (!s.ok()) return s;
  }
  client->StartReader();
  return std::unique_ptr<Server>(std::move(client));
}

std::string ServerProgram(const std::string& exe) {
  char* real = realpath(exe.c_str(), nullptr);  // /proc/self/exe is a symlink
  std::string path = real != nullptr ? real : exe;
  std::free(real);
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return exe;
  std::string beside = path.substr(0, slash + 1) + "gg-sandbox-server";
  return access(beside.c_str(), X_OK) == 0 ? beside : exe;
}

}  // namespace gg::sandbox
