#include "gtest/listing.h"

#include <gtest/gtest.h>

namespace gg::gtest {
namespace {

TEST(ListingTest, ParsesPlainParameterizedTypedAndDisabledTests) {
  const char* text =
      "Running main() from gtest_main.cc\n"
      "Math.\n"
      "  Adds\n"
      "  DISABLED_Slow\n"
      "DISABLED_Broken.\n"
      "  Any\n"
      "Ranges/PrimeTest.\n"
      "  IsPrime/0  # GetParam() = 3\n"
      "  IsPrime/1  # GetParam() = (1, \"a  # b\")\n"
      "Typed/0.  # TypeParam = int\n"
      "  Works\n";
  auto tests = ParseTestList(text);
  ASSERT_TRUE(tests.ok()) << tests.status().message();
  std::vector<TestCase> want = {{"Math", "Adds", false},          {"Math", "DISABLED_Slow", true},
                                {"DISABLED_Broken", "Any", true}, {"Ranges/PrimeTest", "IsPrime/0", false},
                                {"Ranges/PrimeTest", "IsPrime/1", false}, {"Typed/0", "Works", false}};
  EXPECT_EQ(*tests, want);
  EXPECT_EQ((*tests)[3].full_name(), "Ranges/PrimeTest.IsPrime/0");
}

TEST(ListingTest, RejectsGarbageAfterTheFirstSuite) {
  auto tests = ParseTestList("Math.\n  Adds\nsegfault in listing\n");
  ASSERT_FALSE(tests.ok());
  EXPECT_NE(tests.status().message().find("line 3"), std::string::npos);
}

TEST(ListingTest, DisabledRuleFollowsGtest) {
  EXPECT_TRUE(IsDisabledName("DISABLED_X"));
  EXPECT_TRUE(IsDisabledName("Prefix/DISABLED_X"));
  EXPECT_FALSE(IsDisabledName("XDISABLED_"));
  EXPECT_FALSE(IsDisabledName("Disabled"));
}

TEST(ListingTest, FilterSyntax) {
  EXPECT_TRUE(MatchesFilter("A.b", ""));
  EXPECT_TRUE(MatchesFilter("A.b", "*"));
  EXPECT_TRUE(MatchesFilter("A.b", "A.*"));
  EXPECT_FALSE(MatchesFilter("A.b", "B.*"));
  EXPECT_TRUE(MatchesFilter("A.b", "B.*:A.?"));
  EXPECT_FALSE(MatchesFilter("A.bc", "A.?"));
  EXPECT_FALSE(MatchesFilter("A.b", "-A.*"));
  EXPECT_TRUE(MatchesFilter("A.b", "-B.*"));
  EXPECT_FALSE(MatchesFilter("A.b", "*-*.b:C.*"));
  EXPECT_TRUE(MatchesFilter("A.c", "*-*.b:C.*"));
  EXPECT_TRUE(MatchesFilter("P/S.T/3", "P/*.T/*"));
  EXPECT_TRUE(MatchesFilter("A.aXbXc", "A.*b*c"));
  EXPECT_FALSE(MatchesFilter("A.aXbXd", "A.*b*c"));
}

}  // namespace
}  // namespace gg::gtest
