#include "gtest/test_thunk.h"

#include <gtest/gtest.h>

namespace gg::gtest {
namespace {

TestUnit Unit(std::vector<TestCase> tests) {
  TestUnit u;
  u.tests = std::move(tests);
  return u;
}

constexpr char kPassXml[] =
    "<testsuites><testsuite name=\"S\"><testcase name=\"A\" status=\"run\" result=\"completed\" time=\"0.1\" "
    "classname=\"S\"/></testsuite></testsuites>";

TEST(TestThunkTest, ReportedResultsComeFromTheXml) {
  auto r = ResultsOf(Unit({{"S", "A", false}}), {"0 0\n", kPassXml, "[ RUN      ] S.A\n[       OK ] S.A (100 ms)\n"}, 10);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].outcome, TestResult::Outcome::kPassed);
  EXPECT_DOUBLE_EQ(r[0].seconds, 0.1);
}

TEST(TestThunkTest, ACrashIsTheTestsFailureWithItsOutput) {
  auto r = ResultsOf(Unit({{"S", "A", false}}), {"139 0\n", "", "[ RUN      ] S.A\nabout to crash\n"}, 10);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].outcome, TestResult::Outcome::kFailed);
  ASSERT_FALSE(r[0].failures.empty());
  EXPECT_NE(r[0].failures[0].find("crashed: Segmentation fault (signal 11)"), std::string::npos) << r[0].failures[0];
  EXPECT_NE(r[0].output.find("about to crash"), std::string::npos);
}

TEST(TestThunkTest, ATimeoutSaysSo) {
  auto r = ResultsOf(Unit({{"S", "Hangs", false}}), {"137 5\n", "", "[ RUN      ] S.Hangs\n"}, 5);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].outcome, TestResult::Outcome::kFailed);
  EXPECT_EQ(r[0].failures[0], "timed out after 5 s (gg test --timeout)");
}

TEST(TestThunkTest, AShardThatCrashesFailsTheRunningTestAndThoseAfterIt) {
  // gtest writes its report at the end, so a crash loses it for the whole
  // shard: tests gtest saw pass keep their result, the running one gets the
  // output from its RUN line on, the ones after it never started.
  auto r = ResultsOf(Unit({{"S", "A", false}, {"S", "B", false}, {"S", "C", false}}),
                     {"134 0\n", "", "[ RUN      ] S.A\n[       OK ] S.A (0 ms)\n[ RUN      ] S.B\nabort\n"}, 10);
  ASSERT_EQ(r.size(), 3u);
  EXPECT_EQ(r[0].outcome, TestResult::Outcome::kPassed);
  EXPECT_EQ(r[1].outcome, TestResult::Outcome::kFailed);
  EXPECT_EQ(r[1].output, "[ RUN      ] S.B\nabort\n");
  EXPECT_EQ(r[1].failures[0], "crashed: Aborted (signal 6)");
  EXPECT_EQ(r[2].outcome, TestResult::Outcome::kFailed);
  EXPECT_EQ(r[2].failures[0], "never started: the binary crashed: Aborted (signal 6) before it");
}

TEST(TestThunkTest, ANonZeroExitAfterPassingIsAFailure) {
  auto r = ResultsOf(Unit({{"S", "A", false}}), {"1 0\n", kPassXml, "leak detected\n"}, 10);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].outcome, TestResult::Outcome::kFailed);
  EXPECT_NE(r[0].failures[0].find("exited with status 1 after the test passed"), std::string::npos);
}

TEST(TestThunkTest, TheThunkRunsTheFilterUnderTimeout) {
  BinaryInputs b;
  b.binary = "/build/t";
  b.shell = Name::ForContent("busybox").str();
  b.inputs = {{b.shell, "/bin/sh", true}, {Name::ForContent("t").str(), "/build/t", true}};
  TestUnit u = Unit({{"S", "A", false}});
  u.filter = "S.A";
  Thunk t = MakeTestThunk(b, u, {{Name::ForContent("d").str(), "testdata/d", false}}, 7.5);
  EXPECT_TRUE(t.Validate().ok()) << t.Validate().message();
  EXPECT_EQ(t.args[4], "/build/t");
  EXPECT_EQ(t.args[5], "S.A");
  EXPECT_EQ(t.args[6], "8");
  EXPECT_EQ(t.outputs, (std::vector<std::string>{kStatusTag, kXmlTag, kOutputTag}));
  EXPECT_EQ(t.inputs.size(), 3u);
}

}  // namespace
}  // namespace gg::gtest
