// Test results: read from the XML gtest writes (--gtest_output=xml), merged
// into one JUnit XML file for CI (Jenkins, GitLab), in gtest's own dialect of
// it plus <skipped/> for disabled tests and <system-out> for failures' output.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "gg/status.h"

namespace gg::gtest {

struct TestResult {
  enum class Outcome { kPassed, kFailed, kSkipped, kDisabled };
  std::string binary;  ///< the test binary's path, to tell same-named suites apart
  std::string suite;
  std::string name;
  Outcome outcome = Outcome::kPassed;
  double seconds = 0;
  std::vector<std::string> failures;  ///< assertion messages, or why it crashed / timed out
  std::string skip_message;
  std::string output;                 ///< what the test printed (kept for failures)

  std::string full_name() const { return suite + "." + name; }
};

/// The <testcase>s of a gtest XML report. Tests gtest did not run
/// (status="notrun", i.e. disabled) come back as kDisabled.
Result<std::vector<TestResult>> ParseGtestXml(std::string_view xml);

/// One JUnit XML document holding every result, suites in the order first seen.
std::string WriteJUnit(const std::vector<TestResult>& results);

}  // namespace gg::gtest
