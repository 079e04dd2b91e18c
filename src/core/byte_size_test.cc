#include "core/byte_size.h"

#include <gtest/gtest.h>

namespace gg {
namespace {

TEST(ByteSizeTest, ParsesBinaryUnits) {
  EXPECT_EQ(*ParseByteSize("1000"), 1000u);
  EXPECT_EQ(*ParseByteSize("64k"), 64u << 10);
  EXPECT_EQ(*ParseByteSize("512M"), 512u << 20);
  EXPECT_EQ(*ParseByteSize("4G"), 4ull << 30);
  EXPECT_EQ(*ParseByteSize("4GiB"), 4ull << 30);
  EXPECT_EQ(*ParseByteSize("2TB"), 2ull << 40);
}

TEST(ByteSizeTest, RefusesWhatIsNotASize) {
  for (const char* s : {"", "0", "G", "4X", "4 G", "-1", "1.5G", "99999999999999999999", "17179869184T"}) {
    auto r = ParseByteSize(s);
    ASSERT_FALSE(r.ok()) << s;
    EXPECT_NE(r.status().message().find("is not a size"), std::string::npos);
  }
}

TEST(ByteSizeTest, FormatsForPeople) {
  EXPECT_EQ(FormatBytes(1000), "1000 bytes");
  EXPECT_EQ(FormatBytes(4ull << 30), "4 GiB");
  EXPECT_EQ(FormatBytes(3ull << 19), "1.5 MiB");
}

}  // namespace
}  // namespace gg
