#include "core/substitute.h"

#include <gtest/gtest.h>

#include "core/test_util.h"

namespace gg {
namespace {

Name Value(const std::string& s) { return Name::ForContent(s); }
Name ThunkName(const std::string& s) { return Name::ForContent(std::string(kThunkMagic) + s); }

TEST(SubstituteTest, SplitsTheClaimFromTheOwnOutputs) {
  Thunk compile;
  compile.outputs = {"x.o", ".deps/x.Po"};
  Reduction r;
  r.seconds = 2;
  r.outputs = {{"x.o.gg-compile", ThunkName("c"), false},
               {".gg-tail/x.o", Value("object"), false},
               {".gg-tail/.deps/x.Po", Value("deps"), false}};
  auto c = SplitTailClaim(r, compile);
  ASSERT_TRUE(c.ok()) << c.status().message();
  ASSERT_EQ(c->own.outputs.size(), 1u);
  EXPECT_EQ(c->own.outputs[0].tag, "x.o.gg-compile");
  ASSERT_EQ(c->tail.outputs.size(), 2u);
  EXPECT_EQ(c->tail.outputs[0].tag, "x.o");
  EXPECT_EQ(c->tail.outputs[0].name, Value("object"));
  EXPECT_EQ(c->tail.outputs[1].tag, ".deps/x.Po");
  EXPECT_EQ(c->tail.seconds, 2);
  EXPECT_EQ(WithoutTailClaim(r), c->own);
}

TEST(SubstituteTest, RefusesAClaimThatIsNotTheTailsOutputs) {
  Thunk compile;
  compile.outputs = {"x.o", "x.d"};
  Reduction r;
  r.outputs = {{"x.o.gg-compile", ThunkName("c"), false}, {".gg-tail/x.o", Value("object"), false}};
  EXPECT_FALSE(SplitTailClaim(r, compile).ok());  // x.d missing
  r.outputs.push_back({".gg-tail/y.d", Value("deps"), false});
  EXPECT_FALSE(SplitTailClaim(r, compile).ok());  // wrong tag
  Reduction value_first;
  value_first.outputs = {{"x.o.gg-compile", Value("not a thunk"), false}};
  EXPECT_FALSE(SplitTailClaim(value_first, Thunk{}).ok());
}

TEST(SubstituteTest, RecordsAndFindsASubstituteInTheStore) {
  ScratchDir dir;
  auto store = NewStoreIn(dir);
  ASSERT_NE(store, nullptr);
  Thunk t;
  t.args = {"x"};
  Name both = store->Put(t.Serialize()).value();
  Name split = ThunkName("split");
  EXPECT_FALSE(FindSubstitute(*store, split).value().has_value());
  ASSERT_TRUE(RecordSubstitute(*store, split, both).ok());
  auto found = FindSubstitute(*store, split);
  ASSERT_TRUE(found.ok() && found->has_value());
  EXPECT_EQ(**found, both);
  // A substitute whose thunk is not in the store is none.
  ASSERT_TRUE(RecordSubstitute(*store, split, ThunkName("gone")).ok());
  EXPECT_FALSE(FindSubstitute(*store, split).value().has_value());
}

}  // namespace
}  // namespace gg
