// Storing what the user names: a file as a value, a directory as a tree.
#pragma once

#include <string>

#include "core/local_store.h"

namespace gg {

/// Stores `path`: a regular file's content, or a directory (recursively) as
/// a tree object. Symbolic links inside a directory are kept as links.
Result<Name> CollectPath(LocalStore* store, const std::string& path);

}  // namespace gg
