// What a thunk's program wrote on stderr when it succeeded: a compiler's
// warnings. Kept beside the reductions so that gg build shows them as a plain
// build would, also when the thunk is memoized (as ccache replays them).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/local_store.h"

namespace gg {

/// Records `text` (non-empty) for `thunk`, in the store's `diagnostics/`.
Status RecordDiagnostics(LocalStore& store, const Name& thunk, std::string_view text);
/// What `thunk` said when it last ran, if anything.
std::optional<std::string> FindDiagnostics(LocalStore& store, const Name& thunk);

}  // namespace gg
