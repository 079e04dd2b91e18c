#include "gtest/listing.h"

#include "gtest/lines.h"
#include "models/toolchain.h"

namespace gg::gtest {
namespace {

// gtest's wildcard match: `*` any run of characters, `?` one character.
bool Glob(std::string_view pattern, std::string_view text) {
  size_t p = 0, t = 0, star = std::string_view::npos, mark = 0;
  while (t < text.size()) {
    if (p < pattern.size() && (pattern[p] == '?' || pattern[p] == text[t])) {
      ++p;
      ++t;
    } else if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      mark = t;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      t = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

bool MatchesAny(std::string_view name, std::string_view patterns) {
  size_t pos = 0;
  while (true) {
    size_t colon = patterns.find(':', pos);
    std::string_view one = patterns.substr(pos, colon == std::string_view::npos ? std::string_view::npos : colon - pos);
    if (Glob(one, name)) return true;
    if (colon == std::string_view::npos) return false;
    pos = colon + 1;
  }
}

std::string_view StripComment(std::string_view line) {
  size_t hash = line.find("  #");
  if (hash != std::string_view::npos) line = line.substr(0, hash);
  while (!line.empty() && (line.back() == ' ' || line.back() == '\r')) line.remove_suffix(1);
  return line;
}

}  // namespace

bool IsDisabledName(std::string_view name) {
  return name.starts_with("DISABLED_") || name.find("/DISABLED_") != std::string_view::npos;
}

bool MatchesFilter(std::string_view full_name, std::string_view filter) {
  size_t dash = filter.find('-');
  std::string_view positive = filter.substr(0, dash);
  std::string_view negative = dash == std::string_view::npos ? std::string_view() : filter.substr(dash + 1);
  if (positive.empty()) positive = "*";
  if (!MatchesAny(full_name, positive)) return false;
  return negative.empty() || !MatchesAny(full_name, negative);
}

Result<std::vector<TestCase>> ParseTestList(std::string_view text) {
  std::vector<TestCase> tests;
  std::string suite;
  int line_no = 0;
  for (std::string_view raw : Lines(text)) {
    ++line_no;
    std::string_view line = StripComment(raw);
    if (line.empty()) continue;
    if (line[0] != ' ') {
      // A suite line ends with '.'; anything else before the first suite is
      // a banner printed by the test's main().
      if (line.back() == '.' && line.find(' ') == std::string_view::npos) {
        suite = std::string(line.substr(0, line.size() - 1));
      } else if (!suite.empty()) {
        return Status::Invalid("line " + std::to_string(line_no) + " of the test list is neither a suite ('Suite.') " +
                               "nor a test ('  Test'): '" + std::string(raw) + "'");
      }
      continue;
    }
    if (suite.empty()) continue;
    if (!line.starts_with("  ") || line.size() < 3 || line[2] == ' ') {
      return Status::Invalid("line " + std::to_string(line_no) + " of the test list is not '  Test': '" +
                             std::string(raw) + "'");
    }
    TestCase t;
    t.suite = suite;
    t.name = std::string(line.substr(2));
    t.disabled = IsDisabledName(t.suite) || IsDisabledName(t.name);
    tests.push_back(std::move(t));
  }
  return tests;
}

Result<std::vector<TestCase>> ListTests(const std::string& binary) {
  auto out = models::RunCapture({binary, "--gtest_list_tests"});
  if (!out.ok()) return Status::Failed(binary + " --gtest_list_tests: " + out.status().message());
  auto tests = ParseTestList(*out);
  if (!tests.ok()) return tests.status().Prefix(binary + " --gtest_list_tests");
  // Zero tests is what any program that ignores the flag prints: reporting
  // "0 passed, 0 failed" for it would be a success nothing earned.
  if (tests->empty()) {
    return Status::NotFound(binary + " --gtest_list_tests listed no tests: is it a GoogleTest binary?");
  }
  return tests;
}

}  // namespace gg::gtest
