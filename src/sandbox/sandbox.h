// The hermetic sandbox: runs one program in private user, mount, pid, ipc and
// uts namespaces (plus one empty network namespace shared by all sandboxes of
// a server), whose filesystem holds exactly the read-only mounts it is given,
// a writable working directory and a private /tmp.
//
// Sandboxes are forked by a small single-threaded server process (a
// "zygote") that gg starts once, so that a sandbox costs a fork and a few
// mount calls rather than an exec of a helper per thunk.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "gg/status.h"

namespace gg::sandbox {

/// A host file or directory made visible, read-only, inside the sandbox.
struct Mount {
  std::string host_path;     ///< absolute path on the host
  std::string sandbox_path;  ///< absolute path inside the sandbox
  bool is_dir = false;       ///< directories are bind-mounted recursively
  /// An empty directory: created in place (not mounted), so other inputs
  /// can still be mounted inside it. host_path is unused.
  bool mkdir_only = false;
};

/// What one run may use (docs/sandbox.md, "Limits"). 0 means the default.
struct Limits {
  uint64_t memory_bytes = 0;  ///< address space (RLIMIT_AS); default kDefaultMemory
  uint64_t processes = 0;     ///< processes of the sandbox (RLIMIT_NPROC); default 1024
  uint64_t tmp_bytes = 0;     ///< size of the tmpfs /tmp and of /dev/shm; default 1 GiB
  uint64_t file_bytes = 0;    ///< largest file it may write (RLIMIT_FSIZE); default 16 GiB
  /// Total size of what it writes in its work dir (a tmpfs of this size,
  /// copied out after the run); default 16 GiB.
  uint64_t workdir_bytes = 0;
};
constexpr uint64_t kDefaultMemory = 8ull << 30;
constexpr uint64_t kDefaultProcesses = 1024;
constexpr uint64_t kDefaultTmp = 1ull << 30;
constexpr uint64_t kDefaultFile = 16ull << 30;
constexpr uint64_t kDefaultWorkdirBytes = 16ull << 30;
/// The tmpfs of the work dir, /tmp and /dev/shm holds at most one file or
/// directory per this many bytes of its size (at least kMinFiles): an inode
/// costs ~1 KiB of kernel memory that `size=` does not count.
constexpr uint64_t kBytesPerFile = 16 << 10;
constexpr uint64_t kMinFiles = 4096;
/// How many files (and directories) a tmpfs of `bytes` may hold.
uint64_t FileCap(uint64_t bytes);

/// Limits with defaults filled in; GG_LIMIT_MEMORY, GG_LIMIT_PROCS,
/// GG_LIMIT_TMP, GG_LIMIT_FILE and GG_LIMIT_WORKDIR (sizes like 512M, 4G)
/// override the defaults.
Limits EffectiveLimits(const Limits& asked);
/// Each field of `preferred`, or of `fallback` where `preferred`'s is 0.
Limits Prefer(const Limits& preferred, const Limits& fallback);

/// Everything one sandboxed run needs. All host paths are absolute.
struct Spec {
  std::string root_dir;       ///< empty host directory used as the mount point of the new root (runs may share one)
  std::string work_host_dir;  ///< host directory mounted read-write at `workdir`
  std::string workdir;        ///< absolute path of the working directory inside
  std::vector<Mount> mounts;  ///< read-only inputs; may lie under `workdir`
  /// Optional host directory whose files appear below `workdir`, read-only
  /// and copied up if changed (an input view: input_view.h): the lower layer
  /// of the work dir's overlay, one mount for any number of files. Each of
  /// its directories must also be a `mkdir_only` mount, so the program may
  /// write beside the files as it may beside mounted inputs.
  std::string workdir_view;
  std::string exe;            ///< sandbox path of the program to execute
  std::vector<std::string> argv;
  std::vector<std::string> env;  ///< "NAME=VALUE"; nothing else is inherited
  std::string stdout_path;    ///< host file that receives the program's stdout
  std::string stderr_path;    ///< host file that receives the program's stderr
  double timeout_seconds = 0;  ///< 0: no limit
  Limits limits;
  /// The files (relative to workdir) copied out of the capped work dir to
  /// work_host_dir after the program exits 0 (hermetic runs).
  std::vector<std::string> outputs;
};

/// How a run ended.
struct Outcome {
  enum class Kind {
    kExited,       ///< the program exited; see exit_code
    kSignaled,     ///< the program was killed by `signal` (not by us)
    kTimedOut,     ///< ran past timeout_seconds; the whole tree was killed
    kSetupFailed,  ///< the sandbox could not be built; see error
    kCrashed,      ///< the sandbox's init or the server died unexpectedly
    kCancelled,    ///< killed because Kill() asked for it
  };
  Kind kind = Kind::kCrashed;
  int exit_code = -1;
  int signal = 0;
  /// What went wrong, for kSetupFailed and kCrashed; for kExited with
  /// status 0, "TAG\0why" of an output that could not be copied out (it is
  /// then absent); empty when all were.
  std::string error;
  /// kSetupFailed only: the spec itself is at fault (an input path through a
  /// symlink or into /proc, ...), so running it again anywhere fails again.
  bool permanent = false;
  double seconds = 0;    ///< wall time from launch to exit
  uint64_t peak_rss_bytes = 0;  ///< the program's peak resident memory (hermetic runs)
  Limits limits;         ///< the limits it ran under (defaults filled in)
  /// kExited/kSignaled: its work dir, or /tmp or /dev/shm, was full when
  /// the program ended, so a failure is most likely that limit's.
  bool workdir_full = false;
  bool tmp_full = false;
  /// ...and it was full of files (FileCap), not of bytes.
  bool files_full = false;
};

struct Options {
  /// Program that serves sandboxes: run as `server_exe __sandbox-server FD`.
  /// Every main() of a program using Server must call MaybeRunServer first.
  /// When `gg-sandbox-server` (the server alone, linked statically) is
  /// installed beside this program, it serves instead: it starts in ~2 ms
  /// rather than the ~30 ms of loading gg's libraries, and each sandbox, a
  /// fork of it, copies far fewer page tables.
  std::string server_exe = "/proc/self/exe";
  /// Skip namespaces and run unsandboxed (the documented fallback); also
  /// chosen by GG_SANDBOX=none.
  bool force_fallback = false;
};

/// A connection to a sandbox server. Thread-safe.
class Server {
 public:
  using Id = uint64_t;
  using Callback = std::function<void(const Outcome&)>;

  /// Starts the server process. If namespaces are unavailable, prints one
  /// warning to stderr saying why and falls back (see docs/sandbox.md).
  static Result<std::unique_ptr<Server>> Start(const Options& options = {});
  virtual ~Server() = default;

  /// Launches a run; `done` is called exactly once, from a server thread.
  virtual Result<Id> Launch(const Spec& spec, Callback done) = 0;
  /// Kills a run (and everything it started); its callback sees kCancelled.
  virtual void Kill(Id id) = 0;
  /// False in the unsandboxed fallback.
  virtual bool hermetic() const = 0;
  /// The host uid (and, unless it is the caller's own, gid) sandboxed
  /// programs run as: the caller's, or when gg runs as root a dedicated one
  /// (see docs/sandbox.md, Processes). What is given to it is theirs to write.
  virtual uid_t program_uid() const = 0;
};

/// The program that serves sandboxes for Options::server_exe `exe`: the
/// static `gg-sandbox-server` in the directory of the file `exe` resolves
/// to, if it is there and executable; else `exe`.
std::string ServerProgram(const std::string& exe);

/// If argv asks for the sandbox server, runs it and returns its exit status;
/// otherwise returns -1 and the caller continues.
int MaybeRunServer(int argc, char** argv);

}  // namespace gg::sandbox
