#include "coordinator/trace.h"

#include <cstdio>

#include "core/path_util.h"

namespace gg {

void TraceWriter::Add(std::string name, std::string category, int64_t start_us, int64_t dur_us, int tid,
                      std::vector<std::pair<std::string, std::string>> args) {
  events_.push_back({std::move(name), std::move(category), start_us, dur_us < 0 ? 0 : dur_us, tid, std::move(args)});
}

Status TraceWriter::Write(const std::string& path) const {
  std::string out = "{\"displayTimeUnit\":\"ms\",\"traceEvents\":[\n";
  bool first = true;
  for (const auto& e : events_) {
    if (!first) out += ",\n";
    first = false;
    out += "{\"name\":" + JsonString(e.name) + ",\"cat\":" + JsonString(e.category) +
           ",\"ph\":\"X\",\"pid\":1,\"tid\":" + std::to_string(e.tid) + ",\"ts\":" + std::to_string(e.start_us) +
           ",\"dur\":" + std::to_string(e.dur_us) + ",\"args\":{";
    bool first_arg = true;
    for (const auto& [k, v] : e.args) {
      if (!first_arg) out += ",";
      first_arg = false;
      out += JsonString(k) + ":" + JsonString(v);
    }
    out += "}}";
  }
  out += "\n]}\n";
  return WriteFileAtomic(path, out);
}

}  // namespace gg
