// What the server hands to the process it forks for one run, and the two
// ways that process can build a run: hermetically (init.cc) or in the
// unsandboxed fallback (fallback.cc). Everything here is computed in the
// server before the fork, so the child allocates (almost) nothing.
#pragma once

#include <linux/filter.h>
#include <sys/resource.h>

#include <cstdint>
#include <string>
#include <vector>

#include "sandbox/sandbox.h"

namespace gg::sandbox {

/// One thing to mount, in the order it must be mounted.
struct MountStep {
  enum Kind : uint8_t { kWorkdir, kDir, kFile, kMkdir };
  const char* host;
  const char* sandbox;
  Kind kind;
};

/// A Spec made ready to be built in a freshly forked child.
struct Prepared {
  Spec spec;
  /// The mounts plus the work dir, sorted by sandbox path so that every
  /// mount comes after the mounts that hold its mount point.
  std::vector<MountStep> steps;
  std::vector<char*> argv;  ///< null-terminated
  std::vector<char*> envp;  ///< null-terminated
  rlimit nofile{};          ///< the limit the program gets back
  std::string fallback_why; ///< why namespaces are unavailable (fallback only)

  // Hermetic runs only.
  /// True when the server maps the sandbox's uid 1000 to a dedicated host
  /// uid (gg runs as root): the server then writes the run's uid/gid maps
  /// and says so on `map_ready_fd`, which the init reads before any step.
  bool server_maps = false;
  int map_ready_fd = -1;
  Limits limits;             ///< with defaults filled in
  std::string tmp_opts;      ///< tmpfs options of /tmp and /dev/shm (mode, size)
  /// The work dir's tmpfs (its size is the work-dir limit), mounted over
  /// work_host_dir inside the sandbox: `work_layer` is what the program
  /// writes (the work dir, or the overlay's upper layer), `work_ovl` the
  /// overlay's own directory. Outputs are copied out to the host dir.
  std::string workdir_opts, work_layer, work_ovl;
  std::vector<sock_filter> seccomp;  ///< the program's filter (seccomp.h)
  /// Landlock can scope abstract unix sockets (Linux 6.12): the program is
  /// put in a Landlock domain of its own instead of a network namespace.
  bool landlock_scope = false;
};

/// Fills steps, argv, envp, limits and the tmpfs options and paths from spec.
void Prepare(Prepared* p);

/// The record a run's child writes to its status pipe (O_CLOEXEC, so exec
/// closes it): the first record written decides how the run ended.
struct StatusRecord {
  enum Kind : int32_t { kSetupFailed = 1, kExited = 2, kSignaled = 3 };
  int32_t kind;
  int32_t value;
  int32_t length;  ///< bytes of message that follow
  int64_t peak_rss_kb = 0;  ///< kExited/kSignaled: the program's peak resident memory
  int32_t full = 0;         ///< kExited/kSignaled: kWorkdirFull | kTmpFull
};
constexpr int32_t kWorkdirFull = 1, kTmpFull = 2, kFilesFull = 4;  // kFilesFull: of inodes
constexpr size_t kMaxStatusMessage = 2048;

/// Writes a record with a printf-style message (no allocation).
void WriteStatus(int fd, StatusRecord::Kind kind, int value, int64_t peak_rss_kb, int32_t full, const char* fmt,
                 ...) __attribute__((format(printf, 6, 7)));
/// Reports a failed set-up step and exits the child.
[[noreturn]] void FailSetup(int fd, const char* fmt, ...) __attribute__((format(printf, 2, 3)));

/// Reports a set-up failure the spec itself causes (it would fail again
/// anywhere: not worth a retry) and exits the child.
[[noreturn]] void FailThunk(int fd, const char* fmt, ...) __attribute__((format(printf, 2, 3)));
constexpr int kPermanent = 1;  ///< StatusRecord value of such a failure

/// Closes every descriptor numbered `from` or more except `keep`.
void CloseAllExcept(int keep, int from = 0);
/// Creates `path` and its missing parents (mode 0755). Modifies path
/// temporarily; returns 0 or an errno.
int MakeDirs(char* path);
/// Resets the signal mask and dispositions and the fd limit before exec.
void ResetForExec(const Prepared& p);

/// The sandbox init: called in a child cloned with new user, mount, pid,
/// ipc and uts namespaces (it is pid 1). Builds the sandbox, runs the
/// program, reports to status_fd and exits.
[[noreturn]] void RunSandboxInit(const Prepared& p, int status_fd);
/// The fallback: runs the program directly in the work dir.
[[noreturn]] void RunFallback(const Prepared& p, int status_fd);

}  // namespace gg::sandbox
