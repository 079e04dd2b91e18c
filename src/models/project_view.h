// The project as a thunk sees it: the source and build directories a
// command needs, as tree objects mounted at their real paths, with build
// products and placeholders left out so the view stays the same while the
// build runs. Directories that must hold a thunk's outputs or a thunk-output
// input (the working directory, the directories of -o files) are "expanded":
// their entries are mounted one by one instead of as one read-only tree.
#pragma once

#include <set>
#include <string>
#include <vector>

#include "core/local_store.h"
#include "gg/thunk.h"

namespace gg::models {

struct ViewRequest {
  std::vector<std::string> roots;   ///< absolute, normalized: project roots
  std::string workdir;              ///< absolute: the command's cwd
  std::vector<std::string> needed;  ///< absolute dirs the command reads
  std::set<std::string> expand;     ///< absolute dirs that must not be trees
  std::set<std::string> exclude;    ///< absolute files to leave out (outputs, thunk inputs)
};

/// True for paths that never belong in a view (objects, archives, dep files,
/// VCS and gg dirs), decided by name.
bool IsBuildProduct(const std::string& name, bool is_dir);

/// Inputs showing the needed directories (paths relative to workdir when
/// under it). Dirs under /usr and other system locations are left to the
/// toolchain.
Result<std::vector<ThunkInput>> BuildView(LocalStore* store, const ViewRequest& request);

/// True if `path` is `dir` or below it.
bool IsUnder(const std::string& path, const std::string& dir);

}  // namespace gg::models
