// Substitutes (records in the store that the coordinator follows): a thunk
// that may run in place of another and also hands back the reduction of the
// thunk that other one reduces to, computed in the same run. The models use it to discover a compile's inputs and compile it in one
// sandbox when nothing is memoized (docs/models.md), while the graph the user
// sees (placeholders naming the discovery thunk D, which reduces to the
// compile thunk C) stays the one a split run makes.
//
// A substitute S of D declares D's outputs first, then one output per output
// of C, tagged ".gg-tail/" + C's tag. When S succeeds the coordinator records
// D -> D's outputs, C -> the claimed outputs, and S -> everything; when S
// fails it runs D itself (a split run reports any real error).
#pragma once

#include <optional>

#include "core/local_store.h"
#include "core/reduction.h"
#include "gg/thunk.h"

namespace gg {

/// The tag prefix of a substitute's outputs that belong to its tail thunk.
inline constexpr char kTailClaimPrefix[] = ".gg-tail/";

/// Records in `store` (its `substitutes/` directory) that `substitute` may run
/// in place of `thunk`.
Status RecordSubstitute(LocalStore& store, const Name& thunk, const Name& substitute);
/// The substitute recorded for `thunk`, if any (and if it is in the store).
Result<std::optional<Name>> FindSubstitute(LocalStore& store, const Name& thunk);

/// A substitute's reduction split in two.
struct TailClaim {
  Reduction own;   ///< the outputs the replaced thunk declares; own.outputs[0] is the tail thunk
  Reduction tail;  ///< the tail thunk's outputs, tags without the prefix
};

/// Splits `r`, checking that its first output is a thunk and that the claimed
/// tags are exactly `tail`'s outputs, in order.
Result<TailClaim> SplitTailClaim(const Reduction& r, const Thunk& tail);
/// `r` without the claimed outputs.
Reduction WithoutTailClaim(const Reduction& r);

}  // namespace gg
