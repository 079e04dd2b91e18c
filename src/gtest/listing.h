// A GoogleTest binary's tests, as `--gtest_list_tests` prints them, and
// gtest's own filter syntax (`--gtest_filter`), so `gg test --filter` selects
// exactly what the binary would run.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "gg/status.h"

namespace gg::gtest {

/// One test of a binary. Parameterized and typed tests have their instance
/// names (`Prefix/Suite`, `Test/3`); the `# GetParam() = ...` comments that
/// --gtest_list_tests adds are dropped.
struct TestCase {
  std::string suite;
  std::string name;
  /// gtest skips it unless told --gtest_also_run_disabled_tests: the suite or
  /// the test name starts with DISABLED_ (or has a `/DISABLED_` part).
  bool disabled = false;

  std::string full_name() const { return suite + "." + name; }
  bool operator==(const TestCase&) const = default;
};

/// Parses the output of `BINARY --gtest_list_tests`. Lines before the first
/// suite (a main() that prints a banner) are ignored.
Result<std::vector<TestCase>> ParseTestList(std::string_view text);

/// Runs `binary --gtest_list_tests` and parses it; errors carry its output.
Result<std::vector<TestCase>> ListTests(const std::string& binary);

/// Whether `full_name` (Suite.Test) passes a gtest filter:
/// `POSITIVE[:POSITIVE...][-NEGATIVE[:NEGATIVE...]]`, with `*` and `?`
/// wildcards; an empty positive part means `*`.
bool MatchesFilter(std::string_view full_name, std::string_view filter);

/// gtest's rule for DISABLED_ (a suite or test name matching `DISABLED_*` or
/// `*/DISABLED_*`).
bool IsDisabledName(std::string_view name);

}  // namespace gg::gtest
