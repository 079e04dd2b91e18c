// What a failed or interrupted `gg build` does with the placeholders it
// left, so the tree is one a plain `make` (or ninja) can build again. See
// docs/models.md, "When gg build fails".
#pragma once

#include <map>
#include <optional>
#include <string>

#include "core/local_store.h"
#include "core/reduction.h"
#include "gg/name.h"
#include "gg/status.h"

namespace gg::models {

struct LeftoverSummary {
  size_t written = 0;  ///< thunk already reduced: the real output put in place
  size_t removed = 0;  ///< removed: the build system makes it again
  size_t dummied = 0;  ///< make-included dependency files, now "# dummy"
};

/// True for the dependency files a Makefile `include`s without a rule to
/// make them (automake's `.deps/x.Po`, `.Plo`): they must exist, so they
/// become "# dummy" (what config.status writes), not removed.
bool IsIncludedDependencyFile(const std::string& path);

/// The output a placeholder's target already has in the store (following
/// tail recursion through recorded reductions), if any.
std::optional<ReductionOutput> ReducedOutput(LocalStore* store, const Name& target);

/// For each placeholder (path -> target): its output if the thunk has been
/// reduced, else removal (or "# dummy" for an included dependency file).
Result<LeftoverSummary> ResolveLeftoverPlaceholders(LocalStore* store,
                                                    const std::map<std::string, Name>& placeholders);

}  // namespace gg::models
