// `--canonical-paths`: thunks see the project roots at fixed paths
// (/gg/root0, /gg/root1, ...) instead of where the user's checkout is, so
// two checkouts of the same code at different paths make the same thunks and
// share memoized results. Debug info, __FILE__ and dependency files then name
// the canonical paths (docs/models.md).
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "gg/thunk.h"

namespace gg::models {

class PathMap {
 public:
  PathMap() = default;
  /// Maps each root not inside another root to /gg/rootN, N counting such
  /// roots in the order given; roots inside another follow their ancestor.
  static PathMap ForRoots(const std::vector<std::string>& roots);

  bool empty() const { return map_.empty(); }
  /// `text` with every occurrence of a root as a whole path prefix replaced.
  std::string Map(const std::string& text) const;
  /// Rewrites a thunk's work dir, arguments, environment and input paths.
  void Apply(Thunk* t) const;

 private:
  std::vector<std::pair<std::string, std::string>> map_;  ///< real -> canonical
};

}  // namespace gg::models
