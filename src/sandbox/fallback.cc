// The unsandboxed fallback, used where namespaces are unavailable: runs the
// program directly in the host work dir. Inputs that live under the sandbox
// work dir are materialized there by hard link (copy if linking fails);
// inputs anywhere else cannot be honoured. See docs/sandbox.md.
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <string>

#include "sandbox/child.h"

namespace gg::sandbox {
namespace {

/// The path under work_host_dir for a sandbox path under workdir, or "" if
/// the sandbox path lies elsewhere.
std::string HostPathFor(const Spec& s, const std::string& sandbox_path) {
  const std::string& w = s.workdir;
  std::string rel;
  if (!sandbox_path.empty() && sandbox_path[0] != '/') {
    rel = "/" + sandbox_path;  // relative to the work dir
  } else if (sandbox_path.size() > w.size() && sandbox_path.compare(0, w.size(), w) == 0 &&
             (sandbox_path[w.size()] == '/' || w == "/")) {
    rel = sandbox_path.substr(w == "/" ? 0 : w.size());
  } else {
    return "";
  }
  return s.work_host_dir + rel;
}

int CopyFile(const std::string& from, const std::string& to) {
  int in = open(from.c_str(), O_RDONLY | O_CLOEXEC);
  if (in < 0) return errno;
  struct stat st;
  fstat(in, &st);
  int out = open(to.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, st.st_mode & 07777);
  if (out < 0) {
    int e = errno;
    close(in);
    return e;
  }
  int err = 0;
  for (off_t left = st.st_size; left > 0;) {
    ssize_t n = sendfile(out, in, nullptr, left);
    if (n <= 0) {
      err = n < 0 ? errno : EIO;
      break;
    }
    left -= n;
  }
  close(in);
  close(out);
  return err;
}

/// Hard-links (or copies) `from` to `to`, recursively for directories.
int Materialize(const std::string& from, const std::string& to, bool is_dir) {
  if (!is_dir) {
    unlink(to.c_str());
    if (link(from.c_str(), to.c_str()) == 0) return 0;
    if (errno == ENOENT) return ENOENT;
    return CopyFile(from, to);
  }
  DIR* d = opendir(from.c_str());
  if (d == nullptr) return errno;
  if (mkdir(to.c_str(), 0755) != 0 && errno != EEXIST) {
    closedir(d);
    return errno;
  }
  int err = 0;
  while (dirent* e = readdir(d)) {
    if (std::strcmp(e->d_name, ".") == 0 || std::strcmp(e->d_name, "..") == 0) continue;
    std::string f = from + "/" + e->d_name, t = to + "/" + e->d_name;
    struct stat st;
    if (lstat(f.c_str(), &st) != 0) {
      err = errno;
    } else if (S_ISLNK(st.st_mode)) {
      char target[4096];
      ssize_t n = readlink(f.c_str(), target, sizeof target - 1);
      if (n < 0) {
        err = errno;
      } else {
        target[n] = '\0';
        unlink(t.c_str());
        if (symlink(target, t.c_str()) != 0) err = errno;
      }
    } else {
      err = Materialize(f, t, S_ISDIR(st.st_mode));
    }
    if (err != 0) break;
  }
  closedir(d);
  return err;
}

}  // namespace

void RunFallback(const Prepared& p, int fd) {
  const Spec& s = p.spec;
  setpgid(0, 0);  // so a timeout or Kill() can take the whole group
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  CloseAllExcept(fd);

  // The executor sends input views to hermetic servers only.
  if (!s.workdir_view.empty()) FailSetup(fd, "an input view needs namespaces (unavailable: %s)", p.fallback_why.c_str());
  for (const Mount& m : s.mounts) {
    std::string to = HostPathFor(s, m.sandbox_path);
    if (to.empty()) {
      FailSetup(fd, "absolute input path %s needs namespaces (unavailable: %s)",
                m.sandbox_path.c_str(), p.fallback_why.c_str());
    }
    std::string parent = to.substr(0, to.rfind('/'));
    int err = MakeDirs(parent.data());
    if (err == 0) err = m.mkdir_only ? MakeDirs(to.data()) : Materialize(m.host_path, to, m.is_dir);
    if (err != 0) {
      FailSetup(fd, "materialize %s at %s: %s", m.host_path.c_str(), m.sandbox_path.c_str(),
                strerror(err));
    }
  }
  std::string exe = HostPathFor(s, s.exe);
  if (exe.empty()) {
    FailSetup(fd, "absolute input path %s needs namespaces (unavailable: %s)", s.exe.c_str(),
              p.fallback_why.c_str());
  }

  int in = open("/dev/null", O_RDONLY);
  const char* out_path = s.stdout_path.empty() ? "/dev/null" : s.stdout_path.c_str();
  const char* err_path = s.stderr_path.empty() ? "/dev/null" : s.stderr_path.c_str();
  int out = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (out < 0) FailSetup(fd, "open stdout %s: %s", out_path, strerror(errno));
  int err = std::strcmp(out_path, err_path) == 0 ? out
                                                 : open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (err < 0) FailSetup(fd, "open stderr %s: %s", err_path, strerror(errno));
  if (in < 0 || dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0) {
    FailSetup(fd, "redirect stdio: %s", strerror(errno));
  }
  for (int f : {in, out, err}) {
    if (f > 2 && f != fd) close(f);
  }
  if (chdir(s.work_host_dir.c_str()) != 0) {
    FailSetup(fd, "chdir %s: %s", s.work_host_dir.c_str(), strerror(errno));
  }
  ResetForExec(p);
  // Not a boundary (docs/sandbox.md), but the memory and file limits hold.
  rlimit as{p.limits.memory_bytes, p.limits.memory_bytes}, fsize{p.limits.file_bytes, p.limits.file_bytes};
  setrlimit(RLIMIT_AS, &as);
  setrlimit(RLIMIT_FSIZE, &fsize);
  execve(exe.c_str(), p.argv.data(), p.envp.data());
  FailSetup(fd, "exec %s: %s", s.exe.c_str(), strerror(errno));
}

}  // namespace gg::sandbox
