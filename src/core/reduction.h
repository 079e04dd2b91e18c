// A reduction: the record that forcing a thunk gave these outputs. Written
// once a thunk finishes, so no machine that can see it runs the thunk again.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "gg/name.h"
#include "gg/status.h"

namespace gg {

struct ReductionOutput {
  std::string tag;
  Name name;            ///< a value, or a thunk to force in this one's place
  bool executable = false;
  bool operator==(const ReductionOutput&) const = default;
};

struct Reduction {
  std::vector<ReductionOutput> outputs;  ///< in the thunk's output order
  double seconds = 0;                    ///< how long the run took (for scheduling)

  std::string Serialize() const;
  static Result<Reduction> Parse(std::string_view text);
  /// The output with `tag`, or the first one for an empty tag.
  const ReductionOutput* Find(const std::string& tag) const;
  bool operator==(const Reduction&) const = default;
};

/// Reductions kept as one small file per thunk under a directory.
class ReductionStore {
 public:
  explicit ReductionStore(std::string dir) : dir_(std::move(dir)) {}
  Result<std::optional<Reduction>> Get(const Name& thunk) const;
  Status Put(const Name& thunk, const Reduction& r) const;
  Status Remove(const Name& thunk) const;
  /// The thunks that have a record (not writers' temporary files).
  Result<std::vector<Name>> List() const;
  const std::string& dir() const { return dir_; }

 private:
  std::string dir_;
};

}  // namespace gg
