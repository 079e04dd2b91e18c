#include "core/reduction.h"

#include <gtest/gtest.h>

#include "core/path_util.h"
#include "core/test_util.h"

namespace gg {
namespace {

TEST(ReductionTest, RoundTripAndStore) {
  ScratchDir dir;
  ReductionStore store(dir.path());
  Name thunk = Name::ForContent(std::string(kThunkMagic) + "t");
  Reduction r;
  r.seconds = 1.5;
  r.outputs = {{"out", Name::ForContent("a"), true}, {"dir/log file", Name::ForContent("b"), false}};
  ASSERT_TRUE(store.Put(thunk, r).ok());
  auto got = store.Get(thunk);
  ASSERT_TRUE(got.ok());
  ASSERT_TRUE(got->has_value());
  EXPECT_EQ(**got, r);
  EXPECT_EQ((*got)->Find("dir/log file")->name, Name::ForContent("b"));
  EXPECT_EQ((*got)->Find("")->tag, "out");
}

TEST(ReductionTest, MissingAndDamagedRecordsAreMisses) {
  ScratchDir dir;
  ReductionStore store(dir.path());
  Name thunk = Name::ForContent(std::string(kThunkMagic) + "t");
  auto got = store.Get(thunk);
  ASSERT_TRUE(got.ok());
  EXPECT_FALSE(got->has_value());
  ASSERT_TRUE(WriteFileAtomic(dir.path() + "/" + thunk.str(), "garbage").ok());
  got = store.Get(thunk);
  ASSERT_TRUE(got.ok());
  EXPECT_FALSE(got->has_value());
}

}  // namespace
}  // namespace gg
