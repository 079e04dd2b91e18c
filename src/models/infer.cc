#include "models/infer.h"

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <spawn.h>
#include <sys/inotify.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <mutex>
#include <sstream>
#include <thread>

#include "core/path_util.h"
#include "models/listen_socket.h"
#include "models/model_server.h"
#include "models/session.h"
#include "models/toolchain.h"

namespace gg::models {
namespace {

// Bind-mounts `from` over the existing file `to`.
bool Bind(const std::string& from, const std::string& to) {
  if (mount(from.c_str(), to.c_str(), nullptr, MS_BIND, nullptr) != 0) {
    std::fprintf(stderr, "gg infer: bind %s on %s: %s\n", from.c_str(), to.c_str(), std::strerror(errno));
    return false;
  }
  return true;
}

// Calls `on_thunk` for each whole line appended to the session's log of
// thunks ("NAME\tPATH") since the last call; `offset` is where it stopped.
void ReadNewThunks(const std::string& log, off_t* offset, const std::function<void(const Name&)>& on_thunk) {
  if (log.empty()) return;
  int fd = open(log.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;
  std::string text;
  char buf[65536];
  ssize_t n;
  while ((n = pread(fd, buf, sizeof buf, *offset + static_cast<off_t>(text.size()))) > 0) text.append(buf, n);
  close(fd);
  size_t end = text.rfind('\n');
  if (end == std::string::npos) return;  // a line still being written
  *offset += static_cast<off_t>(end + 1);
  std::istringstream in(text.substr(0, end + 1));
  for (std::string line; std::getline(in, line);) {
    auto name = Name::Parse(line.substr(0, line.find('\t')));
    if (name.ok()) on_thunk(*name);
  }
}

// Starts one model server on the listening socket (as its fd 3). Spawned
// (vfork semantics): a fork of gg, threads and all, would copy its page
// tables only for the exec to drop them, on the first model call's path.
Result<pid_t> StartServer(const std::string& exe, const std::string& session_dir, int listen_fd) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, listen_fd, 3);
  std::string dir = session_dir;
  char* argv[] = {const_cast<char*>(exe.c_str()), dir.data(), nullptr};
  pid_t pid = -1;
  int err = posix_spawn(&pid, exe.c_str(), &actions, nullptr, argv, environ);
  posix_spawn_file_actions_destroy(&actions);
  if (err != 0) return Status::FromErrno("gg infer: cannot run " + exe, err);
  return pid;
}

// Starts the model servers on the listening socket once a connection waits
// on it, and stops them: shutting the socket down wakes every accept(),
// and each server then exits.
class ModelServers {
 public:
  ModelServers(std::string exe, std::string session_dir, int listen_fd, int count, std::function<void()> on_start)
      : exe_(std::move(exe)),
        session_dir_(std::move(session_dir)),
        listen_fd_(listen_fd),
        count_(count),
        on_start_(std::move(on_start)) {}
  ~ModelServers() { Stop(); }

  Status StartOnFirstCall() {
    if (pipe2(wake_, O_CLOEXEC) != 0) return Status::FromErrno("pipe", errno);
    starter_ = std::thread([this] {
      struct pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {wake_[0], POLLIN, 0}};
      while (poll(fds, 2, -1) < 0 && errno == EINTR) {
      }
      if (!(fds[0].revents & POLLIN)) return;  // stopped before any call
      {
        std::lock_guard<std::mutex> l(mu_);
        if (stopping_) return;
        StartLocked();
      }
      if (on_start_) on_start_();
    });
    return Status::Ok();
  }

  void Stop() {
    {
      std::lock_guard<std::mutex> l(mu_);
      if (stopping_) return;
      stopping_ = true;
    }
    if (starter_.joinable()) {
      char one = 1;
      (void)!write(wake_[1], &one, 1);
      starter_.join();
    }
    for (int fd : wake_) {
      if (fd >= 0) close(fd);
    }
    shutdown(listen_fd_, SHUT_RDWR);
    for (pid_t p : pids_) {
      while (waitpid(p, nullptr, 0) < 0 && errno == EINTR) {
      }
    }
    pids_.clear();
  }

 private:
  void StartLocked() {
    for (int i = 0; i < count_; ++i) {
      auto pid = StartServer(exe_, session_dir_, listen_fd_);
      if (!pid.ok()) {
        // The callers waiting would wait for ever: they get a closed
        // connection instead, and the build fails naming the server.
        std::fprintf(stderr, "gg infer: cannot start the model server: %s\n", pid.status().message().c_str());
        if (pids_.empty()) shutdown(listen_fd_, SHUT_RDWR);
        break;
      }
      pids_.push_back(*pid);
    }
  }

  std::string exe_, session_dir_;
  int listen_fd_, count_;
  std::function<void()> on_start_;
  int wake_[2] = {-1, -1};
  std::thread starter_;
  std::mutex mu_;
  bool stopping_ = false;  ///< no server starts from now on
  std::vector<pid_t> pids_;
};

// Waits for the build command; on an interrupt, stops every process of the
// build (all of them share its mount namespace) with SIGTERM. A SIGTERM to
// gg alone, from a script or a CI timeout, had left the build running; a
// terminal's ^C reaches the build's processes by itself.
void WaitForBuild(pid_t pid, const std::atomic<bool>* interrupted, int* status) {
  auto mount_ns = [](const std::string& proc) {
    std::error_code ec;
    return std::filesystem::read_symlink("/proc/" + proc + "/ns/mnt", ec).string();
  };
  int pidfd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
  bool stopped = false;
  while (true) {
    if (pidfd >= 0) {
      pollfd p{pidfd, POLLIN, 0};
      (void)poll(&p, 1, 100);
    }
    pid_t w = waitpid(pid, status, pidfd >= 0 ? WNOHANG : 0);
    if (w == pid || (w < 0 && errno != EINTR)) break;
    if (stopped || interrupted == nullptr || !interrupted->load()) continue;
    stopped = true;
    // Read now, not at the start (the child unshares after the fork), and
    // before the signal: a child that has exited has no namespace to read.
    std::string ns = mount_ns(std::to_string(pid));
    kill(pid, SIGTERM);
    if (ns.empty() || ns == mount_ns("self")) continue;
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator("/proc", ec)) {
      std::string name = e.path().filename();
      if (name.find_first_not_of("0123456789") != std::string::npos) continue;
      if (mount_ns(name) == ns) kill(std::stoi(name), SIGTERM);
    }
  }
  if (pidfd >= 0) close(pidfd);
}

}  // namespace

std::string DefaultModelExe(const std::string& gg_exe) {
  if (const char* e = getenv("GG_MODEL_EXE")) return e;
  return DirName(gg_exe) + "/gg-model";
}

std::vector<std::string> DetectRoots(const std::string& cwd) {
  std::vector<std::string> roots;
  auto cache = ReadFile(cwd + "/CMakeCache.txt");
  if (cache.ok()) {
    std::istringstream in(*cache);
    for (std::string line; std::getline(in, line);) {
      if (line.starts_with("CMAKE_HOME_DIRECTORY:INTERNAL=")) roots.push_back(line.substr(line.find('=') + 1));
    }
  }
  return roots;
}

void PrintLocalSummary(const InferResult& r, FILE* out) {
  if (!r.queries.empty()) {
    // Queries write nothing, so running them is never wrong; a count and
    // the kinds are enough.
    std::map<std::string, size_t> kinds;
    for (const auto& q : r.queries) ++kinds[q.substr(0, q.find('\t'))];
    std::string list;
    for (const auto& [k, n] : kinds) list += (list.empty() ? "" : ", ") + k + " x" + std::to_string(n);
    std::fprintf(out, "gg: %zu compiler quer%s ran for real (they write no files): %s\n", r.queries.size(),
                 r.queries.size() == 1 ? "y" : "ies", list.c_str());
  }
  if (r.local_commands.empty()) return;
  std::fprintf(out, "gg: %zu command%s ran locally:\n", r.local_commands.size(),
               r.local_commands.size() == 1 ? "" : "s");
  for (const auto& l : r.local_commands) {
    size_t tab = l.find('\t');
    std::fprintf(out, "  %s   [%s]\n", l.substr(tab + 1).c_str(), l.substr(0, tab).c_str());
  }
}

void ThunkFeed::CatchUp() {
  std::lock_guard<std::mutex> l(mu_);
  ReadNewThunks(log_, &offset_, on_thunk_);
}

void ThunkFeed::Open(const std::string& log) {
  std::lock_guard<std::mutex> l(mu_);
  log_ = log;
  offset_ = 0;
}

void ThunkFeed::Close() {
  std::lock_guard<std::mutex> l(mu_);
  ReadNewThunks(log_, &offset_, on_thunk_);
  log_.clear();
}

Result<InferResult> RunInfer(LocalStore* store, const InferOptions& options) {
  auto start = std::chrono::steady_clock::now();
  if (access(options.model_exe.c_str(), X_OK) != 0) {
    return Status::NotFound("gg-model not found at " + options.model_exe + " (set $GG_MODEL_EXE)");
  }
  GG_ASSIGN_OR_RETURN(Toolchain tc, CaptureToolchain(store, options.refresh_toolchain));

  std::string session_dir = store->TempDir() + "/infer." + UniqueSuffix();
  GG_RETURN_IF_ERROR(MakeDirs(session_dir + "/real"));
  SessionConfig config;
  config.store_dir = AbsolutePath(store->dir());
  config.gg_exe = options.gg_exe;
  char cwd_buf[PATH_MAX];
  std::string cwd = getcwd(cwd_buf, sizeof cwd_buf) ? cwd_buf : "/";
  config.roots.push_back(cwd);
  for (const auto& r : options.roots) config.roots.push_back(RealPath(r).empty() ? r : RealPath(r));
  for (const auto& r : DetectRoots(cwd)) config.roots.push_back(r);
  config.canonical_paths = options.canonical_paths;
  for (const auto& [kind, path] : tc.tools) {
    std::string base = path.substr(path.rfind('/') + 1);
    config.tools[path] = {kind, session_dir + "/real/" + base};
  }
  // Programs that take a file's size from stat() before opening it
  // (readelf does) would see a placeholder's size: the guard only acts at
  // open. Overlaid with no model, they run for real once the placeholders
  // their arguments name are forced.
  for (const char* reader : {"readelf", "objdump", "size", "strings", "file"}) {
    std::string path = RealPath(FindInPath(reader));
    if (!path.empty() && !config.tools.count(path)) {
      config.tools[path] = {reader, session_dir + "/real/" + path.substr(path.rfind('/') + 1)};
    }
  }
  std::string shell = RealPath("/bin/sh");
  std::string real_shell = session_dir + "/real/sh";
  GG_RETURN_IF_ERROR(WriteFileAtomic(session_dir + "/config", config.Serialize()));
  GG_RETURN_IF_ERROR(WriteFileAtomic(session_dir + "/toolchain", tc.Serialize()));
  std::string model = RealPath(options.model_exe);
  std::string server_exe = DirName(options.model_exe) + "/gg-model-server";
  if (!options.preload.empty() && access(options.preload.c_str(), R_OK) != 0) {
    return Status::NotFound(options.preload + " not found (built beside gg-model)");
  }
  if (access(server_exe.c_str(), X_OK) != 0) {
    return Status::NotFound("gg-model-server not found at " + server_exe + " (built beside gg-model)");
  }
  // gg-model runs the real tools without asking a server when it is called
  // by a real tool (gcc's own `as`): the table it reads for that.
  std::string real_tools;
  for (const auto& [path, kr] : config.tools) {
    real_tools += path + "\t" + kr.second + "\t" + (Toolchain::IsClang(kr.first) ? tc.clang_resource_dir : "") + "\n";
  }
  GG_RETURN_IF_ERROR(WriteFileAtomic(session_dir + kRealToolsFile, real_tools));
  ListenSocket sock;
  GG_RETURN_IF_ERROR(Listen("gg-model", &sock));
  int servers = options.model_servers > 0 ? options.model_servers
                                          : static_cast<int>(std::max(2u, std::thread::hardware_concurrency()));
  // The servers start at the first model call (a connection waiting on the
  // socket): a build with nothing to redo runs no model and starts none.
  ModelServers model_servers(server_exe, session_dir, sock.fd, servers, options.on_first_model_call);
  GG_RETURN_IF_ERROR(model_servers.StartOnFirstCall());
  auto stop_servers = [&] { model_servers.Stop(); };
  // Readable before the build starts: a model call may come at once.
  if (options.thunks) options.thunks->Open(session_dir + "/thunks.log");

  pid_t pid = fork();
  if (pid < 0) {
    if (options.thunks) options.thunks->Close();
    stop_servers();
    return Status::FromErrno("fork", errno);
  }
  if (pid == 0) {
    if (unshare(CLONE_NEWNS) != 0) {
      std::fprintf(stderr, "gg infer: unshare(CLONE_NEWNS): %s (needs root or a user namespace)\n",
                   std::strerror(errno));
      _exit(126);
    }
    if (mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) _exit(126);
    std::vector<std::pair<std::string, std::string>> overlays;  // real path, copy
    for (const auto& [path, kr] : config.tools) overlays.push_back({path, kr.second});
    if (!shell.empty()) overlays.push_back({shell, real_shell});
    for (const auto& [path, copy] : overlays) {
      int fd = open(copy.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0755);
      if (fd >= 0) close(fd);
      if (!Bind(path, copy)) _exit(126);
    }
    for (const auto& [path, copy] : overlays) {
      if (!Bind(model, path)) _exit(126);
    }
    if (options.in_namespace && !options.in_namespace()) _exit(126);
    setenv(kSessionEnv, session_dir.c_str(), 1);
    setenv(kSocketEnv, sock.path.c_str(), 1);
    setenv(kGgExeEnv, options.gg_exe.c_str(), 1);
    setenv("GG_DIR", config.store_dir.c_str(), 1);
    if (!shell.empty()) {
      setenv(kShellEnv, shell.c_str(), 1);
      setenv(kRealShellEnv, real_shell.c_str(), 1);
    }
    unsetenv(kPassthroughEnv);
    setenv(kBuildStderrEnv, FileIdOf(2).c_str(), 1);
    // gg is the build's cache: a ccache in front of the compiler (Meson
    // picks it up by itself, CMake projects set it as the launcher) would
    // run it with stderr in a file of its own, which makes the command run
    // for real. Disabled, ccache execs the compiler as it was called.
    setenv("CCACHE_DISABLE", "1", 1);
    if (!options.preload.empty()) {
      const char* others = getenv("LD_PRELOAD");
      setenv("LD_PRELOAD", (options.preload + (others && *others ? std::string(":") + others : "")).c_str(), 1);
    }
    std::vector<char*> argv;
    for (const auto& a : options.command) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execvp(argv[0], argv.data());
    std::fprintf(stderr, "gg infer: cannot run %s: %s\n", argv[0], std::strerror(errno));
    _exit(127);
  }
  // Hands each placeholder's target to the caller as the models write it:
  // woken by inotify when the log grows (a 20 ms poll had delayed each
  // thunk's start by 10 ms on average, which a recipe that reads its own
  // output at once, as Kbuild's fixdep does, waits out every time), and by
  // `stop` at the end of the build. The timeout only backs up inotify.
  int stop[2] = {-1, -1};
  std::atomic<bool> done{false};
  std::thread tail;
  if (options.thunks) {
    if (pipe2(stop, O_CLOEXEC) != 0) stop[0] = stop[1] = -1;  // `done` and the timeout then
    int watch = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
    if (watch >= 0 && inotify_add_watch(watch, session_dir.c_str(), IN_MODIFY | IN_CREATE) < 0) {
      close(watch);
      watch = -1;
    }
    tail = std::thread([&, watch] {
      pollfd fds[2] = {{stop[0], POLLIN, 0}, {watch, POLLIN, 0}};
      while (true) {
        options.thunks->CatchUp();
        if (poll(fds, 2, watch >= 0 ? 200 : 20) < 0 && errno != EINTR) break;
        if (fds[0].revents != 0 || done) break;
        char events[4096];
        while (watch >= 0 && read(watch, events, sizeof events) > 0) {
        }
      }
      if (watch >= 0) close(watch);
    });
  }
  int status = 0;
  WaitForBuild(pid, options.interrupted, &status);
  stop_servers();
  if (tail.joinable()) {
    done = true;
    if (stop[1] >= 0) (void)!write(stop[1], "x", 1);
    tail.join();
    if (stop[0] >= 0) close(stop[0]);
    if (stop[1] >= 0) close(stop[1]);
  }
  if (options.thunks) options.thunks->Close();  // before the session goes
  InferResult r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  auto thunks = ReadFile(session_dir + "/thunks.log");
  if (thunks.ok()) {
    for (char ch : *thunks) r.thunks += ch == '\n';
  }
  for (auto [file, into] : {std::pair{"/local.log", &r.local_commands}, std::pair{"/queries.log", &r.queries}}) {
    auto text = ReadFile(session_dir + file);
    if (!text.ok()) continue;
    std::istringstream in(*text);
    for (std::string line; std::getline(in, line);) {
      if (!line.empty()) into->push_back(line);
    }
  }
  (void)RemoveTree(session_dir);
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return r;
}

}  // namespace gg::models
