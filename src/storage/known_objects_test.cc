#include "storage/known_objects.h"

#include <gtest/gtest.h>

#include <fstream>

#include "storage/storage_test_util.h"

namespace gg {
namespace {

TEST(KnownObjectsTest, RecordsSurviveReopeningAndTornLinesAreIgnored) {
  ScratchDir dir;
  Name a = Name::ForContent("a"), b = Name::ForContent("b"), c = Name::ForContent("c");
  {
    auto k = KnownObjects::Open(dir.path(), "redis://h:1/0");
    ASSERT_TRUE(k.ok());
    EXPECT_FALSE((*k)->Contains(a));
    ASSERT_TRUE((*k)->Add({a, b.WithTag("tag"), a}).ok());
    EXPECT_TRUE((*k)->Contains(b));
    std::ofstream(((*k)->path()), std::ios::app) << c.str().substr(0, 10);  // a torn write
  }
  auto k = KnownObjects::Open(dir.path(), "redis://h:1/0");
  ASSERT_TRUE(k.ok());
  EXPECT_TRUE((*k)->Contains(a));
  EXPECT_TRUE((*k)->Contains(b));
  EXPECT_FALSE((*k)->Contains(c));
  EXPECT_EQ((*k)->size(), 2u);
  // Another store has its own record.
  auto other = KnownObjects::Open(dir.path(), "redis://h:2/0");
  EXPECT_FALSE((*other)->Contains(a));
  ASSERT_TRUE((*k)->Clear().ok());
  EXPECT_FALSE((*k)->Contains(a));
}

TEST(KnownObjectsTest, ForgottenNamesStayForgottenAfterReopening) {
  ScratchDir dir;
  Name a = Name::ForContent("a"), b = Name::ForContent("b");
  {
    auto k = KnownObjects::Open(dir.path(), "redis://h:1/0");
    ASSERT_TRUE(k.ok());
    ASSERT_TRUE((*k)->Add({a, b}).ok());
    ASSERT_TRUE((*k)->Forget({a}).ok());
    EXPECT_FALSE((*k)->Contains(a));
  }
  auto k = KnownObjects::Open(dir.path(), "redis://h:1/0");
  ASSERT_TRUE(k.ok());
  EXPECT_FALSE((*k)->Contains(a));
  EXPECT_TRUE((*k)->Contains(b));
  ASSERT_TRUE((*k)->Add({a}).ok());  // uploaded again
  EXPECT_TRUE(KnownObjects::Open(dir.path(), "redis://h:1/0").value()->Contains(a));
}

}  // namespace
}  // namespace gg
