// gg build: infer, force every placeholder the build left, put the real
// outputs in place and summarize.
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

#include "cli/command.h"
#include "cli/force_flags.h"
#include "coordinator/coordinator.h"
#include "core/diagnostics.h"
#include "core/path_util.h"
#include "core/placeholder.h"
#include "engines/local_engine.h"
#include "models/force_service.h"
#include "models/infer.h"
#include "models/known_failures.h"
#include "models/leftover_placeholders.h"
#include "models/placeholder_guard.h"
#include "models/project_view.h"

namespace gg::cli {

int ParseInferOptions(int argc, char** argv, models::InferOptions* o, int* jobs);
Status UseUserStoreIfNone();

namespace {

constexpr char kUsage[] =
    "usage: gg build [--root DIR]... [--canonical-paths] [--refresh-toolchain] [--unguarded] [FORCE OPTIONS]\n"
    "                [--] COMMAND [ARG...]\n\n"
    "Runs `gg infer COMMAND`, then forces every placeholder left under the\n"
    "project roots on the engines given (default: this machine's cores),\n"
    "replaces each with its real output, and prints a summary. Thunks are forced\n"
    "as the models write them, while the build runs. Without a store ($GG_DIR,\n"
    "or .gg here or above) it uses the per-user one, $XDG_CACHE_HOME/gg\n"
    "(~/.cache/gg). --root, --canonical-paths and --refresh-toolchain are\n"
    "`gg infer`'s (see `gg infer --help`).\n\n"
    "A program the build runs that opens a placeholder (cp, a script, dlopen,\n"
    "a test) waits while gg forces it and writes the real output into it\n"
    "(fanotify; needs root). --unguarded runs without that guard where it is\n"
    "unavailable: such a program then reads the placeholder itself.\n"
    "If the build fails, placeholders whose thunks finished get their outputs\n"
    "and the rest are removed, so a plain build works again.\n\n"
    "The force options are `gg force`'s:\n\n";
constexpr char kUsageEnd[] =
    "\nExit status: COMMAND's if it failed, else 0, 1 a thunk failed, 3 other error.\n";

std::string Usage() { return kUsage + ForceFlagsHelp() + kUsageEnd; }


// A placeholder's target and its mtime: the time the build "ran" the
// command. The real output gets it back, so make and ninja see the same
// order of times as in a plain build and a rebuild with nothing changed
// runs nothing (an object copied out after the program linked from it
// would look newer and relink it).
struct Placeholder {
  Name target;
  timespec mtime{};
};

void FindPlaceholders(const std::string& dir, std::map<std::string, Placeholder>* out) {
  auto names = ListDirectory(dir);
  if (!names.ok()) return;
  for (const auto& n : *names) {
    std::string full = dir + "/" + n;
    struct stat st {};
    if (lstat(full.c_str(), &st) != 0) continue;
    if (S_ISDIR(st.st_mode)) {
      if (n != ".gg" && n != ".git") FindPlaceholders(full, out);
    } else if (S_ISREG(st.st_mode) && st.st_size <= 4096) {
      auto p = ReadPlaceholder(full);
      if (p.ok() && p->has_value()) (*out)[full] = {**p, st.st_mtim};
    }
  }
}

// Forces thunks while the build still runs, as the models write them, so
// that `gg build` costs about the larger of infer and force rather than their
// sum. Its results are reductions in the store: the final force after the
// build (which also finds placeholders moved by the build) finds them
// memoized. A failure here is not reported: the final force runs the thunk
// again if the build still needs it, and reports it then.
class EarlyForce {
 public:
  EarlyForce(LocalStore* store, const std::vector<Engine*>& engines, const std::string& trace_path) {
    options_.engines = engines;
    options_.trace_path = trace_path;
    options_.open_ended = true;
    options_.interrupted = &stop_;
    options_.progress_out = nullptr;  // make's output owns the terminal
    options_.on_done = [this](const Name& thunk, const Reduction& r) {
      std::lock_guard<std::mutex> l(mu_);
      done_[thunk.str()] = r;
      cv_.notify_all();
    };
    coordinator_ = std::make_unique<Coordinator>(store, options_);
  }
  ~EarlyForce() { Finish(false); }

  /// From the infer thread: a placeholder's target the models just wrote.
  void Add(const Name& target) {
    {
      std::lock_guard<std::mutex> l(mu_);
      added_.insert(target.object().str());
      StartLocked();
    }
    coordinator_->AddTargets({target});
  }
  /// Whether the infer thread handed `thunk` over (the force service).
  bool Has(const Name& thunk) {
    std::lock_guard<std::mutex> l(mu_);
    return added_.contains(thunk.object().str());
  }
  /// From the placeholder guard: `targets`' outputs once this force has them
  /// (a thunk already running is waited for, not run again; the reader may
  /// come before the infer thread hands the target over); nullopt once this
  /// force has stopped.
  std::optional<std::vector<ReductionOutput>> ForceNow(const std::vector<Name>& targets) {
    for (const Name& t : targets) {
      if (!t.is_thunk()) return std::nullopt;
    }
    {
      std::lock_guard<std::mutex> l(mu_);
      if (finishing_ || stopped_) return std::nullopt;
      StartLocked();
    }
    coordinator_->AddTargets(targets);
    std::vector<ReductionOutput> outputs;
    std::unique_lock<std::mutex> l(mu_);
    for (const Name& t : targets) {
      cv_.wait(l, [&] { return stopped_ || done_.contains(t.object().str()); });
      auto it = done_.find(t.object().str());
      if (it == done_.end()) return std::nullopt;
      const ReductionOutput* out = it->second.Find(t.tag());
      if (out == nullptr) return std::nullopt;
      outputs.push_back(*out);
    }
    return outputs;
  }
  /// Waits for what was added (or, with `cancel`, stops it).
  void Finish(bool cancel) {
    {
      std::lock_guard<std::mutex> l(mu_);
      finishing_ = true;
    }
    if (cancel) stop_ = true;
    coordinator_->EndTargets();
    if (thread_.joinable()) thread_.join();
  }
  size_t executed() const { return coordinator_->stats().executed; }
  /// The thunks it saw: those the final force sees and what they depend on
  /// (a discovery's text check is never forced again once it is memoized).
  size_t total() const { return coordinator_->stats().total; }

 private:
  void StartLocked() {
    if (started_) return;
    started_ = true;
    thread_ = std::thread([this] {
      (void)coordinator_->Force({});
      std::lock_guard<std::mutex> l(mu_);
      stopped_ = true;
      cv_.notify_all();
    });
  }

  std::atomic<bool> stop_{false};
  ForceOptions options_;
  std::unique_ptr<Coordinator> coordinator_;
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, Reduction> done_;  ///< every thunk done so far, by name
  std::set<std::string> added_;            ///< every target Add() was given, by name
  bool started_ = false;                   ///< Force() runs on thread_
  bool finishing_ = false;                 ///< Finish() was called
  bool stopped_ = false;                   ///< Force() has returned
};

// A compile sees only the project roots (and the toolchain): one that fails
// on an absolute path outside them, which exists on this machine, says only
// "No such file or directory", which a plain build contradicts. Says which
// file and what to do.
void HintFilesOutsideRoots(const std::string& failure, const std::vector<std::string>& roots) {
  static const std::string kFatal = "fatal error: ", kMissing = ": No such file or directory";
  std::set<std::string> hinted;
  for (size_t at = failure.find(kFatal); at != std::string::npos; at = failure.find(kFatal, at + 1)) {
    const size_t from = at + kFatal.size(), end = failure.find(kMissing, from);
    if (end == std::string::npos || failure.find('\n', from) < end) continue;
    const std::string path = failure.substr(from, end - from);
    struct stat st {};
    if (path.empty() || path[0] != '/' || stat(path.c_str(), &st) != 0 || !hinted.insert(path).second) continue;
    if (std::any_of(roots.begin(), roots.end(), [&](const std::string& r) { return models::IsUnder(path, r); })) continue;
    std::string shown;
    for (const auto& r : roots) shown += (shown.empty() ? "" : ", ") + r;
    std::fprintf(stderr,
                 "gg: %s exists on this machine, but the build's compiles see only the project roots (%s) and "
                 "the toolchain; to let them read it, run gg build with --root %s\n",
                 path.c_str(), shown.c_str(), DirName(path).c_str());
  }
}

// Reports what the guard forced for programs of the build; true if any
// read was denied (the build may have gone on without the file).
bool ReportGuardedReads(const models::PlaceholderGuard& guard, const std::vector<std::string>& roots) {
  auto reads = guard.reads();
  size_t failed = 0;
  for (const auto& r : reads) failed += !r.error.empty();
  if (reads.size() > failed) {
    std::fprintf(stderr, "gg: %zu placeholder%s read by the build forced first:\n", reads.size() - failed,
                 reads.size() - failed == 1 ? "" : "s");
    size_t shown = 0;
    for (const auto& r : reads) {
      if (!r.error.empty()) continue;
      if (++shown > 10) {
        std::fprintf(stderr, "  ... and %zu more\n", reads.size() - failed - 10);
        break;
      }
      std::fprintf(stderr, "  %s   [read by %s]\n", r.path.c_str(), r.reader.c_str());
    }
  }
  for (const auto& r : reads) {
    if (r.error.empty()) continue;
    std::fprintf(stderr, "gg: %s read the placeholder %s, which could not be computed, so its open was denied:\n%s\n",
                 r.reader.c_str(), r.path.c_str(), r.error.c_str());
    HintFilesOutsideRoots(r.error, roots);
  }
  return failed > 0;
}

// After a failure: no placeholder stays where the build system reads it.
void CleanUpAfterFailure(LocalStore* store, const std::vector<std::string>& dirs) {
  std::map<std::string, Placeholder> found;
  for (const auto& d : dirs) FindPlaceholders(d, &found);
  if (found.empty()) return;
  std::map<std::string, Name> placeholders;
  for (const auto& [path, p] : found) placeholders.emplace(path, p.target);
  auto sum = models::ResolveLeftoverPlaceholders(store, placeholders);
  if (!sum.ok()) {
    std::fprintf(stderr, "gg: cleaning up the placeholders the build left: %s\n", sum.status().message().c_str());
    return;
  }
  std::fprintf(stderr,
               "gg: the build failed; of its %zu placeholders, %zu got their computed outputs, %zu were removed"
               "%s so a plain build works again\n",
               placeholders.size(), sum->written, sum->removed,
               sum->dummied ? (", " + std::to_string(sum->dummied) + " included dependency files now '# dummy',").c_str()
                            : ",");
}

// Thunks the models answered "exit 0" for, whose placeholders the build then
// deleted or overwrote unread (a check such as `$(CC) -o t t.c && rm t &&
// echo yes`): the build may have branched on that answer, so each must
// succeed. Each one that fails is recorded, so that the models run it for
// real from then on, and reported; false if any failed.
bool VerifyVanished(LocalStore* store, ForceOptions options, const std::vector<Name>& vanished) {
  if (vanished.empty()) return true;
  options.trace_path.clear();  // the build's trace stays the build's
  options.progress_out = nullptr;
  {
    // The early force ran them all as the build went: normally all memoized.
    Coordinator all(store, options);
    if (all.Force(vanished).ok()) return true;
  }
  bool ok = true;
  for (const auto& target : vanished) {
    if (options.interrupted && options.interrupted->load()) return false;
    Coordinator one(store, options);
    auto r = one.Force({target});
    if (r.ok()) continue;
    ok = false;
    if (r.status().code() != Status::Code::kFailed) {  // not the program's answer: nothing to record
      std::fprintf(stderr, "gg: cannot check a command the build ran: %s\n", r.status().message().c_str());
      continue;
    }
    (void)models::RecordKnownFailure(*store, target, r.status().message());
    std::fprintf(stderr,
                 "gg: the build ran a command that gg answered at once as succeeding (it defers compiles and "
                 "links), then deleted or replaced its output unread; but the command fails:\n%s\n",
                 r.status().message().c_str());
  }
  if (!ok) {
    std::fprintf(stderr,
                 "gg: the build may have chosen its path on that answer (a check such as `$(CC) -o t t.c && echo "
                 "yes`), so its outputs cannot be trusted. gg has recorded that the command fails and will run it "
                 "for real from now on: remove this build's outputs (e.g. `make clean`) and run gg build again.\n");
  }
  return ok;
}

// What the build's compiles and links wrote on stderr (warnings), as a plain
// build shows them, in the order the build ran the commands; also for thunks
// memoized from an earlier build. A target's own thunk (a discovery thunk,
// or the substitute that compiled in its place) and the thunks it reduced to
// are each looked at.
void ShowDiagnostics(LocalStore* store, const std::vector<Name>& targets) {
  std::set<std::string> seen;
  std::string shown;
  size_t commands = 0;
  for (const auto& target : targets) {
    Name name = target.object();
    for (int depth = 0; depth < 16 && seen.insert(name.str()).second; ++depth) {
      if (auto text = FindDiagnostics(*store, name)) {
        shown += *text;
        if (!text->ends_with('\n')) shown += '\n';
        ++commands;
      }
      auto r = store->reductions().Get(name);
      if (!r.ok() || !r->has_value() || (*r)->outputs.empty() || !(*r)->outputs[0].name.is_thunk()) break;
      name = (*r)->outputs[0].name;
    }
  }
  if (commands == 0) return;
  std::fprintf(stderr, "gg: what the build's compiles and links said (%zu thunks):\n%s", commands, shown.c_str());
}

}  // namespace

int BuildMain(int argc, char** argv) {
  if (WantsHelp(argc, argv)) {
    std::printf("%s", Usage().c_str());
    return kExitOk;
  }
  auto start = std::chrono::steady_clock::now();
  ForceFlags flags;
  auto rest = ExtractForceFlags(argc, argv, {"--root"}, &flags);
  if (!rest.ok()) {
    std::fprintf(stderr, "gg: %s\n%s", rest.status().message().c_str(), Usage().c_str());
    return kExitUsage;
  }
  // --unguarded is gg build's own; the rest are infer's (-j went with the force flags).
  bool unguarded = false;
  std::vector<char*>& args = *rest;
  for (size_t i = 1; i < args.size() && std::string(args[i]) != "--"; ++i) {
    if (std::string(args[i]) == "--unguarded") {
      unguarded = true;
      args.erase(args.begin() + static_cast<long>(i));
      break;
    }
  }
  models::InferOptions options;
  if (ParseInferOptions(static_cast<int>(args.size()), args.data(), &options, nullptr) < 0) {
    std::fprintf(stderr, "%s", Usage().c_str());
    return kExitUsage;
  }
  int jobs = flags.engines.jobs > 0 ? flags.engines.jobs
                                    : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  if (Status s = UseUserStoreIfNone(); !s.ok()) return Fail(s);
  auto store = OpenStoreOrComplain();
  if (!store) return kExitError;
  // The engines start first: a bad --engine stops before the build runs, and
  // workers (Slurm, Lambda) start up while infer runs. Interrupts are caught
  // from here on: an interrupted build cleans up its placeholders.
  auto setup = SetUpForce(store.get(), flags);
  if (!setup.ok()) return Fail(setup.status());
  const ForceOptions& force_options = (*setup)->options;
  const std::atomic<bool>* interrupted = force_options.interrupted;
  options.interrupted = interrupted;
  std::vector<std::string> dirs = {AbsolutePath(".")};
  for (const auto& r : options.roots) dirs.push_back(AbsolutePath(r));
  std::vector<std::string> shown_roots = dirs;  // what compiles see of the host, besides the toolchain
  for (const auto& r : models::DetectRoots(AbsolutePath("."))) shown_roots.push_back(r);
  // Before the guard, which forces through it (and is destroyed first).
  auto early = std::make_unique<EarlyForce>(store.get(), force_options.engines, force_options.trace_path);
  std::unique_ptr<models::PlaceholderGuard> guard;
  if (!unguarded) {
    models::PlaceholderGuard::Options go;
    go.roots = shown_roots;
    go.model_exes = {options.gg_exe, options.model_exe, DirName(options.gg_exe) + "/gg-discover"};
    go.jobs = jobs;
    go.interrupted = interrupted;
    go.force = [e = early.get()](const std::vector<Name>& targets) { return e->ForceNow(targets); };
    auto g = models::PlaceholderGuard::Create(store.get(), go);
    if (!g.ok()) {
      std::fprintf(stderr,
                   "gg build: cannot guard placeholders: %s.\n"
                   "Without the guard, a program the build runs (cp, a script, a test, dlopen) that reads a\n"
                   "file a model has not computed yet reads the placeholder. Run as root, or pass --unguarded\n"
                   "to build anyway (see docs/models.md, \"The placeholder guard\").\n",
                   g.status().message().c_str());
      return kExitError;
    }
    guard = std::move(*g);
    options.in_namespace = [p = guard.get()] { return p->AttachInNamespace(); };
    // The guard acts when a placeholder is opened; this makes a stat() open it.
    options.preload = DirName(options.model_exe) + "/libgg-stat-guard.so";
  } else {
    std::fprintf(stderr, "gg: --unguarded: programs of the build that read a placeholder will read the placeholder\n");
  }
  // gg-model's own forces (a command that wants its real exit status, a
  // tool run for real on a placeholder) go through the early force too where
  // it has the thunks, so a thunk it runs already is not run a second time
  // beside it (force_service.h).
  std::vector<Name> emitted;  // every target the models answered for, in order
  options.thunks = std::make_shared<models::ThunkFeed>([&early, &emitted](const Name& target) {
    emitted.push_back(target);
    early->Add(target);
  });
  models::ForceService::Options fso;
  fso.force = [e = early.get()](const std::vector<Name>& targets) { return e->ForceNow(targets); };
  fso.handed_over = [e = early.get()](const Name& thunk) { return e->Has(thunk); };
  fso.catch_up = [feed = options.thunks] { feed->CatchUp(); };
  fso.jobs = jobs;
  fso.interrupted = interrupted;
  for (Engine* e : force_options.engines) {
    if (dynamic_cast<LocalEngine*>(e) != nullptr) fso.shared_engine = e;
  }
  auto force_service = models::ForceService::Start(store.get(), fso);
  if (!force_service.ok()) return Fail(force_service.status());
  setenv(models::kForceSocketEnv, (*force_service)->socket_path().c_str(), 1);
  // The local sandbox server (a fork and exec of gg: tens of ms) started
  // when the first thunk reached the engine, after the first model calls
  // returned: on the critical path before the first compile. The first
  // model call says the build has work to do: start it then, beside the
  // model servers' first calls. A rebuild with nothing to redo makes no
  // model call and still starts none.
  options.on_first_model_call = [&force_options] {
    for (Engine* e : force_options.engines) {
      if (auto* local = dynamic_cast<LocalEngine*>(e)) (void)local->hermetic();
    }
  };
  auto inferred = models::RunInfer(store.get(), options);
  auto force_start = std::chrono::steady_clock::now();  // the rest of the forcing: what infer did not hide
  early->Finish(!inferred.ok() || inferred->exit_code != 0 || interrupted->load());
  (*force_service)->Stop();
  unsetenv(models::kForceSocketEnv);
  bool guard_denied = false;
  if (guard) {
    guard->Stop();
    guard_denied = ReportGuardedReads(*guard, shown_roots);
  }
  if (!inferred.ok()) {
    int rc = Fail(inferred.status());
    HintFilesOutsideRoots(inferred.status().message(), shown_roots);
    CleanUpAfterFailure(store.get(), dirs);
    return rc;
  }
  models::PrintLocalSummary(*inferred, stderr);
  if (inferred->exit_code != 0 && !interrupted->load()) {
    std::fprintf(stderr, "gg: the build command failed (exit %d)\n", inferred->exit_code);
    CleanUpAfterFailure(store.get(), dirs);
    return inferred->exit_code;
  }
  if (guard_denied || interrupted->load()) {
    std::fprintf(stderr, "gg: %s\n",
                 interrupted->load() ? "interrupted"
                                     : "the build command exited 0, but a file it read could not be computed (above)");
    CleanUpAfterFailure(store.get(), dirs);
    return interrupted->load() ? kExitInterrupted : kExitThunkFailed;
  }

  std::map<std::string, Placeholder> placeholders;
  for (const auto& d : dirs) FindPlaceholders(d, &placeholders);

  std::vector<Name> targets;
  std::vector<std::string> paths;
  std::set<std::string> left;
  for (const auto& [path, p] : placeholders) {
    paths.push_back(path);
    targets.push_back(p.target);
    left.insert(p.target.str());
  }
  std::vector<Name> vanished;
  for (const auto& t : emitted) {
    if (left.insert(t.str()).second) vanished.push_back(t);
  }
  if (!VerifyVanished(store.get(), force_options, vanished)) {
    CleanUpAfterFailure(store.get(), dirs);
    return interrupted->load() ? kExitInterrupted : kExitThunkFailed;
  }
  // The --trace holds the forcing during the build; the final force, which
  // mostly finds that work memoized, replaces it only if it ran something.
  ForceOptions final_options = force_options;
  if (!force_options.trace_path.empty() && early->executed() > 0) {
    final_options.trace_path = force_options.trace_path + ".after";
  }
  Coordinator coordinator(store.get(), final_options);
  ForceStats stats{};
  if (!targets.empty()) {
    auto outputs = coordinator.Force(targets);
    if (!outputs.ok()) {
      int rc = Fail(outputs.status());
      HintFilesOutsideRoots(outputs.status().message(), shown_roots);
      CleanUpAfterFailure(store.get(), dirs);
      return force_options.interrupted->load() ? kExitInterrupted : rc;
    }
    for (size_t i = 0; i < paths.size(); ++i) {
      if (Status s = store->CopyOut((*outputs)[i].name, paths[i], (*outputs)[i].executable); !s.ok()) return Fail(s);
      const timespec times[2] = {{0, UTIME_NOW}, placeholders[paths[i]].mtime};
      if (utimensat(AT_FDCWD, paths[i].c_str(), times, 0) != 0) {
        return Fail(Status::FromErrno("setting the build's time on " + paths[i], errno));
      }
    }
    stats = coordinator.stats();
  }
  if (final_options.trace_path != force_options.trace_path) {
    if (stats.executed > 0) {
      std::rename(final_options.trace_path.c_str(), force_options.trace_path.c_str());
    } else {
      unlink(final_options.trace_path.c_str());
    }
  }
  ShowDiagnostics(store.get(), emitted);
  auto end = std::chrono::steady_clock::now();
  double force_s = std::chrono::duration<double>(end - force_start).count();
  double total_s = std::chrono::duration<double>(end - start).count();
  // Thunks forced during the build count as run, not memoized.
  size_t total = std::max(stats.total, early->total());
  size_t ran = std::min(total, stats.executed + early->executed());
  std::fprintf(stderr,
               "gg: build done: %zu outputs, %zu thunks (%zu ran, %zu memoized), %zu ran locally; "
               "infer %.2f s (forcing %zu meanwhile), force after %.2f s, total %.2f s\n",
               paths.size(), total, ran, total - ran, inferred->local_commands.size(),
               inferred->seconds, early->executed(), force_s, total_s);
  return kExitOk;
}

}  // namespace gg::cli
