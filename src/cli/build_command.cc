// gg build: infer, force every placeholder the build left, put the real
// outputs in place and summarize.
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <thread>

#include "cli/command.h"
#include "coordinator/coordinator.h"
#include "core/path_util.h"
#include "core/placeholder.h"
#include "engines/local_engine.h"
#include "models/infer.h"
#include "models/project_view.h"

namespace gg::cli {

int ParseInferOptions(int argc, char** argv, models::InferOptions* o, int* jobs);
Status UseUserStoreIfNone();

namespace {

constexpr char kUsage[] =
    "usage: gg build [-j N] [--root DIR]... [--canonical-paths] [--refresh-toolchain] [--] COMMAND [ARG...]\n\n"
    "Runs `gg infer COMMAND`, then forces every placeholder left under the\n"
    "project roots with N thunks at once (default: cores), replaces each with\n"
    "its real output, and prints a summary. Without a store ($GG_DIR, or .gg\n"
    "here or above) it uses the per-user one, $XDG_CACHE_HOME/gg (~/.cache/gg).\n"
    "Options as `gg infer` (see `gg infer --help`).\n\n"
    "Exit status: COMMAND's if it failed, else 0, 1 a thunk failed, 3 other error.\n";


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
  EarlyForce(LocalStore* store, Engine* engine) {
    options_.engines.push_back(engine);
    options_.open_ended = true;
    options_.interrupted = &stop_;
    options_.progress_out = quiet_.get() ? quiet_.get() : stderr;  // make's output owns the terminal
    coordinator_ = std::make_unique<Coordinator>(store, options_);
  }
  ~EarlyForce() { Finish(false); }

  /// From the infer thread: a placeholder's target the models just wrote.
  void Add(const Name& target) {
    if (!thread_.joinable()) {
      thread_ = std::thread([this] { (void)coordinator_->Force({}); });
    }
    coordinator_->AddTargets({target});
  }
  /// Waits for what was added (or, with `cancel`, stops it).
  void Finish(bool cancel) {
    if (cancel) stop_ = true;
    coordinator_->EndTargets();
    if (thread_.joinable()) thread_.join();
  }
  size_t executed() const { return coordinator_->stats().executed; }

 private:
  std::unique_ptr<FILE, int (*)(FILE*)> quiet_{std::fopen("/dev/null", "we"), &std::fclose};
  std::atomic<bool> stop_{false};
  ForceOptions options_;
  std::unique_ptr<Coordinator> coordinator_;
  std::thread thread_;
};

}  // namespace

int BuildMain(int argc, char** argv) {
  if (WantsHelp(argc, argv)) {
    std::printf("%s", kUsage);
    return kExitOk;
  }
  auto start = std::chrono::steady_clock::now();
  int jobs = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  models::InferOptions options;
  if (ParseInferOptions(argc, argv, &options, &jobs) < 0 || jobs < 1) {
    std::fprintf(stderr, "%s", kUsage);
    return kExitUsage;
  }
  if (Status s = UseUserStoreIfNone(); !s.ok()) return Fail(s);
  auto store = OpenStoreOrComplain();
  if (!store) return kExitError;
  auto engine = LocalEngine::Create(store.get(), jobs);
  if (!engine.ok()) return Fail(engine.status());
  auto early = std::make_unique<EarlyForce>(store.get(), engine->get());
  options.on_thunk = [&early](const Name& target) { early->Add(target); };
  auto inferred = models::RunInfer(store.get(), options);
  auto force_start = std::chrono::steady_clock::now();  // the rest of the forcing: what infer did not hide
  early->Finish(!inferred.ok() || inferred->exit_code != 0);
  if (!inferred.ok()) return Fail(inferred.status());
  models::PrintLocalSummary(*inferred, stderr);
  if (inferred->exit_code != 0) {
    std::fprintf(stderr, "gg: the build command failed (exit %d)\n", inferred->exit_code);
    return inferred->exit_code;
  }

  std::map<std::string, Placeholder> placeholders;
  std::vector<std::string> dirs = {AbsolutePath(".")};
  for (const auto& r : options.roots) dirs.push_back(AbsolutePath(r));
  for (const auto& d : dirs) FindPlaceholders(d, &placeholders);

  ForceOptions force_options;
  force_options.engines.push_back(engine->get());
  force_options.interrupted = CatchInterrupts();
  std::vector<Name> targets;
  std::vector<std::string> paths;
  for (const auto& [path, p] : placeholders) {
    paths.push_back(path);
    targets.push_back(p.target);
  }
  Coordinator coordinator(store.get(), force_options);
  ForceStats stats{};
  if (!targets.empty()) {
    auto outputs = coordinator.Force(targets);
    if (!outputs.ok()) {
      int rc = Fail(outputs.status());
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
  auto end = std::chrono::steady_clock::now();
  double force_s = std::chrono::duration<double>(end - force_start).count();
  double total_s = std::chrono::duration<double>(end - start).count();
  // Thunks forced during the build count as run, not memoized.
  size_t ran = std::min(stats.total, stats.executed + early->executed());
  std::fprintf(stderr,
               "gg: build done: %zu outputs, %zu thunks (%zu ran, %zu memoized), %zu ran locally; "
               "infer %.2f s (forcing %zu meanwhile), force after %.2f s, total %.2f s\n",
               paths.size(), stats.total, ran, stats.total - ran, inferred->local_commands.size(),
               inferred->seconds, early->executed(), force_s, total_s);
  return kExitOk;
}

}  // namespace gg::cli
