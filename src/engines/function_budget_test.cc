#include "engines/function_budget.h"

#include <gtest/gtest.h>

namespace gg {
namespace {

Name Value(uint64_t size) { return Name::ForContent(std::string(size, 'v')); }

TEST(FunctionBudget, UncheckedWhenNotConfigured) {
  EXPECT_TRUE(FunctionBudget{}.Check({Value(5 << 20)}).ok());
}

TEST(FunctionBudget, TmpHoldsAllInputs) {
  FunctionBudget b{.tmp_bytes = 3 << 20};
  EXPECT_TRUE(b.Check({Value(1 << 20), Value(2 << 20)}).ok());
  Status s = b.Check({Value(1 << 20), Value((2 << 20) + 1)});
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("do not fit the function's /tmp budget (tmp=3 MiB)"), std::string::npos) << s.message();
}

TEST(FunctionBudget, MemoryHoldsTheLargestInputOrAllOfThemWhenTmpIsInMemory) {
  FunctionBudget lambda{.memory_bytes = 2 << 20};
  EXPECT_TRUE(lambda.Check({Value(2 << 20), Value(2 << 20)}).ok());
  Status s = lambda.Check({Value(3 << 20)});
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("its largest input (3 MiB) does not fit the function's memory budget (memory=2 MiB)"),
            std::string::npos)
      << s.message();
  FunctionBudget gcf{.memory_bytes = 2 << 20, .tmp_in_memory = true};
  s = gcf.Check({Value(2 << 20), Value(2 << 20)});
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("memory=2 MiB, which holds /tmp"), std::string::npos) << s.message();
}

TEST(FunctionBudget, ParsesItsOptions) {
  FunctionBudget b;
  bool matched = false;
  ASSERT_TRUE(b.ParseOption("slots=3", &matched).ok());
  EXPECT_FALSE(matched);
  ASSERT_TRUE(b.ParseOption("tmp=10G", &matched).ok());
  EXPECT_TRUE(matched);
  EXPECT_EQ(b.tmp_bytes, uint64_t{10} << 30);
  ASSERT_TRUE(b.ParseOption("memory=256MiB", &matched).ok());
  EXPECT_EQ(b.memory_bytes, uint64_t{256} << 20);
  EXPECT_FALSE(b.ParseOption("memory=0", &matched).ok());
  EXPECT_FALSE(b.ParseOption("tmp=", &matched).ok());
}

}  // namespace
}  // namespace gg
