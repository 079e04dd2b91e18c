// Writes a run as Chrome trace-event JSON (chrome://tracing, Perfetto).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/json.h"
#include "gg/status.h"

namespace gg {

class TraceWriter {
 public:
  /// A complete event: `name` on row `tid` from `start_us` for `dur_us`.
  void Add(std::string name, std::string category, int64_t start_us, int64_t dur_us, int tid,
           std::vector<std::pair<std::string, std::string>> args = {});
  Status Write(const std::string& path) const;
  size_t size() const { return events_.size(); }

 private:
  struct Event {
    std::string name, category;
    int64_t start_us, dur_us;
    int tid;
    std::vector<std::pair<std::string, std::string>> args;
  };
  std::vector<Event> events_;
};

}  // namespace gg
