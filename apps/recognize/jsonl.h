// The results' JSON lines: writing strings, and reading back the two fields
// later stages need from lines this program wrote.
#pragma once

#include <string>

namespace rec {

/// `s` as a JSON string literal (quoted, escaped).
std::string JsonString(const std::string& s);

/// The "frame" number of a result line, or -1.
long FrameOf(const std::string& line);

/// The "text" field of a result line, unescaped ("" when absent).
std::string TextOf(const std::string& line);

}  // namespace rec
