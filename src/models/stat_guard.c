// gg build's LD_PRELOAD for the programs of the build (docs/models.md,
// "Programs that stat before they read"). The placeholder guard forces a
// placeholder when a program opens it, but du, stat, ls -l, tar, `test -s`
// or Python's os.path.getsize take a file's size from stat() without
// opening it, and would see the placeholder's. Placeholders carry the sticky
// bit (core/placeholder.h), which no real output of a build has: a stat that
// finds one opens the file, which makes the guard force it and write the
// real output into that inode, then stats again.
//
// In C, with libc only: it is loaded into every dynamically linked program
// the build runs, so it must not bring a C++ runtime along.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int active = 1;

// Build drivers only compare a placeholder's times, which are right; forcing
// on their stats would make make wait for every compile it has started.
// rm, mv, ln, touch and chmod stat for a file's type or times, never its
// size (`rm -f x.o` before a compile would otherwise wait for the old x.o).
// gg's own programs read placeholders as placeholders.
__attribute__((constructor)) static void Init(void) {
  static const char* const kExempt[] = {"make", "gmake", "ninja", "samu", "rm", "mv", "ln", "touch", "chmod",
                                        "gg", "gg-model-server"};
  for (size_t i = 0; i < sizeof kExempt / sizeof kExempt[0]; ++i) {
    if (strcmp(program_invocation_short_name, kExempt[i]) == 0) active = 0;
  }
}

static int IsPlaceholderMode(mode_t mode) { return active && S_ISREG(mode) && (mode & S_ISVTX); }

// Opening is what the guard waits on: it answers once the real bytes are in.
static void ForceByOpening(int dirfd, const char* path, int flags) {
  if (path == NULL || path[0] == '\0') return;  // AT_EMPTY_PATH: the fd is open, so already forced
  int saved = errno;
  int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY | ((flags & AT_SYMLINK_NOFOLLOW) ? O_NOFOLLOW : 0));
  if (fd >= 0) close(fd);
  errno = saved;
}

// dlsym's object pointer into a function pointer without -Wpedantic's cast warning.
#define REAL(fn, name)                                 \
  static __typeof__(fn)* real;                         \
  if (real == NULL) {                                  \
    void* sym = dlsym(RTLD_NEXT, name);                \
    memcpy(&real, &sym, sizeof real);                  \
    if (real == NULL) {                                \
      errno = ENOSYS;                                  \
      return -1;                                       \
    }                                                  \
  }

#define PATH_STAT(fn, name, statbuf, nofollow)                                         \
  int fn(const char* path, struct statbuf* st) {                                       \
    REAL(fn, name);                                                                    \
    int r = real(path, st);                                                            \
    if (r == 0 && IsPlaceholderMode(st->st_mode)) {                                    \
      ForceByOpening(AT_FDCWD, path, nofollow);                                        \
      r = real(path, st);                                                              \
    }                                                                                  \
    return r;                                                                          \
  }

#define AT_STAT(fn, name, statbuf)                                                     \
  int fn(int dirfd, const char* path, struct statbuf* st, int flags) {                 \
    REAL(fn, name);                                                                    \
    int r = real(dirfd, path, st, flags);                                              \
    if (r == 0 && IsPlaceholderMode(st->st_mode)) {                                    \
      ForceByOpening(dirfd, path, flags);                                              \
      r = real(dirfd, path, st, flags);                                                \
    }                                                                                  \
    return r;                                                                          \
  }

PATH_STAT(stat, "stat", stat, 0)
PATH_STAT(stat64, "stat64", stat64, 0)
PATH_STAT(lstat, "lstat", stat, AT_SYMLINK_NOFOLLOW)
PATH_STAT(lstat64, "lstat64", stat64, AT_SYMLINK_NOFOLLOW)
AT_STAT(fstatat, "fstatat", stat)
AT_STAT(fstatat64, "fstatat64", stat64)

int statx(int dirfd, const char* path, int flags, unsigned int mask, struct statx* stx) {
  REAL(statx, "statx");
  int r = real(dirfd, path, flags, mask, stx);
  if (r == 0 && IsPlaceholderMode(stx->stx_mode)) {
    ForceByOpening(dirfd, path, flags);
    r = real(dirfd, path, flags, mask, stx);
  }
  return r;
}
