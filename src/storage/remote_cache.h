// Memoization shared through a store: what the coordinator calls so that a
// thunk forced by any machine against a store is never run again by another
// machine using it.
//
//   RemoteCache cache(*storage);
//   auto hit = cache.Lookup(thunk);             // before running anything
//   if (hit.ok() && *hit) { cache.FetchOutputs(local, names of (*hit)->outputs); ... }
//   ... run it ...
//   cache.Publish(local, thunk, resolved, reduction);
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "core/local_store.h"
#include "storage/known_objects.h"
#include "storage/storage.h"

namespace gg {

class RemoteCache {
 public:
  /// `storage` must outlive the cache. Thread-safe.
  explicit RemoteCache(Storage& storage) : storage_(storage) {}

  Storage& storage() { return storage_; }

  /// The store's reduction of `thunk` if every output it names is in the
  /// store; nullopt when there is none or an output has gone missing (a
  /// miss, not an error). Errors are the store's (unreachable, denied).
  Result<std::optional<Reduction>> Lookup(const Name& thunk);
  /// Lookup for many thunks in two round trips.
  Result<std::vector<std::optional<Reduction>>> LookupMany(const std::vector<Name>& thunks);

  /// Uploads the objects the store is not known to hold (see KnownObjects):
  /// for the inputs remote engines will need.
  Status Upload(LocalStore& local, const std::vector<Name>& names);
  /// Uploads the reduction's outputs, then records it under `thunk` and, if
  /// different, `resolved_thunk` (the thunk with its dependencies replaced
  /// by their outputs). Outputs first: a reader never finds a reduction
  /// whose outputs are not there yet.
  Status Publish(LocalStore& local, const Name& thunk, const Name& resolved_thunk, const Reduction& r);
  /// Downloads the named objects the local store lacks (hash-checked).
  Status FetchOutputs(LocalStore& local, const std::vector<Name>& names);

  /// The record of what the store holds for `local` (opened once).
  Result<KnownObjects*> Known(LocalStore& local);

 private:
  Storage& storage_;
  std::mutex mu_;
  std::map<std::string, std::unique_ptr<KnownObjects>> known_;  // by local dir
  std::vector<Name> gone_;  // outputs a lookup found missing: not "known" any more
};

}  // namespace gg
