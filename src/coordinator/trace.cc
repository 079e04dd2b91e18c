#include "coordinator/trace.h"

#include <cstdio>

#include "core/path_util.h"

namespace gg {

void TraceWriter::Add(std::string name, std::string category, int64_t start_us, int64_t dur_us, int tid, Args args) {
  events_.push_back({std::move(name), std::move(category), start_us, dur_us < 0 ? 0 : dur_us, tid, std::move(args)});
}

void TraceWriter::NameRow(int tid, std::string name) { rows_[tid] = std::move(name); }

Status TraceWriter::Write(const std::string& path) const {
  std::string out = "{\"displayTimeUnit\":\"ms\",\"otherData\":{";
  bool first = true;
  for (const auto& [k, v] : info_) {
    if (!first) out += ",";
    first = false;
    out += JsonString(k) + ":" + JsonString(v);
  }
  out += "},\"traceEvents\":[\n";
  first = true;
  for (const auto& [tid, name] : rows_) {
    if (!first) out += ",\n";
    first = false;
    out += "{\"name\":\"thread_name\",\"cat\":\"__metadata\",\"ph\":\"M\",\"pid\":1,\"tid\":" + std::to_string(tid) +
           ",\"args\":{\"name\":" + JsonString(name) + "}}";
  }
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
