#include "core/path_index.h"

#include <string>

#include <gtest/gtest.h>

namespace gg {
namespace {

TEST(PathIndexTest, FindsWhatWasInsertedAndReportsTheFirstOfTwo) {
  std::vector<std::string> paths;
  for (int i = 0; i < 5000; ++i) paths.push_back("d" + std::to_string(i % 50) + "/f" + std::to_string(i) + ".h");
  PathIndex index(paths.size() + 1);
  for (size_t i = 0; i < paths.size(); ++i) EXPECT_EQ(index.Insert(paths[i], i), i);
  for (size_t i = 0; i < paths.size(); ++i) {
    EXPECT_EQ(index.Get(paths[i]), i) << paths[i];
  }
  EXPECT_EQ(index.Get("d1"), PathIndex::kAbsent);
  EXPECT_EQ(index.Get("d1/f1.h/"), PathIndex::kAbsent);
  EXPECT_EQ(index.Get(""), PathIndex::kAbsent);
  std::string again = "d7/f7.h";  // another string, the same path
  EXPECT_EQ(index.Insert(again, 99999), 7u);
  EXPECT_EQ(index.Get("d7/f7.h"), 7u);
}

TEST(PathIndexTest, EmptyAndTiny) {
  PathIndex none(0);
  EXPECT_EQ(none.Get("x"), PathIndex::kAbsent);
  EXPECT_EQ(none.Insert("x", 3), 3u);
  EXPECT_EQ(none.Get("x"), 3u);
  EXPECT_EQ(none.Get("y"), PathIndex::kAbsent);
}

}  // namespace
}  // namespace gg
