// Splitting a program's text output into lines, for the parsers of src/gtest.
#pragma once

#include <string_view>
#include <vector>

namespace gg::gtest {

/// The lines of `text` without their '\n'; a last line without one counts.
inline std::vector<std::string_view> Lines(std::string_view text) {
  std::vector<std::string_view> lines;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    lines.push_back(text.substr(pos, nl - pos));
    pos = nl + 1;
  }
  return lines;
}

}  // namespace gg::gtest
