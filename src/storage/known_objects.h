// What a remote store is known to hold, as seen from one local store, so an
// unchanged job uploads nothing and asks nothing: an append-only list of
// names in <gg dir>/remote/<key>/known, where <key> is the first 16 hex
// digits of the SHA-256 of the store's URI (written beside it in `uri`).
// A name is added once an upload or a download of it succeeded, or the
// store said it has it. The record can go stale if the store is wiped:
// `gg push --recheck` ignores it and asks the store.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <unordered_set>
#include <vector>

#include "gg/name.h"
#include "gg/status.h"

namespace gg {

class KnownObjects {
 public:
  static Result<std::unique_ptr<KnownObjects>> Open(const std::string& gg_dir, const std::string& uri);
  ~KnownObjects();
  KnownObjects(const KnownObjects&) = delete;
  KnownObjects& operator=(const KnownObjects&) = delete;

  bool Contains(const Name& name) const;
  /// Records names (those already recorded are skipped).
  Status Add(const std::vector<Name>& names);
  /// Forgets names found missing from the store (appends tombstone lines).
  Status Forget(const std::vector<Name>& names);
  /// Forgets everything (the store was wiped or replaced).
  Status Clear();
  size_t size() const;
  const std::string& path() const { return path_; }

 private:
  KnownObjects(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
  /// Appends whole lines to the log; mu_ held.
  Status AppendLocked(const std::string& lines);
  std::string path_;
  int fd_;
  mutable std::mutex mu_;
  std::unordered_set<std::string> names_;
};

/// The directory under <gg dir>/remote/ that holds a store's record.
std::string RemoteStateDir(const std::string& gg_dir, const std::string& uri);

}  // namespace gg
