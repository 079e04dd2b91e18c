// The sandbox server ("zygote"): a small single-threaded process, started
// once per client, that enters one shared user + network namespace and then
// forks a sandbox per Launch. It polls its socket and a signalfd for
// SIGCHLD; timeouts are deadlines folded into the poll timeout.
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "sandbox/child.h"
#include "sandbox/seccomp.h"
#include "sandbox/wire.h"

namespace gg::sandbox {
namespace {

double Now() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

int WriteProcFile(const char* path, const std::string& data) {
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return errno;
  int err = write(fd, data.data(), data.size()) == static_cast<ssize_t>(data.size()) ? 0 : errno;
  close(fd);
  return err;
}

/// The host uid (and gid) sandboxed programs run as when gg runs as root:
/// one that owns no file and has no privilege anywhere. GG_SANDBOX_UID
/// chooses another (it must be unused on the host).
uid_t ProgramHostId() {
  constexpr uid_t kDefault = 2147418112;  // 0x7fff0000: far above any real or subordinate range
  const char* v = std::getenv("GG_SANDBOX_UID");
  if (v == nullptr || *v == '\0') return kDefault;
  char* end = nullptr;
  unsigned long id = std::strtoul(v, &end, 10);
  return *end == '\0' && id > 0 && id < 4294967295ul ? static_cast<uid_t>(id) : kDefault;
}

/// Enters a new user namespace (inner root = the outer user) and an empty
/// network namespace. As root, a helper left in the host namespace also
/// maps inner uid/gid 1000 to `program_id` (only a process privileged in
/// the parent namespace may map more than its own uid). Returns 0 or an
/// errno, with `why` saying which step failed.
int EnterSharedNamespaces(uid_t program_id, bool* dedicated, std::string* why) {
  uid_t uid = geteuid();
  gid_t gid = getegid();
  *dedicated = uid == 0;
  int go[2] = {-1, -1};
  pid_t helper = -1;
  if (*dedicated) {
    // Root's supplementary groups would stay with every program: drop them.
    if (setgroups(0, nullptr) != 0 || pipe2(go, O_CLOEXEC) != 0) {
      *why = std::string("setgroups/pipe: ") + strerror(errno);
      return errno;
    }
    pid_t parent = getpid();
    helper = fork();
    if (helper == 0) {
      close(go[1]);
      char c;
      if (read(go[0], &c, 1) != 1) _exit(1);
      std::string base = "/proc/" + std::to_string(parent);
      std::string map = "0 0 1\n1000 " + std::to_string(program_id) + " 1\n";
      int err = WriteProcFile((base + "/uid_map").c_str(), map);
      if (err == 0) err = WriteProcFile((base + "/setgroups").c_str(), "deny");
      if (err == 0) err = WriteProcFile((base + "/gid_map").c_str(), map);
      _exit(err);
    }
    close(go[0]);
    if (helper < 0) {
      close(go[1]);
      *why = std::string("fork: ") + strerror(errno);
      return errno;
    }
  }
  if (unshare(CLONE_NEWUSER | CLONE_NEWNET) != 0) {
    int err = errno;
    *why = std::string("unshare(CLONE_NEWUSER|CLONE_NEWNET): ") + strerror(err);
    if (helper > 0) {
      close(go[1]);
      waitpid(helper, nullptr, 0);
    }
    return err;
  }
  if (*dedicated) {
    ssize_t ignored = write(go[1], "x", 1);
    (void)ignored;
    close(go[1]);
    int status = 0;
    waitpid(helper, &status, 0);
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return 0;
    // E.g. root of a container whose user namespace lacks that uid: run as
    // before (programs are that root, without capabilities) and say so.
    *dedicated = false;
    std::fprintf(stderr,
                 "gg: warning: cannot map the sandbox's uid to host uid %u (%s); sandboxed programs "
                 "run as uid 0 without capabilities (set GG_SANDBOX_UID to an unused uid)\n",
                 program_id, strerror(WIFEXITED(status) ? WEXITSTATUS(status) : EIO));
  }
  struct Step {
    const char* path;
    std::string data;
  } steps[] = {{"/proc/self/uid_map", "0 " + std::to_string(uid) + " 1\n"},
               {"/proc/self/setgroups", "deny"},
               {"/proc/self/gid_map", "0 " + std::to_string(gid) + " 1\n"}};
  for (const Step& st : steps) {
    if (int err = WriteProcFile(st.path, st.data)) {
      *why = std::string("write ") + st.path + ": " + strerror(err);
      return err;
    }
  }
  return 0;
}

/// Writes the uid/gid maps of a run's fresh user namespace: inner 0 (the
/// init) is the server's root, inner 1000 (the program) the dedicated uid.
int WriteRunMaps(pid_t pid) {
  static const std::string kMap = "0 0 1\n1000 1000 1\n";
  std::string base = "/proc/" + std::to_string(pid);
  int err = WriteProcFile((base + "/uid_map").c_str(), kMap);
  if (err == 0) err = WriteProcFile((base + "/setgroups").c_str(), "deny");
  if (err == 0) err = WriteProcFile((base + "/gid_map").c_str(), kMap);
  return err;
}

struct Run {
  uint64_t id = 0;
  pid_t pid = 0;
  int status_fd = -1;
  double start = 0;
  double deadline = 0;  // 0: none
  enum Reason { kNone, kTimeout, kCancel } reason = kNone;
  Limits limits;
  int netns = -1;  // the network namespace it holds (hermetic runs)
};

class ServerLoop {
 public:
  ServerLoop(int sock, bool fallback) : sock_(sock), fallback_(fallback) {}
  int Main();

 private:
  void HandlePacket(std::string_view packet);
  void StartRun(uint64_t id, std::string_view payload);
  void ReapChildren();
  void Finish(Run& run, int status);
  void KillRun(Run& run, Run::Reason reason);
  int PollTimeoutMs();
  void CheckDeadlines();
  void Send(std::string packet) { out_.push_back(std::move(packet)); }
  bool Flush();
  void KillAll();
  int TakeNetns(std::string* error);
  void ReturnNetns(int fd);

  int sock_;
  int sigfd_ = -1;
  bool fallback_;
  std::string why_;  // why namespaces are unavailable
  bool dedicated_ = false;  // programs run as a dedicated host uid (we are root)
  // Landlock scopes abstract unix sockets: sandboxes share our network
  // namespace, each program in a Landlock domain of its own. Otherwise each
  // gets a network namespace from free_netns_.
  bool landlock_scope_ = false;
  uid_t program_id_ = 0;    // the host uid programs run as
  rlimit nofile_{};  // the limit we were started with, for the programs
  std::unordered_map<uint64_t, Run> runs_;
  std::unordered_map<pid_t, uint64_t> by_pid_;
  std::deque<std::string> out_;
  std::string launch_buf_;  // a Launch arriving in several packets
  // Network namespaces no running sandbox holds. Each sandbox gets one of
  // its own (so concurrent thunks cannot talk, e.g. over abstract unix
  // sockets), but creating one costs ~1 ms of CPU and more in the kernel's
  // teardown: they are reused, once their holder (and so every process
  // that could have left state in it) is dead.
  std::vector<int> free_netns_;
};

int ServerLoop::Main() {
  prctl(PR_SET_NAME, "gg-sandbox-srv");
  getrlimit(RLIMIT_NOFILE, &nofile_);
  rlimit raised = nofile_;
  raised.rlim_cur = raised.rlim_max;
  setrlimit(RLIMIT_NOFILE, &raised);
  signal(SIGPIPE, SIG_IGN);
  sigset_t chld;
  sigemptyset(&chld);
  sigaddset(&chld, SIGCHLD);
  sigprocmask(SIG_BLOCK, &chld, nullptr);
  sigfd_ = signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK);

  int err = 0;
  if (fallback_) {
    why_ = "disabled by GG_SANDBOX=none or Options::force_fallback";
  } else {
    uid_t id = ProgramHostId();
    uid_t host_euid = geteuid();  // before the user namespace renames it 0
    if ((err = EnterSharedNamespaces(id, &dedicated_, &why_)) != 0) fallback_ = true;
    program_id_ = dedicated_ ? id : host_euid;
    // ABI 6 added LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET; GG_SANDBOX_NETNS=each
    // asks for a network namespace per sandbox anyway.
    const char* netns = std::getenv("GG_SANDBOX_NETNS");
    long abi = syscall(SYS_landlock_create_ruleset, nullptr, 0, 1u /* _VERSION */);
    landlock_scope_ = abi >= 6 && (netns == nullptr || std::strcmp(netns, "each") != 0);
  }
  wire::Writer hello;
  hello.U8(fallback_ ? 0 : 1);
  hello.I32(err);
  hello.Str(why_);
  hello.U32(program_id_);
  Send(wire::Packet(wire::kHello, 0, hello.buf()));
  int flags = fcntl(sock_, F_GETFL);
  fcntl(sock_, F_SETFL, flags | O_NONBLOCK);

  std::string buf(wire::kMaxPacket + 64, '\0');
  for (;;) {
    if (!Flush()) break;
    pollfd fds[2] = {{sock_, static_cast<short>(POLLIN | (out_.empty() ? 0 : POLLOUT)), 0},
                     {sigfd_, POLLIN, 0}};
    if (poll(fds, 2, PollTimeoutMs()) < 0 && errno != EINTR) {
      perror("gg-sandbox-srv: poll");
      break;
    }
    if (fds[1].revents & POLLIN) {
      signalfd_siginfo info;
      while (read(sigfd_, &info, sizeof info) > 0) {
      }
      ReapChildren();
    }
    CheckDeadlines();
    if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
      bool eof = false;
      for (int i = 0; i < 256; ++i) {  // bounded, so reaping is not starved
        ssize_t n = recv(sock_, buf.data(), buf.size(), MSG_DONTWAIT);
        if (n > 0) {
          HandlePacket(std::string_view(buf.data(), static_cast<size_t>(n)));
          continue;
        }
        if (n == 0 || (errno != EAGAIN && errno != EINTR)) eof = true;
        break;
      }
      if (eof) break;  // the client is gone: so are its sandboxes
    }
  }
  KillAll();
  return 0;
}

void ServerLoop::HandlePacket(std::string_view packet) {
  wire::Type type;
  uint64_t id;
  bool last;
  std::string_view payload;
  if (!wire::ParsePacket(packet, &type, &id, &last, &payload)) return;
  if (type == wire::kKill) {
    auto it = runs_.find(id);
    if (it != runs_.end()) KillRun(it->second, Run::kCancel);
  } else if (type == wire::kLaunch) {
    if (!last) {
      launch_buf_.append(payload);
    } else if (launch_buf_.empty()) {
      StartRun(id, payload);
    } else {
      launch_buf_.append(payload);
      StartRun(id, launch_buf_);
      launch_buf_.clear();
    }
  }
}

void ServerLoop::StartRun(uint64_t id, std::string_view payload) {
  auto ack = [&](const std::string& error) {
    wire::Writer w;
    w.U8(error.empty() ? 1 : 0);
    w.Str(error);
    Send(wire::Packet(wire::kAck, id, w.buf()));
  };
  auto prep = std::make_unique<Prepared>();
  if (!wire::DecodeSpec(payload, &prep->spec)) return ack("malformed launch request");
  Prepare(prep.get());
  prep->nofile = nofile_;
  prep->fallback_why = why_;
  prep->seccomp = SeccompFilter();
  prep->server_maps = dedicated_ && !fallback_;
  prep->landlock_scope = landlock_scope_;
  int fds[2];
  if (pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0) {
    return ack(std::string("pipe for sandbox status: ") + strerror(errno));
  }
  int map_ready[2] = {-1, -1};
  if (prep->server_maps && pipe2(map_ready, O_CLOEXEC) != 0) {
    int e = errno;
    close(fds[0]);
    close(fds[1]);
    return ack(std::string("pipe for sandbox set-up: ") + strerror(e));
  }
  prep->map_ready_fd = map_ready[0];
  int netns = -1;
  if (!fallback_ && !landlock_scope_) {
    std::string error;
    netns = TakeNetns(&error);
    if (netns < 0) {
      for (int f : {fds[0], fds[1], map_ready[0], map_ready[1]}) {
        if (f >= 0) close(f);
      }
      return ack(error);
    }
  }
  double start = Now();
  pid_t pid;
  if (fallback_) {
    pid = fork();
  } else {
    // Like fork(), but the child is pid 1 of new namespaces, and in the
    // network namespace we entered for it.
    pid = static_cast<pid_t>(syscall(SYS_clone,
                                     CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC |
                                         CLONE_NEWUTS | SIGCHLD,
                                     nullptr, nullptr, nullptr, 0));
  }
  if (pid == 0) {
    close(fds[0]);
    if (map_ready[1] >= 0) close(map_ready[1]);
    if (netns >= 0) close(netns);
    if (fallback_) RunFallback(*prep, fds[1]);
    RunSandboxInit(*prep, fds[1]);
  }
  close(fds[1]);
  if (map_ready[0] >= 0) {
    close(map_ready[0]);
    // On failure the init finds no mapping and reports it.
    if (pid > 0 && WriteRunMaps(pid) != 0) kill(pid, SIGKILL);
    close(map_ready[1]);  // EOF: the init goes on
  }
  if (pid < 0) {
    int err = errno;
    close(fds[0]);
    if (netns >= 0) ReturnNetns(netns);
    return ack(std::string(fallback_ ? "fork" : "clone sandbox init") + ": " + strerror(err));
  }
  if (fallback_) setpgid(pid, pid);
  Run& run = runs_[id];
  run.id = id;
  run.pid = pid;
  run.status_fd = fds[0];
  run.limits = prep->limits;
  run.netns = netns;
  run.start = start;
  if (prep->spec.timeout_seconds > 0) run.deadline = start + prep->spec.timeout_seconds;
  by_pid_[pid] = id;
  ack("");
}

void ServerLoop::KillRun(Run& run, Run::Reason reason) {
  if (run.reason != Run::kNone) return;
  run.reason = reason;
  // The init is pid 1 of the sandbox: killing it kills the whole namespace.
  // The fallback has only its process group.
  kill(fallback_ ? -run.pid : run.pid, SIGKILL);
}

void ServerLoop::ReapChildren() {
  for (;;) {
    siginfo_t info;
    std::memset(&info, 0, sizeof info);
    if (waitid(P_ALL, 0, &info, WEXITED | WNOHANG | WNOWAIT) != 0 || info.si_pid == 0) return;
    pid_t pid = info.si_pid;
    // Fallback runs leave no namespace behind to kill their stragglers:
    // kill the group while its leader is still unreaped (its id not reused).
    if (fallback_) kill(-pid, SIGKILL);
    int status = 0;
    if (waitpid(pid, &status, 0) != pid) return;
    auto it = by_pid_.find(pid);
    if (it == by_pid_.end()) continue;
    auto run = runs_.find(it->second);
    by_pid_.erase(it);
    if (run == runs_.end()) continue;
    Finish(run->second, status);
    if (run->second.netns >= 0) ReturnNetns(run->second.netns);
    runs_.erase(run);
  }
}

void ServerLoop::Finish(Run& run, int status) {
  Outcome o;
  o.seconds = Now() - run.start;
  struct {
    StatusRecord rec;
    char msg[kMaxStatusMessage];
  } buf;
  ssize_t n = read(run.status_fd, &buf, sizeof buf);
  close(run.status_fd);
  bool have_record = n >= static_cast<ssize_t>(sizeof buf.rec) && buf.rec.length >= 0 &&
                     static_cast<size_t>(buf.rec.length) <= n - sizeof buf.rec;
  o.limits = run.limits;
  if (have_record && buf.rec.peak_rss_kb > 0) o.peak_rss_bytes = static_cast<uint64_t>(buf.rec.peak_rss_kb) * 1024;
  if (have_record) {
    o.workdir_full = (buf.rec.full & kWorkdirFull) != 0;
    o.tmp_full = (buf.rec.full & kTmpFull) != 0;
    o.files_full = (buf.rec.full & kFilesFull) != 0;
  }
  if (have_record && buf.rec.kind == StatusRecord::kSetupFailed) {
    o.kind = Outcome::Kind::kSetupFailed;
    o.error.assign(buf.msg, static_cast<size_t>(buf.rec.length));
    o.permanent = buf.rec.value == kPermanent;
  } else if (run.reason == Run::kCancel) {
    o.kind = Outcome::Kind::kCancelled;
    o.error = "killed on request";
  } else if (run.reason == Run::kTimeout) {
    o.kind = Outcome::Kind::kTimedOut;
    char msg[64];
    snprintf(msg, sizeof msg, "timed out after %.3f s", o.seconds);
    o.error = msg;
  } else if (have_record && buf.rec.kind == StatusRecord::kExited) {
    o.kind = Outcome::Kind::kExited;
    o.exit_code = buf.rec.value;
    o.error.assign(buf.msg, static_cast<size_t>(buf.rec.length));  // an output it could not copy out
  } else if (have_record && buf.rec.kind == StatusRecord::kSignaled) {
    o.kind = Outcome::Kind::kSignaled;
    o.signal = buf.rec.value;
  } else if (fallback_ && WIFEXITED(status)) {
    o.kind = Outcome::Kind::kExited;  // the fallback child is the program
    o.exit_code = WEXITSTATUS(status);
  } else if (fallback_) {
    o.kind = Outcome::Kind::kSignaled;
    o.signal = WTERMSIG(status);
  } else {
    o.kind = Outcome::Kind::kCrashed;
    o.error = WIFSIGNALED(status)
                  ? "sandbox init killed by signal " + std::to_string(WTERMSIG(status))
                  : "sandbox init exited with status " + std::to_string(WEXITSTATUS(status));
  }
  wire::Writer w;
  wire::EncodeOutcome(o, w);
  Send(wire::Packet(wire::kDone, run.id, w.buf()));
}

/// Enters a free network namespace (making one if none is free), so the
/// next clone's child is in it; returns its fd, or -1 with `error`.
int ServerLoop::TakeNetns(std::string* error) {
  int fd;
  if (!free_netns_.empty()) {
    fd = free_netns_.back();
    free_netns_.pop_back();
    if (setns(fd, CLONE_NEWNET) == 0) return fd;
    close(fd);
  }
  if (unshare(CLONE_NEWNET) != 0 || (fd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC)) < 0) {
    *error = std::string("create a network namespace for the sandbox: ") + strerror(errno);
    return -1;
  }
  return fd;
}

void ServerLoop::ReturnNetns(int fd) {
  constexpr size_t kKeepFree = 64;  // enough for any -j here; more are freed
  if (free_netns_.size() < kKeepFree) {
    free_netns_.push_back(fd);
  } else {
    close(fd);
  }
}

int ServerLoop::PollTimeoutMs() {
  double next = 0;
  for (const auto& [id, run] : runs_) {
    if (run.deadline > 0 && run.reason == Run::kNone && (next == 0 || run.deadline < next)) {
      next = run.deadline;
    }
  }
  if (next == 0) return -1;
  double ms = (next - Now()) * 1000;
  return ms <= 0 ? 0 : static_cast<int>(ms) + 1;
}

void ServerLoop::CheckDeadlines() {
  double now = Now();
  for (auto& [id, run] : runs_) {
    if (run.deadline > 0 && run.deadline <= now) KillRun(run, Run::kTimeout);
  }
}

bool ServerLoop::Flush() {
  while (!out_.empty()) {
    ssize_t n = send(sock_, out_.front().data(), out_.front().size(), MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n >= 0) {
      out_.pop_front();
    } else if (errno == EAGAIN || errno == EINTR) {
      return true;
    } else {
      return false;  // the client is gone
    }
  }
  return true;
}

void ServerLoop::KillAll() {
  for (auto& [id, run] : runs_) kill(fallback_ ? -run.pid : run.pid, SIGKILL);
}

}  // namespace

int MaybeRunServer(int argc, char** argv) {
  if (argc < 3 || std::strcmp(argv[1], "__sandbox-server") != 0) return -1;
  char* end = nullptr;
  long fd = std::strtol(argv[2], &end, 10);
  if (*end != '\0' || fd < 0) {
    std::fprintf(stderr, "gg-sandbox-srv: bad socket fd %s\n", argv[2]);
    return 2;
  }
  bool fallback = argc >= 4 && std::strcmp(argv[3], "fallback") == 0;
  CloseAllExcept(static_cast<int>(fd), 3);  // keep stdio for diagnostics
  return ServerLoop(static_cast<int>(fd), fallback).Main();
}

}  // namespace gg::sandbox
