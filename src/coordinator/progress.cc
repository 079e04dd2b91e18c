#include "coordinator/progress.h"

#include <unistd.h>

namespace gg {

Progress::Progress(FILE* out) : out_(out), enabled_(out != nullptr && isatty(fileno(out)) != 0) {}

void Progress::Update(const ForceStats& s, double elapsed) {
  if (!enabled_) return;
  std::fprintf(out_, "\r[%zu/%zu] running %zu, memoized %zu, failed %zu, %.1fs\x1b[K", s.done, s.total,
               s.running, s.memoized, s.failed, elapsed);
  std::fflush(out_);
  shown_ = true;
}

void Progress::Clear() {
  if (!enabled_ || !shown_) return;
  std::fprintf(out_, "\r\x1b[K");
  std::fflush(out_);
  shown_ = false;
}

}  // namespace gg
