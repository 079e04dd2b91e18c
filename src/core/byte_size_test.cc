#include "core/byte_size.h"

#include <gtest/gtest.h>

namespace gg {
namespace {

TEST(ByteSize, UnitsAndFractions) {
  EXPECT_EQ(ParseByteSize("1000"), 1000u);
  EXPECT_EQ(ParseByteSize("64k"), 64u << 10);
  EXPECT_EQ(ParseByteSize("512M"), 512u << 20);
  EXPECT_EQ(ParseByteSize("512MiB"), 512u << 20);
  EXPECT_EQ(ParseByteSize("2G"), uint64_t{2} << 30);
  EXPECT_EQ(ParseByteSize("1.5GiB"), uint64_t{3} << 29);
  EXPECT_EQ(ParseByteSize("10MB"), 10u << 20);
}

TEST(ByteSize, Malformed) {
  EXPECT_FALSE(ParseByteSize(""));
  EXPECT_FALSE(ParseByteSize("M"));
  EXPECT_FALSE(ParseByteSize("-1"));
  EXPECT_FALSE(ParseByteSize("12X"));
  EXPECT_FALSE(ParseByteSize("1Mx"));
  EXPECT_FALSE(ParseByteSize("99999999T"));
}

}  // namespace
}  // namespace gg
