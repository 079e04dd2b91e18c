// Moving sets of objects between the local store and a shared one, and the
// closures `gg push` and `gg pull` move: a thunk travels with what is needed
// to force it anywhere (its inputs, the thunks it depends on) and, when it
// has been forced, with its reduction and outputs.
#pragma once

#include <string>
#include <vector>

#include "core/local_store.h"
#include "storage/known_objects.h"
#include "storage/storage.h"

namespace gg {

struct TransferStats {
  size_t sent = 0;           ///< objects uploaded or downloaded
  uint64_t bytes = 0;        ///< their total size
  size_t skipped = 0;        ///< already there (known, asked, or local)
  size_t reductions = 0;     ///< reduction records moved
  size_t unavailable = 0;    ///< referenced objects absent where they were looked for
};

/// Objects up to this size are uploaded without first asking whether the
/// store has them: asking costs a round trip as much as sending does.
inline constexpr uint64_t kAskBeforeUploadSize = 256 << 10;

/// Uploads the objects the store does not hold. Names in `known` are taken
/// as there without asking (unless `known` is null); of the rest, the large
/// ones are asked about in one batch and only the missing ones sent, the
/// small ones sent at once; all are then recorded in `known`.
Result<TransferStats> UploadObjects(Storage& storage, LocalStore& local, KnownObjects* known,
                                    const std::vector<Name>& names);
/// Downloads the objects the local store lacks, recording them as known.
Result<TransferStats> DownloadObjects(Storage& storage, LocalStore& local, KnownObjects* known,
                                      const std::vector<Name>& names);

/// `gg push`: the objects (for a tree, its files; for a thunk, its inputs and
/// dependencies recursively, and its reduction and outputs if known
/// locally), then the reductions. A named object missing locally is an
/// error; a referenced one (an input not yet computed) is counted.
Result<TransferStats> PushClosure(Storage& storage, LocalStore& local, KnownObjects* known,
                                  const std::vector<Name>& names);
/// `gg pull`: the objects; for a thunk, its reduction and outputs if the
/// store has them (recorded locally, so forcing it here is a hit), else its
/// inputs and dependencies recursively.
Result<TransferStats> PullClosure(Storage& storage, LocalStore& local, KnownObjects* known,
                                  const std::vector<Name>& names);

}  // namespace gg
