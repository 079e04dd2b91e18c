#include "gtest/test_thunk.h"

#include <signal.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>

#include "core/path_util.h"
#include "models/toolchain.h"

namespace gg::gtest {
namespace {

constexpr char kBusybox[] = "/usr/bin/busybox";

// $1 binary, $2 filter, $3 timeout in seconds. The report is created empty
// first because a declared output must exist even when the binary dies. The
// clock is /proc/uptime read by the shell itself: no process per reading.
constexpr char kScript[] =
    ": > result.xml\n"
    "read s _ < /proc/uptime\n"
    "timeout -s KILL \"$3\" \"$1\" \"--gtest_filter=$2\" --gtest_output=xml:/work/result.xml > output 2>&1\n"
    "r=$?\n"
    "read e _ < /proc/uptime\n"
    "echo \"$r $(( (${e%.*}${e#*.} - ${s%.*}${s#*.}) / 100 ))\" > status\n"
    "exit 0\n";

// The part of a suite's or shard's output that belongs to one test.
std::string OutputOf(const std::string& output, const std::string& full_name, bool to_end) {
  size_t start = output.find("[ RUN      ] " + full_name + "\n");
  if (start == std::string::npos) return to_end ? output : "";
  if (to_end) return output.substr(start);
  size_t end = std::string::npos;
  for (const char* mark : {"[       OK ] ", "[  FAILED  ] ", "[  SKIPPED ] "}) {
    size_t e = output.find(mark + full_name + " (", start);
    if (e != std::string::npos) end = std::min(end, e);
  }
  if (end == std::string::npos) return output.substr(start);
  size_t nl = output.find('\n', end);
  return output.substr(start, nl == std::string::npos ? std::string::npos : nl + 1 - start);
}

}  // namespace

Result<BinaryInputs> CaptureBinary(LocalStore* store, const std::string& binary) {
  BinaryInputs b;
  b.binary = AbsolutePath(binary);
  GG_ASSIGN_OR_RETURN(Name shell, store->PutFile(kBusybox));
  b.shell = shell.str();
  b.inputs.push_back({b.shell, "/bin/sh", true});
  GG_ASSIGN_OR_RETURN(Name exe, store->PutFile(b.binary));
  b.inputs.push_back({exe.str(), b.binary, true});
  GG_ASSIGN_OR_RETURN(auto libs, models::SharedLibraryInputs(store, b.binary));
  for (auto& in : libs) {
    if (in.path != b.binary) b.inputs.push_back(std::move(in));
  }
  return b;
}

Thunk MakeTestThunk(const BinaryInputs& binary, const TestUnit& unit, const std::vector<ThunkInput>& data,
                    double timeout_seconds) {
  Thunk t;
  t.function = binary.shell;
  long limit = static_cast<long>(timeout_seconds + 0.999);
  t.args = {"sh", "-c", kScript, "sh", binary.binary, unit.filter, std::to_string(limit)};
  t.env = unit.env;
  t.inputs = binary.inputs;
  t.inputs.insert(t.inputs.end(), data.begin(), data.end());
  t.outputs = {kStatusTag, kXmlTag, kOutputTag};
  // A backstop only: the script's own timeout ends a hanging test first.
  t.timeout_ms = static_cast<uint64_t>(limit + 60) * 1000;
  return t;
}

std::vector<TestResult> ResultsOf(const TestUnit& unit, const UnitOutputs& out, double timeout_seconds) {
  int exit_code = -1;
  double seconds = 0;
  if (std::sscanf(out.status.c_str(), "%d %lf", &exit_code, &seconds) < 1) exit_code = -1;
  std::map<std::string, TestResult> reported;
  if (auto parsed = ParseGtestXml(out.xml); parsed.ok()) {
    for (auto& r : *parsed) reported[r.full_name()] = std::move(r);
  }
  // Why tests without a report failed.
  std::string why;
  if (exit_code > 128) {
    int sig = exit_code - 128;
    if (sig == SIGKILL && seconds + 1 >= timeout_seconds) {
      why = "timed out after " + std::to_string(static_cast<long>(timeout_seconds)) + " s (gg test --timeout)";
    } else {
      why = std::string("crashed: ") + strsignal(sig) + " (signal " + std::to_string(sig) + ")";
    }
  } else if (exit_code < 0) {
    why = "left no exit status (the test thunk is broken)";
  } else {
    why = "exited with status " + std::to_string(exit_code) + " before writing its report";
  }
  std::vector<TestResult> results;
  bool any_failed = false;
  for (const auto& test : unit.tests) {
    auto it = reported.find(test.full_name());
    TestResult r;
    if (it != reported.end()) {
      r = std::move(it->second);
    } else {
      // No report (the binary died): a test gtest saw finish before that
      // keeps its result; the one that was running, and those after it, fail.
      r.suite = test.suite;
      r.name = test.name;
      r.outcome = TestResult::Outcome::kFailed;
      const std::string& full = test.full_name();
      if (out.output.find("[       OK ] " + full + " (") != std::string::npos) {
        r.outcome = TestResult::Outcome::kPassed;
      } else if (out.output.find("[  SKIPPED ] " + full + " (") != std::string::npos) {
        r.outcome = TestResult::Outcome::kSkipped;
      } else if (out.output.find("[  FAILED  ] " + full + " (") != std::string::npos) {
        r.output = OutputOf(out.output, full, false);
        r.failures.push_back("failed (see its output), then the binary " + why);
      } else if (out.output.find("[ RUN      ] " + full + "\n") != std::string::npos) {
        r.failures.push_back(why);
        r.output = OutputOf(out.output, full, true);
      } else {
        r.failures.push_back("never started: the binary " + why + " before it");
        r.output = unit.tests.size() == 1 ? out.output : "";
      }
    }
    if (r.outcome == TestResult::Outcome::kFailed && r.output.empty()) {
      r.output = unit.tests.size() == 1 ? out.output : OutputOf(out.output, test.full_name(), false);
    }
    any_failed |= r.outcome == TestResult::Outcome::kFailed;
    results.push_back(std::move(r));
  }
  // Every test passed but the binary did not exit 0 (a failing global
  // tear-down, a sanitizer at exit): the unit's tests cannot count as passed.
  if (exit_code != 0 && !any_failed) {
    for (auto& r : results) {
      if (r.outcome != TestResult::Outcome::kPassed) continue;
      r.outcome = TestResult::Outcome::kFailed;
      r.failures.push_back(exit_code > 128 ? why : "the test binary exited with status " + std::to_string(exit_code) +
                                                       " after the test passed");
      r.output = out.output;
    }
  }
  return results;
}

}  // namespace gg::gtest
