// `gg explain`: what became of a thunk, how its runs in the last force went,
// and why it was not memoized (the inputs and arguments that differ from the
// last earlier run of the same job).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/local_store.h"
#include "gg/thunk.h"
#include "report/trace_reader.h"

namespace gg::report {

/// One difference between two thunks, in words a user can check.
struct Difference {
  std::string what;    ///< "input inc/a.h", "argument 3", "environment", "function"
  std::string before;  ///< empty: not there before
  std::string after;   ///< empty: gone
};

/// The differences from `before` to `after`: inputs by path (looking into
/// trees at the same path, so a header inside a directory is named), then
/// arguments, environment and function.
std::vector<Difference> DiffThunks(LocalStore* store, const Thunk& before, const Thunk& after);

/// The full explanation of `what` (a thunk name, a placeholder file, or a
/// file a thunk produced), using `trace` for the last force if there is one.
Result<std::string> Explain(LocalStore* store, const std::optional<Trace>& trace, const std::string& what);

}  // namespace gg::report
