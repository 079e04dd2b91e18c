#include "coordinator/durations.h"

#include <algorithm>
#include <cstdio>
#include <sstream>

#include "core/path_util.h"

namespace gg {

Durations::Durations(std::string path) : path_(std::move(path)) {
  auto text = ReadFile(path_);
  if (!text.ok()) return;
  std::istringstream in(*text);
  std::string name;
  Mean m;
  while (in >> name >> m.mean >> m.count) past_[name] = m;
}

double Durations::Estimate(const std::string& function, double fallback) const {
  auto it = past_.find(function);
  return it == past_.end() ? fallback : it->second.mean;
}

void Durations::Add(const std::string& function, double seconds) { current_[function].push_back(seconds); }

double Durations::MedianThisRun(const std::string& function, size_t* count) const {
  auto it = current_.find(function);
  if (it == current_.end() || it->second.empty()) {
    *count = 0;
    return 0;
  }
  std::vector<double> v = it->second;
  std::nth_element(v.begin(), v.begin() + v.size() / 2, v.end());
  *count = v.size();
  return v[v.size() / 2];
}

void Durations::Save() const {
  if (current_.empty()) return;
  std::map<std::string, Mean> merged = past_;
  for (const auto& [fn, runs] : current_) {
    Mean& m = merged[fn];
    for (double s : runs) {
      m.count++;
      m.mean += (s - m.mean) / static_cast<double>(m.count);
    }
  }
  std::string out;
  char line[256];
  for (const auto& [fn, m] : merged) {
    std::snprintf(line, sizeof line, "%s %.6f %llu\n", fn.c_str(), m.mean, static_cast<unsigned long long>(m.count));
    out += line;
  }
  (void)WriteFileAtomic(path_, out);
}

}  // namespace gg
