// The project as a thunk sees it: the source and build directories a
// command needs, as tree objects mounted at their real paths, with build
// products and placeholders left out so the view stays the same while the
// build runs. Directories that must hold a thunk's outputs or a thunk-output
// input (the working directory, the directories of -o files) are "expanded":
// their entries are mounted one by one instead of as one read-only tree.
//
// Each model process starts fresh, so what a view costs is kept in the store
// (.gg/view-cache/, one record per directory, see docs/store_format.md): per
// entry the stat key (dev, inode, size, mtime, ctime, mode) and its content
// name, and per tree root the name of its tree for a digest of every name and
// stat key under it. A view then costs a readdir and an lstat per entry.
#pragma once

#include <chrono>
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
/// VCS and gg dirs, Python bytecode caches), decided by name.
bool IsBuildProduct(const std::string& name, bool is_dir);

/// Inputs showing the needed directories (paths relative to workdir when
/// under it). Dirs under /usr and other system locations are left to the
/// toolchain.
Result<std::vector<ThunkInput>> BuildView(LocalStore* store, const ViewRequest& request);

/// What BuildView did in this process, for tests and measurements.
struct ViewCacheStats {
  int trees_reused = 0;      ///< tree roots answered from a record
  int trees_built = 0;       ///< tree roots serialized and stored
  int files_hashed = 0;      ///< files whose content was looked up or read (not from a record)
  int records_rejected = 0;  ///< records present but damaged or for another directory
};
ViewCacheStats GetViewCacheStats();

/// Keeps each directory's listing between views in this process, watched
/// with inotify, so that a view lists again only the directories with an
/// event since (project_view.cc, ListingCache, says what that covers). For a
/// long-lived process that builds many views: the model server. False if
/// inotify is unavailable (views then list afresh, as without it).
bool EnableListingCache();
void DisableListingCache();
/// Tests: while suspended, views list afresh (the kept listings and their
/// events wait).
void SuspendListingCache(bool suspended);

struct ListingCacheStats {
  int reused = 0;     ///< directory listings answered from the cache
  int listed = 0;     ///< directories listed afresh
  int patched = 0;    ///< listings updated by looking again at only the entries events named
  int overflows = 0;  ///< event queue overflows (every listing dropped)
};
ListingCacheStats GetListingCacheStats();

/// Files changed less than this long before a view is built are read afresh
/// and not recorded: within a filesystem's timestamp granularity a rewrite
/// can leave the stat key unchanged. Default 2 s; tests lower it.
void SetViewSettleTime(std::chrono::nanoseconds t);

/// True if `path` is `dir` or below it.
bool IsUnder(const std::string& path, const std::string& dir);

}  // namespace gg::models
