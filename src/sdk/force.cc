// Store::Force: the coordinator of `gg force`, driven from a program.
#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <thread>

#include "coordinator/coordinator.h"
#include "engines/local_engine.h"
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

// Builds the engines named by `specs`. Only the local engine for now: when
// the engines layer can construct any engine from its spec string (remote=,
// slurm=, lambda=), this function is what to replace with that call.
Result<std::vector<std::unique_ptr<Engine>>> MakeEngines(LocalStore* store, const ForceSettings& options) {
  std::vector<std::string> specs = options.engines.empty() ? std::vector<std::string>{"local"} : options.engines;
  int jobs = options.jobs > 0 ? options.jobs : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  std::vector<std::unique_ptr<Engine>> engines;
  for (const auto& spec : specs) {
    std::string kind = spec.substr(0, spec.find('='));
    std::string arg = spec.find('=') == std::string::npos ? "" : spec.substr(spec.find('=') + 1);
    if (kind != "local") {
      return Status::Invalid("engine '" + spec + "' is not available through the SDK yet (only local[=N]); " +
                             "run 'gg force --engine " + spec + "' on the target instead");
    }
    int n = arg.empty() ? jobs : std::atoi(arg.c_str());
    if (n < 1) return Status::Invalid("engine '" + spec + "': the job count must be positive");
    sandbox::Options sandbox_options;
    sandbox_options.server_exe = GgBinary(options);
    if (access(sandbox_options.server_exe.c_str(), X_OK) != 0) {
      return Status::NotFound("the gg program (" + sandbox_options.server_exe +
                              "), which serves sandboxes, is not there: install gg, put it on $PATH, "
                              "or set $GG_BINARY or ForceSettings::gg_binary");
    }
    GG_ASSIGN_OR_RETURN(auto engine, LocalEngine::Create(store, n, sandbox_options));
    engines.push_back(std::move(engine));
  }
  return engines;
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
  GG_ASSIGN_OR_RETURN(auto engines, MakeEngines(store, options));
  for (auto& e : engines) coordinator_options.engines.push_back(e.get());
  signal(SIGPIPE, SIG_IGN);  // a worker that goes away must not kill the program

  Coordinator coordinator(store, coordinator_options);
  GG_ASSIGN_OR_RETURN(auto outputs, coordinator.Force(targets));
  std::vector<Name> names;
  for (const auto& o : outputs) names.push_back(o.name);
  return names;
}

}  // namespace gg
