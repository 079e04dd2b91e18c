// The objects a thunk needs to run: its inputs and, for tree inputs, the
// files inside them. What an engine ships to a machine that lacks them.
#pragma once

#include <vector>

#include "core/local_store.h"
#include "gg/thunk.h"

namespace gg {

/// Input names (untagged), each tree followed by its files. Trees that are
/// not in `store` contribute only their own name.
std::vector<Name> InputClosure(LocalStore& store, const Thunk& thunk);

}  // namespace gg
