// A shared store: objects and reductions that every machine pointing at the
// same URI can see. Implementations: Redis (redis://) and S3-compatible
// object stores (s3://, gs://). See docs/storage.md for URIs, key layout,
// credentials, retries and errors.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/local_store.h"
#include "core/reduction.h"
#include "gg/name.h"
#include "gg/status.h"

namespace gg {

/// Content-addressed GET/PUT against one remote store, batched: every call
/// takes many names and keeps many requests in flight. Thread-safe.
///
/// Objects are keyed by the untagged name (`name.object()`), so "T...#tag"
/// and "T..." are the same blob. Downloads are hashed and only renamed into
/// the local store when the content matches the name.
class Storage {
 public:
  virtual ~Storage() = default;

  /// The store's URI without secrets (no password), normalized: two
  /// spellings of one store give the same string.
  virtual std::string uri() const = 0;

  /// For each name, whether the store holds the object.
  virtual Result<std::vector<bool>> Has(const std::vector<Name>& names) = 0;
  /// Uploads the objects from the local store (each is verified against its
  /// name first, so a damaged local blob is never published).
  virtual Status Put(LocalStore& local, const std::vector<Name>& names) = 0;
  /// Downloads the objects into the local store. A missing object is a
  /// NotFound error; content that does not match its name is Corrupt.
  virtual Status Get(LocalStore& local, const std::vector<Name>& names) = 0;

  /// The reduction recorded for `thunk`, if any (a damaged record is a miss).
  virtual Result<std::optional<Reduction>> GetReduction(const Name& thunk) = 0;
  virtual Status PutReduction(const Name& thunk, const Reduction& r) = 0;
  /// GetReduction for many thunks at once, pipelined.
  virtual Result<std::vector<std::optional<Reduction>>> GetReductions(const std::vector<Name>& thunks);
};

/// Opens `redis://[user:password@]host[:port][/db]`,
/// `s3://bucket[/prefix][?region=R&endpoint=URL]` or `gs://bucket[/prefix]`.
/// Does not contact the server; the first request does.
Result<std::unique_ptr<Storage>> OpenStorage(const std::string& uri);

/// The URI from --storage, else $GG_STORAGE_URI; Invalid if neither is set.
Result<std::string> StorageUriFromFlagOrEnv(const std::string& flag);

}  // namespace gg
