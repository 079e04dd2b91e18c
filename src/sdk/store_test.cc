// The SDK's store and force, through the real gg program (which serves the
// sandboxes): results, memoization, progress, and the errors a program sees.
#include <gtest/gtest.h>

#include <cstdlib>

#include "core/path_util.h"
#include "core/test_util.h"
#include "gg/gg.h"

namespace gg {
namespace {

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = Store::Init(scratch_.path() + "/.gg");
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::make_unique<Store>(std::move(*s));
    const char* build = std::getenv("GG_TEST_BINARY_DIR");
    options_.gg_binary = std::string(build != nullptr ? build : "build") + "/src/cli/gg";
    options_.jobs = 2;
    auto busybox = store_->Collect("/usr/bin/busybox");
    ASSERT_TRUE(busybox.ok()) << busybox.status().ToString();
    busybox_ = *busybox;
  }

  // A thunk running `sh -c script` with busybox at /bin/sh.
  Thunk Sh(const std::string& script) {
    Thunk t;
    t.SetFunction(busybox_, "/bin/sh");
    t.args = {"sh", "-c", script};
    t.outputs = {"out"};
    return t;
  }

  ScratchDir scratch_;
  std::unique_ptr<Store> store_;
  ForceSettings options_;
  Name busybox_;
};

TEST_F(StoreTest, ForcesADependencyChainAndMemoizes) {
  auto hello = store_->Put("hello");
  ASSERT_TRUE(hello.ok());
  Thunk first = Sh("tr a-z A-Z < " + Thunk::Placeholder(*hello) + " > out; echo side > note");
  first.AddInput(*hello, "in.txt");
  first.outputs = {"out", "note"};
  auto first_name = store_->PutThunk(first);
  ASSERT_TRUE(first_name.ok()) << first_name.status().ToString();
  Thunk second = Sh("cat a b > out");
  second.AddInput(*first_name, "a").AddInput(first_name->WithTag("note"), "b");
  auto second_name = store_->PutThunk(second);
  ASSERT_TRUE(second_name.ok());

  options_.trace_path = scratch_.path() + "/trace.json";
  size_t calls = 0;
  ForceProgress last;
  options_.on_progress = [&](const ForceProgress& p) {
    ++calls;
    last = p;
  };
  auto out = store_->ForceAndGet(*second_name, options_);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(*out, "HELLOside\n");
  EXPECT_GE(calls, 1u);
  EXPECT_EQ(last.executed, 2u);
  auto trace = ReadFile(options_.trace_path);
  ASSERT_TRUE(trace.ok()) << trace.status().ToString();
  EXPECT_NE(trace->find("traceEvents"), std::string::npos);

  auto reduced = store_->ReducedTo(first_name->WithTag("note"));
  ASSERT_TRUE(reduced.ok() && reduced->has_value());
  EXPECT_EQ(store_->Get(**reduced).value(), "side\n");

  // Everything is memoized the second time.
  auto again = store_->Force({*second_name}, options_);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(last.executed, 0u);
}

TEST_F(StoreTest, ACollectedDirectoryIsATreeInput) {
  std::string dir = scratch_.path() + "/data";
  ASSERT_TRUE(MakeDirs(dir + "/sub").ok());
  ASSERT_TRUE(WriteFileAtomic(dir + "/sub/x", "x-content").ok());
  auto tree = store_->Collect(dir);
  ASSERT_TRUE(tree.ok()) << tree.status().ToString();
  EXPECT_EQ(tree->type(), ObjectType::kTree);
  Thunk t = Sh("cat data/sub/x > out");
  t.AddInput(*tree, "data");
  auto name = store_->PutThunk(t);
  ASSERT_TRUE(name.ok());
  auto out = store_->ForceAndGet(*name, options_);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(*out, "x-content");
}

TEST_F(StoreTest, AFailedForceCarriesTheThunksStderr) {
  auto name = store_->PutThunk(Sh("echo 'no such frame: 42' >&2; exit 3"));
  ASSERT_TRUE(name.ok());
  auto out = store_->Force({*name}, options_);
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), Status::Code::kFailed);
  EXPECT_NE(out.status().message().find("no such frame: 42"), std::string::npos) << out.status().message();
  EXPECT_NE(out.status().message().find(name->str()), std::string::npos) << out.status().message();
}

TEST_F(StoreTest, MissingObjectsAndMalformedThunksAreClearErrors) {
  Name missing = Name::ForContent("never stored");
  auto got = store_->Get(missing);
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), Status::Code::kNotFound);
  EXPECT_NE(got.status().message().find(missing.str()), std::string::npos);

  Thunk no_outputs = Sh("true");
  no_outputs.outputs.clear();
  auto put = store_->PutThunk(no_outputs);
  ASSERT_FALSE(put.ok());
  EXPECT_NE(put.status().message().find("at least one output"), std::string::npos) << put.status().message();

  auto garbage = store_->Put(std::string(kThunkMagic) + "\xff\xff\xff");
  ASSERT_TRUE(garbage.ok());
  auto parsed = store_->GetThunk(*garbage);
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.status().code(), Status::Code::kCorrupt);

  // A thunk whose input is not in the store: the force names it.
  Thunk t = Sh("cat x > out");
  t.AddInput(missing, "x");
  auto name = store_->PutThunk(t);
  ASSERT_TRUE(name.ok());
  auto forced = store_->Force({*name}, options_);
  ASSERT_FALSE(forced.ok());
  EXPECT_NE(forced.status().message().find(missing.str()), std::string::npos) << forced.status().message();
}

TEST_F(StoreTest, UnknownEnginesAreRefusedWithAWayOut) {
  options_.engines = {"lambda=f"};
  auto name = store_->PutThunk(Sh("true > out"));
  ASSERT_TRUE(name.ok());
  auto out = store_->Force({*name}, options_);
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), Status::Code::kInvalid);
}

TEST(HasherTest, StreamingGivesTheSameNameAsWholeContent) {
  std::string content = std::string(kThunkMagic) + std::string(100000, 'x');
  Hasher h;
  for (size_t i = 0; i < content.size(); i += 7) h.Update(std::string_view(content).substr(i, 7));
  EXPECT_EQ(h.Finish(), Name::ForContent(content));
  Hasher empty;
  EXPECT_EQ(empty.Finish(), Name::ForContent(""));
}

}  // namespace
}  // namespace gg
