// The thunk that runs one test, one suite or one shard of a gtest binary in
// the sandbox, and what its outputs say about each test. The thunk always
// succeeds: busybox sh runs the binary under `timeout`, then records its exit
// status, the XML report and everything it printed, so a failing, crashing or
// hanging test is a result that is memoized like a pass.
#pragma once

#include <set>
#include <string>
#include <vector>

#include "core/local_store.h"
#include "gg/thunk.h"
#include "gtest/junit.h"
#include "gtest/listing.h"

namespace gg::gtest {

/// The output tags of a test thunk.
inline constexpr char kStatusTag[] = "status";  ///< "EXIT SECONDS\n"
inline constexpr char kXmlTag[] = "result.xml";
inline constexpr char kOutputTag[] = "output";   ///< stdout and stderr, interleaved

/// What every thunk of one binary carries: busybox as /bin/sh, the binary and
/// its shared-library closure, each at its host path.
struct BinaryInputs {
  std::string binary;  ///< absolute
  std::string shell;   ///< busybox's name
  std::vector<ThunkInput> inputs;
};
Result<BinaryInputs> CaptureBinary(LocalStore* store, const std::string& binary);

/// The tests one thunk runs.
struct TestUnit {
  std::vector<TestCase> tests;    ///< in list order, none disabled
  std::string filter;             ///< --gtest_filter
  std::vector<std::string> env;   ///< GTEST_TOTAL_SHARDS and GTEST_SHARD_INDEX for a shard
  std::set<std::string> files;    ///< data files, relative to a data root
};

/// `data` are the data files as inputs (relative paths: under the work dir).
Thunk MakeTestThunk(const BinaryInputs& binary, const TestUnit& unit, const std::vector<ThunkInput>& data,
                    double timeout_seconds);

/// A finished thunk's outputs.
struct UnitOutputs {
  std::string status;
  std::string xml;
  std::string output;
};

/// One result per test of `unit`: from the XML where gtest wrote it, else (a
/// crash, a timeout, an exit before the report) a failure saying so, with
/// the test's part of the output.
std::vector<TestResult> ResultsOf(const TestUnit& unit, const UnitOutputs& out, double timeout_seconds);

}  // namespace gg::gtest
