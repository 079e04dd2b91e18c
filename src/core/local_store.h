// The local object store: a `.gg` directory holding blobs named by their
// content, the reductions, the hash cache and scratch space. Blobs are
// written to a temporary file and renamed, so a crash never leaves a
// half-written object under a valid name, and are checked against their name
// when read. See docs/store_format.md.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/hash_cache.h"
#include "core/reduction.h"
#include "gg/name.h"
#include "gg/status.h"

namespace gg {

class LocalStore {
 public:
  /// The .gg directory: $GG_DIR, else the nearest `.gg` from the cwd upwards.
  static Result<std::string> FindDir();
  /// Creates the layout under `dir` (idempotent).
  static Status Init(const std::string& dir);
  /// Opens an existing store.
  static Result<std::unique_ptr<LocalStore>> Open(const std::string& dir);
  /// FindDir() + Open().
  static Result<std::unique_ptr<LocalStore>> OpenDefault();

  const std::string& dir() const { return dir_; }
  std::string BlobPath(const Name& name) const { return dir_ + "/blobs/" + name.object().str(); }
  std::string TempDir() const { return dir_ + "/tmp"; }

  bool Has(const Name& name) const;
  /// The verified content of an object.
  Result<std::string> Get(const Name& name);
  /// The same, read into `buffer` (path_util.h's ReadFileInto): a view of
  /// it, valid until `buffer` next changes. For a caller that reads many
  /// large objects one after another (the coordinator, its thunks).
  Result<std::string_view> GetInto(const Name& name, std::string* buffer);
  Result<Name> Put(std::string_view content);
  /// Stores a file's content (copying it) and returns its name. With
  /// `max_bytes`, a file that is (or, read, turns out) larger is refused
  /// (kInvalid) without reading past the bound.
  Result<Name> PutFile(const std::string& path, uint64_t max_bytes = 0);
  /// Stores a file by renaming it into the store (it must be on the same
  /// filesystem and not be used afterwards); copies when rename cannot.
  Result<Name> AdoptFile(const std::string& path);
  /// The same for `rel` below the directory `dirfd`, resolved without
  /// following any symbolic link (a sandboxed program shaped that directory):
  /// only a regular file is taken; `what` names it in errors. Sets
  /// `*executable` from its mode.
  Result<Name> AdoptFileAt(int dirfd, const std::string& rel, const std::string& what, bool* executable);
  /// Stores `content` under an already-computed name.
  Status PutNamed(const Name& name, std::string_view content);

  /// Checks a blob against its name (through the hash cache, so this is one
  /// stat for a blob already verified and unchanged since).
  Status Verify(const Name& name, struct stat* verified = nullptr);
  /// Path of a verified blob, with mode 0444 (0555 if `executable`);
  /// `*verified` (if given) is the stat it was verified at.
  Result<std::string> MaterializeFile(const Name& name, bool executable, struct stat* verified = nullptr);
  /// After a hard link to a blob from MaterializeFile was made as `path`
  /// below `dirfd`: the link moved only the inode's ctime, so the hash cache
  /// is to learn the new one (appended to `learned`, for one
  /// hash_cache().RememberAll once all links are made), and the next view or
  /// tree with that blob need not read it again. Nothing if the blob changed
  /// since it was verified.
  void NoteLinked(const Name& name, const struct stat& verified, int dirfd, const std::string& path,
                  std::vector<HashCache::Known>* learned);
  /// Writes a verified copy of an object to `path` (replacing what is there,
  /// atomically), with mode 0777 or 0666 less the umask.
  Status CopyOut(const Name& name, const std::string& path, bool executable);
  /// Path of a read-only directory holding the tree, built once per store.
  Result<std::string> MaterializeTree(const Name& tree);

  /// An object as `gg gc` sees it.
  struct ObjectInfo {
    Name name;
    uint64_t bytes = 0;    ///< on disk: the blob and its executable copy
    int64_t last_use = 0;  ///< seconds since the epoch: latest access or write of either
  };
  /// Every object in the store (not writers' temporary files).
  Result<std::vector<ObjectInfo>> ListObjects() const;
  /// Removes an object: its materialized tree (renamed away first, then
  /// deleted), its executable copy, then the blob. A reader that opened it
  /// keeps it; a new one finds it missing, never partial. Returns the bytes
  /// freed.
  Result<uint64_t> RemoveObject(const Name& name);
  /// Removes scratch files (tmp/, temporary names in blobs/...) whose
  /// writer is no longer running; returns how many.
  Result<size_t> RemoveStaleScratch();

  ReductionStore& reductions() { return reductions_; }
  HashCache& hash_cache() { return hash_cache_; }

 private:
  explicit LocalStore(std::string dir);
  Status MissingError(const Name& name) const;
  Result<Name> CopyIn(const std::string& path, uint64_t max_bytes = 0);
  Result<Name> CopyInFd(int fd, const std::string& what, uint64_t max_bytes = 0);
  /// Writes an object file at `path` unless one is there already.
  Status WriteObject(const std::string& path, const Name& name, std::string_view content, int mode);
  /// Records in the hash cache that the object file at `path`, just
  /// published by this process, holds `name`.
  void RememberWritten(const std::string& path, const Name& name);

  std::string dir_;
  ReductionStore reductions_;
  HashCache hash_cache_;
};

}  // namespace gg
