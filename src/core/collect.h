// Storing what the user names: a file as a value, a directory as a tree.
#pragma once

#include <string>

#include "core/local_store.h"

namespace gg {

/// Stores `path`: a regular file's content, or a directory (recursively) as
/// a tree object. Symbolic links inside a directory are kept as links.
/// With `max_file_bytes`, a file larger than that (by its size, or by what
/// reading it yields: /proc files say 0) is refused without reading further.
Result<Name> CollectPath(LocalStore* store, const std::string& path, uint64_t max_file_bytes = 0);

/// The name gg collect would give file `path`, without storing it (gg
/// hash), through `store`'s hash cache when it is not null. Directories,
/// FIFOs, sockets and devices are refused, and so is a file larger than
/// `max_file_bytes` (by its size or by what reading it yields).
Result<Name> HashRegularFile(LocalStore* store, const std::string& path, uint64_t max_file_bytes = 0);

}  // namespace gg
