// What earlier runs took, per function (the executable's name): used to
// order ready thunks by critical path and to spot stragglers. Kept in
// .gg/durations as "NAME MEAN_SECONDS COUNT" lines, rewritten after a force.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace gg {

class Durations {
 public:
  explicit Durations(std::string path);
  /// The mean of earlier runs of `function`, or `fallback` if none.
  double Estimate(const std::string& function, double fallback) const;
  /// Records one run in this force.
  void Add(const std::string& function, double seconds);
  /// The median of this force's runs of `function`, and how many there were.
  double MedianThisRun(const std::string& function, size_t* count) const;
  /// Merges this force's runs into the file.
  void Save() const;

 private:
  struct Mean {
    double mean = 0;
    uint64_t count = 0;
  };
  std::string path_;
  std::map<std::string, Mean> past_;
  std::map<std::string, std::vector<double>> current_;
};

}  // namespace gg
