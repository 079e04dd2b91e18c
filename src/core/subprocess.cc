#include "core/subprocess.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>

namespace gg {

Result<Captured> RunCapture(const std::vector<std::string>& argv, bool merge_stderr) {
  if (argv.empty()) return Status::Invalid("RunCapture: no program");
  // Everything the child needs is made before fork: a threaded parent's child
  // may only call async-signal-safe functions.
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  int out_pipe[2], err_pipe[2] = {-1, -1};
  if (pipe2(out_pipe, O_CLOEXEC) != 0) return Status::FromErrno("pipe", errno);
  if (!merge_stderr && pipe2(err_pipe, O_CLOEXEC) != 0) {
    int e = errno;
    close(out_pipe[0]);
    close(out_pipe[1]);
    return Status::FromErrno("pipe", e);
  }
  int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
  pid_t pid = fork();
  if (pid == 0) {
    if (devnull >= 0) dup2(devnull, 0);
    dup2(out_pipe[1], 1);
    dup2(merge_stderr ? out_pipe[1] : err_pipe[1], 2);
    execvp(args[0], args.data());
    _exit(127);
  }
  int fork_errno = errno;
  if (devnull >= 0) close(devnull);
  close(out_pipe[1]);
  if (!merge_stderr) close(err_pipe[1]);
  if (pid < 0) {
    close(out_pipe[0]);
    if (!merge_stderr) close(err_pipe[0]);
    return Status::FromErrno("fork", fork_errno);
  }
  Captured c;
  pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {merge_stderr ? -1 : err_pipe[0], POLLIN, 0}};
  std::string* sinks[2] = {&c.out, &c.err};
  int open_fds = merge_stderr ? 1 : 2;
  char buf[65536];
  while (open_fds > 0) {
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      ssize_t n = read(fds[i].fd, buf, sizeof buf);
      if (n > 0) {
        sinks[i]->append(buf, n);
      } else if (n == 0 || errno != EINTR) {
        close(fds[i].fd);
        fds[i].fd = -1;
        --open_fds;
      }
    }
  }
  for (const auto& f : fds) {
    if (f.fd >= 0) close(f.fd);
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  c.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  if (c.exit_code == 127 && c.out.empty() && c.err.empty()) {
    return Status::NotFound("cannot run " + argv[0] + " (not found in PATH?)");
  }
  return c;
}

}  // namespace gg
