#include <getopt.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <random>
#include <thread>

#include "cli/command.h"
#include "cli/force_engines.h"
#include "coordinator/coordinator.h"
#include "core/path_util.h"
#include "core/placeholder.h"
#include "engines/lambda_engine.h"
#include "engines/local_engine.h"
#include "engines/remote_engine.h"
#include "engines/slurm_launcher.h"
#include "net/connection.h"
#include "storage/remote_cache.h"
#include "storage/storage.h"

namespace gg::cli {
namespace {

constexpr char kUsage[] =
    "usage: gg force [-j N] [--engine E]... [--timeout SECONDS] [--trace FILE] TARGET...\n\n"
    "Computes each TARGET: a placeholder file (replaced by the output's content,\n"
    "with its mode), a thunk name (the output's name is printed), or @FILE, a file\n"
    "listing targets one per line. Thunks already reduced are never run again.\n\n"
    "  -j N               run N thunks at once on the local engine (default: cores)\n"
    "  --engine E         an engine to use, repeatable: local[=N], or\n"
    "                     remote=HOST:PORT (listen there for 'gg worker's), or\n"
    "                     slurm=N[,partition=P][,slots=K][,host=H] (N workers started\n"
    "                     as a Slurm array job that connect back to H, default this\n"
    "                     host; cancelled when the force ends), or\n"
    "                     lambda=FUNCTION[,region=R][,endpoint=URL][,slots=N] (one AWS\n"
    "                     Lambda invocation per thunk, N at once, default 100; needs\n"
    "                     --storage and AWS credentials; see 'gg lambda deploy');\n"
    "                     with ,workers=W[,host=H]: W invocations that serve as\n"
    "                     workers (K=slots each) for the whole job instead\n"
    "  --secret-file FILE the secret remote workers must know\n"
    "  --timeout SECONDS  start a second copy of a thunk running longer than this\n"
    "                     (default: adaptive, 4x the median of similar thunks)\n"
    "  --trace FILE       write the run as Chrome trace-event JSON\n"
    "  --max-attempts N   runs of a thunk whose infrastructure failed (default 3)\n"
    "  --storage URI      a store shared with other machines (default $GG_STORAGE_URI):\n"
    "                     its reductions are used, new ones published to it\n"
    "  --no-download      leave the targets' outputs in the shared store\n\n"
    "Exit status: 0 done, 1 a thunk failed, 2 usage, 3 other error, 130 interrupted.\n";

struct Target {
  std::string placeholder;  // empty for a name given directly
  Name name;
};

Status AddTarget(const std::string& arg, std::vector<Target>* out) {
  if (arg.starts_with("@")) {
    GG_ASSIGN_OR_RETURN(std::string list, ReadFile(arg.substr(1)));
    size_t pos = 0;
    while (pos < list.size()) {
      size_t nl = list.find('\n', pos);
      std::string line = list.substr(pos, nl == std::string::npos ? std::string::npos : nl - pos);
      pos = nl == std::string::npos ? list.size() : nl + 1;
      if (!line.empty()) GG_RETURN_IF_ERROR(AddTarget(line, out));
    }
    return Status::Ok();
  }
  struct stat st {};
  if (stat(arg.c_str(), &st) == 0 && S_ISREG(st.st_mode)) {
    GG_ASSIGN_OR_RETURN(auto target, ReadPlaceholder(arg));
    if (!target) {
      return Status::Invalid(arg + " is not a gg placeholder (already forced, or not made by gg?)");
    }
    out->push_back({arg, *target});
    return Status::Ok();
  }
  auto name = Name::Parse(arg);
  if (!name.ok()) {
    return Status::Invalid("'" + arg + "' is neither a placeholder file nor an object name");
  }
  out->push_back({"", *name});
  return Status::Ok();
}

// A remote engine for workers that a launcher starts (Slurm, Lambda): it
// listens on an ephemeral port, and the workers connect back to `host` (else
// $GG_COORDINATOR_HOST, else this host's name) with the secret in
// `secret_file`, or a fresh one written into the store for this force.
Result<std::unique_ptr<RemoteEngine>> ListenForLaunchedWorkers(LocalStore* store, RemoteCache* shared,
                                                               const std::string& label, std::string host,
                                                               const std::string& secret_file,
                                                               std::vector<std::string>* cleanup,
                                                               std::string* connect, std::string* secret) {
  if (host.empty()) {
    const char* env = std::getenv("GG_COORDINATOR_HOST");
    char name[256] = {};
    gethostname(name, sizeof name - 1);
    host = env != nullptr && *env != '\0' ? env : name;
  }
  if (!secret_file.empty()) {
    GG_ASSIGN_OR_RETURN(*secret, net::ReadSecretFile(secret_file));
  } else {
    *secret = UniqueSuffix() + "." + std::to_string(std::random_device{}()) + std::to_string(std::random_device{}());
    std::string path = store->TempDir() + "/" + label + "-secret." + UniqueSuffix();
    GG_RETURN_IF_ERROR(WriteFileAtomic(path, *secret + "\n", 0600));
    cleanup->push_back(path);
  }
  GG_ASSIGN_OR_RETURN(auto engine, RemoteEngine::Listen(store, "0.0.0.0:0", *secret, label));
  engine->set_shared(shared);
  *connect = host + ":" + std::to_string(engine->port());
  return engine;
}

// `slurm=N[,partition=P][,slots=K][,host=H]`: a remote engine whose workers
// Slurm starts as one array job.
Result<std::unique_ptr<Engine>> StartSlurm(LocalStore* store, RemoteCache* shared, const std::string& arg,
                                           const std::string& secret_file, std::vector<SlurmLauncher>* jobs,
                                           std::vector<std::string>* cleanup) {
  SlurmOptions o;
  std::string host;
  std::vector<std::string> parts = SplitEngineOptions(arg);
  o.workers = std::atoi(parts[0].c_str());
  for (size_t i = 1; i < parts.size(); ++i) {
    const std::string& part = parts[i];
    if (part.starts_with("partition=")) {
      o.partition = part.substr(10);
    } else if (part.starts_with("slots=")) {
      o.slots = std::atoi(part.c_str() + 6);
    } else if (part.starts_with("host=")) {
      host = part.substr(5);
    } else {
      return Status::Invalid("unknown option '" + part + "'");
    }
  }
  if (o.workers < 1 || o.slots < 1) return Status::Invalid("the worker and slot counts must be positive");
  std::string secret;
  GG_ASSIGN_OR_RETURN(auto engine,
                      ListenForLaunchedWorkers(store, shared, "slurm", host, secret_file, cleanup, &o.connect, &secret));
  o.secret_file = secret_file.empty() ? cleanup->back() : AbsolutePath(secret_file);
  char exe[4096] = {};
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  o.gg_binary = n > 0 ? std::string(exe, n) : "gg";
  o.log_dir = store->TempDir();
  GG_ASSIGN_OR_RETURN(auto job, SlurmLauncher::Submit(o));
  jobs->push_back(std::move(job));
  return std::unique_ptr<Engine>(std::move(engine));
}

}  // namespace

ForceEngines::~ForceEngines() {
  engines.clear();
  slurm_jobs.clear();
  for (const auto& f : cleanup_files) unlink(f.c_str());
}

Status StartForceEngines(LocalStore* store_ptr, std::vector<std::string> engine_specs, int jobs,
                         const std::string& secret_file, std::string storage_uri, ForceOptions* options_ptr,
                         ForceEngines* out) {
  ForceOptions& options = *options_ptr;
  if (const char* env = std::getenv("GG_STORAGE_URI"); storage_uri.empty() && env != nullptr) storage_uri = env;
  if (!storage_uri.empty()) {
    auto opened = OpenStorage(storage_uri);
    if (!opened.ok()) return opened.status();
    out->shared_storage = std::move(*opened);
    out->shared = std::make_unique<RemoteCache>(*out->shared_storage);
    options.shared = out->shared.get();
  }

  if (engine_specs.empty()) engine_specs.push_back("local");
  for (const auto& spec : engine_specs) {
    std::string kind = spec.substr(0, spec.find('='));
    std::string arg = spec.find('=') == std::string::npos ? "" : spec.substr(spec.find('=') + 1);
    if (kind == "local") {
      int n = arg.empty() ? jobs : std::atoi(arg.c_str());
      if (n < 1) return Status::Invalid("engine '" + spec + "': the job count must be positive");
      auto engine = LocalEngine::Create(store_ptr, n);
      if (!engine.ok()) return engine.status();
      out->engines.push_back(std::move(*engine));
    } else if (kind == "remote") {
      if (arg.empty() || secret_file.empty()) {
        return Status::Invalid("engine 'remote=HOST:PORT' needs the address and --secret-file");
      }
      auto secret = net::ReadSecretFile(secret_file);
      if (!secret.ok()) return secret.status();
      auto engine = RemoteEngine::Listen(store_ptr, arg, *secret);
      if (!engine.ok()) return engine.status();
      (*engine)->set_shared(options.shared);
      out->engines.push_back(std::move(*engine));
    } else if (kind == "slurm") {
      auto engine = StartSlurm(store_ptr, options.shared, arg, secret_file, &out->slurm_jobs, &out->cleanup_files);
      if (!engine.ok()) return engine.status().Prefix("engine '" + spec + "'");
      out->engines.push_back(std::move(*engine));
    } else if (kind == "lambda") {
      auto parsed = LambdaOptions::Parse(arg);
      if (!parsed.ok()) return parsed.status().Prefix("engine '" + spec + "'");
      if (parsed->workers > 0) {
        // The long-running mode: functions that serve as workers for the job.
        std::string connect, secret;
        auto engine = ListenForLaunchedWorkers(store_ptr, options.shared, "lambda-workers", parsed->host,
                                               secret_file, &out->cleanup_files, &connect, &secret);
        if (!engine.ok()) return engine.status().Prefix("engine '" + spec + "'");
        int per_worker = parsed->slots_given ? parsed->slots : 1;
        if (Status s = LaunchLambdaWorkers(*parsed, connect, secret, parsed->workers, per_worker); !s.ok()) {
          return s.Prefix("engine '" + spec + "'");
        }
        out->engines.push_back(std::move(*engine));
        continue;
      }
      auto engine = LambdaEngine::Create(store_ptr, options.shared, storage_uri, *parsed);
      if (!engine.ok()) return engine.status().Prefix("engine '" + spec + "'");
      out->engines.push_back(std::move(*engine));
    } else {
      return Status::Invalid("unknown engine '" + spec +
                             "' (available: local[=N], remote=HOST:PORT, slurm=N[,partition=P][,slots=K][,host=H], "
                             "lambda=FUNCTION[,region=R][,endpoint=URL][,slots=N][,workers=W][,host=H])");
    }
  }
  for (auto& e : out->engines) options.engines.push_back(e.get());
  return Status::Ok();
}

int ForceMain(int argc, char** argv) {
  if (WantsHelp(argc, argv)) {
    std::printf("%s", kUsage);
    return kExitOk;
  }
  int jobs = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  std::vector<std::string> engine_specs;
  std::string secret_file;
  std::string storage_uri;
  ForceOptions options;
  static const option kLong[] = {{"engine", required_argument, nullptr, 'n'},
                                 {"timeout", required_argument, nullptr, 's'},
                                 {"trace", required_argument, nullptr, 'r'},
                                 {"max-attempts", required_argument, nullptr, 'a'},
                                 {"jobs", required_argument, nullptr, 'j'},
                                 {"secret-file", required_argument, nullptr, 'S'},
                                 {"storage", required_argument, nullptr, 'U'},
                                 {"no-download", no_argument, nullptr, 'N'},
                                 {nullptr, 0, nullptr, 0}};
  optind = 1;
  int opt;
  while ((opt = getopt_long(argc, argv, "j:", kLong, nullptr)) != -1) {
    switch (opt) {
      case 'j': jobs = std::atoi(optarg); break;
      case 'n': engine_specs.push_back(optarg); break;
      case 's': options.straggler_seconds = std::atof(optarg); break;
      case 'r': options.trace_path = optarg; break;
      case 'a': options.max_attempts = std::atoi(optarg); break;
      case 'S': secret_file = optarg; break;
      case 'U': storage_uri = optarg; break;
      case 'N': options.download = false; break;
      default: std::fprintf(stderr, "%s", kUsage); return kExitUsage;
    }
  }
  if (jobs < 1 || options.max_attempts < 1) {
    std::fprintf(stderr, "gg: -j and --max-attempts take a positive number\n");
    return kExitUsage;
  }
  if (optind >= argc) {
    std::fprintf(stderr, "gg: force needs at least one TARGET\n%s", kUsage);
    return kExitUsage;
  }
  std::vector<Target> targets;
  for (int i = optind; i < argc; ++i) {
    if (Status s = AddTarget(argv[i], &targets); !s.ok()) return Fail(s);
  }
  auto store = OpenStoreOrComplain();
  if (!store) return kExitError;
  if (!options.download) {
    for (const auto& t : targets) {
      if (!t.placeholder.empty()) return Fail(Status::Invalid("--no-download cannot replace placeholder " + t.placeholder));
    }
  }
  ForceEngines started;
  if (Status s = StartForceEngines(store.get(), engine_specs, jobs, secret_file, storage_uri, &options, &started);
      !s.ok()) {
    return Fail(s);
  }

  signal(SIGPIPE, SIG_IGN);  // a worker that goes away must not kill us
  options.interrupted = CatchInterrupts();

  std::vector<Name> names;
  for (const auto& t : targets) names.push_back(t.name);
  Coordinator coordinator(store.get(), options);
  auto outputs = coordinator.Force(names);
  if (!outputs.ok()) {
    int rc = Fail(outputs.status());
    return options.interrupted->load() ? kExitInterrupted : rc;
  }
  if (isatty(STDERR_FILENO)) {
    const ForceStats& st = coordinator.stats();
    std::fprintf(stderr, "gg: %zu thunks: %zu ran, %zu memoized", st.total, st.executed, st.memoized);
    if (st.retries) std::fprintf(stderr, ", %zu retried", st.retries);
    if (st.duplicates) std::fprintf(stderr, ", %zu straggler copies", st.duplicates);
    std::fprintf(stderr, "\n");
  }
  for (size_t i = 0; i < targets.size(); ++i) {
    if (targets[i].placeholder.empty()) {
      std::printf("%s\n", (*outputs)[i].name.str().c_str());
    } else if (Status s = store->CopyOut((*outputs)[i].name, targets[i].placeholder, (*outputs)[i].executable); !s.ok()) {
      return Fail(s);
    }
  }
  return kExitOk;
}

}  // namespace gg::cli
