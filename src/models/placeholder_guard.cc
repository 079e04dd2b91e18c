#include "models/placeholder_guard.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/fanotify.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "coordinator/coordinator.h"
#include "core/path_util.h"
#include "core/placeholder.h"
#include "engines/local_engine.h"

namespace gg::models {
namespace {

// A placeholder is at most this long (core/placeholder.cc).
constexpr size_t kMaxPlaceholder = 4096;

bool IsUnder(const std::string& path, const std::string& dir) {
  return path == dir || (path.starts_with(dir) && (dir == "/" || path[dir.size()] == '/'));
}

// "cmd arg... (pid N)", shortened: names the reader in messages.
std::string DescribeProcess(pid_t pid) {
  auto text = ReadFile("/proc/" + std::to_string(pid) + "/cmdline");
  std::string cmd = text.ok() ? *text : "";
  while (!cmd.empty() && cmd.back() == '\0') cmd.pop_back();
  std::replace(cmd.begin(), cmd.end(), '\0', ' ');
  if (cmd.size() > 160) cmd = cmd.substr(0, 157) + "...";
  if (cmd.empty()) cmd = "a process that has exited";
  return cmd + " (pid " + std::to_string(pid) + ")";
}

std::string FdPath(int fd) {
  char buf[PATH_MAX];
  std::string link = "/proc/self/fd/" + std::to_string(fd);
  ssize_t n = readlink(link.c_str(), buf, sizeof buf - 1);
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : "(unknown path)";
}

mode_t CurrentUmask() {
  // Read once, before any thread exists: umask() has no read-only form.
  mode_t mask = umask(0);
  umask(mask);
  return mask;
}

const mode_t kUmask = CurrentUmask();

}  // namespace

Result<std::unique_ptr<PlaceholderGuard>> PlaceholderGuard::Create(LocalStore* store, Options options) {
  int fan = fanotify_init(FAN_CLASS_CONTENT | FAN_CLOEXEC | FAN_NONBLOCK,
                          O_RDONLY | O_LARGEFILE | O_CLOEXEC | O_NONBLOCK);
  if (fan < 0) {
    int err = errno;
    return Status::FromErrno(
        err == EPERM ? "fanotify_init: permission events need CAP_SYS_ADMIN (run gg build as root)"
                     : "fanotify_init (a kernel with CONFIG_FANOTIFY_ACCESS_PERMISSIONS is needed)",
        err);
  }
  int wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (wake < 0) {
    int err = errno;
    close(fan);
    return Status::FromErrno("eventfd", err);
  }
  std::unique_ptr<PlaceholderGuard> g(new PlaceholderGuard(store, std::move(options), fan, wake));
  g->events_ = std::thread([p = g.get()] { p->EventLoop(); });
  g->forcer_ = std::thread([p = g.get()] { p->ForceLoop(); });
  return g;
}

PlaceholderGuard::PlaceholderGuard(LocalStore* store, Options options, int fan_fd, int wake_fd)
    : store_(store), options_(std::move(options)), fan_fd_(fan_fd), wake_fd_(wake_fd), self_(getpid()) {
  for (const auto& exe : options_.model_exes) {
    struct stat st {};
    if (stat(exe.c_str(), &st) == 0) gg_exes_.insert({st.st_dev, st.st_ino});
  }
  // Outermost roots only: a bind mount of a root carries the roots inside it.
  std::vector<std::string> roots;
  for (const auto& r : options_.roots) {
    char buf[PATH_MAX];
    if (realpath(r.c_str(), buf)) roots.push_back(buf);
  }
  std::sort(roots.begin(), roots.end());
  for (const auto& r : roots) {
    if (std::none_of(outer_roots_.begin(), outer_roots_.end(), [&](const std::string& o) { return IsUnder(r, o); })) {
      outer_roots_.push_back(r);
    }
  }
  char cwd[PATH_MAX];
  cwd_ = getcwd(cwd, sizeof cwd) ? cwd : "/";
}

PlaceholderGuard::~PlaceholderGuard() { Stop(); }

bool PlaceholderGuard::AttachInNamespace() const {
  for (const auto& r : outer_roots_) {
    if (mount(r.c_str(), r.c_str(), nullptr, MS_BIND | MS_REC, nullptr) != 0) {
      std::fprintf(stderr, "gg build: cannot bind-mount %s onto itself for the placeholder guard: %s\n", r.c_str(),
                   std::strerror(errno));
      return false;
    }
    if (fanotify_mark(fan_fd_, FAN_MARK_ADD | FAN_MARK_MOUNT, FAN_OPEN_PERM, AT_FDCWD, r.c_str()) != 0) {
      std::fprintf(stderr, "gg build: cannot watch opens under %s (fanotify_mark): %s\n", r.c_str(),
                   std::strerror(errno));
      return false;
    }
  }
  // The cwd still points into the unmarked mount below: enter it again.
  if (chdir(cwd_.c_str()) != 0) {
    std::fprintf(stderr, "gg build: cannot enter %s again: %s\n", cwd_.c_str(), std::strerror(errno));
    return false;
  }
  return true;
}

void PlaceholderGuard::Stop() {
  {
    std::lock_guard<std::mutex> l(mu_);
    if (stopping_ && !forcer_.joinable()) return;
    stopping_ = true;
  }
  cv_.notify_all();
  // The force thread first: writing an output opens the file, an event the
  // event loop must still answer.
  if (forcer_.joinable()) forcer_.join();
  uint64_t one = 1;
  if (write(wake_fd_, &one, sizeof one) < 0) {
    // The eventfd cannot be full; nothing to do.
  }
  if (events_.joinable()) events_.join();
  // Closing the group allows every open still waiting.
  if (fan_fd_ >= 0) close(fan_fd_);
  if (wake_fd_ >= 0) close(wake_fd_);
  fan_fd_ = wake_fd_ = -1;
}

std::vector<PlaceholderGuard::Read> PlaceholderGuard::reads() const {
  std::lock_guard<std::mutex> l(mu_);
  return reads_;
}

void PlaceholderGuard::Respond(int fd, bool allow) const {
  struct fanotify_response r {};
  r.fd = fd;
  r.response = allow ? FAN_ALLOW : FAN_DENY;
  // A failed write leaves the opener waiting until the group is closed;
  // it cannot fail for a valid event fd.
  if (write(fan_fd_, &r, sizeof r) != sizeof r) {
    std::fprintf(stderr, "gg build: placeholder guard: cannot answer an open: %s\n", std::strerror(errno));
  }
}

bool PlaceholderGuard::IsGg(pid_t pid) const {
  // By the executable's inode, not its path: gg-model is bind-mounted over
  // the tools, and a model that execs the real tool (passthrough, or the
  // shell model running the real sh) stops being gg at that moment.
  struct stat st {};
  std::string exe = "/proc/" + std::to_string(pid) + "/exe";
  return stat(exe.c_str(), &st) == 0 && gg_exes_.count({st.st_dev, st.st_ino}) > 0;
}

void PlaceholderGuard::EventLoop() {
  // Never blocks on anything but poll: every open under the roots waits on
  // this thread, including the force thread's own writes.
  alignas(struct fanotify_event_metadata) char buf[16384];
  struct pollfd fds[2] = {{fan_fd_, POLLIN, 0}, {wake_fd_, POLLIN, 0}};
  while (true) {
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      std::fprintf(stderr, "gg build: placeholder guard: poll: %s\n", std::strerror(errno));
      return;
    }
    if (fds[1].revents & POLLIN) return;
    ssize_t n = read(fan_fd_, buf, sizeof buf);
    if (n <= 0) continue;
    auto* m = reinterpret_cast<struct fanotify_event_metadata*>(buf);
    for (; FAN_EVENT_OK(m, n); m = FAN_EVENT_NEXT(m, n)) {
      if (m->fd < 0) continue;
      if (m->mask & FAN_OPEN_PERM) {
        HandleEvent(m->fd, m->pid);
      } else {
        close(m->fd);
      }
    }
  }
}

void PlaceholderGuard::HandleEvent(int fd, pid_t pid) {
  auto allow = [&] {
    Respond(fd, true);
    close(fd);
  };
  if (pid == self_ || IsGg(pid)) return allow();
  // A file that is no placeholder raises no more events until it is written
  // (an ignore mark on its inode, cleared by the kernel on modification;
  // a placeholder written by renaming is another inode): a build's Python
  // runs open the same modules again and again, and each event makes the
  // opener wait for this thread, long on a loaded machine.
  auto allow_from_now_on = [&] {
    (void)fanotify_mark(fan_fd_, FAN_MARK_ADD | FAN_MARK_IGNORED_MASK, FAN_OPEN_PERM, fd, nullptr);
    allow();
  };
  struct stat st {};
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) return allow();
  InodeKey key{st.st_dev, st.st_ino};
  {
    // Being forced, or written into right now (empty, then half written,
    // which the checks below would let through): wait with the others.
    std::lock_guard<std::mutex> l(mu_);
    auto it = pending_.find(key);
    if (it != pending_.end()) {
      it->second.event_fds.push_back(fd);
      return;
    }
  }
  if (st.st_size == 0 || static_cast<size_t>(st.st_size) > kMaxPlaceholder) return allow_from_now_on();
  char content[kMaxPlaceholder + 1];
  ssize_t n = pread(fd, content, sizeof content, 0);
  auto target = n > 0 ? ParsePlaceholder({content, static_cast<size_t>(n)}) : std::nullopt;
  if (!target) return allow_from_now_on();
  // Only this thread adds to pending_: the key is still absent.
  std::lock_guard<std::mutex> l(mu_);
  pending_[key] = Pending{*target, FdPath(fd), DescribeProcess(pid), {fd}};
  queue_.push_back(key);
  cv_.notify_one();
}

void PlaceholderGuard::ForceLoop() {
  while (true) {
    std::vector<InodeKey> keys;
    std::vector<Pending> batch;
    {
      std::unique_lock<std::mutex> l(mu_);
      cv_.wait(l, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;
      keys.swap(queue_);
      for (const auto& k : keys) batch.push_back(pending_[k]);
    }
    // Everything queued while the last batch ran is forced together.
    std::vector<std::string> errors = ForceBatch(batch);
    std::lock_guard<std::mutex> l(mu_);
    for (size_t i = 0; i < keys.size(); ++i) {
      auto node = pending_.extract(keys[i]);
      for (int fd : node.mapped().event_fds) {
        Respond(fd, errors[i].empty());
        close(fd);
      }
      reads_.push_back({batch[i].path, batch[i].reader, errors[i]});
    }
  }
}

namespace {

// Writes the object into the inode behind `event_fd` (the placeholder the
// reader is opening), so the reader, which already holds that inode, reads
// the real bytes. The placeholder's times are kept: make already compared them.
Status WriteInPlace(LocalStore* store, int event_fd, const ReductionOutput& out) {
  GG_RETURN_IF_ERROR(store->Verify(out.name));
  struct stat before {};
  if (fstat(event_fd, &before) != 0) return Status::FromErrno("fstat", errno);
  std::string self = "/proc/self/fd/" + std::to_string(event_fd);
  int dst = open(self.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC);
  if (dst < 0) return Status::FromErrno("cannot open the placeholder for writing", errno);
  std::string blob = store->BlobPath(out.name);
  int src = open(blob.c_str(), O_RDONLY | O_CLOEXEC);
  if (src < 0) {
    int err = errno;
    close(dst);
    return Status::FromErrno("cannot read " + blob, err);
  }
  Status s = Status::Ok();
  char buf[1 << 16];
  while (true) {
    ssize_t n = read(src, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      s = Status::FromErrno("cannot read " + blob, errno);
      break;
    }
    if (n == 0) break;
    for (ssize_t done = 0; done < n;) {
      ssize_t w = write(dst, buf + done, static_cast<size_t>(n - done));
      if (w < 0 && errno == EINTR) continue;
      if (w < 0) {
        s = Status::FromErrno("cannot write the output into the placeholder", errno);
        break;
      }
      done += w;
    }
    if (!s.ok()) break;
  }
  if (s.ok() && fchmod(dst, (out.executable ? 0777 : 0666) & ~kUmask) != 0) s = Status::FromErrno("fchmod", errno);
  struct timespec times[2] = {before.st_atim, before.st_mtim};
  if (s.ok() && futimens(dst, times) != 0) s = Status::FromErrno("futimens", errno);
  close(src);
  if (close(dst) != 0 && s.ok()) s = Status::FromErrno("close", errno);
  return s;
}

}  // namespace

std::vector<std::string> PlaceholderGuard::ForceBatch(const std::vector<Pending>& batch) {
  std::vector<std::string> errors(batch.size());
  std::vector<Name> targets;
  for (const auto& p : batch) targets.push_back(p.target);
  if (options_.force) {
    if (auto outputs = options_.force(targets)) {
      for (size_t i = 0; i < batch.size(); ++i) {
        Status s = WriteInPlace(store_, batch[i].event_fds[0], (*outputs)[i]);
        if (!s.ok()) errors[i] = s.message();
      }
      return errors;
    }
  }
  if (!engine_) {
    auto engine = LocalEngine::Create(store_, options_.jobs);
    if (!engine.ok()) {
      std::fill(errors.begin(), errors.end(), engine.status().message());
      return errors;
    }
    engine_ = std::move(*engine);
  }
  ForceOptions fo;
  fo.engines.push_back(engine_.get());
  fo.interrupted = options_.interrupted;
  Coordinator coordinator(store_, fo);
  auto outputs = coordinator.Force(targets);
  if (!outputs.ok()) {
    if (batch.size() == 1) return {outputs.status().message()};
    // Say which one failed: one at a time (what succeeded is memoized).
    for (size_t i = 0; i < batch.size(); ++i) errors[i] = ForceBatch({batch[i]})[0];
    return errors;
  }
  for (size_t i = 0; i < batch.size(); ++i) {
    Status s = WriteInPlace(store_, batch[i].event_fds[0], (*outputs)[i]);
    if (!s.ok()) errors[i] = s.message();
  }
  return errors;
}

}  // namespace gg::models
