// gg build: infer, force every placeholder the build left, put the real
// outputs in place and summarize.
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <thread>

#include "cli/command.h"
#include "cli/force_flags.h"
#include "coordinator/coordinator.h"
#include "core/path_util.h"
#include "core/placeholder.h"
#include "models/infer.h"
#include "models/leftover_placeholders.h"
#include "models/placeholder_guard.h"
#include "models/project_view.h"

namespace gg::cli {

int ParseInferOptions(int argc, char** argv, models::InferOptions* o, int* jobs);

namespace {

constexpr char kUsage[] =
    "usage: gg build [--root DIR]... [--canonical-paths] [--refresh-toolchain] [--unguarded] [FORCE OPTIONS]\n"
    "                [--] COMMAND [ARG...]\n\n"
    "Runs `gg infer COMMAND`, then forces every placeholder left under the\n"
    "project roots on the engines given (default: this machine's cores),\n"
    "replaces each with its real output, and prints a summary. Creates ./.gg if\n"
    "no store is found. --root, --canonical-paths and --refresh-toolchain are\n"
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


void FindPlaceholders(const std::string& dir, std::map<std::string, Name>* out) {
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
      if (p.ok() && p->has_value()) (*out)[full] = **p;
    }
  }
}

// Reports what the guard forced for programs of the build; true if any
// read was denied (the build may have gone on without the file).
bool ReportGuardedReads(const models::PlaceholderGuard& guard) {
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
  }
  return failed > 0;
}

// After a failure: no placeholder stays where the build system reads it.
void CleanUpAfterFailure(LocalStore* store, const std::vector<std::string>& dirs) {
  std::map<std::string, Name> placeholders;
  for (const auto& d : dirs) FindPlaceholders(d, &placeholders);
  if (placeholders.empty()) return;
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
  if (!LocalStore::FindDir().ok()) {
    if (Status s = LocalStore::Init(AbsolutePath(".gg")); !s.ok()) return Fail(s);
    setenv("GG_DIR", AbsolutePath(".gg").c_str(), 1);
  }
  auto store = OpenStoreOrComplain();
  if (!store) return kExitError;
  // The engines start first: a bad --engine stops before the build runs, and
  // workers (Slurm, Lambda) start up while infer runs. Interrupts are caught
  // from here on: an interrupted build cleans up its placeholders.
  auto setup = SetUpForce(store.get(), flags);
  if (!setup.ok()) return Fail(setup.status());
  const ForceOptions& force_options = (*setup)->options;
  const std::atomic<bool>* interrupted = force_options.interrupted;
  std::vector<std::string> dirs = {AbsolutePath(".")};
  for (const auto& r : options.roots) dirs.push_back(AbsolutePath(r));
  std::unique_ptr<models::PlaceholderGuard> guard;
  if (!unguarded) {
    models::PlaceholderGuard::Options go;
    go.roots = dirs;
    for (const auto& r : models::DetectRoots(AbsolutePath("."))) go.roots.push_back(r);
    go.model_exes = {options.gg_exe, options.model_exe, DirName(options.gg_exe) + "/gg-discover"};
    go.jobs = jobs;
    go.interrupted = interrupted;
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
  } else {
    std::fprintf(stderr, "gg: --unguarded: programs of the build that read a placeholder will read the placeholder\n");
  }
  auto inferred = models::RunInfer(store.get(), options);
  bool guard_denied = false;
  if (guard) {
    guard->Stop();
    guard_denied = ReportGuardedReads(*guard);
  }
  if (!inferred.ok()) {
    int rc = Fail(inferred.status());
    CleanUpAfterFailure(store.get(), dirs);
    return rc;
  }
  models::PrintLocalSummary(*inferred, stderr);
  if (inferred->exit_code != 0) {
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

  std::map<std::string, Name> placeholders;
  for (const auto& d : dirs) FindPlaceholders(d, &placeholders);

  std::vector<Name> targets;
  std::vector<std::string> paths;
  for (const auto& [path, name] : placeholders) {
    paths.push_back(path);
    targets.push_back(name);
  }
  auto force_start = std::chrono::steady_clock::now();
  Coordinator coordinator(store.get(), force_options);
  ForceStats stats{};
  if (!targets.empty()) {
    auto outputs = coordinator.Force(targets);
    if (!outputs.ok()) {
      int rc = Fail(outputs.status());
      CleanUpAfterFailure(store.get(), dirs);
      return force_options.interrupted->load() ? kExitInterrupted : rc;
    }
    for (size_t i = 0; i < paths.size(); ++i) {
      if (Status s = store->CopyOut((*outputs)[i].name, paths[i], (*outputs)[i].executable); !s.ok()) return Fail(s);
    }
    stats = coordinator.stats();
  }
  auto end = std::chrono::steady_clock::now();
  double force_s = std::chrono::duration<double>(end - force_start).count();
  double total_s = std::chrono::duration<double>(end - start).count();
  std::fprintf(stderr,
               "gg: build done: %zu outputs, %zu thunks (%zu ran, %zu memoized), %zu ran locally; "
               "infer %.2f s, force %.2f s, total %.2f s\n",
               paths.size(), stats.total, stats.executed, stats.memoized, inferred->local_commands.size(),
               inferred->seconds, force_s, total_s);
  return kExitOk;
}

}  // namespace gg::cli
