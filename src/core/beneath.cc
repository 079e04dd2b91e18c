#include "core/beneath.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>

#include "core/path_util.h"

namespace gg {
namespace {

Status RefusedError(const std::string& what, const std::string& rel, int err) {
  if (err == ENOTDIR) return Status::Invalid(what + ": a component of '" + rel + "' is not a directory");
  if (err == ELOOP || err == EXDEV) {
    return Status::Invalid(what + ": '" + rel +
                           "' leads through a symbolic link or out of its directory; gg follows no "
                           "link it did not create there");
  }
  if (err == ENOENT) return Status::NotFound(what + ": '" + rel + "' does not exist");
  return Status::FromErrno(what + ": cannot open '" + rel + "'", err);
}

}  // namespace

// One component at a time, each opened with O_NOFOLLOW from the directory
// before it.
Result<UniqueFd> OpenBeneathByWalk(int dirfd, const std::string& rel, int flags, const std::string& what, mode_t mode) {
  if (rel.empty()) {
    UniqueFd fd(openat(dirfd, ".", flags | O_CLOEXEC));
    if (!fd.valid()) return Status::FromErrno(what + ": cannot open the directory", errno);
    return fd;
  }
  if (!IsCleanRelativePath(rel)) return Status::Invalid(what + ": '" + rel + "' is not a clean relative path");
  UniqueFd cur(fcntl(dirfd, F_DUPFD_CLOEXEC, 0));
  if (!cur.valid()) return Status::FromErrno(what + ": dup", errno);
  size_t start = 0;
  for (;;) {
    size_t slash = rel.find('/', start);
    std::string comp = rel.substr(start, slash == std::string::npos ? std::string::npos : slash - start);
    bool last = slash == std::string::npos;
    int f = last ? (flags | O_NOFOLLOW | O_CLOEXEC) : (O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    UniqueFd next(openat(cur.get(), comp.c_str(), f, mode));
    if (!next.valid()) return RefusedError(what, rel, errno);
    cur = std::move(next);
    if (last) return cur;
    start = slash + 1;
  }
}

UniqueFd& UniqueFd::operator=(UniqueFd&& o) noexcept {
  if (this != &o) {
    if (fd_ >= 0) close(fd_);
    fd_ = std::exchange(o.fd_, -1);
  }
  return *this;
}

UniqueFd::~UniqueFd() {
  if (fd_ >= 0) close(fd_);
}

Result<UniqueFd> OpenBeneath(int dirfd, const std::string& rel, int flags, const std::string& what, mode_t mode) {
  if (!rel.empty() && !IsCleanRelativePath(rel)) {
    return Status::Invalid(what + ": '" + rel + "' is not a clean relative path");
  }
  const char* path = rel.empty() ? "." : rel.c_str();
  open_how how{};
  how.flags = static_cast<uint64_t>(flags | O_CLOEXEC);
  how.mode = (flags & (O_CREAT | O_TMPFILE)) ? mode : 0;
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
  static std::atomic<bool> have_openat2{true};
  if (have_openat2.load(std::memory_order_relaxed)) {
    long fd = syscall(SYS_openat2, dirfd, path, &how, sizeof how);
    if (fd >= 0) return UniqueFd(static_cast<int>(fd));
    // EAGAIN: a concurrent rename somewhere; the walk below is as safe.
    if (errno != ENOSYS && errno != EPERM && errno != EAGAIN) return RefusedError(what, rel, errno);
    if (errno != EAGAIN) have_openat2.store(false, std::memory_order_relaxed);
  }
  return OpenBeneathByWalk(dirfd, rel, flags, what, mode);
}

}  // namespace gg
