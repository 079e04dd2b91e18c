// Store::Force: the coordinator of `gg force`, driven from a program.
#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <thread>

#include "coordinator/coordinator.h"
#include "engines/engine_set.h"
#include "models/toolchain.h"
#include "sdk/store_impl.h"
#include "storage/remote_cache.h"
#include "storage/storage.h"

namespace gg {
namespace {

// The program that serves sandboxes (`gg __sandbox-server`): the SDK's
// library is linked into the application, whose main() does not serve them.
std::string GgBinary(const ForceSettings& options) {
  if (!options.gg_binary.empty()) return options.gg_binary;
  if (const char* env = std::getenv("GG_BINARY"); env != nullptr && *env != '\0') return env;
  if (std::string found = models::FindInPath("gg"); !found.empty()) return found;
  return GG_INSTALLED_BINARY;
}

// The engines layer's configuration for ForceSettings: every engine `gg
// force --engine` knows, with the installed gg serving sandboxes.
Result<engines::Config> EngineConfig(const ForceSettings& options, const std::string& storage_uri,
                                     RemoteCache* shared) {
  engines::Config config;
  config.specs = options.engines;
  config.jobs = options.jobs;
  config.secret_file = options.secret_file;
  config.storage_uri = storage_uri;
  config.shared = shared;
  config.gg_binary = GgBinary(options);
  if (access(config.gg_binary.c_str(), X_OK) != 0) {
    return Status::NotFound("the gg program (" + config.gg_binary +
                            "), which serves sandboxes, is not there: install gg, put it on $PATH, "
                            "or set $GG_BINARY or ForceSettings::gg_binary");
  }
  return config;
}

}  // namespace

Result<std::vector<Name>> Store::Force(const std::vector<Name>& targets, const ForceSettings& options) {
  LocalStore* store = impl_->local.get();
  ForceOptions coordinator_options;  // the coordinator's own
  coordinator_options.straggler_seconds = options.straggler_seconds;
  coordinator_options.max_attempts = options.max_attempts;
  coordinator_options.trace_path = options.trace_path;
  coordinator_options.progress_out = nullptr;  // a library prints nothing
  if (options.on_progress) {
    coordinator_options.on_progress = [&options](const ForceStats& s, double elapsed) {
      options.on_progress(ForceProgress{s.total, s.done, s.memoized, s.executed, s.running, s.failed, elapsed});
    };
  }
  if (options.max_attempts < 1) return Status::Invalid("ForceSettings::max_attempts must be positive");

  std::string uri = options.storage;
  if (const char* env = std::getenv("GG_STORAGE_URI"); uri.empty() && env != nullptr) uri = env;
  std::unique_ptr<Storage> shared_storage;
  std::unique_ptr<RemoteCache> shared;
  if (!uri.empty()) {
    GG_ASSIGN_OR_RETURN(shared_storage, OpenStorage(uri));
    shared = std::make_unique<RemoteCache>(*shared_storage);
    coordinator_options.shared = shared.get();
  }
  GG_ASSIGN_OR_RETURN(engines::Config config, EngineConfig(options, uri, shared.get()));
  GG_ASSIGN_OR_RETURN(auto engine_set, engines::CreateFromSpecs(store, config));
  coordinator_options.engines = engine_set->engines();
  signal(SIGPIPE, SIG_IGN);  // a worker that goes away must not kill the program

  Coordinator coordinator(store, coordinator_options);
  GG_ASSIGN_OR_RETURN(auto outputs, coordinator.Force(targets));
  std::vector<Name> names;
  for (const auto& o : outputs) names.push_back(o.name);
  return names;
}

}  // namespace gg
