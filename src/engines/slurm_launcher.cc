#include "engines/slurm_launcher.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <chrono>
#include <cstdio>
#include <thread>
#include <vector>

namespace gg {
namespace {

// Runs a command (no shell) and returns its stdout; stderr goes to `err`.
Result<std::string> RunCapture(const std::vector<std::string>& argv, std::string* err) {
  int out_pipe[2], err_pipe[2];
  if (pipe2(out_pipe, O_CLOEXEC) != 0 || pipe2(err_pipe, O_CLOEXEC) != 0) {
    return Status::FromErrno("pipe", errno);
  }
  pid_t pid = fork();
  if (pid < 0) return Status::FromErrno("fork", errno);
  if (pid == 0) {
    dup2(out_pipe[1], 1);
    dup2(err_pipe[1], 2);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execvp(args[0], args.data());
    std::fprintf(stderr, "cannot run %s: %s\n", args[0], std::strerror(errno));
    _exit(127);
  }
  close(out_pipe[1]);
  close(err_pipe[1]);
  std::string out;
  std::array<char, 4096> buf;
  ssize_t n;
  while ((n = read(out_pipe[0], buf.data(), buf.size())) > 0) out.append(buf.data(), n);
  while ((n = read(err_pipe[0], buf.data(), buf.size())) > 0) err->append(buf.data(), n);
  close(out_pipe[0]);
  close(err_pipe[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return Status::Unavailable(argv[0] + " failed: " + (err->empty() ? "exit status " + std::to_string(WEXITSTATUS(status)) : *err));
  }
  return out;
}

std::string ShellWord(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

}  // namespace

Result<SlurmLauncher> SlurmLauncher::Submit(const SlurmOptions& o) {
  std::string command = "exec " + ShellWord(o.gg_binary) + " worker --connect " + ShellWord(o.connect) +
                        " --secret-file " + ShellWord(o.secret_file) + " --slots " + std::to_string(o.slots) +
                        " --wait 120";
  std::vector<std::string> argv = {"sbatch", "--parsable", "--job-name=gg-worker",
                                   "--array=0-" + std::to_string(o.workers - 1),
                                   "--output=" + o.log_dir + "/slurm-%A_%a.log"};
  if (!o.partition.empty()) argv.push_back("--partition=" + o.partition);
  argv.push_back("--wrap=" + command);
  std::string err;
  auto out = RunCapture(argv, &err);
  if (!out.ok()) return out.status().Prefix("cannot submit the Slurm workers (is SLURM_CONF right?)");
  std::string id = *out;
  while (!id.empty() && (id.back() == '\n' || id.back() == '\r')) id.pop_back();
  id = id.substr(0, id.find(';'));  // "jobid;cluster"
  if (id.empty()) return Status::Unavailable("sbatch printed no job id");
  return SlurmLauncher(id);
}

SlurmLauncher::~SlurmLauncher() {
  if (job_id_.empty()) return;
  std::string err;
  (void)RunCapture({"scancel", job_id_}, &err);
  // Wait (bounded) until Slurm no longer lists the job's tasks.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < deadline) {
    err.clear();
    auto out = RunCapture({"squeue", "--noheader", "--jobs=" + job_id_, "--format=%i"}, &err);
    if (!out.ok() || out->find_first_not_of(" \n") == std::string::npos) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  std::fprintf(stderr, "gg: Slurm job %s is still listed 30 s after scancel\n", job_id_.c_str());
}

}  // namespace gg
