// Opening paths below a directory without following symbolic links. Used
// for every place whose shape someone else decided: a work directory a
// sandboxed program left behind, a tree object from a shared store or from
// another thunk. See docs/security.md.
#pragma once

#include <sys/types.h>

#include <string>
#include <utility>

#include "gg/status.h"

namespace gg {

/// Owns a file descriptor; closes it when it goes out of scope.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  UniqueFd& operator=(UniqueFd&& o) noexcept;
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd();
  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }

 private:
  int fd_ = -1;
};

/// Opens `rel` ("" for the directory itself, else a clean relative path)
/// below the directory `dirfd` with open(2) `flags`, refusing to follow any
/// symbolic link, `..` or magic link on the way or at the end: openat2 with
/// RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS, or, on a
/// kernel without it, an O_NOFOLLOW walk one component at a time. `what`
/// names the place in error messages.
Result<UniqueFd> OpenBeneath(int dirfd, const std::string& rel, int flags, const std::string& what,
                             mode_t mode = 0);
/// The O_NOFOLLOW walk alone (what OpenBeneath falls back to; tested on its own).
Result<UniqueFd> OpenBeneathByWalk(int dirfd, const std::string& rel, int flags, const std::string& what,
                                   mode_t mode = 0);

}  // namespace gg
