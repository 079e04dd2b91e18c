// The live status line of a force on a terminal; silent otherwise.
#pragma once

#include <cstdio>
#include <string>

namespace gg {

struct ForceStats {
  size_t total = 0;      ///< thunks known so far (tail recursion adds more)
  size_t done = 0;       ///< finished, whether run or memoized
  size_t memoized = 0;   ///< found already reduced
  size_t executed = 0;   ///< run in this force
  size_t running = 0;
  size_t failed = 0;
  size_t retries = 0;
  size_t duplicates = 0;
};

class Progress {
 public:
  /// Enabled when `out` is a terminal (null: never).
  explicit Progress(FILE* out);
  void Update(const ForceStats& s, double elapsed);
  /// Clears the line (before other output, and at the end).
  void Clear();
  bool enabled() const { return enabled_; }

 private:
  FILE* out_;
  bool enabled_;
  bool shown_ = false;
};

}  // namespace gg
