// Sources and headers a command reads from system directories the toolchain
// capture does not hold, e.g. /usr/src/googletest, which Debian's packages
// build from (fmt's tests add_subdirectory it). The project view leaves
// system directories to the toolchain, so these are mounted as trees here.
#pragma once

#include <string>
#include <vector>

#include "core/local_store.h"
#include "gg/thunk.h"
#include "models/gcc_command.h"
#include "models/toolchain.h"

namespace gg::models {

/// Tree inputs for the source files' and include dirs of `c` (from `cwd`)
/// that lie under /usr, /lib, /etc or /opt but under no toolchain input.
/// Nested dirs are shown through the outermost. A dir holding a toolchain
/// input (-I/usr) is skipped: mounting it would hide the capture.
Result<std::vector<ThunkInput>> SystemSourceTrees(LocalStore* store, const Toolchain& toolchain,
                                                  const GccCommand& c, const std::string& cwd);

}  // namespace gg::models
