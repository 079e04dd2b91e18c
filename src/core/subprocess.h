// Running a helper program (sbatch, ldd, the compiler driver) and capturing
// what it prints, and quoting words for a shell.
#pragma once

#include <string>
#include <vector>

#include "core/shell_quote.h"  // ShellQuote, for callers building commands
#include "gg/status.h"

namespace gg {

struct Captured {
  std::string out;   ///< stdout (and stderr too, with merge_stderr)
  std::string err;
  int exit_code = -1;  ///< -1 if it did not exit normally
};

/// Runs argv (searched in PATH, no shell) with stdin from /dev/null and
/// returns what it wrote; both pipes are drained together, so a chatty
/// stderr cannot block it. An error only if it could not be started; the
/// exit code is the caller's to judge.
Result<Captured> RunCapture(const std::vector<std::string>& argv, bool merge_stderr = false);

}  // namespace gg
