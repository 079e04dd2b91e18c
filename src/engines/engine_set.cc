#include "engines/engine_set.h"

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <random>
#include <thread>

#include "core/path_util.h"
#include "engines/gcf_engine.h"
#include "engines/lambda_engine.h"
#include "engines/local_engine.h"
#include "engines/remote_engine.h"
#include "engines/slurm_launcher.h"
#include "net/connection.h"

namespace gg::engines {

const char kHelp[] =
    "                     local[=N]  this machine's sandboxes, N at once (default -j)\n"
    "                     remote=HOST:PORT  listen there for 'gg worker's (needs\n"
    "                       --secret-file)\n"
    "                     slurm=N[,partition=P][,slots=K][,host=H]  N workers started\n"
    "                       as a Slurm array job that connect back to H (default\n"
    "                       this host); cancelled when the force ends\n"
    "                     lambda=FUNCTION[,region=R][,endpoint=URL][,slots=N]  one AWS\n"
    "                       Lambda invocation per thunk, N at once (default 100);\n"
    "                       needs --storage and AWS credentials ('gg lambda deploy');\n"
    "                       with ,workers=W[,host=H][,budget=SECONDS]: W invocations\n"
    "                       that serve as workers (N slots each) for the whole job\n"
    "                       instead, each replaced near its time limit (or budget)\n"
    "                     gcf=URL[,slots=N]  one Google Cloud Functions invocation\n"
    "                       per thunk, N at once (default 100); needs --storage\n"
    "                       ('gg gcf package')\n"
    "                     lambda and gcf take ,tmp=SIZE,memory=SIZE: thunks whose\n"
    "                       inputs do not fit go to another engine of the force\n";

namespace {

constexpr char kAvailable[] =
    "available: local[=N], remote=HOST:PORT, slurm=N[,partition=P][,slots=K][,host=H], "
    "lambda=FUNCTION[,region=R][,endpoint=URL][,slots=N][,tmp=SIZE][,memory=SIZE][,workers=W][,host=H]"
    "[,budget=SECONDS], gcf=URL[,slots=N][,tmp=SIZE][,memory=SIZE]; see 'gg force --help'";

// A remote engine for workers that a launcher starts (Slurm, Lambda): it
// listens on an ephemeral port, and the workers connect back to `host` (else
// $GG_COORDINATOR_HOST, else this host's name) with the secret in
// `secret_file`, or a fresh one written into the store for this force (its
// path is appended to `files`, removed with the engines).
struct Listening {
  std::unique_ptr<RemoteEngine> engine;
  std::string connect;      // HOST:PORT for the workers
  std::string secret;
  std::string secret_file;  // absolute, readable by workers on a shared filesystem
};

Result<Listening> ListenForLaunchedWorkers(LocalStore* store, RemoteCache* shared, const std::string& label,
                                           std::string host, const std::string& secret_file,
                                           std::vector<std::string>* files) {
  Listening l;
  if (host.empty()) {
    const char* env = std::getenv("GG_COORDINATOR_HOST");
    char name[256] = {};
    gethostname(name, sizeof name - 1);
    host = env != nullptr && *env != '\0' ? env : name;
  }
  if (!secret_file.empty()) {
    GG_ASSIGN_OR_RETURN(l.secret, net::ReadSecretFile(secret_file));
    l.secret_file = AbsolutePath(secret_file);
  } else {
    l.secret = UniqueSuffix() + "." + std::to_string(std::random_device{}()) + std::to_string(std::random_device{}());
    l.secret_file = store->TempDir() + "/" + label + "-secret." + UniqueSuffix();
    GG_RETURN_IF_ERROR(WriteFileAtomic(l.secret_file, l.secret + "\n", 0600));
    files->push_back(l.secret_file);
  }
  GG_ASSIGN_OR_RETURN(l.engine, RemoteEngine::Listen(store, "0.0.0.0:0", l.secret, label));
  l.engine->set_shared(shared);
  l.connect = host + ":" + std::to_string(l.engine->port());
  return l;
}

std::string SelfExe() {
  char exe[4096] = {};
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  return n > 0 ? std::string(exe, n) : "gg";
}

}  // namespace

std::vector<std::string> SplitOptions(const std::string& arg) {
  std::vector<std::string> parts;
  size_t pos = 0;
  while (pos <= arg.size()) {
    size_t comma = arg.find(',', pos);
    if (comma == std::string::npos) comma = arg.size();
    parts.push_back(arg.substr(pos, comma - pos));
    pos = comma + 1;
  }
  return parts;
}

EngineSet::EngineSet() = default;

EngineSet::~EngineSet() {
  engines_.clear();      // workers' connections close first,
  slurm_jobs_.clear();   // then their jobs are cancelled,
  for (const auto& f : files_) unlink(f.c_str());
}

std::vector<Engine*> EngineSet::engines() const {
  std::vector<Engine*> out;
  for (const auto& e : engines_) out.push_back(e.get());
  return out;
}

Status EngineSet::Add(LocalStore* store, const Config& config, const std::string& spec) {
  size_t eq = spec.find('=');
  std::string kind = spec.substr(0, eq);
  std::string arg = eq == std::string::npos ? "" : spec.substr(eq + 1);
  if (kind == "local") {
    int jobs = config.jobs > 0 ? config.jobs : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    int n = arg.empty() ? jobs : std::atoi(arg.c_str());
    if (n < 1) return Status::Invalid("the job count must be positive (local=N)");
    sandbox::Options sandbox_options;
    if (!config.gg_binary.empty()) sandbox_options.server_exe = config.gg_binary;
    GG_ASSIGN_OR_RETURN(auto engine, LocalEngine::Create(store, n, sandbox_options));
    engines_.push_back(std::move(engine));
  } else if (kind == "remote") {
    if (arg.empty() || config.secret_file.empty()) {
      return Status::Invalid("'remote=HOST:PORT' needs the address and --secret-file");
    }
    GG_ASSIGN_OR_RETURN(std::string secret, net::ReadSecretFile(config.secret_file));
    GG_ASSIGN_OR_RETURN(auto engine, RemoteEngine::Listen(store, arg, secret));
    engine->set_shared(config.shared);
    engines_.push_back(std::move(engine));
  } else if (kind == "slurm") {
    GG_ASSIGN_OR_RETURN(SlurmOptions o, SlurmOptions::Parse(arg));
    GG_ASSIGN_OR_RETURN(Listening l, ListenForLaunchedWorkers(store, config.shared, "slurm", o.host,
                                                              config.secret_file, &files_));
    o.connect = l.connect;
    o.secret_file = l.secret_file;
    o.gg_binary = config.gg_binary.empty() ? SelfExe() : config.gg_binary;
    o.log_dir = store->TempDir();
    GG_ASSIGN_OR_RETURN(auto job, SlurmLauncher::Submit(o));
    slurm_jobs_.push_back(std::move(job));
    engines_.push_back(std::move(l.engine));
  } else if (kind == "lambda") {
    GG_ASSIGN_OR_RETURN(LambdaOptions o, LambdaOptions::Parse(arg));
    if (o.workers > 0) {
      // The long-running mode: functions that serve as workers for the job.
      GG_ASSIGN_OR_RETURN(Listening l, ListenForLaunchedWorkers(store, config.shared, "lambda-workers", o.host,
                                                                config.secret_file, &files_));
      auto workers = std::make_unique<LambdaWorkers>(o, l.connect, l.secret);
      // A worker near its budget drains; a fresh invocation takes its place.
      l.engine->set_on_drain([w = workers.get()](const std::string&) { w->Replace(); });
      if (Status s = workers->Start(); !s.ok()) {
        l.engine.reset();  // before `workers`, which its callback points to
        return s;
      }
      lambda_workers_.push_back(std::move(workers));
      engines_.push_back(std::move(l.engine));
    } else {
      GG_ASSIGN_OR_RETURN(auto engine, CreateLambdaEngine(store, config.shared, config.storage_uri, o));
      engines_.push_back(std::move(engine));
    }
  } else if (kind == "gcf") {
    GG_ASSIGN_OR_RETURN(GcfOptions o, GcfOptions::Parse(arg));
    GG_ASSIGN_OR_RETURN(auto engine, CreateGcfEngine(store, config.shared, config.storage_uri, o));
    engines_.push_back(std::move(engine));
  } else {
    return Status::Invalid(std::string("unknown engine (") + kAvailable + ")");
  }
  return Status::Ok();
}

Result<std::unique_ptr<EngineSet>> CreateFromSpecs(LocalStore* store, const Config& config) {
  auto set = std::make_unique<EngineSet>();
  std::vector<std::string> specs = config.specs.empty() ? std::vector<std::string>{"local"} : config.specs;
  for (const auto& spec : specs) {
    if (Status s = set->Add(store, config, spec); !s.ok()) return s.Prefix("engine '" + spec + "'");
  }
  return set;
}

}  // namespace gg::engines
