#include "coordinator/identity_log.h"

#include <gtest/gtest.h>

#include "core/path_util.h"
#include "core/test_util.h"

namespace gg {
namespace {

Thunk Compile(const std::string& source, const std::string& out) {
  Thunk t;
  t.function = Name::ForContent("gcc").str();
  t.args = {"/usr/bin/gcc", "-c", "-o", out, "a.c"};
  t.inputs = {{t.function, "/usr/bin/gcc", true}, {Name::ForContent(source).str(), "a.c", false}};
  t.outputs = {"out.o"};
  return t;
}

TEST(IdentityLogTest, IdentityIgnoresInputsButNotTheOutputPath) {
  EXPECT_EQ(ThunkIdentity(Compile("int a;", "a.o")), ThunkIdentity(Compile("int b;", "a.o")));
  EXPECT_NE(ThunkIdentity(Compile("int a;", "a.o")), ThunkIdentity(Compile("int a;", "b.o")));
  Thunk other_dir = Compile("int a;", "a.o");
  other_dir.workdir = "/src/project";
  EXPECT_NE(ThunkIdentity(other_dir), ThunkIdentity(Compile("int a;", "a.o")));
}

TEST(IdentityLogTest, AppendsAndReadsBackSkippingATornLine) {
  ScratchDir dir;
  IdentityLog log(dir.path() + "/identities");
  auto empty = log.ReadAll();
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->empty());
  Thunk t = Compile("int a;", "a.o");
  ASSERT_TRUE(log.Append({ThunkIdentity(t), 1700000000, t.name(), Name::ForContent("obj")}).ok());
  ASSERT_TRUE(log.Append({ThunkIdentity(t), 1700000001, t.name(), Name::ForContent("obj2")}).ok());
  auto text = ReadFile(log.path());
  ASSERT_TRUE(text.ok());
  ASSERT_TRUE(WriteFileAtomic(log.path(), *text + "abc 12 T").ok());  // torn last line
  auto all = log.ReadAll();
  ASSERT_TRUE(all.ok()) << all.status().message();
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[1].unix_time, 1700000001);
  EXPECT_EQ((*all)[1].thunk, t.name());
  EXPECT_EQ((*all)[1].output, Name::ForContent("obj2"));
}

}  // namespace
}  // namespace gg
