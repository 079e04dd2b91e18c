#include "report/json_report.h"

#include <cstdio>

#include "core/json.h"
#include "report/analysis.h"

namespace gg::report {
namespace {

std::string Num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}
std::string Sec(int64_t us) { return us < 0 ? "null" : Num(us / 1e6); }

std::string List(const std::vector<std::string>& v) {
  std::string out = "[";
  for (size_t i = 0; i < v.size(); ++i) out += (i ? "," : "") + JsonString(v[i]);
  return out + "]";
}

}  // namespace

std::string RenderJson(const Trace& trace) {
  std::string out = "{\n\"info\":{";
  bool first = true;
  for (const auto& [k, v] : trace.info) {
    out += (first ? "" : ",") + JsonString(k) + ":" + JsonString(v);
    first = false;
  }
  out += "},\n\"wall_seconds\":" + Num(trace.wall_seconds) + ",\"slots\":" + std::to_string(trace.slots);
  out += ",\n\"rows\":[";
  first = true;
  for (const auto& [tid, name] : trace.rows) {
    out += (first ? "" : ",") + std::string("{\"tid\":") + std::to_string(tid) + ",\"name\":" + JsonString(name) + "}";
    first = false;
  }
  out += "],\n\"runs\":[";
  for (size_t i = 0; i < trace.runs.size(); ++i) {
    const Run& r = trace.runs[i];
    out += std::string(i ? ",\n" : "\n") + "{\"thunk\":" + JsonString(r.thunk) + ",\"function\":" + JsonString(r.function) +
           ",\"kind\":" + JsonString(KindOf(r)) + ",\"engine\":" + JsonString(r.engine) +
           ",\"tid\":" + std::to_string(r.tid) + ",\"attempt\":" + std::to_string(r.attempt) +
           ",\"duplicate\":" + (r.duplicate ? "true" : "false") + ",\"result\":" + JsonString(r.result) +
           ",\"queued\":" + Sec(r.queued_us) + ",\"fetching\":" + Sec(r.fetch_us) + ",\"running\":" + Sec(r.run_us) +
           ",\"collecting\":" + Sec(r.collect_us) + ",\"end\":" + Sec(r.end_us) +
           ",\"command\":" + JsonString(r.command) + ",\"deps\":" + List(r.deps) + ",\"outputs\":" + List(r.outputs);
    if (!r.message.empty()) out += ",\"message\":" + JsonString(r.message);
    if (!r.exit_status.empty()) out += ",\"exit_status\":" + r.exit_status;
    out += "}";
  }
  CriticalPath cp = FindCriticalPath(trace);
  out += "],\n\"critical_path\":{\"busy_seconds\":" + Num(cp.busy_seconds) + ",\"span_seconds\":" + Num(cp.span_seconds) +
         ",\"runs\":[";
  for (size_t i = 0; i < cp.runs.size(); ++i) out += (i ? "," : "") + std::to_string(cp.runs[i]);
  Utilisation u = ComputeUtilisation(trace, 200);
  out += "]},\n\"utilisation\":{\"bucket_seconds\":" + Num(u.bucket_seconds) + ",\"busy\":[";
  for (size_t i = 0; i < u.busy.size(); ++i) out += (i ? "," : "") + Num(u.busy[i]);
  out += "],\"running\":[";
  for (size_t i = 0; i < u.running.size(); ++i) out += (i ? "," : "") + Num(u.running[i]);
  out += "]},\n\"functions\":[";
  auto totals = TotalsByFunction(trace);
  for (size_t i = 0; i < totals.size(); ++i) {
    const auto& t = totals[i];
    out += std::string(i ? ",\n" : "\n") + "{\"function\":" + JsonString(t.function) + ",\"kind\":" + JsonString(t.kind) +
           ",\"count\":" + std::to_string(t.count) + ",\"runs\":" + std::to_string(t.runs) +
           ",\"running_seconds\":" + Num(t.running_seconds) + ",\"slot_seconds\":" + Num(t.slot_seconds) +
           ",\"max_running_seconds\":" + Num(t.max_running) + "}";
  }
  out += "],\n\"slowest\":[";
  auto slow = Slowest(trace, 25);
  for (size_t i = 0; i < slow.size(); ++i) out += (i ? "," : "") + std::to_string(slow[i]);
  out += "]\n}\n";
  return out;
}

}  // namespace gg::report
