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
#include "models/project_view.h"

namespace gg::cli {

int ParseInferOptions(int argc, char** argv, models::InferOptions* o, int* jobs);

namespace {

constexpr char kUsage[] =
    "usage: gg build [--root DIR]... [--canonical-paths] [--refresh-toolchain] [FORCE OPTIONS] [--]\n"
    "                COMMAND [ARG...]\n\n"
    "Runs `gg infer COMMAND`, then forces every placeholder left under the\n"
    "project roots on the engines given (default: this machine's cores),\n"
    "replaces each with its real output, and prints a summary. Creates ./.gg if\n"
    "no store is found. --root, --canonical-paths and --refresh-toolchain are\n"
    "`gg infer`'s (see `gg infer --help`); the force options are `gg force`'s:\n\n";
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
  models::InferOptions options;  // -j went with the force flags
  if (ParseInferOptions(static_cast<int>(rest->size()), rest->data(), &options, nullptr) < 0) {
    std::fprintf(stderr, "%s", Usage().c_str());
    return kExitUsage;
  }
  if (!LocalStore::FindDir().ok()) {
    if (Status s = LocalStore::Init(AbsolutePath(".gg")); !s.ok()) return Fail(s);
    setenv("GG_DIR", AbsolutePath(".gg").c_str(), 1);
  }
  auto store = OpenStoreOrComplain();
  if (!store) return kExitError;
  // The engines start first: a bad --engine stops before the build runs, and
  // workers (Slurm, Lambda) start up while infer runs.
  auto setup = SetUpForce(store.get(), flags);
  if (!setup.ok()) return Fail(setup.status());
  const ForceOptions& force_options = (*setup)->options;
  auto inferred = models::RunInfer(store.get(), options);
  if (!inferred.ok()) return Fail(inferred.status());
  models::PrintLocalSummary(*inferred, stderr);
  if (inferred->exit_code != 0) {
    std::fprintf(stderr, "gg: the build command failed (exit %d)\n", inferred->exit_code);
    return inferred->exit_code;
  }

  std::map<std::string, Name> placeholders;
  std::vector<std::string> dirs = {AbsolutePath(".")};
  for (const auto& r : options.roots) dirs.push_back(AbsolutePath(r));
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
