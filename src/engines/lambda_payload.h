// The JSON forms shared by the lambda engine, the handler (lambda/handler.py)
// and the gg-lambda executor (src/lambda, a program on top of the layers):
// an Invoke event and an execution's result.
// See docs/lambda.md.
#pragma once

#include <string>
#include <vector>

#include "gg/name.h"
#include "gg/status.h"
#include "core/exec_result.h"

namespace gg::lambda {

/// One line of JSON describing `r` (`hermetic`: whether the sandbox used namespaces).
std::string ResultToJson(const ExecResult& r, bool hermetic);
/// Parses a result; unknown fields are ignored, a missing or unknown kind is
/// an error.
Result<ExecResult> ResultFromJson(const std::string& json);

/// The Invoke payload: the thunk, every object it needs, the store's URI.
std::string EventToJson(const std::string& thunk_bytes, const std::vector<Name>& objects,
                        const std::string& storage_uri);

}  // namespace gg::lambda
