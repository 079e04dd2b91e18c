// The placeholder guard: during `gg build`, a process that is not a model
// (cp, install, sed, a Python or Perl script, a test program, the dynamic
// loader) and opens a placeholder under the project roots waits while gg
// forces the placeholder's thunk and writes the real output into the same
// inode; then its open goes on and it reads the real bytes. If the thunk
// fails the open is denied (EPERM) and `gg build` fails naming the file and
// the reader. See docs/models.md, "The placeholder guard".
//
// Mechanism: fanotify permission events (FAN_OPEN_PERM) on a mount that
// only the build sees: in the build's private mount namespace each project
// root is bind-mounted onto itself and that mount is marked, so nothing
// outside the build's process tree pays for it. gg's own processes (gg,
// gg-model, gg-discover; recognized by the inode of /proc/PID/exe) are never
// held: models read placeholders on purpose, and forcing reads the store.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "core/local_store.h"
#include "core/reduction.h"
#include "gg/name.h"
#include "gg/status.h"

namespace gg {
class LocalEngine;
}

namespace gg::models {

class PlaceholderGuard {
 public:
  /// One placeholder a reader opened.
  struct Read {
    std::string path;
    std::string reader;  ///< "cp -a x.so y (pid 123)"
    std::string error;   ///< empty: forced and written in place; else why the open was denied
  };

  struct Options {
    std::vector<std::string> roots;        ///< project roots (absolute); nested ones are covered by outer ones
    std::vector<std::string> model_exes;   ///< gg, gg-model, gg-discover: never held
    int jobs = 1;                          ///< thunks at once when forcing
    const std::atomic<bool>* interrupted = nullptr;
    /// Forces targets through the build's own running force (gg build forces
    /// thunks as the models write them), so a thunk it runs already is not
    /// run a second time beside it (ninja reads each compile's dependency
    /// file at once); nullopt once that force has stopped (a thunk failed):
    /// the guard then forces on an engine of its own, reporting the error.
    std::function<std::optional<std::vector<ReductionOutput>>(const std::vector<Name>&)> force;
  };

  /// Sets up the fanotify group and starts the guard's threads. Fails when
  /// permission events are unavailable (not CAP_SYS_ADMIN in the initial
  /// user namespace, or a kernel without fanotify), with a message saying so.
  static Result<std::unique_ptr<PlaceholderGuard>> Create(LocalStore* store, Options options);
  ~PlaceholderGuard();

  /// Run in the build's mount namespace, before the build command starts
  /// (after fork, so it only makes system calls): bind-mounts each root onto
  /// itself, marks that mount, and re-enters the cwd through it. Returns
  /// false after writing why to stderr.
  bool AttachInNamespace() const;

  /// Stops watching (call when the build command has exited).
  void Stop();

  /// Every placeholder a reader opened, in order.
  std::vector<Read> reads() const;

 private:
  struct Pending {
    Name target;
    std::string path;
    std::string reader;
    std::vector<int> event_fds;  ///< opens waiting on this inode
  };
  using InodeKey = std::pair<dev_t, ino_t>;

  PlaceholderGuard(LocalStore* store, Options options, int fan_fd, int wake_fd);
  void EventLoop();
  void HandleEvent(int fd, pid_t pid);
  bool IsGg(pid_t pid) const;
  void Respond(int fd, bool allow) const;
  void ForceLoop();
  /// Forces `batch` and writes each output into its inode; returns the
  /// error for each (empty when it was written).
  std::vector<std::string> ForceBatch(const std::vector<Pending>& batch);

  LocalStore* store_;
  Options options_;
  int fan_fd_;
  int wake_fd_;  ///< eventfd: wakes the event loop to stop
  pid_t self_;
  std::set<InodeKey> gg_exes_;
  std::vector<std::string> outer_roots_;
  std::string cwd_;
  std::unique_ptr<LocalEngine> engine_;  ///< created on the first forced read

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::map<InodeKey, Pending> pending_;  ///< being forced or queued
  std::vector<InodeKey> queue_;          ///< not yet taken by the force thread
  std::vector<Read> reads_;
  bool stopping_ = false;
  std::thread events_;
  std::thread forcer_;
};

}  // namespace gg::models
