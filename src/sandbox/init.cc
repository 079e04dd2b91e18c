// The sandbox init: builds the sandbox's file system in fresh namespaces,
// then runs the program as an unprivileged user without capabilities.
// Runs between fork and exec: system calls and stack buffers only.
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/keyctl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/fsuid.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/sendfile.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <climits>
#include <cstdio>
#include <cstring>

#include "sandbox/child.h"
#include "sandbox/seccomp.h"

namespace gg::sandbox {
namespace {

constexpr uid_t kSandboxId = 1000;  // uid and gid of the program inside
// From <linux/landlock.h> of Linux 6.12 (newer than this libc's headers).
constexpr uint64_t kLandlockScopeAbstractUnixSocket = 1, kLandlockScopeSignal = 2;

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

// openat2(2) and the new mount API, from <linux/openat2.h>/<linux/mount.h>.
struct OpenHow {
  uint64_t flags, mode, resolve;
};
constexpr uint64_t kResolveNoMagiclinks = 0x02, kResolveNoSymlinks = 0x04, kResolveBeneath = 0x08;
constexpr unsigned kOpenTreeClone = 1, kOpenTreeCloexec = O_CLOEXEC;
constexpr unsigned kMoveMountFEmptyPath = 0x04, kMoveMountTEmptyPath = 0x40;

/// Opens `rel` (relative, may be empty: the dir itself) below `dirfd`
/// without following any symlink, magic link or "..": a path inside the
/// sandbox being built can never lead out of it onto the host.
int OpenBeneath(int dirfd, const char* rel, int flags, mode_t mode = 0) {
  OpenHow how{static_cast<uint64_t>(flags | O_CLOEXEC | O_NOFOLLOW), mode,
              kResolveBeneath | kResolveNoSymlinks | kResolveNoMagiclinks};
  return static_cast<int>(syscall(SYS_openat2, dirfd, *rel == '\0' ? "." : rel, &how, sizeof how));
}

/// Opens directory `rel` below `rootfd`, creating it and its missing
/// parents (mode 0755) when `create`. Returns an O_PATH fd or -errno.
int OpenDirBeneath(int rootfd, char* rel, bool create) {
  int fd = OpenBeneath(rootfd, rel, O_PATH | O_DIRECTORY);
  if (fd >= 0 || errno != ENOENT || !create) return fd >= 0 ? fd : -errno;
  int cur = OpenBeneath(rootfd, "", O_PATH | O_DIRECTORY);
  if (cur < 0) return -errno;
  char* comp = rel;
  while (*comp != '\0') {
    char* slash = std::strchr(comp, '/');
    if (slash != nullptr) *slash = '\0';
    if (mkdirat(cur, comp, 0755) != 0 && errno != EEXIST) {
      int err = errno;
      if (slash != nullptr) *slash = '/';
      close(cur);
      return -err;
    }
    int next = OpenBeneath(cur, comp, O_PATH | O_DIRECTORY);
    int err = errno;
    if (slash != nullptr) *slash = '/';
    close(cur);
    if (next < 0) return -err;
    cur = next;
    if (slash == nullptr) break;
    comp = slash + 1;
  }
  return cur;
}

/// Binds host `source` onto the mount point `target_fd` (recursively for
/// directories), read-only unless `writable`. The new mount API works on
/// the fd itself, so nothing is looked up by path again.
int BindOnto(const char* source, int target_fd, bool recursive, bool writable) {
  int tree = static_cast<int>(syscall(SYS_open_tree, AT_FDCWD, source,
                                      kOpenTreeClone | kOpenTreeCloexec | (recursive ? kAtRecursive : 0u)));
  if (tree < 0) return errno;
  int err = 0;
  if (!writable) {
    // Only RDONLY is set: the nosuid/nodev/noexec/atime flags the kernel
    // locks in a user namespace stay as they are.
    MountAttr attr{kMountAttrRdonly, 0, 0, 0};
    if (syscall(SYS_mount_setattr, tree, "", AT_EMPTY_PATH | (recursive ? kAtRecursive : 0u), &attr,
                sizeof attr) != 0) {
      err = errno;
    }
  }
  if (err == 0 && syscall(SYS_move_mount, tree, "", target_fd, "",
                          kMoveMountFEmptyPath | kMoveMountTEmptyPath) != 0) {
    err = errno;
  }
  close(tree);
  return err;
}

/// Fails the run over a mount point that cannot be made; a path through a
/// symlink, out of the sandbox or into /proc is the thunk's own fault.
[[noreturn]] void FailMountPoint(int fd, const char* path, int err) {
  if (err == ELOOP || err == EXDEV || err == ENOTDIR) {
    FailThunk(fd, "input path %s goes through a symlink, a file or out of the sandbox; inputs must "
              "lie at plain paths (is a directory above it a symlink or a file, e.g. inside a tree "
              "input?)", path);
  }
  if (std::strncmp(path, "/proc/", 6) == 0 || std::strcmp(path, "/proc") == 0) {
    FailThunk(fd, "input path %s lies in the sandbox's /proc, which gg builds itself", path);
  }
  FailSetup(fd, "create mount point %s: %s", path, strerror(err));
}

/// The directory of the last file mount point, kept open: inputs come
/// sorted, so most share their directory with the one before, and walking
/// to it again from the root (through the overlay, a lookup per component)
/// was most of the cost of an input. A mount is never made at a directory
/// after one below it, so the directory an fd was opened on stays the one
/// at its path.
struct ParentCache {
  int root = -1;     ///< the fd `dir` was opened below
  int fd = -1;
  char dir[PATH_MAX];
};
ParentCache g_parent;

void ForgetParent() {
  if (g_parent.fd >= 0) close(g_parent.fd);
  g_parent.fd = -1;
  g_parent.root = -1;
}

/// Creates (when `create`) and opens the mount point of `m`: a file or a
/// directory, below rootfd. Returns an fd (O_PATH for directories) or exits.
int MountPoint(int fd, int rootfd, const MountStep& m, bool create) {
  char rel[PATH_MAX];
  size_t n = std::strlen(m.sandbox);
  if (n >= sizeof rel) FailSetup(fd, "mount %s at %s: path too long", m.host, m.sandbox);
  std::memcpy(rel, m.sandbox + 1, n);  // without the leading '/'
  if (m.kind != MountStep::kFile) {
    int dir = OpenDirBeneath(rootfd, rel, create);
    if (dir < 0) FailMountPoint(fd, m.sandbox, -dir);
    return dir;
  }
  char* slash = std::strrchr(rel, '/');
  const char* base = rel;
  if (slash != nullptr) {
    *slash = '\0';
    base = slash + 1;
  } else {
    rel[0] = '\0';
    base = m.sandbox + 1;
  }
  if (g_parent.fd < 0 || g_parent.root != rootfd || std::strcmp(g_parent.dir, rel) != 0) {
    ForgetParent();
    int dir = *rel == '\0' ? OpenBeneath(rootfd, "", O_PATH | O_DIRECTORY) : OpenDirBeneath(rootfd, rel, create);
    if (*rel == '\0' && dir < 0) dir = -errno;
    if (dir < 0) FailMountPoint(fd, m.sandbox, -dir);
    g_parent = {rootfd, dir, {}};
    std::memcpy(g_parent.dir, rel, std::strlen(rel) + 1);
  }
  int f = create ? openat(g_parent.fd, base, O_CREAT | O_RDONLY | O_CLOEXEC | O_NOFOLLOW, 0444)
                 : OpenBeneath(g_parent.fd, base, O_PATH);
  if (f < 0) FailMountPoint(fd, m.sandbox, errno);
  return f;
}

bool UnderWorkdir(const char* path, const char* workdir, size_t wlen) {
  if (wlen == 1) return path[1] != '\0';  // workdir "/"
  return std::strncmp(path, workdir, wlen) == 0 && path[wlen] == '/';
}

/// Mounts one input (or makes one empty directory).
void MountOne(int fd, int rootfd, const MountStep& m, bool create) {
  int target = MountPoint(fd, rootfd, m, create);
  if (m.kind == MountStep::kMkdir) {
    close(target);
    return;
  }
  int err = BindOnto(m.host, target, m.kind == MountStep::kDir, false);
  close(target);
  if (err != 0) FailSetup(fd, "mount %s at %s: %s", m.host, m.sandbox, strerror(err));
}

/// The work dir. With inputs below it, they would need mount points
/// created in the host work dir (an inode on the host file system per
/// input per run: once half of a build's CPU). Instead their mount points
/// go on a tmpfs, and an overlay puts the host work dir on top of it as the
/// writable layer: the host sees only what the program writes. An input
/// view is a second lower layer below that tmpfs: its files need no mount
/// each, and its directories (made on the tmpfs too, owned by the program)
/// stay writable. Returns false if it had to bind the host work dir
/// directly (no overlayfs), so the mount points must then be created there.
bool MountWorkdir(int fd, int rootfd, RootPath& rp, const Prepared& p, size_t first) {
  const Spec& s = p.spec;
  const MountStep& w = p.steps[first];
  size_t wlen = std::strlen(w.sandbox);
  bool view = !s.workdir_view.empty();
  bool inputs_below = view;
  for (size_t i = first + 1; i < p.steps.size() && !inputs_below; ++i) {
    inputs_below = UnderWorkdir(p.steps[i].sandbox, w.sandbox, wlen);
  }
  int target = MountPoint(fd, rootfd, w, true);
  bool overlaid = false;
  char opts[4 * PATH_MAX + 64];
  rp.Set(w.sandbox);
  int n = std::snprintf(opts, sizeof opts, "lowerdir=%s%s%s,upperdir=%s,workdir=%s,userxattr", rp.get(),
                        view ? ":" : "", s.workdir_view.c_str(), p.work_layer.c_str(), p.work_ovl.c_str());
  bool plain = std::strpbrk(rp.get(), ",:\\") == nullptr &&
               std::strpbrk(s.work_host_dir.c_str(), ",:\\") == nullptr &&
               std::strpbrk(s.workdir_view.c_str(), ",:\\") == nullptr;
  if (view && (!plain || n < 0 || static_cast<size_t>(n) >= sizeof opts)) {
    FailSetup(fd, "the input view %s cannot be an overlay layer at %s (a path holds ',', ':' or '\\', or is "
              "too long)", s.workdir_view.c_str(), w.sandbox);
  }
  if (inputs_below && plain && n > 0 && static_cast<size_t>(n) < sizeof opts) {
    // The skeleton: owned by the program's uid, which may then create files
    // beside its inputs (the overlay copies such directories up).
    if (mount("tmpfs", rp.get(), "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,uid=1000,gid=1000") != 0) {
      FailSetup(fd, "mount tmpfs at %s: %s", w.sandbox, strerror(errno));
    }
    int skel_root = OpenBeneath(rootfd, w.sandbox + 1, O_PATH | O_DIRECTORY);
    if (skel_root < 0) FailSetup(fd, "open %s: %s", w.sandbox, strerror(errno));
    setfsuid(kSandboxId);
    setfsgid(kSandboxId);
    for (size_t i = first + 1; i < p.steps.size(); ++i) {
      const MountStep& m = p.steps[i];
      if (!UnderWorkdir(m.sandbox, w.sandbox, wlen)) continue;
      MountStep rel = m;
      rel.sandbox = m.sandbox + wlen - (wlen == 1 ? 1 : 0);  // "/x" below the work dir
      // An input view's directories (each after its parent) in one call
      // each, not a walk: this fresh tmpfs holds only what this loop made,
      // directories and empty files, so no path on it can lead elsewhere.
      // Anything unusual (a missing parent, a file in the way) takes the
      // checked walk below, which also names the failure.
      if (m.kind == MountStep::kMkdir && mkdirat(skel_root, rel.sandbox + 1, 0755) == 0) continue;
      close(MountPoint(fd, skel_root, rel, true));
    }
    setfsuid(0);
    setfsgid(0);
    ForgetParent();
    close(skel_root);
    if (mkdir(p.work_ovl.c_str(), 0700) != 0 && errno != EEXIST) {
      FailSetup(fd, "mkdir %s: %s", p.work_ovl.c_str(), strerror(errno));
    }
    overlaid = mount("overlay", rp.get(), "overlay", MS_NOSUID | MS_NODEV, opts) == 0;
    if (!overlaid && view) FailSetup(fd, "mount the overlay of the input view at %s: %s", w.sandbox, strerror(errno));
    if (!overlaid && umount2(rp.get(), MNT_DETACH) != 0) {
      FailSetup(fd, "unmount the mount-point tmpfs at %s: %s", w.sandbox, strerror(errno));
    }
  }
  if (!overlaid) {
    int err = BindOnto(p.work_layer.c_str(), target, false, true);
    if (err != 0) FailSetup(fd, "mount work dir %s at %s: %s", p.work_layer.c_str(), w.sandbox, strerror(err));
  }
  close(target);
  return overlaid;
}

/// Opens directory `rel` below `dirfd`, creating what is missing.
int OpenDirOrFail(int fd, int dirfd, char* rel) {
  int dir = OpenDirBeneath(dirfd, rel, true);
  if (dir < 0) FailSetup(fd, "mkdir %s in the work dir's tmpfs: %s", rel, strerror(-dir));
  return dir;
}

/// Puts a tmpfs of the work-dir limit's size over the host work dir (in
/// this mount namespace only): the program's work dir lives on it, so what
/// it writes there is bounded in total, not only file by file. Returns an
/// fd of the host work dir below it (the outputs are copied there) and sets
/// *layer to an fd of `work_layer`.
int MountCappedWorkdir(int fd, const Prepared& p, int* layer) {
  const Spec& s = p.spec;
  int host = open(s.work_host_dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (host < 0) FailSetup(fd, "open work dir %s: %s", s.work_host_dir.c_str(), strerror(errno));
  if (mount("tmpfs", s.work_host_dir.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, p.workdir_opts.c_str()) != 0) {
    FailSetup(fd, "mount the work dir's tmpfs at %s: %s", s.work_host_dir.c_str(), strerror(errno));
  }
  // Through descriptors: the program's uid may not search the host path.
  int fs = open(s.work_host_dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fs < 0) FailSetup(fd, "open %s: %s", s.work_host_dir.c_str(), strerror(errno));
  setfsuid(kSandboxId);
  setfsgid(kSandboxId);
  // Output directories exist before the program starts, like make's would.
  char rel[PATH_MAX] = "w";
  close(OpenDirOrFail(fd, fs, rel));
  for (const std::string& tag : s.outputs) {
    if (tag.find('/') == std::string::npos) continue;
    int n = std::snprintf(rel, sizeof rel, "w/%s", tag.c_str());
    if (n < 0 || static_cast<size_t>(n) >= sizeof rel) FailSetup(fd, "output %s: path too long", tag.c_str());
    *std::strrchr(rel, '/') = '\0';
    close(OpenDirOrFail(fd, fs, rel));
  }
  setfsuid(0);
  setfsgid(0);
  close(fs);
  *layer = open(p.work_layer.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (*layer < 0) FailSetup(fd, "open %s: %s", p.work_layer.c_str(), strerror(errno));
  return host;
}

/// kWorkdirFull-style `bit` if the file system has no free block or no
/// free inode left (| kFilesFull for the latter), else 0.
int32_t Full(const struct statfs& st, int32_t bit) {
  if (st.f_files > 0 && st.f_ffree == 0) return bit | kFilesFull;
  return st.f_blocks > 0 && st.f_bavail == 0 ? bit : 0;
}

int32_t Full(int fd, int32_t bit) {
  struct statfs st;
  return fstatfs(fd, &st) == 0 ? Full(st, bit) : 0;
}

int32_t Full(const char* path, int32_t bit) {
  struct statfs st;
  return statfs(path, &st) == 0 ? Full(st, bit) : 0;
}

/// Copies one output from the work dir's tmpfs (`layer`) to the host work
/// dir. The program shaped the layer, so nothing in it is followed; the
/// host dir is gg's own. Returns 0, or writes why into `why` (the program's
/// fault: not a regular file) and returns -1, or reports a host failure.
int CopyOutput(int fd, int layer, int host, const std::string& tag, char* why, size_t why_size) {
  const char* t = tag.c_str();
  int src = OpenBeneath(layer, t, O_RDONLY | O_NONBLOCK);
  // "TAG\0why": the executor names the output itself.
  if (src < 0) {
    int err = errno;
    if (err == ELOOP || err == EXDEV) {
      std::snprintf(why, why_size, "%s%cit is a symbolic link or leads through one; gg follows no link it did "
                    "not create there", t, 0);
    } else if (err == ENOTDIR) {
      std::snprintf(why, why_size, "%s%ca component of its path is not a directory", t, 0);
    } else if (err == ENOENT) {
      std::snprintf(why, why_size, "%s%cit does not exist", t, 0);
    } else {
      std::snprintf(why, why_size, "%s%cit cannot be opened: %s", t, 0, strerror(err));
    }
    return -1;
  }
  struct stat st;
  if (fstat(src, &st) != 0 || !S_ISREG(st.st_mode)) {
    close(src);
    std::snprintf(why, why_size, "%s%cit is not a regular file", t, 0);
    return -1;
  }
  // Owned by the program's uid, as if it had written the file there; the
  // directories on the way are made if the caller did not make them.
  setfsuid(kSandboxId);
  setfsgid(kSandboxId);
  char rel[PATH_MAX];
  std::snprintf(rel, sizeof rel, "%s", t);
  char* slash = std::strrchr(rel, '/');
  int dir = host;
  if (slash != nullptr) {
    *slash = '\0';
    dir = OpenDirBeneath(host, rel, true);
  }
  int dst = dir < 0 ? dir : OpenBeneath(dir, slash != nullptr ? slash + 1 : rel, O_WRONLY | O_CREAT | O_EXCL,
                                         st.st_mode & 0777);
  int err = dir < 0 ? -dir : errno;
  if (dir >= 0 && dir != host) close(dir);
  setfsuid(0);
  setfsgid(0);
  if (dst < 0) FailSetup(fd, "copy output '%s' out of the work dir: create it: %s", t, strerror(err));
  off_t left = st.st_size;
  while (left > 0) {
    ssize_t n = sendfile(dst, src, nullptr, left < (1 << 30) ? static_cast<size_t>(left) : (1u << 30));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) FailSetup(fd, "copy output '%s' out of the work dir: %s", t, strerror(errno));
    if (n == 0) break;
    left -= n;
  }
  if (fchmod(dst, st.st_mode & 0777) != 0) FailSetup(fd, "chmod output '%s': %s", t, strerror(errno));
  close(dst);
  close(src);
  return 0;
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

void BuildDev(int fd, RootPath& rp, const char* shm_opts) {
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
  MountTmpfs(fd, rp, "/dev/shm", shm_opts);
}

/// A fresh /proc, with the parts that reach the host's kernel settings made
/// read-only and those that show its memory or keys hidden, as runc does.
void BuildProc(int fd, RootPath& rp) {
  rp.Set("/proc");
  if (mkdir(rp.get(), 0555) != 0 || mount("proc", rp.get(), "proc",
                                          MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) != 0) {
    FailSetup(fd, "mount /proc: %s", strerror(errno));
  }
  static const char* const kReadOnly[] = {"/proc/sys", "/proc/sysrq-trigger", "/proc/irq",
                                          "/proc/bus"};
  for (const char* path : kReadOnly) {
    rp.Set(path);
    if (mount(rp.get(), rp.get(), nullptr, MS_BIND | MS_REC, nullptr) != 0) {
      if (errno == ENOENT) continue;
      FailSetup(fd, "bind %s: %s", path, strerror(errno));
    }
    if (int err = MakeReadOnly(rp.get(), true)) FailSetup(fd, "make %s read-only: %s", path, strerror(err));
  }
  static const char* const kHidden[] = {"/proc/kcore", "/proc/keys", "/proc/timer_list",
                                        "/proc/kallsyms", "/proc/kmsg"};
  for (const char* path : kHidden) {
    rp.Set(path);
    if (mount("/dev/null", rp.get(), nullptr, MS_BIND, nullptr) != 0 && errno != ENOENT) {
      FailSetup(fd, "hide %s: %s", path, strerror(errno));
    }
  }
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
  // The bounding set first: dropping it needs CAP_SETPCAP, which a change
  // from uid 0 (the init as root) to 1000 takes away.
  for (int cap = 0; cap < 64; ++cap) {
    if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 && errno != EINVAL) {
      FailSetup(fd, "drop capability %d from the bounding set: %s", cap, strerror(errno));
    }
  }
  prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
  if (setresgid(kSandboxId, kSandboxId, kSandboxId) != 0 ||
      setresuid(kSandboxId, kSandboxId, kSandboxId) != 0) {
    FailSetup(fd, "setresuid %u: %s", kSandboxId, strerror(errno));
  }
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

void SetLimit(int fd, int resource, const char* what, uint64_t value) {
  rlimit l{};
  getrlimit(resource, &l);
  // Never above the hard limit gg itself runs under (raising it would fail).
  if (l.rlim_max != RLIM_INFINITY && l.rlim_max < value) value = l.rlim_max;
  l = {static_cast<rlim_t>(value), static_cast<rlim_t>(value)};
  if (setrlimit(resource, &l) != 0) FailSetup(fd, "set the %s limit: %s", what, strerror(errno));
}

/// The program's process, from clone until exec: shares the init's memory,
/// so it touches nothing but its own stack.
int StartProgram(void* arg) {
  const ProgramArgs& a = *static_cast<const ProgramArgs*>(arg);
  const Prepared& p = *a.p;
  const Spec& s = p.spec;
  if (Redirect(a.in, 0) != 0 || Redirect(a.out, 1) != 0 || Redirect(a.err, 2) != 0) {
    FailSetup(a.status_fd, "redirect stdio: %s", strerror(errno));
  }
  setsid();
  DropPrivileges(a.status_fd);
  // A fresh session keyring, so the caller's keys are not even named; the
  // filter below refuses the key calls anyway, so a failure here (the key
  // quota of a busy uid) is not fatal.
  syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, nullptr);
  if (p.landlock_scope) {
    // Its own domain: it cannot connect to an abstract unix socket (or
    // signal a process) of any other sandbox sharing the network namespace.
    struct {
      uint64_t handled_access_fs, handled_access_net, scoped;
    } attr{0, 0, kLandlockScopeAbstractUnixSocket | kLandlockScopeSignal};
    int ruleset = static_cast<int>(syscall(SYS_landlock_create_ruleset, &attr, sizeof attr, 0u));
    if (ruleset < 0 || syscall(SYS_landlock_restrict_self, ruleset, 0u) != 0) {
      FailSetup(a.status_fd, "enter a Landlock domain: %s", strerror(errno));
    }
    close(ruleset);
  }
  SetLimit(a.status_fd, RLIMIT_NPROC, "process", p.limits.processes);
  SetLimit(a.status_fd, RLIMIT_AS, "memory", p.limits.memory_bytes);
  SetLimit(a.status_fd, RLIMIT_FSIZE, "file size", p.limits.file_bytes);
  ResetForExec(p);
  if (int err = LoadSeccomp(p.seccomp)) FailSetup(a.status_fd, "load the seccomp filter: %s", strerror(err));
  execve(s.exe.c_str(), p.argv.data(), p.envp.data());
  FailSetup(a.status_fd, "exec %s: %s", s.exe.c_str(), strerror(errno));
}

}  // namespace

void RunSandboxInit(const Prepared& p, int fd) {
  const Spec& s = p.spec;
  // Die with the server: killing it kills every sandbox.
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  prctl(PR_SET_NAME, "gg-sandbox");
  if (p.server_maps) {
    // The server writes our uid/gid maps (we cannot map a uid that is not
    // ours) and then closes its end; nothing may create a file before that.
    char c;
    while (read(p.map_ready_fd, &c, 1) < 0 && errno == EINTR) {
    }
  }
  CloseAllExcept(fd);

  if (!p.server_maps) {
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
  } else if (getuid() != 0) {
    FailSetup(fd, "the sandbox's uid map was not written");
  }
  sethostname("gg", 2);
  // The kernel's OOM killer takes a sandbox before anything else (gg).
  WriteFile("/proc/self/oom_score_adj", "1000");

  // Host paths, opened first: a directory the executor reuses still holds
  // the last run's stdout and stderr until they are truncated here.
  int in = open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (in < 0) FailSetup(fd, "open /dev/null: %s", strerror(errno));
  int out = OpenOutput(fd, s.stdout_path, "stdout");
  int err = s.stderr_path == s.stdout_path && !s.stdout_path.empty()
                ? out
                : OpenOutput(fd, s.stderr_path, "stderr");

  if (mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
    FailSetup(fd, "make / private: %s", strerror(errno));
  }
  int layer = -1;
  int host_work = MountCappedWorkdir(fd, p, &layer);
  if (mount("tmpfs", s.root_dir.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755") != 0) {
    FailSetup(fd, "mount tmpfs at root dir %s: %s", s.root_dir.c_str(), strerror(errno));
  }
  RootPath rp(s.root_dir);
  BuildDev(fd, rp, p.tmp_opts.c_str());
  MountTmpfs(fd, rp, "/tmp", p.tmp_opts.c_str());
  BuildProc(fd, rp);
  int rootfd = open(s.root_dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (rootfd < 0) FailSetup(fd, "open root dir %s: %s", s.root_dir.c_str(), strerror(errno));
  // Every mount point is found below rootfd without following symlinks.
  const char* workdir = s.workdir.c_str();
  size_t wlen = s.workdir.size();
  bool overlaid = false;
  for (size_t i = 0; i < p.steps.size(); ++i) {
    const MountStep& m = p.steps[i];
    if (m.kind == MountStep::kWorkdir) {
      overlaid = MountWorkdir(fd, rootfd, rp, p, i);
    } else if (m.kind == MountStep::kMkdir && overlaid && UnderWorkdir(m.sandbox, workdir, wlen)) {
      // Made on the skeleton below the overlay already: opening it again
      // walked the overlay for nothing (an input view's directories, a
      // third of a 10,000-input sandbox's set-up).
      continue;
    } else {
      // Below an overlaid work dir the mount points exist already.
      MountOne(fd, rootfd, m, !(overlaid && UnderWorkdir(m.sandbox, workdir, wlen)));
    }
  }
  ForgetParent();
  close(rootfd);

  if (chdir(s.root_dir.c_str()) != 0 || syscall(SYS_pivot_root, ".", ".") != 0) {
    FailSetup(fd, "pivot_root to %s: %s", s.root_dir.c_str(), strerror(errno));
  }
  if (umount2(".", MNT_DETACH) != 0) FailSetup(fd, "detach old root: %s", strerror(errno));
  if (chdir("/") != 0) FailSetup(fd, "chdir /: %s", strerror(errno));
  if (int e = MakeReadOnly("/", false)) FailSetup(fd, "make / read-only: %s", strerror(e));
  if (chdir(s.workdir.c_str()) != 0) {
    FailSetup(fd, "chdir %s: %s", s.workdir.c_str(), strerror(errno));
  }

  // setfsuid() during set-up cleared the parent-death signal (prctl(2)):
  // set it again, then make sure the server did not die meanwhile (its end
  // of the status pipe is then closed).
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  pollfd server_alive{fd, 0, 0};
  if (poll(&server_alive, 1, 0) == 1 && (server_alive.revents & (POLLERR | POLLHUP))) _exit(1);

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
    rusage ru{};
    pid_t pid = wait4(-1, &status, 0, &ru);
    if (pid < 0) {
      if (errno == EINTR) continue;
      FailSetup(fd, "wait for program: %s", strerror(errno));
    }
    if (pid != child) continue;
    // A full file system says which limit a failure most likely met.
    int32_t full = Full(layer, kWorkdirFull);
    if (full == 0) full = Full("/tmp", kTmpFull) | Full("/dev/shm", kTmpFull);
    if (!WIFEXITED(status)) {
      WriteStatus(fd, StatusRecord::kSignaled, WTERMSIG(status), ru.ru_maxrss, full, "%s", "");
      _exit(0);
    }
    char why[kMaxStatusMessage / 2] = "";
    if (WEXITSTATUS(status) == 0 && !s.outputs.empty()) {
      // Nothing may write while the outputs are copied: end what it left.
      kill(-1, SIGKILL);
      while (wait4(-1, nullptr, 0, nullptr) > 0 || errno == EINTR) {
      }
      for (const std::string& tag : s.outputs) {
        if (CopyOutput(fd, layer, host_work, tag, why, sizeof why) != 0) break;
      }
    }
    if (why[0] == '\0') {
      WriteStatus(fd, StatusRecord::kExited, WEXITSTATUS(status), ru.ru_maxrss, full, "%s", "");
    } else {
      WriteStatus(fd, StatusRecord::kExited, WEXITSTATUS(status), ru.ru_maxrss, full, "%s%c%s", why, 0,
                  why + std::strlen(why) + 1);
    }
    _exit(0);
  }
}

}  // namespace gg::sandbox
