// A gg store (a `.gg` directory): objects named by their content and the
// record of what each thunk reduced to. Programs put their inputs and thunks
// here, force targets, and read the outputs back. See docs/sdk_cpp.md.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "gg/name.h"
#include "gg/status.h"
#include "gg/thunk.h"
#include "gg/tree.h"

namespace gg {

/// How far a force has got; passed to ForceSettings::on_progress.
struct ForceProgress {
  size_t total = 0;     ///< thunks known so far (tail recursion adds more)
  size_t done = 0;      ///< finished, whether run or memoized
  size_t memoized = 0;  ///< found already reduced: not run
  size_t executed = 0;  ///< run in this force
  size_t running = 0;
  size_t failed = 0;
  double elapsed_seconds = 0;
};

/// The options of `gg force`, as a struct.
struct ForceSettings {
  /// Engines in order of preference, written as after `gg force --engine`
  /// ("local", "local=N", "remote=HOST:PORT", "slurm=N,...", "lambda=FN,...";
  /// see docs/engines.md). Empty: {"local"}.
  std::vector<std::string> engines;
  std::string secret_file;        ///< the secret remote workers must know (`--secret-file`)
  int jobs = 0;                   ///< thunks at once on "local"; 0: one per core
  std::string storage;            ///< a shared store's URI (redis://, s3://...); empty: $GG_STORAGE_URI
  std::string trace_path;         ///< write the run as Chrome trace-event JSON here
  double straggler_seconds = 0;   ///< run a second copy of a thunk slower than this; 0: adaptive
  int max_attempts = 3;           ///< runs of a thunk whose infrastructure failed
  /// Called about every 0.1 s while the force runs, and once at the end.
  std::function<void(const ForceProgress&)> on_progress;
  /// The program that serves sandboxes: gg itself. Empty: $GG_BINARY, else
  /// `gg` on $PATH, else the gg installed beside this SDK.
  std::string gg_binary;
};

class Store {
 public:
  /// The store in `dir`, or ($GG_DIR, else the nearest `.gg` upwards from
  /// the working directory) when `dir` is empty.
  static Result<Store> Open(const std::string& dir = "");
  /// Creates a store in `dir` if there is none, and opens it.
  static Result<Store> Init(const std::string& dir);

  Store(Store&&) noexcept;
  Store& operator=(Store&&) noexcept;
  ~Store();

  const std::string& dir() const;

  // Putting things in. Each returns the stored object's name.
  Result<Name> Put(std::string_view content);
  Result<Name> PutThunk(const Thunk& thunk);  ///< validated first
  Result<Name> PutTree(const Tree& tree);
  /// A file as a value, or a directory (recursively) as a tree; large files
  /// are streamed, not read into memory.
  Result<Name> Collect(const std::string& path);

  // Reading.
  bool Has(const Name& name) const;
  /// An object's content, checked against its name.
  Result<std::string> Get(const Name& name);
  /// A stored thunk, parsed and validated.
  Result<Thunk> GetThunk(const Name& name);
  /// Writes an object to `path` (atomically replacing what is there).
  Status CopyOut(const Name& name, const std::string& path, bool executable = false);
  /// What a thunk (or T...#tag) has reduced to, if it has been forced: a
  /// value, or, for a tail call, the thunk it reduced to. nullopt if not yet.
  Result<std::optional<Name>> ReducedTo(const Name& thunk);
  /// Writes a placeholder file standing for `target`; `gg force FILE` (or
  /// Force below) replaces it by the output.
  Status WritePlaceholder(const std::string& path, const Name& target);

  /// Forces each target (a thunk, maybe with #tag, or a value) through the
  /// coordinator of `gg force` and returns the value each stands for, in
  /// order. A thunk's failure is a kFailed (or kTimeout) status naming the
  /// thunk, with its command line, exit status and stderr.
  Result<std::vector<Name>> Force(const std::vector<Name>& targets, const ForceSettings& options = {});
  /// Forces one target and reads its content.
  Result<std::string> ForceAndGet(const Name& target, const ForceSettings& options = {});

 private:
  struct Impl;
  explicit Store(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace gg
