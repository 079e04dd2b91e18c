#include "report/explain.h"

#include <gtest/gtest.h>

#include "core/test_util.h"
#include "core/tree.h"

namespace gg::report {
namespace {

Thunk Compile(const std::string& header, const std::string& flag) {
  Thunk t;
  t.function = Name::ForContent("gcc").str();
  t.args = {"gcc", flag, "-c", "a.c", "-o", "a.o"};
  t.inputs = {{t.function, "/usr/bin/gcc", true},
              {Name::ForContent("int a;").str(), "a.c", false},
              {Name::ForContent(header).str(), "inc/a.h", false}};
  t.outputs = {"a.o"};
  return t;
}

TEST(ExplainTest, NamesTheInputAndArgumentThatDiffer) {
  ScratchDir dir;
  ASSERT_TRUE(LocalStore::Init(dir.path() + "/.gg").ok());
  auto store = LocalStore::Open(dir.path() + "/.gg");
  ASSERT_TRUE(store.ok()) << store.status().message();
  auto diffs = DiffThunks(store->get(), Compile("#define A 1", "-O2"), Compile("#define A 2", "-O3"));
  ASSERT_EQ(diffs.size(), 2u);
  EXPECT_EQ(diffs[0].what, "input inc/a.h");
  EXPECT_EQ(diffs[0].before, Name::ForContent("#define A 1").str());
  EXPECT_EQ(diffs[1].what, "argument 1");
  EXPECT_EQ(diffs[1].after, "-O3");
  EXPECT_TRUE(DiffThunks(store->get(), Compile("x", "-O2"), Compile("x", "-O2")).empty());
}

TEST(ExplainTest, LooksIntoTreesAtTheSamePath) {
  ScratchDir dir;
  ASSERT_TRUE(LocalStore::Init(dir.path() + "/.gg").ok());
  auto store = LocalStore::Open(dir.path() + "/.gg");
  ASSERT_TRUE(store.ok()) << store.status().message();
  auto tree = [&](const std::string& b) {
    Tree t;
    t.entries = {{"a.h", TreeEntry::Kind::kFile, false, Name::ForContent("a"), ""},
                 {"b.h", TreeEntry::Kind::kFile, false, Name::ForContent(b), ""}};
    auto name = (*store)->Put(t.Serialize());
    EXPECT_TRUE(name.ok());
    return name->str();
  };
  Thunk before = Compile("x", "-O2"), after = before;
  before.inputs.push_back({tree("1"), "inc", false});
  after.inputs.push_back({tree("2"), "inc", false});
  auto diffs = DiffThunks(store->get(), before, after);
  ASSERT_EQ(diffs.size(), 1u);
  EXPECT_EQ(diffs[0].what, "input inc/b.h");
}

}  // namespace
}  // namespace gg::report
