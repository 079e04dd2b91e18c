#include "models/leftover_placeholders.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include "core/path_util.h"
#include "core/placeholder.h"
#include "gg/thunk.h"

namespace gg::models {
namespace {

class LeftoverTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/gg-leftover-XXXXXX";
    dir_ = mkdtemp(tmpl);
    ASSERT_TRUE(LocalStore::Init(dir_ + "/.gg").ok());
    auto s = LocalStore::Open(dir_ + "/.gg");
    ASSERT_TRUE(s.ok());
    store_ = std::move(*s);
  }
  void TearDown() override { (void)RemoveTree(dir_); }

  std::string dir_;
  std::unique_ptr<LocalStore> store_;
};

TEST(LeftoverPlaceholders, IncludedDependencyFiles) {
  EXPECT_TRUE(IsIncludedDependencyFile("/p/.deps/x.Po"));
  EXPECT_TRUE(IsIncludedDependencyFile("/p/.deps/libz_la-x.Plo"));
  EXPECT_FALSE(IsIncludedDependencyFile("/p/x.d"));  // -include'd or read by ninja: removal is fine
  EXPECT_FALSE(IsIncludedDependencyFile("/p/x.o"));
}

TEST_F(LeftoverTest, ReducedOutputsWrittenOthersRemovedDepFilesDummied) {
  Name done = Name::ForContent(std::string(kThunkMagic) + "done");
  Name tail = Name::ForContent(std::string(kThunkMagic) + "tail");
  Name pending = Name::ForContent(std::string(kThunkMagic) + "pending");
  auto value = store_->Put("real object");
  ASSERT_TRUE(value.ok());
  // `done` reduced to a thunk (tail recursion) that is reduced to the value.
  ASSERT_TRUE(store_->reductions().Put(done, Reduction{{{"x.o", tail.WithTag("x.o"), false}}, 0}).ok());
  ASSERT_TRUE(store_->reductions().Put(tail, Reduction{{{"x.o", *value, false}}, 0}).ok());
  auto out = ReducedOutput(store_.get(), done.WithTag("x.o"));
  ASSERT_TRUE(out.has_value());
  EXPECT_EQ(out->name, *value);
  EXPECT_FALSE(ReducedOutput(store_.get(), pending).has_value());

  std::map<std::string, Name> placeholders = {{dir_ + "/x.o", done.WithTag("x.o")},
                                              {dir_ + "/y.o", pending},
                                              {dir_ + "/.deps/y.Po", pending.WithTag(".deps/y.Po")}};
  for (const auto& [path, name] : placeholders) {
    ASSERT_TRUE(MakeDirs(DirName(path)).ok());
    ASSERT_TRUE(WritePlaceholder(path, name).ok());
  }
  auto sum = ResolveLeftoverPlaceholders(store_.get(), placeholders);
  ASSERT_TRUE(sum.ok()) << sum.status().message();
  EXPECT_EQ(sum->written, 1u);
  EXPECT_EQ(sum->removed, 1u);
  EXPECT_EQ(sum->dummied, 1u);
  EXPECT_EQ(*ReadFile(dir_ + "/x.o"), "real object");
  EXPECT_NE(access((dir_ + "/y.o").c_str(), F_OK), 0);
  EXPECT_EQ(*ReadFile(dir_ + "/.deps/y.Po"), "# dummy\n");
}

}  // namespace
}  // namespace gg::models
