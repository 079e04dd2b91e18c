// `gg infer`: runs a real build command with the tools replaced by models,
// in a private mount namespace where gg-model is bind-mounted over each real
// tool (so absolute compiler paths, as CMake writes them, reach it too).
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/local_store.h"

namespace gg::models {

/// The session's log of thunks as the models append to it: each target goes
/// to `on_thunk` (from another thread) once. RunInfer reads it as it grows;
/// CatchUp reads it now, for a caller that must know a thunk a model wrote
/// a moment ago (gg build's force service: a command ninja runs waits for
/// its dependency file, whose thunk must go through the build's force, not
/// run a second time beside it).
class ThunkFeed {
 public:
  explicit ThunkFeed(std::function<void(const Name& target)> on_thunk) : on_thunk_(std::move(on_thunk)) {}
  void CatchUp();
  /// RunInfer's: reading starts at `log` and stops for good at Close.
  void Open(const std::string& log);
  void Close();

 private:
  std::mutex mu_;
  std::string log_;  ///< "" before Open and after Close
  off_t offset_ = 0;
  std::function<void(const Name&)> on_thunk_;
};

struct InferOptions {
  std::vector<std::string> command;  ///< the build command, run with execvp
  std::vector<std::string> roots;    ///< project roots besides the cwd
  std::string gg_exe;                ///< the gg binary (models call `gg force`)
  std::string model_exe;             ///< gg-model (gg-model-server beside it)
  int model_servers = 0;             ///< model server processes; 0: one per core, at least 2
  /// Each placeholder's target as the models write it, so the caller can
  /// start forcing during the build; null: none.
  std::shared_ptr<ThunkFeed> thunks;
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
