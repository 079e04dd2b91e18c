// Input views: the file inputs a thunk has below its working directory,
// materialized once per store as a read-only directory of hard links to the
// blobs, named by the hash of exactly that set of (path, object, mode). A
// sandbox then sees them through one overlay layer instead of a mount per
// input, so its start-up does not grow with the number of inputs. Thunks with
// the same files there (every discovery of a build directory) share one view.
// See docs/sandbox.md, "Input views".
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>
#include <vector>

#include "core/beneath.h"
#include "core/local_store.h"
#include "gg/name.h"
#include "gg/status.h"

namespace gg {

/// A thunk's file inputs grouped into one view: fewer are cheaper as mounts.
constexpr size_t kMinViewFiles = 8;

/// Views into the thunk's own strings: a run plans a view for every input
/// below the work dir, and copying each name was a visible part of it.
struct ViewFile {
  std::string_view path;  ///< clean relative path inside the view
  std::string_view name;  ///< a value's name
  bool executable = false;
};

/// The directory of views in a store: `<store>/views`.
std::string ViewsDir(const std::string& store_dir);

/// The view's directory name: the hex SHA-256 of its files, sorted by
/// path, and of the uid its directories belong to.
std::string ViewKey(const std::vector<ViewFile>& files, uid_t owner);

/// Host path of the view holding exactly `files` (sorted by path, distinct,
/// none below another): made the first time in the store's tmp/ and renamed
/// into place whole, so several gg processes sharing the store at once never
/// see a half-made view and never replace one in use. Files are hard links
/// to the verified blobs (mode 0444, 0555 if executable); kUnavailable if a
/// blob is at the file system's link limit (the caller then mounts inputs
/// one by one). Its directories belong to `owner` (and its group of the
/// same number, unless it is this process's own uid): the host uid
/// sandboxed programs run as, so a program may create files beside its
/// inputs without the sandbox making each directory again at every run.
/// `key` is ViewKey(files, owner), computed here if empty.
Result<std::string> MaterializeView(LocalStore* store, const std::vector<ViewFile>& files, uid_t owner,
                                    const std::string& key = "");

/// A view held for one run: its directory open with a shared flock(2),
/// which gg gc respects, so a view is never removed under a running thunk.
struct ViewLease {
  std::string path;
  UniqueFd fd;
};

/// MaterializeView, then the lease on it (retried while a gg gc is removing
/// that view at the same moment).
Result<ViewLease> LeaseView(LocalStore* store, const std::vector<ViewFile>& files, uid_t owner,
                            const std::string& key = "");

/// Removes every view no run holds (gg gc): each is renamed into tmp/ and
/// deleted, so a view is always whole or absent. Returns how many.
Result<size_t> RemoveViews(LocalStore* store);

}  // namespace gg
