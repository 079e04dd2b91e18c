// Writes a run as Chrome trace-event JSON (chrome://tracing, Perfetto). The
// fields gg adds (row names, `otherData`, per-run arguments) are described in
// docs/coordinator.md; `gg report` and `gg explain` read them back.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/json.h"
#include "gg/status.h"

namespace gg {

class TraceWriter {
 public:
  using Args = std::vector<std::pair<std::string, std::string>>;
  /// A complete event: `name` on row `tid` from `start_us` for `dur_us`.
  void Add(std::string name, std::string category, int64_t start_us, int64_t dur_us, int tid, Args args = {});
  /// Names row `tid` (a `thread_name` metadata event), e.g. "local slot 2".
  void NameRow(int tid, std::string name);
  /// A key of the top-level `otherData` object: facts about the whole run.
  void SetInfo(const std::string& key, std::string value) { info_[key] = std::move(value); }
  Status Write(const std::string& path) const;
  /// Complete events added so far (row names excluded).
  size_t size() const { return events_.size(); }

 private:
  struct Event {
    std::string name, category;
    int64_t start_us, dur_us;
    int tid;
    Args args;
  };
  std::vector<Event> events_;
  std::map<int, std::string> rows_;
  std::map<std::string, std::string> info_;
};

}  // namespace gg
