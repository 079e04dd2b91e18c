// Receiving an object from a remote store: its bytes go to a temporary file
// in the local store's tmp/ as they arrive, hashed on the way, and the file
// is renamed into blobs/ only when the content matches the name. A crash or
// a damaged download never leaves a wrongly named blob behind.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "core/local_store.h"
#include "core/sha256.h"
#include "gg/name.h"
#include "gg/status.h"

namespace gg {

class BlobWriter {
 public:
  /// `source` names where the bytes come from (the store's URI), for errors.
  BlobWriter(LocalStore& local, const Name& name, std::string source);
  ~BlobWriter();  ///< removes the temporary file unless committed
  BlobWriter(const BlobWriter&) = delete;
  BlobWriter& operator=(const BlobWriter&) = delete;

  /// Appends bytes; an error (e.g. the disk is full) sticks.
  Status Append(std::string_view data);
  /// Starts over (a retried download).
  Status Reset();
  /// Checks size, type and hash, then renames into the store (mode 0444).
  Status Commit();

  const Name& name() const { return name_; }
  uint64_t received() const { return received_; }
  /// The first error Append met, if any.
  const Status& error() const { return error_; }

 private:
  Status Open();
  Status Flush();

  LocalStore& local_;
  Name name_;
  std::string source_;
  std::string tmp_;
  int fd_ = -1;
  std::unique_ptr<Sha256Hasher> hasher_;
  std::string buf_;
  std::string prefix_;
  uint64_t received_ = 0;
  bool committed_ = false;
  Status error_;
};

/// "the disk is full" advice for ENOSPC/EDQUOT, else "".
std::string DiskFullHint(int err);

}  // namespace gg
