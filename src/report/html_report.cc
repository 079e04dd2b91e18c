#include "report/html_report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <set>

#include "core/json.h"
#include "report/analysis.h"

namespace gg::report {
namespace {

constexpr double kWidth = 1200, kLabel = 130, kChart = kWidth - kLabel - 10;
constexpr size_t kMaxElements = 30000;  // SVG elements a browser redraws without lag

std::string Esc(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string F(double v, int decimals = 1) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

std::string Seconds(double s) {
  if (s < 1) return F(s * 1000, 0) + " ms";
  if (s < 100) return F(s, 2) + " s";
  return F(s / 60, 1) + " min";
}

/// Inside a <script type="application/json">: "</" would end the element.
std::string ScriptSafe(std::string json) {
  for (size_t p = 0; (p = json.find("</", p)) != std::string::npos; p += 3) json.replace(p, 2, "<\\/");
  return json;
}

const std::map<std::string, std::string>& KnownColours() {
  static const std::map<std::string, std::string> k = {
      {"compile", "#4e79a7"}, {"link", "#b07aa1"},   {"archive", "#f28e2b"}, {"discovery", "#76b7b2"},
      {"preprocess", "#59a14f"}, {"test", "#edc948"}, {"encode", "#ff9da7"}, {"assemble", "#9c755f"}};
  return k;
}

std::string ColourOf(const std::string& kind) {
  auto it = KnownColours().find(kind);
  if (it != KnownColours().end()) return it->second;
  static const char* kOthers[] = {"#bab0ac", "#ff9da7", "#86bcb6", "#8cd17d", "#d4a6c8", "#a0cbe8"};
  size_t h = std::hash<std::string>{}(kind);
  return kOthers[h % (sizeof kOthers / sizeof kOthers[0])];
}

std::string Cell(const std::string& s, const char* cls = nullptr) {
  return std::string("<td") + (cls ? std::string(" class=\"") + cls + "\"" : "") + ">" + Esc(s) + "</td>";
}

struct Layout {
  double wall_us;
  double row_height;
  std::map<int, size_t> row_of;  // tid -> row index
  double X(int64_t us) const { return kLabel + std::max<int64_t>(0, us) / wall_us * kChart; }
  double Y(int tid) const { return 20 + row_of.at(tid) * row_height; }
};

std::string Axis(const Layout& l, double y0, double height) {
  double wall = l.wall_us / 1e6;
  double step = std::pow(10, std::floor(std::log10(std::max(wall, 1e-3) / 8)));
  for (double m : {1.0, 2.0, 5.0, 10.0}) {
    if (wall / (step * m) <= 10) {
      step *= m;
      break;
    }
  }
  std::string out;
  for (double t = 0; t <= wall + 1e-9; t += step) {
    double x = l.X(static_cast<int64_t>(t * 1e6));
    out += "<line class=\"grid\" x1=\"" + F(x) + "\" x2=\"" + F(x) + "\" y1=\"" + F(y0) + "\" y2=\"" + F(y0 + height) +
           "\"/><text class=\"tick\" x=\"" + F(x) + "\" y=\"" + F(y0 - 4) + "\">" + Seconds(t) + "</text>";
  }
  return out;
}

}  // namespace

std::string RenderHtml(const Trace& trace, const std::string& title) {
  CriticalPath cp = FindCriticalPath(trace);
  std::set<size_t> on_path(cp.runs.begin(), cp.runs.end());
  Layout l;
  l.wall_us = std::max(1.0, trace.wall_seconds * 1e6);
  for (const auto& [tid, name] : trace.rows) l.row_of.emplace(tid, l.row_of.size());
  size_t rows = std::max<size_t>(1, l.row_of.size());
  l.row_height = std::clamp(720.0 / static_cast<double>(rows), 3.0, 18.0);
  double chart_height = 20 + rows * l.row_height + 4;

  // Which runs are drawn one by one: all of a small trace; of a large one,
  // the critical path and those wide enough to see, the rest merged per row
  // into segments at least `min_px` wide (widened until the page is light).
  bool detailed_all = trace.runs.size() <= kDetailedRuns;
  std::string bars;
  std::string runs_json = "[";
  std::string agg_json = "[";
  size_t detailed = 0, merged_segments = 0;
  std::map<std::string, bool> kinds_seen;
  auto emit_run = [&](size_t i) {
    const Run& r = trace.runs[i];
    std::string kind = KindOf(r);
    kinds_seen[kind] = true;
    std::string cls = "run";
    if (on_path.count(i)) cls += " crit";
    if (r.duplicate) cls += " dup";
    if (r.attempt > 1 && !r.duplicate) cls += " retry";
    if (r.cancelled()) cls += " cancelled";
    else if (!r.ok()) cls += " failed";
    double y = l.Y(r.tid), h = std::max(1.0, l.row_height - 1);
    bars += "<g class=\"" + cls + "\" data-i=\"" + std::to_string(detailed) + "\">";
    auto rect = [&](const char* c, int64_t from, int64_t to, const std::string& fill, double yy, double hh) {
      if (to < from) return;
      double x = l.X(from), w = std::max(0.6, l.X(to) - x);
      bars += std::string("<rect class=\"") + c + "\" x=\"" + F(x) + "\" y=\"" + F(yy) + "\" width=\"" + F(w, 2) +
              "\" height=\"" + F(hh) + "\"" + (fill.empty() ? "" : " fill=\"" + fill + "\"") + "/>";
    };
    if (r.queued_us >= 0 && l.X(r.slot_start()) - l.X(r.queued_us) >= 1) {
      rect("q", r.queued_us, r.slot_start(), "", y + h - std::min(2.0, h / 3), std::min(2.0, h / 3));
    }
    if (r.fetch_us >= 0 && l.X(r.run_us) - l.X(r.fetch_us) >= 0.5) rect("f", r.fetch_us, r.run_us, "", y, h);
    rect("r", r.run_us, r.collect_us, ColourOf(kind), y, h);
    if (l.X(r.end_us) - l.X(r.collect_us) >= 0.5) rect("c", r.collect_us, r.end_us, "", y, h);
    bars += "</g>";
    auto ms = [](int64_t us) { return us < 0 ? std::string("null") : F(us / 1000.0, 1); };
    bool with_command = detailed_all || on_path.count(i);
    runs_json += std::string(detailed ? "," : "") + "{\"n\":" + JsonString(r.thunk) + ",\"f\":" + JsonString(r.function) +
                 ",\"k\":" + JsonString(kind) + ",\"e\":" + JsonString(r.engine) + ",\"row\":" +
                 JsonString(trace.rows.at(r.tid)) + ",\"a\":" + std::to_string(r.attempt) +
                 ",\"d\":" + (r.duplicate ? "1" : "0") + ",\"res\":" + JsonString(r.result) + ",\"q\":" + ms(r.queued_us) +
                 ",\"fs\":" + ms(r.fetch_us) + ",\"rs\":" + ms(r.run_us) + ",\"cs\":" + ms(r.collect_us) +
                 ",\"end\":" + ms(r.end_us) + ",\"c\":" + JsonString(with_command ? r.command : "") +
                 (r.message.empty() ? "" : ",\"m\":" + JsonString(r.message)) + "}";
    ++detailed;
  };
  if (detailed_all) {
    for (size_t i = 0; i < trace.runs.size(); ++i) emit_run(i);
  } else {
    std::map<int, std::vector<size_t>> by_row;
    for (size_t i = 0; i < trace.runs.size(); ++i) by_row[trace.runs[i].tid].push_back(i);
    for (double min_px = 3;; min_px *= 2) {
      bars.clear();
      runs_json = "[";
      agg_json = "[";
      detailed = merged_segments = 0;
      for (const auto& [tid, idx] : by_row) {
        struct Segment {
          double x0 = -1, x1 = -1;
          int64_t from = 0, to = 0;
          size_t count = 0;
          std::map<std::string, size_t> kinds;
        } seg;
        auto flush = [&] {
          if (seg.count == 0) return;
          std::string top;
          size_t top_n = 0, failed = 0;
          std::string kinds;
          for (const auto& [k, c] : seg.kinds) {
            if (c > top_n) top = k, top_n = c;
            kinds += (kinds.empty() ? "" : ", ") + k + " " + std::to_string(c);
            kinds_seen[k] = true;
          }
          (void)failed;
          bars += "<rect class=\"agg\" data-a=\"" + std::to_string(merged_segments) + "\" x=\"" + F(seg.x0) + "\" y=\"" +
                  F(l.Y(tid)) + "\" width=\"" + F(std::max(0.6, seg.x1 - seg.x0), 2) + "\" height=\"" +
                  F(std::max(1.0, l.row_height - 1)) + "\" fill=\"" + ColourOf(top) + "\"/>";
          agg_json += std::string(merged_segments ? "," : "") + "{\"count\":" + std::to_string(seg.count) +
                      ",\"from\":" + F(seg.from / 1000.0) + ",\"to\":" + F(seg.to / 1000.0) + ",\"row\":" +
                      JsonString(trace.rows.at(tid)) + ",\"kinds\":" + JsonString(kinds) + "}";
          ++merged_segments;
          seg = Segment{};
        };
        for (size_t i : idx) {
          const Run& r = trace.runs[i];
          double x0 = l.X(r.slot_start()), x1 = l.X(r.end_us);
          if (on_path.count(i) || x1 - x0 >= min_px || !r.ok()) {
            flush();
            emit_run(i);
            continue;
          }
          if (seg.count > 0 && x0 - seg.x1 > 1) flush();
          if (seg.count == 0) seg.x0 = x0, seg.from = r.slot_start();
          seg.x1 = std::max(seg.x1, x1);
          seg.to = std::max(seg.to, r.end_us);
          seg.count++;
          seg.kinds[KindOf(r)]++;
        }
        flush();
      }
      if (detailed + merged_segments <= kMaxElements || min_px > kChart) break;
    }
  }
  runs_json += "]";
  agg_json += "]";

  std::string rows_svg;
  for (const auto& [tid, name] : trace.rows) {
    double y = l.Y(tid);
    rows_svg += "<g class=\"slot\" data-tid=\"" + std::to_string(tid) + "\"><rect class=\"lane\" x=\"" + F(kLabel) +
                "\" y=\"" + F(y) + "\" width=\"" + F(kChart) + "\" height=\"" + F(l.row_height) + "\"/>";
    if (l.row_height >= 9) {
      rows_svg += "<text class=\"label\" x=\"" + F(kLabel - 6) + "\" y=\"" + F(y + l.row_height * 0.75) + "\">" + Esc(name) +
                  "</text>";
    }
    rows_svg += "</g>";
  }

  // Utilisation: slots held, and slots running a program, per bucket.
  Utilisation u = ComputeUtilisation(trace, 300);
  double uh = 110;
  auto area = [&](const std::vector<double>& series) {
    std::string d = "M" + F(kLabel) + "," + F(20 + uh);
    for (size_t b = 0; b < series.size(); ++b) {
      double x0 = kLabel + kChart * b / series.size(), x1 = kLabel + kChart * (b + 1) / series.size();
      double y = 20 + uh - std::min(1.0, series[b]) * uh;
      d += " L" + F(x0) + "," + F(y) + " L" + F(x1) + "," + F(y);
    }
    return d + " L" + F(kLabel + kChart) + "," + F(20 + uh) + " Z";
  };
  double mean_busy = 0;
  for (double v : u.busy) mean_busy += v;
  mean_busy /= std::max<size_t>(1, u.busy.size());

  // The page.
  std::string status = trace.info.count("status") ? trace.info.at("status") : "";
  std::string html =
      "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>" + Esc(title) +
      "</title>\n<meta name=\"viewport\" content=\"width=device-width\">\n<style>\n"
      "body{font:13px system-ui,-apple-system,'Segoe UI',sans-serif;margin:16px 24px;color:#222;background:#fff}\n"
      "h1{font-size:20px;margin:0 0 4px}h2{font-size:15px;margin:22px 0 6px}\n"
      ".summary{color:#444;margin-bottom:8px}.summary b{color:#000}\n"
      ".scroll{overflow-x:auto}svg{display:block}\n"
      ".lane{fill:#f6f6f6}.slot:nth-child(even) .lane{fill:#eeeeee}\n"
      ".label{font-size:10px;fill:#555;text-anchor:end}.tick{font-size:10px;fill:#777;text-anchor:middle}\n"
      ".grid{stroke:#ddd;stroke-width:1}\n"
      ".run .f{fill:#c7c7c7}.run .c{fill:#555}.run .q{fill:#f3c969}\n"
      ".run.crit .r{stroke:#000;stroke-width:1.6}\n"
      ".run.dup .r{stroke:#ff7f0e;stroke-width:1.4;stroke-dasharray:3 2}\n"
      ".run.retry .r{stroke:#7b3294;stroke-width:1.4}\n"
      ".run.cancelled{opacity:.35}.run.cancelled .r{fill:url(#hatch)}\n"
      ".run.failed .r{fill:#d62728}\n"
      ".run:hover .r,.agg:hover{filter:brightness(1.25)}\n"
      ".agg{opacity:.85}\n"
      ".legend span{display:inline-block;margin-right:14px}.legend i{display:inline-block;width:12px;height:12px;"
      "vertical-align:-2px;margin-right:4px;border-radius:2px}\n"
      "table{border-collapse:collapse;font-size:12px}td,th{padding:3px 8px;border-bottom:1px solid #e4e4e4;"
      "text-align:left;vertical-align:top}th{background:#fafafa}td.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}\n"
      "td.cmd{font:11px ui-monospace,Menlo,Consolas,monospace;max-width:640px;word-break:break-all;color:#333}\n"
      "code{font:11px ui-monospace,Menlo,Consolas,monospace}\n"
      "#tip{position:fixed;pointer-events:none;background:#fffffe;border:1px solid #999;box-shadow:0 2px 8px "
      "rgba(0,0,0,.2);padding:6px 8px;font-size:12px;max-width:560px;display:none;z-index:9;white-space:pre-wrap;"
      "word-break:break-all}\n"
      ".crit-line{stroke:#000;stroke-width:1;fill:none;stroke-dasharray:2 2}\n"
      "</style></head><body>\n<h1>" + Esc(title) + "</h1>\n<div class=\"summary\">";
  size_t thunks = 0;
  {
    std::set<std::string> names;
    for (const Run& r : trace.runs) names.insert(r.thunk);
    thunks = names.size();
  }
  size_t retries = 0, copies = 0, failures = 0;
  for (const Run& r : trace.runs) {
    if (r.duplicate) copies++;
    else if (r.attempt > 1) retries++;
    if (!r.ok() && !r.cancelled()) failures++;  // retried or final
  }
  html += "wall time <b>" + Seconds(trace.wall_seconds) + "</b> &middot; <b>" + std::to_string(thunks) +
          "</b> thunks ran (" + std::to_string(trace.runs.size()) + " runs";
  if (retries) html += ", " + std::to_string(retries) + " retries";
  if (copies) html += ", " + std::to_string(copies) + " straggler copies";
  if (failures) html += ", " + std::to_string(failures) + " failed runs";
  html += ")";
  if (trace.info.count("memoized")) html += ", <b>" + Esc(trace.info.at("memoized")) + "</b> memoized";
  html += " &middot; " + std::to_string(trace.slots) + " slots";
  if (trace.info.count("engines")) html += " (" + Esc(trace.info.at("engines")) + ")";
  html += " &middot; mean utilisation <b>" + F(mean_busy * 100, 0) + "%</b>";
  if (!status.empty() && status != "ok") html += " &middot; <b style=\"color:#d62728\">" + Esc(status) + "</b>";
  html += "<br><span id=\"critsum\">critical path: <b>" + std::to_string(cp.runs.size()) + "</b> thunks, <b>" +
          Seconds(cp.busy_seconds) + "</b> of work, spanning " + Seconds(cp.span_seconds) + " of the " +
          Seconds(trace.wall_seconds) + " wall time (" +
          F(trace.wall_seconds > 0 ? 100 * cp.span_seconds / trace.wall_seconds : 0, 0) + "%)</span>";
  if (!detailed_all) {
    html += "<br><i>" + std::to_string(trace.runs.size()) + " runs: " + std::to_string(detailed) +
            " drawn one by one (the critical path, failures and runs wide enough to see), the rest merged per slot into " +
            std::to_string(merged_segments) + " segments coloured by their most common kind; commands are shown for "
            "the critical path and the tables below (all of them: <code>gg report --json</code>).</i>";
  }
  html += "</div>\n<div class=\"legend\">phase: <span><i style=\"background:#f3c969\"></i>queued</span>"
          "<span><i style=\"background:#c7c7c7\"></i>fetching inputs</span>"
          "<span><i style=\"background:#4e79a7\"></i>running (colour = kind)</span>"
          "<span><i style=\"background:#555\"></i>collecting</span>"
          "<span><i style=\"border:2px solid #000;box-sizing:border-box\"></i>critical path</span>"
          "<span><i style=\"border:2px dashed #ff7f0e;box-sizing:border-box\"></i>straggler copy</span>"
          "<span><i style=\"border:2px solid #7b3294;box-sizing:border-box\"></i>retry</span>"
          "<span><i style=\"background:#aaa;opacity:.35\"></i>cancelled</span>"
          "<span><i style=\"background:#d62728\"></i>failed</span><br>kind: ";
  for (const auto& [k, seen] : kinds_seen) {
    html += "<span><i style=\"background:" + ColourOf(k) + "\"></i>" + Esc(k) + "</span>";
  }
  html += "</div>\n<h2>Timeline <small>(one row per engine slot)</small></h2>\n<div class=\"scroll\"><svg "
          "id=\"timeline\" class=\"timeline\" xmlns=\"http://www.w3.org/2000/svg\" width=\"" + F(kWidth, 0) + "\" height=\"" +
          F(chart_height, 0) + "\"><defs><pattern id=\"hatch\" width=\"4\" height=\"4\" patternUnits=\"userSpaceOnUse\" "
          "patternTransform=\"rotate(45)\"><rect width=\"2\" height=\"4\" fill=\"#888\"/></pattern></defs>" +
          rows_svg + Axis(l, 18, chart_height - 18) + bars;
  // The critical path as a line through its runs' ends, to follow by eye.
  if (cp.runs.size() > 1) {
    std::string pts;
    for (size_t i : cp.runs) {
      const Run& r = trace.runs[i];
      pts += F(l.X(r.run_us)) + "," + F(l.Y(r.tid) + l.row_height / 2) + " " + F(l.X(r.end_us)) + "," +
             F(l.Y(r.tid) + l.row_height / 2) + " ";
    }
    html += "<polyline class=\"crit-line\" points=\"" + pts + "\"/>";
  }
  html += "</svg></div>\n<h2>Utilisation <small>(grey: slots held; blue: slots running a program; of " +
          std::to_string(trace.slots) + ")</small></h2>\n<svg id=\"utilisation\" width=\"" + F(kWidth, 0) + "\" height=\"" +
          F(uh + 26, 0) + "\">" + "<text class=\"label\" x=\"" + F(kLabel - 6) + "\" y=\"28\">100%</text><text class=\"label\" x=\"" +
          F(kLabel - 6) + "\" y=\"" + F(20 + uh) + "\">0%</text><rect class=\"lane\" x=\"" + F(kLabel) + "\" y=\"20\" width=\"" +
          F(kChart) + "\" height=\"" + F(uh) + "\"/>" + Axis(l, 18, uh + 2) + "<path d=\"" + area(u.busy) +
          "\" fill=\"#c7c7c7\"/><path d=\"" + area(u.running) + "\" fill=\"#4e79a7\" fill-opacity=\".8\"/></svg>\n";

  // Tables.
  auto run_row = [&](size_t i) {
    const Run& r = trace.runs[i];
    return "<tr>" + Cell(r.thunk.substr(0, 14) + "…") + Cell(r.function) + Cell(KindOf(r)) + Cell(r.engine) +
           Cell(std::to_string(r.attempt) + (r.duplicate ? " (copy)" : ""), "n") + Cell(Seconds(r.running() / 1e6), "n") +
           Cell(Seconds((r.end_us - r.slot_start()) / 1e6), "n") + Cell(r.result) + Cell(r.command, "cmd") + "</tr>\n";
  };
  const char* run_header =
      "<tr><th>thunk</th><th>function</th><th>kind</th><th>engine</th><th>attempt</th><th>running</th><th>in slot</th>"
      "<th>result</th><th>command</th></tr>\n";
  html += "<h2>Critical path <small>(first to last)</small></h2>\n<table id=\"critical\">" + std::string(run_header);
  for (size_t k = 0; k < cp.runs.size() && k < 60; ++k) html += run_row(cp.runs[k]);
  html += "</table>";
  if (cp.runs.size() > 60) html += "<p>… and " + std::to_string(cp.runs.size() - 60) + " more.</p>";
  html += "\n<h2>Slowest thunks</h2>\n<table id=\"slowest\">" + std::string(run_header);
  for (size_t i : Slowest(trace, 25)) html += run_row(i);
  html += "</table>\n<h2>Totals per function</h2>\n<table id=\"functions\"><tr><th>function</th><th>kind</th>"
          "<th>count</th><th>runs</th><th>running (sum)</th><th>in slot (sum)</th><th>mean running</th>"
          "<th>max running</th></tr>\n";
  auto totals = TotalsByFunction(trace);
  for (size_t k = 0; k < totals.size() && k < 200; ++k) {
    const auto& t = totals[k];
    html += "<tr>" + Cell(t.function) + Cell(t.kind) + Cell(std::to_string(t.count), "n") + Cell(std::to_string(t.runs), "n") +
            Cell(Seconds(t.running_seconds), "n") + Cell(Seconds(t.slot_seconds), "n") +
            Cell(Seconds(t.running_seconds / std::max<size_t>(1, t.runs)), "n") + Cell(Seconds(t.max_running), "n") + "</tr>\n";
  }
  html += "</table>\n";
  std::string troubles;
  size_t shown = 0;
  for (size_t i = 0; i < trace.runs.size() && shown < 100; ++i) {
    const Run& r = trace.runs[i];
    if (r.ok() && r.attempt == 1 && !r.duplicate) continue;
    troubles += run_row(i);
    ++shown;
  }
  if (!troubles.empty()) {
    html += "<h2>Retries, straggler copies and failures</h2>\n<table id=\"troubles\">" + std::string(run_header) +
            troubles + "</table>\n";
  }
  html += "<p style=\"color:#777\">Times are from the start of the force. <i>running</i> is the time in the sandbox; "
          "<i>in slot</i> adds fetching inputs and collecting outputs. Made by <code>gg report</code>.</p>\n"
          "<div id=\"tip\"></div>\n<script type=\"application/json\" id=\"runs\">" + ScriptSafe(runs_json) +
          "</script>\n<script type=\"application/json\" id=\"segments\">" + ScriptSafe(agg_json) + "</script>\n";
  html += R"JS(<script>
(function () {
  var runs = JSON.parse(document.getElementById('runs').textContent);
  var segs = JSON.parse(document.getElementById('segments').textContent);
  var tip = document.getElementById('tip');
  function ms(v) { return v === null ? '-' : v < 1000 ? v.toFixed(1) + ' ms' : (v / 1000).toFixed(3) + ' s'; }
  function text(node) {
    var g = node.closest ? node.closest('[data-i],[data-a]') : null;
    if (!g) return null;
    if (g.hasAttribute('data-a')) {
      var s = segs[+g.getAttribute('data-a')];
      return s.count + ' thunks merged (' + s.row + ')\n' + ms(s.from) + ' to ' + ms(s.to) + '\n' + s.kinds;
    }
    var r = runs[+g.getAttribute('data-i')];
    var t = r.n + '\n' + r.f + ' (' + r.k + ') on ' + r.row + ', attempt ' + r.a + (r.d ? ', straggler copy' : '') +
        ', ' + r.res + (r.m ? ': ' + r.m : '');
    if (g.classList.contains('crit')) t += '\non the critical path';
    if (r.q !== null) t += '\nqueued ' + ms(r.q) + ', waited ' + ms(r.fs - r.q);
    if (r.fs !== null) t += '\nfetching inputs ' + ms(r.rs - r.fs);
    t += '\nrunning ' + ms(r.cs - r.rs) + ' (from ' + ms(r.rs) + ')\ncollecting ' + ms(r.end - r.cs);
    if (r.c) t += '\n$ ' + (r.c.length > 600 ? r.c.slice(0, 600) + ' ...' : r.c);
    return t;
  }
  document.getElementById('timeline').addEventListener('mousemove', function (e) {
    var t = text(e.target);
    if (!t) { tip.style.display = 'none'; return; }
    tip.textContent = t;
    tip.style.display = 'block';
    var x = e.clientX + 14, y = e.clientY + 14;
    if (x + tip.offsetWidth > window.innerWidth) x = Math.max(0, e.clientX - tip.offsetWidth - 14);
    if (y + tip.offsetHeight > window.innerHeight) y = Math.max(0, e.clientY - tip.offsetHeight - 14);
    tip.style.left = x + 'px';
    tip.style.top = y + 'px';
  });
  document.getElementById('timeline').addEventListener('mouseleave', function () { tip.style.display = 'none'; });
  document.body.setAttribute('data-ready', runs.length + ' runs');
})();
</script>
</body></html>
)JS";
  return html;
}

}  // namespace gg::report
