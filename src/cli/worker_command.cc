#include <getopt.h>
#include <signal.h>

#include <cstdio>
#include <cstdlib>
#include <thread>

#include "cli/command.h"
#include "net/connection.h"
#include "storage/remote_cache.h"
#include "storage/storage.h"
#include "worker/worker.h"

namespace gg::cli {
namespace {

constexpr char kUsage[] =
    "usage: gg worker --connect HOST:PORT --secret-file FILE [--slots N] [--cache DIR]\n\n"
    "Runs thunks for a coordinator (a 'gg force --engine remote=HOST:PORT') until it\n"
    "finishes. The worker connects to the coordinator, so it may sit behind NAT; both\n"
    "sides prove they hold the secret in FILE before anything runs. Thunks run in the\n"
    "same hermetic sandbox as on the local engine.\n\n"
    "  --connect HOST:PORT  the coordinator (retried for --wait seconds)\n"
    "  --secret-file FILE   the shared secret (the same file as the coordinator's)\n"
    "  --slots N            thunks to run at once (default: cores)\n"
    "  --cache DIR          its object cache, a gg store (default: ~/.cache/gg-worker)\n"
    "  --wait SECONDS       how long to keep trying to connect (default 60)\n\n"
    "With GG_STORAGE_URI set to the store the coordinator uses, inputs and outputs\n"
    "travel through that store instead of through the connection.\n";

}  // namespace

int WorkerMain(int argc, char** argv) {
  if (WantsHelp(argc, argv)) {
    std::printf("%s", kUsage);
    return kExitOk;
  }
  WorkerOptions options;
  options.slots = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  std::string secret_file;
  static const option kLong[] = {{"connect", required_argument, nullptr, 'c'},
                                 {"secret-file", required_argument, nullptr, 's'},
                                 {"slots", required_argument, nullptr, 'n'},
                                 {"cache", required_argument, nullptr, 'd'},
                                 {"wait", required_argument, nullptr, 'w'},
                                 {nullptr, 0, nullptr, 0}};
  optind = 1;
  int opt;
  while ((opt = getopt_long(argc, argv, "", kLong, nullptr)) != -1) {
    switch (opt) {
      case 'c': options.coordinator = optarg; break;
      case 's': secret_file = optarg; break;
      case 'n': options.slots = std::atoi(optarg); break;
      case 'd': options.cache_dir = optarg; break;
      case 'w': options.connect_timeout = std::atof(optarg); break;
      default: std::fprintf(stderr, "%s", kUsage); return kExitUsage;
    }
  }
  if (options.coordinator.empty() || secret_file.empty() || options.slots < 1 || optind != argc) {
    std::fprintf(stderr, "gg: worker needs --connect and --secret-file\n%s", kUsage);
    return kExitUsage;
  }
  auto secret = net::ReadSecretFile(secret_file);
  if (!secret.ok()) return Fail(secret.status());
  options.secret = *secret;
  if (options.cache_dir.empty()) {
    const char* home = std::getenv("HOME");
    options.cache_dir = std::string(home != nullptr ? home : "/tmp") + "/.cache/gg-worker";
  }
  std::unique_ptr<Storage> storage;
  std::unique_ptr<RemoteCache> shared;
  if (auto uri = StorageUriFromFlagOrEnv(""); uri.ok()) {
    auto opened = OpenStorage(*uri);
    if (!opened.ok()) return Fail(opened.status());
    storage = std::move(*opened);
    shared = std::make_unique<RemoteCache>(*storage);
    options.shared_uri = storage->uri();
    options.fetch = [&](LocalStore& local, const std::vector<Name>& names) { return shared->FetchOutputs(local, names); };
    options.upload = [&](LocalStore& local, const std::vector<Name>& names) { return shared->Upload(local, names); };
  }
  signal(SIGPIPE, SIG_IGN);
  Status s = RunWorker(options);
  if (!s.ok()) {
    std::fprintf(stderr, "gg worker: %s\n", s.message().c_str());
    return s.code() == Status::Code::kInvalid ? kExitUsage : kExitError;
  }
  return kExitOk;
}

}  // namespace gg::cli
