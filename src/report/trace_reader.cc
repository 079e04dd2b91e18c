#include "report/trace_reader.h"

#include <google/protobuf/util/json_util.h>

#include <algorithm>
#include <cstdlib>
#include <tuple>

#include "core/path_util.h"
#include "report/trace.pb.h"

namespace gg::report {
namespace {

std::string Arg(const TraceEvent& e, const std::string& key) {
  auto it = e.args().find(key);
  return it == e.args().end() ? "" : it->second;
}

}  // namespace

std::vector<std::string> SplitWords(const std::string& s) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos < s.size()) {
    size_t sp = s.find(' ', pos);
    if (sp == std::string::npos) sp = s.size();
    if (sp > pos) out.push_back(s.substr(pos, sp - pos));
    pos = sp + 1;
  }
  return out;
}

Result<Trace> ParseTrace(const std::string& json) {
  TraceFile file;
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = true;
  auto st = google::protobuf::util::JsonStringToMessage(json, &file, options);
  if (!st.ok()) {
    return Status::Invalid("not a gg trace (Chrome trace-event JSON with string arguments): " +
                           std::string(st.message()));
  }
  Trace t;
  for (const auto& [k, v] : file.otherdata()) t.info[k] = v;
  // A run is the events with the same thunk, row, attempt and copy.
  std::map<std::tuple<std::string, int, std::string, std::string>, size_t> index;
  int64_t last_end = 0;
  for (const auto& e : file.traceevents()) {
    if (e.ph() == "M") {
      if (e.name() == "thread_name") t.rows[static_cast<int>(e.tid())] = Arg(e, "name");
      continue;
    }
    if (e.ph() != "X") continue;
    std::string thunk = Arg(e, "thunk");
    if (thunk.empty()) continue;
    auto key = std::make_tuple(thunk, static_cast<int>(e.tid()), Arg(e, "attempt"), Arg(e, "duplicate"));
    auto [it, fresh] = index.try_emplace(key, t.runs.size());
    if (fresh) {
      Run r;
      r.thunk = thunk;
      r.tid = static_cast<int>(e.tid());
      r.engine = Arg(e, "engine");
      r.attempt = std::max(1, std::atoi(Arg(e, "attempt").c_str()));
      r.duplicate = Arg(e, "duplicate") == "yes";
      r.result = Arg(e, "result");
      t.runs.push_back(std::move(r));
    }
    Run& r = t.runs[it->second];
    auto start = static_cast<int64_t>(e.ts());
    auto end = static_cast<int64_t>(e.ts() + e.dur());
    last_end = std::max(last_end, end);
    const std::string& cat = e.cat();
    if (cat == "queued") {
      r.queued_us = start;
    } else if (cat == "fetching inputs") {
      r.fetch_us = start;
    } else if (cat == "collected") {
      r.collect_us = start;
      r.end_us = end;
    } else if (cat.starts_with("running")) {
      r.run_us = start;
      if (r.collect_us < 0) r.collect_us = end;
      if (r.end_us < 0) r.end_us = end;
      r.function = Arg(e, "function");
      if (r.function.empty()) {  // an older trace: the event's name starts with argv[0]
        r.function = e.name().substr(0, e.name().find(' '));
        r.function = r.function.substr(r.function.rfind('/') + 1);
      }
      r.command = Arg(e, "command");
      r.resolved = Arg(e, "resolved");
      r.message = Arg(e, "message");
      r.exit_status = Arg(e, "exit_status");
      r.stderr_tail = Arg(e, "stderr");
      r.deps = SplitWords(Arg(e, "deps"));
      r.outputs = SplitWords(Arg(e, "outputs"));
    }
  }
  for (Run& r : t.runs) {
    if (r.run_us < 0) r.run_us = r.fetch_us >= 0 ? r.fetch_us : std::max<int64_t>(r.queued_us, 0);
    if (r.collect_us < 0) r.collect_us = r.run_us;
    if (r.end_us < 0) r.end_us = r.collect_us;
  }
  std::stable_sort(t.runs.begin(), t.runs.end(),
                   [](const Run& a, const Run& b) { return a.slot_start() < b.slot_start(); });
  t.wall_seconds = std::atof(t.info["wall_seconds"].c_str());
  if (t.wall_seconds <= 0) t.wall_seconds = last_end / 1e6;
  t.slots = std::atoi(t.info["slots"].c_str());
  std::map<int, bool> tids;
  for (const Run& r : t.runs) tids[r.tid] = true;
  for (const auto& [tid, used] : tids) {
    if (!t.rows.count(tid)) t.rows[tid] = "row " + std::to_string(tid);
  }
  if (t.slots <= 0) t.slots = static_cast<int>(std::max<size_t>(1, t.rows.size()));
  return t;
}

Result<Trace> ReadTrace(const std::string& path) {
  GG_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  auto t = ParseTrace(text);
  if (!t.ok()) return t.status().Prefix(path);
  return t;
}

}  // namespace gg::report
