// The one piece of JSON writing gg does by hand: quoting a string. (Parsing,
// and messages with structure, go through protobuf's JSON support.)
#pragma once

#include <string>

namespace gg {

/// `s` as a JSON string literal, quotes included.
std::string JsonString(const std::string& s);

}  // namespace gg
