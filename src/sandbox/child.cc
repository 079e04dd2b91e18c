#include "sandbox/child.h"

#include <errno.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cstdarg>
#include <cstdio>
#include <cstring>

namespace gg::sandbox {

void Prepare(Prepared* p) {
  const Spec& s = p->spec;
  p->steps.clear();
  p->steps.push_back({s.work_host_dir.c_str(), s.workdir.c_str(), MountStep::kWorkdir});
  for (const Mount& m : s.mounts) {
    p->steps.push_back({m.host_path.c_str(), m.sandbox_path.c_str(),
                        m.mkdir_only ? MountStep::kMkdir : m.is_dir ? MountStep::kDir : MountStep::kFile});
  }
  // A path sorts after every proper prefix of it, so parents come first;
  // on equal paths the work dir comes first (stable, and it is first).
  std::stable_sort(p->steps.begin(), p->steps.end(), [](const MountStep& a, const MountStep& b) {
    return std::strcmp(a.sandbox, b.sandbox) < 0;
  });
  for (auto* v : {&p->argv, &p->envp}) v->clear();
  for (const auto& a : s.argv) p->argv.push_back(const_cast<char*>(a.c_str()));
  p->argv.push_back(nullptr);
  for (const auto& e : s.env) p->envp.push_back(const_cast<char*>(e.c_str()));
  p->envp.push_back(nullptr);
  p->limits = EffectiveLimits(s.limits);
  p->tmp_opts = "mode=1777,size=" + std::to_string(p->limits.tmp_bytes) +
                ",nr_inodes=" + std::to_string(FileCap(p->limits.tmp_bytes));
  p->workdir_opts = "mode=0755,uid=1000,gid=1000,size=" + std::to_string(p->limits.workdir_bytes) +
                    ",nr_inodes=" + std::to_string(FileCap(p->limits.workdir_bytes));
  p->work_layer = s.work_host_dir + "/w";
  p->work_ovl = s.work_host_dir + "/o";
}

namespace {
void WriteStatusV(int fd, StatusRecord::Kind kind, int value, int64_t peak_rss_kb, int32_t full, const char* fmt,
                  va_list ap) {
  struct {
    StatusRecord rec;
    char msg[kMaxStatusMessage];
  } buf;
  int n = vsnprintf(buf.msg, sizeof buf.msg, fmt, ap);
  if (n < 0) n = 0;
  if (n >= static_cast<int>(sizeof buf.msg)) n = sizeof buf.msg - 1;
  buf.rec = {kind, value, n, peak_rss_kb, full};
  // One write below PIPE_BUF: atomic, so records never interleave.
  ssize_t ignored = write(fd, &buf, sizeof buf.rec + n);
  (void)ignored;
}
}  // namespace

void WriteStatus(int fd, StatusRecord::Kind kind, int value, int64_t peak_rss_kb, int32_t full, const char* fmt,
                 ...) {
  va_list ap;
  va_start(ap, fmt);
  WriteStatusV(fd, kind, value, peak_rss_kb, full, fmt, ap);
  va_end(ap);
}

void FailSetup(int fd, const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  WriteStatusV(fd, StatusRecord::kSetupFailed, 0, 0, 0, fmt, ap);
  va_end(ap);
  _exit(126);
}

void FailThunk(int fd, const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  WriteStatusV(fd, StatusRecord::kSetupFailed, kPermanent, 0, 0, fmt, ap);
  va_end(ap);
  _exit(126);
}

void CloseAllExcept(int keep, int from) {
  if (keep > from) {
    syscall(SYS_close_range, static_cast<unsigned>(from), static_cast<unsigned>(keep - 1), 0u);
  }
  syscall(SYS_close_range, static_cast<unsigned>(keep < from ? from : keep + 1), ~0u, 0u);
}

int MakeDirs(char* path) {
  if (mkdir(path, 0755) == 0 || errno == EEXIST) return 0;
  if (errno != ENOENT) return errno;
  char* slash = std::strrchr(path, '/');
  if (slash == nullptr || slash == path) return ENOENT;
  *slash = '\0';
  int err = MakeDirs(path);
  *slash = '/';
  if (err != 0) return err;
  if (mkdir(path, 0755) == 0 || errno == EEXIST) return 0;
  return errno;
}

void ResetForExec(const Prepared& p) {
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  for (int sig = 1; sig < NSIG; ++sig) sigaction(sig, &dfl, nullptr);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  setrlimit(RLIMIT_NOFILE, &p.nofile);
}

}  // namespace gg::sandbox
