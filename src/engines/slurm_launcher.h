// Starts remote workers through Slurm: one array job of N tasks, each a
// `gg worker` that connects back to this coordinator, cancelled when the
// force ends. The cluster is the one SLURM_CONF names, as for Slurm's own
// commands.
#pragma once

#include <string>

#include "gg/status.h"

namespace gg {

struct SlurmOptions {
  int workers = 1;            ///< array tasks
  int slots = 1;              ///< thunks per worker
  std::string partition;      ///< empty: the cluster's default
  std::string connect;        ///< HOST:PORT the workers connect to
  std::string secret_file;    ///< readable by the workers (a shared filesystem)
  std::string gg_binary;      ///< the gg the workers run
  std::string log_dir;        ///< where the tasks' output goes
  std::string host;           ///< where workers connect back (default: this host)

  /// Parses `N[,partition=P][,slots=K][,host=H]` (connect, secret_file,
  /// gg_binary and log_dir are the caller's).
  static Result<SlurmOptions> Parse(const std::string& arg);
};

class SlurmLauncher {
 public:
  /// Submits the array job with sbatch.
  static Result<SlurmLauncher> Submit(const SlurmOptions& options);
  SlurmLauncher(SlurmLauncher&& other) noexcept : job_id_(std::move(other.job_id_)) { other.job_id_.clear(); }
  SlurmLauncher& operator=(SlurmLauncher&&) = delete;
  /// Cancels the job (scancel) and waits until squeue no longer lists it.
  ~SlurmLauncher();
  const std::string& job_id() const { return job_id_; }

 private:
  explicit SlurmLauncher(std::string job_id) : job_id_(std::move(job_id)) {}
  std::string job_id_;
};

}  // namespace gg
