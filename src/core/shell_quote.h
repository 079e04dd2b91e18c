// Command lines as a user would paste them into a shell.
#pragma once

#include <string>
#include <vector>

namespace gg {

/// `s` quoted for a POSIX shell, unchanged when it needs no quoting.
std::string ShellQuote(const std::string& s);
/// The words quoted and joined by spaces.
std::string ShellCommand(const std::vector<std::string>& argv);

}  // namespace gg
