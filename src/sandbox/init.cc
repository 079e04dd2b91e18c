// The sandbox init: builds the sandbox's file system in fresh namespaces,
// then runs the program as an unprivileged user without capabilities.
// Runs between fork and exec: system calls and stack buffers only.
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <climits>
#include <cstring>

#include "sandbox/child.h"

namespace gg::sandbox {
namespace {

constexpr uid_t kSandboxId = 1000;  // uid and gid of the program inside

// From <linux/mount.h>, which clashes with <sys/mount.h> in glibc 2.36.
struct MountAttr {
  uint64_t attr_set, attr_clr, propagation, userns_fd;
};
constexpr uint64_t kMountAttrRdonly = 0x1;
constexpr unsigned kAtRecursive = 0x8000;

int WriteFile(const char* path, const char* data) {
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return errno;
  size_t n = std::strlen(data);
  int err = write(fd, data, n) == static_cast<ssize_t>(n) ? 0 : errno;
  close(fd);
  return err;
}

/// Makes the mount at `path` read-only (recursively for directories),
/// keeping its other flags: in a user namespace the nosuid/nodev/noexec/
/// atime flags of a bind mount are locked and a remount must repeat them.
int MakeReadOnly(const char* path, bool recursive) {
  MountAttr attr{kMountAttrRdonly, 0, 0, 0};
  if (syscall(SYS_mount_setattr, AT_FDCWD, path, recursive ? kAtRecursive : 0u, &attr,
              sizeof attr) == 0) {
    return 0;
  }
  if (errno != ENOSYS) return errno;
  struct statvfs st;
  if (statvfs(path, &st) != 0) return errno;
  unsigned long flags = MS_BIND | MS_REMOUNT | MS_RDONLY;
  if (st.f_flag & ST_NOSUID) flags |= MS_NOSUID;
  if (st.f_flag & ST_NODEV) flags |= MS_NODEV;
  if (st.f_flag & ST_NOEXEC) flags |= MS_NOEXEC;
  if (st.f_flag & ST_NOATIME) flags |= MS_NOATIME;
  if (st.f_flag & ST_NODIRATIME) flags |= MS_NODIRATIME;
  if (st.f_flag & ST_RELATIME) flags |= MS_RELATIME;
  return mount(nullptr, path, nullptr, flags, nullptr) == 0 ? 0 : errno;
}

/// A path under the new root, built in a fixed buffer.
class RootPath {
 public:
  explicit RootPath(const std::string& root) : len_(root.size()) {
    std::memcpy(buf_, root.data(), len_);
    buf_[len_] = '\0';
  }
  /// root + sandbox_path; false if too long.
  bool Set(const char* sandbox_path) {
    size_t n = std::strlen(sandbox_path);
    if (len_ + n >= sizeof buf_) return false;
    std::memcpy(buf_ + len_, sandbox_path, n + 1);
    return true;
  }
  char* get() { return buf_; }

 private:
  char buf_[2 * PATH_MAX];
  size_t len_;
};

void MountOne(int fd, RootPath& rp, const MountStep& m) {
  if (!rp.Set(m.sandbox)) FailSetup(fd, "mount %s at %s: path too long", m.host, m.sandbox);
  char* target = rp.get();
  int err = 0;
  if (m.kind == MountStep::kFile) {
    char* slash = std::strrchr(target, '/');
    *slash = '\0';
    err = MakeDirs(target);
    *slash = '/';
    if (err == 0) {
      int f = open(target, O_CREAT | O_RDONLY | O_CLOEXEC | O_NOFOLLOW, 0444);
      if (f >= 0) close(f);
      else if (errno != EEXIST) err = errno;
    }
  } else {
    err = MakeDirs(target);
  }
  if (err != 0) FailSetup(fd, "create mount point %s: %s", m.sandbox, strerror(err));
  if (m.kind == MountStep::kMkdir) return;
  unsigned long flags = MS_BIND | (m.kind == MountStep::kDir ? MS_REC : 0);
  if (mount(m.host, target, nullptr, flags, nullptr) != 0) {
    if (m.kind == MountStep::kWorkdir) {
      FailSetup(fd, "mount work dir %s at %s: %s", m.host, m.sandbox, strerror(errno));
    }
    FailSetup(fd, "mount %s at %s: %s", m.host, m.sandbox, strerror(errno));
  }
  if (m.kind != MountStep::kWorkdir) {
    err = MakeReadOnly(target, m.kind == MountStep::kDir);
    if (err != 0) FailSetup(fd, "make %s read-only: %s", m.sandbox, strerror(err));
  }
}

void MountTmpfs(int fd, RootPath& rp, const char* where, const char* opts) {
  rp.Set(where);
  if (mkdir(rp.get(), 0755) != 0 && errno != EEXIST) {
    FailSetup(fd, "mkdir %s: %s", where, strerror(errno));
  }
  if (mount("tmpfs", rp.get(), "tmpfs", MS_NOSUID | MS_NODEV, opts) != 0) {
    FailSetup(fd, "mount tmpfs at %s: %s", where, strerror(errno));
  }
}

void BuildDev(int fd, RootPath& rp) {
  rp.Set("/dev");
  if (mkdir(rp.get(), 0755) != 0) FailSetup(fd, "mkdir /dev: %s", strerror(errno));
  static const char* const kDevices[] = {"/dev/null", "/dev/zero", "/dev/full", "/dev/random",
                                         "/dev/urandom"};
  for (const char* dev : kDevices) {
    rp.Set(dev);
    int f = open(rp.get(), O_CREAT | O_RDONLY | O_CLOEXEC, 0444);
    if (f < 0) FailSetup(fd, "create %s: %s", dev, strerror(errno));
    close(f);
    if (mount(dev, rp.get(), nullptr, MS_BIND, nullptr) != 0) {
      FailSetup(fd, "mount %s: %s", dev, strerror(errno));
    }
  }
  static const char* const kLinks[][2] = {{"/proc/self/fd", "/dev/fd"},
                                          {"/proc/self/fd/0", "/dev/stdin"},
                                          {"/proc/self/fd/1", "/dev/stdout"},
                                          {"/proc/self/fd/2", "/dev/stderr"}};
  for (const auto& link : kLinks) {
    rp.Set(link[1]);
    if (symlink(link[0], rp.get()) != 0) FailSetup(fd, "symlink %s: %s", link[1], strerror(errno));
  }
  MountTmpfs(fd, rp, "/dev/shm", "mode=1777");
}

int OpenOutput(int fd, const std::string& path, const char* what) {
  const char* p = path.empty() ? "/dev/null" : path.c_str();
  int out = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (out < 0) FailSetup(fd, "open %s %s: %s", what, p, strerror(errno));
  return out;
}

/// Makes `to` a copy of `from` that survives exec.
int Redirect(int from, int to) {
  if (from == to) return fcntl(to, F_SETFD, 0);
  return dup2(from, to) < 0 ? -1 : 0;
}

void DropPrivileges(int fd) {
  if (setresgid(kSandboxId, kSandboxId, kSandboxId) != 0 ||
      setresuid(kSandboxId, kSandboxId, kSandboxId) != 0) {
    FailSetup(fd, "setresuid %u: %s", kSandboxId, strerror(errno));
  }
  for (int cap = 0; cap < 64; ++cap) {
    if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 && errno != EINVAL) {
      FailSetup(fd, "drop capability %d from the bounding set: %s", cap, strerror(errno));
    }
  }
  prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2] = {};
  if (syscall(SYS_capset, &header, data) != 0) FailSetup(fd, "capset: %s", strerror(errno));
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
    FailSetup(fd, "PR_SET_NO_NEW_PRIVS: %s", strerror(errno));
  }
}

struct ProgramArgs {
  const Prepared* p;
  int status_fd, in, out, err;
};

alignas(64) char g_program_stack[64 * 1024];

/// The program's process, from clone until exec: shares the init's memory,
/// so it touches nothing but its own stack.
int StartProgram(void* arg) {
  const ProgramArgs& a = *static_cast<const ProgramArgs*>(arg);
  const Spec& s = a.p->spec;
  if (Redirect(a.in, 0) != 0 || Redirect(a.out, 1) != 0 || Redirect(a.err, 2) != 0) {
    FailSetup(a.status_fd, "redirect stdio: %s", strerror(errno));
  }
  setsid();
  DropPrivileges(a.status_fd);
  ResetForExec(*a.p);
  execve(s.exe.c_str(), a.p->argv.data(), a.p->envp.data());
  FailSetup(a.status_fd, "exec %s: %s", s.exe.c_str(), strerror(errno));
}

}  // namespace

void RunSandboxInit(const Prepared& p, int fd) {
  const Spec& s = p.spec;
  // Die with the server: killing it kills every sandbox.
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  prctl(PR_SET_NAME, "gg-sandbox");
  CloseAllExcept(fd);

  // Map the server's root (the outer user) to an unprivileged 1000.
  static const char kMap[] = "1000 0 1\n";
  if (int err = WriteFile("/proc/self/uid_map", kMap)) {
    FailSetup(fd, "write /proc/self/uid_map: %s", strerror(err));
  }
  if (int err = WriteFile("/proc/self/setgroups", "deny")) {
    FailSetup(fd, "write /proc/self/setgroups: %s", strerror(err));
  }
  if (int err = WriteFile("/proc/self/gid_map", kMap)) {
    FailSetup(fd, "write /proc/self/gid_map: %s", strerror(err));
  }
  sethostname("gg", 2);

  if (mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
    FailSetup(fd, "make / private: %s", strerror(errno));
  }
  if (mount("tmpfs", s.root_dir.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755") != 0) {
    FailSetup(fd, "mount tmpfs at root dir %s: %s", s.root_dir.c_str(), strerror(errno));
  }
  RootPath rp(s.root_dir);
  BuildDev(fd, rp);
  MountTmpfs(fd, rp, "/tmp", "mode=1777");
  rp.Set("/proc");
  if (mkdir(rp.get(), 0555) != 0 || mount("proc", rp.get(), "proc",
                                          MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) != 0) {
    FailSetup(fd, "mount /proc: %s", strerror(errno));
  }
  for (const MountStep& m : p.steps) MountOne(fd, rp, m);

  // Host paths: open them before the host file system goes away.
  int in = open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (in < 0) FailSetup(fd, "open /dev/null: %s", strerror(errno));
  int out = OpenOutput(fd, s.stdout_path, "stdout");
  int err = s.stderr_path == s.stdout_path && !s.stdout_path.empty()
                ? out
                : OpenOutput(fd, s.stderr_path, "stderr");

  if (chdir(s.root_dir.c_str()) != 0 || syscall(SYS_pivot_root, ".", ".") != 0) {
    FailSetup(fd, "pivot_root to %s: %s", s.root_dir.c_str(), strerror(errno));
  }
  if (umount2(".", MNT_DETACH) != 0) FailSetup(fd, "detach old root: %s", strerror(errno));
  if (chdir("/") != 0) FailSetup(fd, "chdir /: %s", strerror(errno));
  if (int e = MakeReadOnly("/", false)) FailSetup(fd, "make / read-only: %s", strerror(e));
  if (chdir(s.workdir.c_str()) != 0) {
    FailSetup(fd, "chdir %s: %s", s.workdir.c_str(), strerror(errno));
  }

  // vfork-style: the program shares our memory until it execs, so no page
  // tables are copied (page faults are what a process start costs here).
  ProgramArgs args{&p, fd, in, out, err};
  pid_t child = clone(StartProgram, g_program_stack + sizeof g_program_stack,
                      CLONE_VM | CLONE_VFORK | SIGCHLD, &args);
  if (child < 0) FailSetup(fd, "start program: %s", strerror(errno));
  close(in);
  close(out);
  if (err != out) close(err);

  // Pid 1: reap everything until the program is gone; the kernel kills
  // whatever it left behind when we exit.
  for (;;) {
    int status = 0;
    pid_t pid = waitpid(-1, &status, 0);
    if (pid < 0) {
      if (errno == EINTR) continue;
      FailSetup(fd, "wait for program: %s", strerror(errno));
    }
    if (pid != child) continue;
    if (WIFEXITED(status)) {
      WriteStatus(fd, StatusRecord::kExited, WEXITSTATUS(status), "%s", "");
    } else {
      WriteStatus(fd, StatusRecord::kSignaled, WTERMSIG(status), "%s", "");
    }
    _exit(0);
  }
}

}  // namespace gg::sandbox
