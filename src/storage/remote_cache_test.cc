#include "storage/remote_cache.h"

#include <gtest/gtest.h>

#include "storage/storage_test_util.h"
#include "storage/transfer.h"

namespace gg {
namespace {

using testing::RedisServer;
using testing::TestStore;

class RemoteCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!server_.Start()) GTEST_SKIP() << "redis-server is not installed or would not start";
    storage_ = OpenStorage(server_.uri()).value();
  }
  static Name FakeThunk(const std::string& seed) {
    Name v = Name::ForContent(seed);
    return Name(ObjectType::kThunk, v.hash(), v.size());
  }
  RedisServer server_;
  std::unique_ptr<Storage> storage_;
};

// Two machines (two .gg directories) sharing one store: what one forced,
// the other finds reduced, with its outputs.
TEST_F(RemoteCacheTest, TwoStoresShareReductions) {
  TestStore machine_a, machine_b;
  RemoteCache cache_a(*storage_);
  auto storage_b = OpenStorage(server_.uri()).value();
  RemoteCache cache_b(*storage_b);
  Name thunk = FakeThunk("thunk"), resolved = FakeThunk("resolved");
  auto miss = cache_b.Lookup(thunk);
  ASSERT_TRUE(miss.ok());
  EXPECT_FALSE(miss->has_value());

  Name out = *machine_a->Put("the output");
  Name extra = *machine_a->Put("a second output");
  Reduction r{{{"out", out, false}, {"extra", extra, true}}, 2.0};
  ASSERT_TRUE(cache_a.Publish(*machine_a, thunk, resolved, r).ok());

  for (const Name& t : {thunk, resolved}) {
    auto hit = cache_b.Lookup(t);
    ASSERT_TRUE(hit.ok()) << hit.status().ToString();
    ASSERT_TRUE(hit->has_value());
    EXPECT_EQ((*hit)->outputs, r.outputs);
  }
  ASSERT_FALSE(machine_b->Has(out));
  ASSERT_TRUE(cache_b.FetchOutputs(*machine_b, {out, extra}).ok());
  EXPECT_EQ(*machine_b->Get(out), "the output");
  EXPECT_EQ(*machine_b->Get(extra), "a second output");
}

TEST_F(RemoteCacheTest, AReductionWhoseOutputIsGoneIsAMiss) {
  TestStore local;
  RemoteCache cache(*storage_);
  Name thunk = FakeThunk("t2");
  Name out = *local->Put("will vanish");
  ASSERT_TRUE(cache.Publish(local.operator*(), thunk, thunk, {{{"out", out, false}}, 1}).ok());
  ASSERT_TRUE(cache.Lookup(thunk)->has_value());
  server_.Cli("DEL blobs/" + out.str());
  auto after = cache.Lookup(thunk);
  ASSERT_TRUE(after.ok()) << after.status().ToString();
  EXPECT_FALSE(after->has_value());
  auto many = cache.LookupMany({thunk, FakeThunk("unknown")});
  ASSERT_TRUE(many.ok());
  EXPECT_FALSE((*many)[0].has_value());
  EXPECT_FALSE((*many)[1].has_value());
}

TEST_F(RemoteCacheTest, AnUnchangedJobUploadsNothing) {
  TestStore local;
  std::vector<Name> names;
  for (int i = 0; i < 20; ++i) names.push_back(*local->Put("object " + std::to_string(i)));
  auto known = KnownObjects::Open(local->dir(), storage_->uri());
  ASSERT_TRUE(known.ok());
  auto first = UploadObjects(*storage_, *local, known->get(), names);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->sent, 20u);
  // The second time nothing is sent, nor even asked: the store is stopped.
  server_.Kill();
  auto again = KnownObjects::Open(local->dir(), storage_->uri());
  auto second = UploadObjects(*storage_, *local, again->get(), names);
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_EQ(second->sent, 0u);
  EXPECT_EQ(second->skipped, 20u);
}

}  // namespace
}  // namespace gg
