#include "gtest/annotations.h"

#include <gtest/gtest.h>

namespace gg::gtest {
namespace {

TEST(AnnotationsTest, ParsesTheOriginalFormat) {
  const char* text =
      "# data files\n"
      "Codec.\n"
      "  @testdata/common.bin\n"
      "  Decodes\n"
      "    @testdata/a.ivf\n"
      "    @testdata/a.md5\n"
      "  Plain\n"
      "Params/Vp9.  # TypeParam = int\n"
      "  Frame/0  # GetParam() = 1\n"
      "    @vectors/0.ivf\n";
  auto a = Annotations::Parse(text);
  ASSERT_TRUE(a.ok()) << a.status().message();
  EXPECT_EQ(a->FilesFor("Codec", "Decodes"),
            (std::set<std::string>{"testdata/common.bin", "testdata/a.ivf", "testdata/a.md5"}));
  EXPECT_EQ(a->FilesFor("Codec", "Plain"), (std::set<std::string>{"testdata/common.bin"}));
  EXPECT_EQ(a->FilesFor("Params/Vp9", "Frame/0"), (std::set<std::string>{"vectors/0.ivf"}));
  EXPECT_TRUE(a->FilesFor("Other", "X").empty());
}

TEST(AnnotationsTest, RoundTrips) {
  Annotations a;
  a.suite_files["S"] = {"d/x"};
  a.test_files["S.T"] = {"d/y", "d/z"};
  a.test_files["P/Q.R/1"] = {"v/1"};
  auto back = Annotations::Parse(a.Serialize());
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(back->suite_files, a.suite_files);
  EXPECT_EQ(back->test_files, a.test_files);
}

TEST(AnnotationsTest, ErrorsNameTheLine) {
  for (const char* bad : {"  @x\n", "S.\n    @x\n", "S.\n  T\n   @x\n", "S.\n  @../x\n", "S.\n  @/etc/passwd\n",
                          "NoDot\n"}) {
    auto a = Annotations::Parse(bad);
    EXPECT_FALSE(a.ok()) << bad;
    if (!a.ok()) {
      EXPECT_NE(a.status().message().find("line "), std::string::npos) << a.status().message();
    }
  }
}

}  // namespace
}  // namespace gg::gtest
