// The Redis store: objects and reductions as plain string keys, written and
// read through hiredis with pipelining (many commands sent before the first
// reply is read). Objects larger than kRedisChunkSize are split into chunks
// because a Redis string holds at most 512 MiB. See docs/storage.md.
#pragma once

#include <memory>

#include "storage/storage.h"
#include "storage/uri.h"

namespace gg {

/// Objects above this size are stored as chunks of this size. Small
/// commands matter: hiredis copies each into freshly allocated buffers, and
/// on these VMs touching fresh memory costs more than sending it.
inline constexpr uint64_t kRedisChunkSize = 1 << 20;

/// `redis://[user:password@]host[:port][/db]`.
Result<std::unique_ptr<Storage>> OpenRedisStorage(const ParsedUri& uri);

}  // namespace gg
