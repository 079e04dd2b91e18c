// The models: each turns one tool invocation into a thunk and placeholders,
// or says why it cannot (the caller then runs the real tool).
#pragma once

#include <string>
#include <vector>

#include "core/local_store.h"
#include "models/session.h"

namespace gg::models {

struct ModelResult {
  std::string local_reason;            ///< non-empty: not modelled, run for real
  std::vector<std::string> placeholders;  ///< written (absolute paths)
  std::string dep_file;  ///< a compile's dependency file (absolute; also in placeholders), "" if none
};

/// gcc, g++, cc, c++, clang, clang++: `kind` is "cc", "cxx", "clang" or
/// "clangxx"; args exclude argv[0], which is `argv0`.
Result<ModelResult> ModelGcc(LocalStore* store, const Session& s, const std::string& kind,
                             const std::vector<std::string>& args, const std::string& argv0);
/// ar with r/q: a new archive from members.
Result<ModelResult> ModelAr(LocalStore* store, const Session& s, const std::vector<std::string>& args);
/// ranlib FILE / strip [opts] FILE: rewrites a placeholder's output in place.
Result<ModelResult> ModelInPlace(LocalStore* store, const Session& s, const std::string& kind,
                                 const std::vector<std::string>& args);

}  // namespace gg::models
