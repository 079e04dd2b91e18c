// The identity log: which thunks ran for the same job before. A thunk's
// *identity* is what stays the same when its inputs change: the program as
// called (argv[0]), the working directory, the output tags and the path after
// `-o`. `gg explain` looks a thunk's identity up to find the run it would
// have been memoized by, had nothing changed. Format: docs/store_format.md.
#pragma once

#include <string>
#include <vector>

#include "gg/name.h"
#include "gg/status.h"
#include "gg/thunk.h"

namespace gg {

/// Hex SHA-256 over the identity's parts.
std::string ThunkIdentity(const Thunk& thunk);

struct IdentityEntry {
  std::string identity;
  int64_t unix_time = 0;  ///< when the run finished
  Name thunk;             ///< the thunk that ran (its inputs all values)
  Name output;            ///< its first output
};

class IdentityLog {
 public:
  explicit IdentityLog(std::string path) : path_(std::move(path)) {}
  /// Appends one line (one write with O_APPEND, so concurrent forces do not
  /// interleave).
  Status Append(const IdentityEntry& e) const;
  /// Every entry, oldest first; a torn or damaged line is skipped.
  Result<std::vector<IdentityEntry>> ReadAll() const;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace gg
