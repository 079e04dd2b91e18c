#include "engines/slurm_launcher.h"

#include <cstdlib>
#include <chrono>
#include <cstdio>
#include <thread>
#include <vector>

#include "core/subprocess.h"
#include "engines/engine_set.h"

namespace gg {
namespace {

// Runs a Slurm command; its stdout, or an error with its stderr.
Result<std::string> RunSlurm(const std::vector<std::string>& argv) {
  GG_ASSIGN_OR_RETURN(Captured c, RunCapture(argv));
  if (c.exit_code != 0) {
    return Status::Unavailable(argv[0] + " failed: " +
                               (c.err.empty() ? "exit status " + std::to_string(c.exit_code) : c.err));
  }
  return c.out;
}

}  // namespace

Result<SlurmOptions> SlurmOptions::Parse(const std::string& arg) {
  SlurmOptions o;
  std::vector<std::string> parts = engines::SplitOptions(arg);
  o.workers = std::atoi(parts[0].c_str());
  for (size_t i = 1; i < parts.size(); ++i) {
    const std::string& part = parts[i];
    if (part.starts_with("partition=")) {
      o.partition = part.substr(10);
    } else if (part.starts_with("slots=")) {
      o.slots = std::atoi(part.c_str() + 6);
    } else if (part.starts_with("host=")) {
      o.host = part.substr(5);
    } else {
      return Status::Invalid("unknown option '" + part + "' (slurm=N[,partition=P][,slots=K][,host=H])");
    }
  }
  if (o.workers < 1 || o.slots < 1) return Status::Invalid("the worker and slot counts must be positive");
  return o;
}

Result<SlurmLauncher> SlurmLauncher::Submit(const SlurmOptions& o) {
  std::string command = "exec " + ShellQuote(o.gg_binary) + " worker --connect " + ShellQuote(o.connect) +
                        " --secret-file " + ShellQuote(o.secret_file) + " --slots " + std::to_string(o.slots) +
                        " --wait 120";
  std::vector<std::string> argv = {"sbatch", "--parsable", "--job-name=gg-worker",
                                   "--array=0-" + std::to_string(o.workers - 1),
                                   "--output=" + o.log_dir + "/slurm-%A_%a.log"};
  if (!o.partition.empty()) argv.push_back("--partition=" + o.partition);
  argv.push_back("--wrap=" + command);
  auto out = RunSlurm(argv);
  if (!out.ok()) return out.status().Prefix("cannot submit the Slurm workers (is SLURM_CONF right?)");
  std::string id = *out;
  while (!id.empty() && (id.back() == '\n' || id.back() == '\r')) id.pop_back();
  id = id.substr(0, id.find(';'));  // "jobid;cluster"
  if (id.empty()) return Status::Unavailable("sbatch printed no job id");
  return SlurmLauncher(id);
}

SlurmLauncher::~SlurmLauncher() {
  if (job_id_.empty()) return;
  (void)RunSlurm({"scancel", job_id_});
  // Wait (bounded) until Slurm no longer lists the job's tasks.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < deadline) {
    auto out = RunSlurm({"squeue", "--noheader", "--jobs=" + job_id_, "--format=%i"});
    if (!out.ok() || out->find_first_not_of(" \n") == std::string::npos) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  std::fprintf(stderr, "gg: Slurm job %s is still listed 30 s after scancel\n", job_id_.c_str());
}

}  // namespace gg
