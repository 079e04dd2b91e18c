#include "report/analysis.h"

#include <algorithm>
#include <map>
#include <unordered_map>

namespace gg::report {
namespace {

std::string Base(const std::string& path) { return path.substr(path.rfind('/') + 1); }

bool Has(const std::vector<std::string>& words, const char* w) {
  return std::find(words.begin(), words.end(), w) != words.end();
}

}  // namespace

std::string KindOf(const Run& run) {
  std::vector<std::string> words = SplitWords(run.command);
  std::string tool = run.function;
  if (!words.empty()) {
    tool = Base(words[0]);
    // A shell wrapper (`sh -c '... && exec ar ...'`): the program it execs.
    auto exec = std::find(words.begin(), words.end(), "exec");
    if ((tool == "sh" || tool == "bash" || tool == "busybox") && exec != words.end() && exec + 1 != words.end()) {
      tool = Base(*(exec + 1));
      if (!tool.empty() && tool[0] == '\'') tool = tool.substr(1);
    }
  }
  if (tool.find("discover") != std::string::npos) {
    // gg-discover --compile: discovery and the compile in one sandbox.
    return Has(words, "--compile") ? "compile" : "discovery";
  }
  // A versioned name (gcc-12, x86_64-linux-gnu-g++-12): without the version.
  size_t dash = tool.rfind('-');
  if (dash != std::string::npos && dash + 1 < tool.size() &&
      tool.find_first_not_of("0123456789.", dash + 1) == std::string::npos) {
    tool.resize(dash);
  }
  static const char* kCompilers[] = {"gcc", "g++", "cc", "c++", "clang", "clang++", "cc1", "cc1plus"};
  bool compiler = std::any_of(std::begin(kCompilers), std::end(kCompilers), [&](const char* c) {
    return tool == c || tool.ends_with(std::string("-") + c);
  });
  if (compiler) {
    if (Has(words, "-E") || Has(words, "-M") || Has(words, "-MM")) return "preprocess";
    if (Has(words, "-c") || Has(words, "-S")) return "compile";
    return "link";
  }
  if (tool == "ld" || tool.starts_with("ld.") || tool == "collect2" || tool == "gold" || tool == "lld") return "link";
  if (tool == "ar" || tool == "ranlib" || tool.ends_with("-ar")) return "archive";
  if (tool == "as" || tool.ends_with("-as")) return "assemble";
  if (tool.find("test") != std::string::npos) return "test";
  if (tool.find("ffmpeg") != std::string::npos || tool.find("enc") != std::string::npos) return "encode";
  return tool.empty() ? "other" : tool;
}

CriticalPath FindCriticalPath(const Trace& trace) {
  CriticalPath path;
  // Each thunk's deciding run: the one that succeeded, else its last.
  std::unordered_map<std::string, size_t> final_run;
  std::unordered_map<std::string, int64_t> first_start;
  for (size_t i = 0; i < trace.runs.size(); ++i) {
    const Run& r = trace.runs[i];
    auto [it, fresh] = final_run.try_emplace(r.thunk, i);
    if (!fresh) {
      const Run& prev = trace.runs[it->second];
      if (r.ok() || (!prev.ok() && r.end_us > prev.end_us)) it->second = i;
    }
    int64_t start = r.queued_us >= 0 ? r.queued_us : r.slot_start();
    auto [fs, fresh_start] = first_start.try_emplace(r.thunk, start);
    if (!fresh_start) fs->second = std::min(fs->second, start);
  }
  if (final_run.empty()) return path;
  size_t last = final_run.begin()->second;
  for (const auto& [thunk, i] : final_run) {
    if (trace.runs[i].end_us > trace.runs[last].end_us) last = i;
  }
  // A thunk that reduced to another (a tail call) is done when that one is:
  // a dependency's finish is its tail chain's last run's.
  std::unordered_map<std::string, std::string> tail_next;
  for (const auto& [thunk, i] : final_run) {
    const Run& r = trace.runs[i];
    if (r.ok() && !r.outputs.empty() && r.outputs[0].starts_with("T") && final_run.count(r.outputs[0])) {
      tail_next[thunk] = r.outputs[0];
    }
  }
  auto finish_of = [&](std::string thunk) {
    for (int hops = 0; hops < 100; ++hops) {
      auto it = tail_next.find(thunk);
      if (it == tail_next.end()) break;
      thunk = it->second;
    }
    return final_run.at(thunk);
  };
  std::vector<size_t> chain{last};
  std::unordered_map<std::string, bool> seen{{trace.runs[last].thunk, true}};
  for (;;) {
    const Run& r = trace.runs[chain.back()];
    size_t best = SIZE_MAX;
    for (const auto& d : r.deps) {
      if (!final_run.count(d)) continue;  // memoized: not run in this force
      size_t i = finish_of(d);
      if (seen.count(trace.runs[i].thunk)) i = final_run.at(d);
      if (seen.count(trace.runs[i].thunk)) continue;
      if (best == SIZE_MAX || trace.runs[i].end_us > trace.runs[best].end_us) best = i;
    }
    if (best == SIZE_MAX) break;
    seen[trace.runs[best].thunk] = true;
    chain.push_back(best);
  }
  std::reverse(chain.begin(), chain.end());
  for (size_t i : chain) {
    const Run& r = trace.runs[i];
    path.busy_seconds += (r.end_us - r.slot_start()) / 1e6;
  }
  const Run& first = trace.runs[chain.front()];
  path.span_seconds = (trace.runs[chain.back()].end_us - first_start[first.thunk]) / 1e6;
  path.runs = std::move(chain);
  return path;
}

Utilisation ComputeUtilisation(const Trace& trace, size_t buckets) {
  Utilisation u;
  buckets = std::max<size_t>(1, buckets);
  double wall_us = std::max(1.0, trace.wall_seconds * 1e6);
  double width = wall_us / static_cast<double>(buckets);
  u.bucket_seconds = width / 1e6;
  u.busy.assign(buckets, 0);
  u.running.assign(buckets, 0);
  auto add = [&](std::vector<double>& series, double from, double to) {
    if (to <= from) return;
    auto b = static_cast<size_t>(std::max(0.0, from / width));
    for (; b < buckets; ++b) {
      double lo = b * width, hi = lo + width;
      if (lo >= to) break;
      series[b] += std::min(hi, to) - std::max(lo, from);
    }
  };
  for (const Run& r : trace.runs) {
    add(u.busy, static_cast<double>(r.slot_start()), static_cast<double>(r.end_us));
    add(u.running, static_cast<double>(r.run_us), static_cast<double>(r.collect_us));
  }
  double capacity = width * std::max(1, trace.slots);
  for (auto& v : u.busy) v /= capacity;
  for (auto& v : u.running) v /= capacity;
  return u;
}

std::vector<FunctionTotal> TotalsByFunction(const Trace& trace) {
  std::map<std::pair<std::string, std::string>, FunctionTotal> by;
  for (const Run& r : trace.runs) {
    std::string kind = KindOf(r);
    FunctionTotal& t = by[{r.function, kind}];
    t.function = r.function;
    t.kind = kind;
    t.runs++;
    if (r.ok()) t.count++;
    double running = r.running() / 1e6;
    t.running_seconds += running;
    t.slot_seconds += (r.end_us - r.slot_start()) / 1e6;
    t.max_running = std::max(t.max_running, running);
  }
  std::vector<FunctionTotal> out;
  for (auto& [k, v] : by) out.push_back(std::move(v));
  std::sort(out.begin(), out.end(),
            [](const FunctionTotal& a, const FunctionTotal& b) { return a.running_seconds > b.running_seconds; });
  return out;
}

std::vector<size_t> Slowest(const Trace& trace, size_t n) {
  std::vector<size_t> idx(trace.runs.size());
  for (size_t i = 0; i < idx.size(); ++i) idx[i] = i;
  n = std::min(n, idx.size());
  std::partial_sort(idx.begin(), idx.begin() + static_cast<std::ptrdiff_t>(n), idx.end(), [&](size_t a, size_t b) {
    return trace.runs[a].running() > trace.runs[b].running();
  });
  idx.resize(n);
  return idx;
}

}  // namespace gg::report
