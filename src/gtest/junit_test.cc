#include "gtest/junit.h"

#include <gtest/gtest.h>

namespace gg::gtest {
namespace {

// Trimmed from what gtest 1.12 writes.
constexpr char kReport[] = R"(<?xml version="1.0" encoding="UTF-8"?>
<testsuites tests="4" failures="1" disabled="1" errors="0" time="0.01" name="AllTests">
  <testsuite name="S" tests="4" failures="1" disabled="1" skipped="1" errors="0" time="0.01">
    <testcase name="Passes" file="a.cc" line="3" status="run" result="completed" time="0.002" classname="S" />
    <testcase name="Fails" file="a.cc" line="4" status="run" result="completed" time="0." classname="S">
      <failure message="a.cc:5&#x0A;Expected equality of these values:&#x0A;  1&#x0A;  &quot;2&quot; &amp; &lt;3&gt;" type=""><![CDATA[a.cc:5
Expected equality of these values: ]]> ]]></failure>
    </testcase>
    <testcase name="Skips" status="run" result="skipped" time="0." classname="S">
      <skipped message="a.cc:9&#x0A;not today"><![CDATA[a.cc:9
not today]]></skipped>
    </testcase>
    <testcase name="DISABLED_Off" status="notrun" result="suppressed" time="0." classname="S" />
  </testsuite>
</testsuites>
)";

TEST(JUnitTest, ParsesGtestReports) {
  auto r = ParseGtestXml(kReport);
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_EQ(r->size(), 4u);
  EXPECT_EQ((*r)[0].full_name(), "S.Passes");
  EXPECT_EQ((*r)[0].outcome, TestResult::Outcome::kPassed);
  EXPECT_DOUBLE_EQ((*r)[0].seconds, 0.002);
  EXPECT_EQ((*r)[1].outcome, TestResult::Outcome::kFailed);
  ASSERT_EQ((*r)[1].failures.size(), 1u);
  EXPECT_EQ((*r)[1].failures[0], "a.cc:5\nExpected equality of these values:\n  1\n  \"2\" & <3>");
  EXPECT_EQ((*r)[2].outcome, TestResult::Outcome::kSkipped);
  EXPECT_EQ((*r)[2].skip_message, "a.cc:9\nnot today");
  EXPECT_EQ((*r)[3].outcome, TestResult::Outcome::kDisabled);
}

TEST(JUnitTest, MalformedReportsAreErrors) {
  EXPECT_FALSE(ParseGtestXml("<testsuites><testcase name=\"x").ok());
  EXPECT_FALSE(ParseGtestXml("<a><![CDATA[ no end").ok());
  auto empty = ParseGtestXml("");
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->empty());
}

TEST(JUnitTest, MergedReportRoundTrips) {
  std::vector<TestResult> in(3);
  in[0].binary = "/b1", in[0].suite = "S", in[0].name = "A", in[0].seconds = 0.5;
  in[1].binary = "/b1", in[1].suite = "S", in[1].name = "B";
  in[1].outcome = TestResult::Outcome::kFailed;
  in[1].failures = {"boom ]]> & <x>\n\x01"};
  in[1].output = "printed ]]> stuff";
  in[2].binary = "/b2", in[2].suite = "S", in[2].name = "DISABLED_C";
  in[2].outcome = TestResult::Outcome::kDisabled;
  std::string xml = WriteJUnit(in);
  EXPECT_NE(xml.find("<testsuites tests=\"3\" failures=\"1\" disabled=\"1\""), std::string::npos) << xml;
  EXPECT_NE(xml.find("<system-out><![CDATA[printed ]]]]><![CDATA[> stuff]]></system-out>"), std::string::npos) << xml;
  // Same suite name in two binaries: two <testsuite>s.
  size_t first = xml.find("<testsuite name=\"S\"");
  EXPECT_NE(xml.find("<testsuite name=\"S\"", first + 1), std::string::npos);
  auto back = ParseGtestXml(xml);
  ASSERT_TRUE(back.ok()) << back.status().message();
  ASSERT_EQ(back->size(), 3u);
  EXPECT_EQ((*back)[1].outcome, TestResult::Outcome::kFailed);
  EXPECT_EQ((*back)[1].failures[0], "boom ]]> & <x>\n?");
  EXPECT_EQ((*back)[2].outcome, TestResult::Outcome::kDisabled);
}

}  // namespace
}  // namespace gg::gtest
