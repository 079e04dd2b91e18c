// Commands the models must not answer before they run. A model answers a
// compile or link "exit 0" at once and defers the work to a thunk; a build
// that branches on that answer and deletes the output unread (a check such
// as `$(CC) -o t t.c && rm t && echo yes`) would take the path of a success
// the plain build never saw. gg build verifies such thunks when the build
// ends; one that fails is recorded here, by the name of its target, and the
// models run that command for real from then on (docs/models.md, "Answers a
// build branches on").
#pragma once

#include <optional>
#include <string>

#include "core/local_store.h"
#include "gg/name.h"

namespace gg::models {

/// Records (in the store's `models/fails/`) that forcing `target` fails, and
/// why; `why` is shown when the command next runs for real.
Status RecordKnownFailure(LocalStore& store, const Name& target, const std::string& why);
/// Why forcing `target` failed, if a build recorded that it does.
std::optional<std::string> KnownFailure(LocalStore& store, const Name& target);

}  // namespace gg::models
