// Engines named by spec strings, as written after `--engine`: the one place
// that turns `local`, `remote=HOST:PORT`, `slurm=N,...`, `lambda=FN,...` or `gcf=URL,...`
// into configured engines. The CLI commands (force, build, test) and the SDK
// get their engines here and never construct one themselves.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/local_store.h"
#include "engines/engine.h"
#include "storage/remote_cache.h"

namespace gg {
class LambdaWorkers;
class SlurmLauncher;

namespace engines {

/// What the engine specs need besides themselves.
struct Config {
  std::vector<std::string> specs;  ///< e.g. {"local", "remote=0.0.0.0:9000"}; empty: {"local"}
  int jobs = 0;                    ///< `local` without =N runs this many at once; 0: the cores
  std::string secret_file;         ///< the secret remote workers must know
  /// The shared store (as given, password included: cloud functions are
  /// told it) and its client; both empty when there is none.
  std::string storage_uri;
  RemoteCache* shared = nullptr;
  /// The gg program: it serves the local engine's sandboxes and is what Slurm
  /// starts as a worker. Empty: this program (the gg command itself); a
  /// program linked with the SDK names the installed gg here.
  std::string gg_binary;
};

/// The engines of one force and what keeps them running (Slurm jobs, secret
/// files): destroying it stops the engines, then cancels the jobs, then
/// removes the files.
class EngineSet {
 public:
  EngineSet();
  ~EngineSet();
  EngineSet(const EngineSet&) = delete;
  EngineSet& operator=(const EngineSet&) = delete;

  /// In the order of the specs (the coordinator's order of preference).
  std::vector<Engine*> engines() const;

 private:
  friend Result<std::unique_ptr<EngineSet>> CreateFromSpecs(LocalStore* store, const Config& config);
  Status Add(LocalStore* store, const Config& config, const std::string& spec);

  std::vector<std::string> files_;
  std::vector<SlurmLauncher> slurm_jobs_;
  std::vector<std::unique_ptr<LambdaWorkers>> lambda_workers_;
  std::vector<std::unique_ptr<Engine>> engines_;  // last: destroyed first
};

/// Builds the engines `config.specs` name. Errors name the spec at fault and
/// list the engines available.
Result<std::unique_ptr<EngineSet>> CreateFromSpecs(LocalStore* store, const Config& config);

/// Splits engine options as written after `KIND=`: "a,b=c" -> {"a", "b=c"}.
std::vector<std::string> SplitOptions(const std::string& arg);

/// Every engine and its options, as `--help` shows them (lines indented to
/// follow an option column; see docs/engines.md).
extern const char kHelp[];

}  // namespace engines
}  // namespace gg
