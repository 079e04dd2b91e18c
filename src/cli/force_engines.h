// The engines and shared store of one force, built from the options `gg
// force` takes (-j, --engine, --secret-file, --storage). Shared by `gg force`
// and `gg test` until src/engines provides the one builder for every command.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "coordinator/coordinator.h"
#include "engines/slurm_launcher.h"
#include "storage/remote_cache.h"
#include "storage/storage.h"

namespace gg::cli {

struct ForceEngines {
  std::unique_ptr<Storage> shared_storage;
  std::unique_ptr<RemoteCache> shared;
  std::vector<std::string> cleanup_files;
  std::vector<SlurmLauncher> slurm_jobs;
  std::vector<std::unique_ptr<Engine>> engines;
  /// Stops the engines (and their workers' connections), then cancels the
  /// Slurm jobs, then removes the files.
  ~ForceEngines();
};

/// Opens `storage_uri` (else $GG_STORAGE_URI) and starts the engines `specs`
/// name (none: local with `jobs`); sets options->shared and ->engines.
Status StartForceEngines(LocalStore* store, std::vector<std::string> specs, int jobs, const std::string& secret_file,
                         std::string storage_uri, ForceOptions* options, ForceEngines* out);

}  // namespace gg::cli
