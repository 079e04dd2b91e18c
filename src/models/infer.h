// `gg infer`: runs a real build command with the tools replaced by models,
// in a private mount namespace where gg-model is bind-mounted over each real
// tool (so absolute compiler paths, as CMake writes them, reach it too).
#pragma once

#include <atomic>
#include <functional>
#include <string>
#include <vector>

#include "core/local_store.h"

namespace gg::models {

struct InferOptions {
  std::vector<std::string> command;  ///< the build command, run with execvp
  std::vector<std::string> roots;    ///< project roots besides the cwd
  std::string gg_exe;                ///< the gg binary (models call `gg force`)
  std::string model_exe;             ///< gg-model (gg-model-server beside it)
  int model_servers = 0;             ///< model server processes; 0: one per core, at least 2
  /// Called (from another thread) with each placeholder's target as the
  /// models write it, so the caller can start forcing during the build.
  std::function<void(const Name& target)> on_thunk;
  /// Called once (from another thread, after the model servers started) at
  /// the first model call: the build has work to do. `gg build` starts its
  /// sandbox server then, beside the first calls, instead of after them.
  std::function<void()> on_first_model_call;
  bool refresh_toolchain = false;
  bool canonical_paths = false;      ///< see canonical_paths.h
  /// Run in the build's mount namespace just before the command starts (in
  /// the forked child: system calls only); false stops with exit 126.
  /// `gg build` attaches the placeholder guard here.
  std::function<bool()> in_namespace;
  /// A library put first in the build's $LD_PRELOAD (`gg build`: the stat
  /// guard beside gg-model, stat_guard.c).
  std::string preload;
  /// Set by a SIGINT or SIGTERM to gg: the build's processes are stopped.
  const std::atomic<bool>* interrupted = nullptr;
};

struct InferResult {
  int exit_code = 0;                       ///< the build command's
  size_t thunks = 0;                       ///< placeholders the models wrote
  std::vector<std::string> local_commands; ///< "reason\tcommand", in order
  std::vector<std::string> queries;        ///< same, for commands that write nothing (gcc -dumpmachine)
  double seconds = 0;
};

Result<InferResult> RunInfer(LocalStore* store, const InferOptions& options);

/// gg-model's path: $GG_MODEL_EXE, else beside `gg_exe`.
std::string DefaultModelExe(const std::string& gg_exe);

/// Prints "N commands ran locally: ..." (nothing when N is 0), and a
/// one-line count of queries.
void PrintLocalSummary(const InferResult& r, FILE* out);

/// Project roots implied by the build directory (CMake's source dir).
std::vector<std::string> DetectRoots(const std::string& cwd);

}  // namespace gg::models
