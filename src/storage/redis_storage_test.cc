#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <thread>

#include "storage/redis_storage.h"
#include "storage/storage.h"
#include "storage/storage_test_util.h"

namespace gg {
namespace {

using testing::RandomBytes;
using testing::RedisServer;
using testing::ScopedEnv;
using testing::TestStore;

class RedisStorageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!server_.Start()) GTEST_SKIP() << "redis-server is not installed or would not start";
    auto s = OpenStorage(server_.uri());
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    storage_ = std::move(*s);
  }

  std::vector<Name> PutValues(TestStore& store, int n, size_t size) {
    std::vector<Name> names;
    for (int i = 0; i < n; ++i) {
      auto name = store->Put(RandomBytes(size + i, i));
      EXPECT_TRUE(name.ok());
      names.push_back(*name);
    }
    return names;
  }

  RedisServer server_;
  std::unique_ptr<Storage> storage_;
};

TEST_F(RedisStorageTest, UriHidesThePassword) {
  auto s = OpenStorage("redis://alice:s3cret@127.0.0.1:1234/2");
  ASSERT_TRUE(s.ok());
  EXPECT_EQ((*s)->uri(), "redis://alice@127.0.0.1:1234/2");
  EXPECT_FALSE(OpenStorage("redis://127.0.0.1:notaport").ok());
  EXPECT_FALSE(OpenStorage("redis://127.0.0.1/x").ok());
}

TEST_F(RedisStorageTest, PutHasGetRoundTrip) {
  TestStore a, b;
  std::vector<Name> names = PutValues(a, 50, 1000);
  names.push_back(*a->Put(""));
  auto has = storage_->Has(names);
  ASSERT_TRUE(has.ok()) << has.status().ToString();
  for (bool h : *has) EXPECT_FALSE(h);
  ASSERT_TRUE(storage_->Put(*a, names).ok());
  has = storage_->Has(names);
  ASSERT_TRUE(has.ok());
  for (bool h : *has) EXPECT_TRUE(h);
  Status s = storage_->Get(*b, names);
  ASSERT_TRUE(s.ok()) << s.ToString();
  for (const auto& n : names) {
    ASSERT_TRUE(b->Has(n));
    EXPECT_EQ(*b->Get(n), *a->Get(n));
  }
  EXPECT_TRUE(std::filesystem::is_empty(b->TempDir()));
}

TEST_F(RedisStorageTest, LargeObjectsGoInChunks) {
  TestStore a, b;
  auto big = a->Put(RandomBytes(kRedisChunkSize * 2 + 12345, 7));
  ASSERT_TRUE(big.ok());
  ASSERT_TRUE(storage_->Put(*a, {*big}).ok());
  EXPECT_NE(server_.Cli("GET blobs/" + big->str()).find("gg-chunked 3"), std::string::npos);
  Status s = storage_->Get(*b, {*big});
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_TRUE(b->Verify(*big).ok());
}

TEST_F(RedisStorageTest, MissingObjectIsNotFoundNamingTheStore) {
  TestStore a, b;
  auto n = a->Put("never uploaded");
  Status s = storage_->Get(*b, {*n});
  EXPECT_EQ(s.code(), Status::Code::kNotFound);
  EXPECT_NE(s.message().find(storage_->uri()), std::string::npos) << s.message();
  EXPECT_FALSE(b->Has(*n));
}

TEST_F(RedisStorageTest, CorruptObjectIsDetectedOnDownload) {
  TestStore a, b;
  auto n = a->Put("the real content");
  ASSERT_TRUE(storage_->Put(*a, {*n}).ok());
  server_.Cli("SET blobs/" + n->str() + " 'the fake content'");
  Status s = storage_->Get(*b, {*n});
  EXPECT_EQ(s.code(), Status::Code::kCorrupt) << s.ToString();
  EXPECT_NE(s.message().find(n->str()), std::string::npos);
  EXPECT_NE(s.message().find(storage_->uri()), std::string::npos);
  EXPECT_FALSE(b->Has(*n));
  EXPECT_TRUE(std::filesystem::is_empty(b->TempDir()));  // the temporary file is gone
}

TEST_F(RedisStorageTest, Reductions) {
  TestStore a;
  auto out = a->Put("output");
  auto thunk = Name::Parse("T" + out->str().substr(1));
  ASSERT_TRUE(thunk.ok());
  auto missing = storage_->GetReduction(*thunk);
  ASSERT_TRUE(missing.ok());
  EXPECT_FALSE(missing->has_value());
  Reduction r{{{"out", *out, false}}, 1.5};
  ASSERT_TRUE(storage_->PutReduction(*thunk, r).ok());
  auto got = storage_->GetReductions({*thunk, *out});
  ASSERT_TRUE(got.ok());
  ASSERT_TRUE((*got)[0].has_value());
  EXPECT_EQ((*got)[0]->outputs, r.outputs);
  EXPECT_FALSE((*got)[1].has_value());
  // A damaged record is a miss, not an error.
  server_.Cli("SET reductions/" + thunk->str() + " garbage");
  auto damaged = storage_->GetReduction(*thunk);
  ASSERT_TRUE(damaged.ok());
  EXPECT_FALSE(damaged->has_value());
}

TEST_F(RedisStorageTest, WrongPasswordIsRefusedWithoutShowingIt) {
  RedisServer locked;
  ASSERT_TRUE(locked.Start(0, "right-password"));
  TestStore a;
  auto n = a->Put("x");
  auto good = OpenStorage(locked.uri("right-password"));
  ASSERT_TRUE((*good)->Put(*a, {*n}).ok());
  auto bad = OpenStorage(locked.uri("wrong-password"));
  auto has = (*bad)->Has({*n});
  ASSERT_FALSE(has.ok());
  EXPECT_NE(has.status().message().find("access denied"), std::string::npos) << has.status().message();
  EXPECT_EQ(has.status().message().find("wrong-password"), std::string::npos) << has.status().message();
}

TEST_F(RedisStorageTest, UnreachableServerGivesUpNamingTheUri) {
  ScopedEnv timeout("GG_STORAGE_TIMEOUT", "2");
  int port = testing::FreePort();
  auto s = OpenStorage("redis://127.0.0.1:" + std::to_string(port));
  TestStore a;
  auto start = std::chrono::steady_clock::now();
  auto has = (*s)->Has({*a->Put("x")});
  double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ASSERT_FALSE(has.ok());
  EXPECT_EQ(has.status().code(), Status::Code::kUnavailable);
  EXPECT_NE(has.status().message().find("redis://127.0.0.1:" + std::to_string(port)), std::string::npos)
      << has.status().message();
  EXPECT_LT(took, 10);
}

// The server dies in the middle of an upload and never comes back: a clear
// error, in bounded time.
TEST_F(RedisStorageTest, ServerKilledMidUploadGivesAClearError) {
  ScopedEnv timeout("GG_STORAGE_TIMEOUT", "2");
  TestStore a;
  auto names = PutValues(a, 300, 256 << 10);
  auto s = OpenStorage(server_.uri());
  std::thread killer([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(30));
    server_.Kill();
  });
  Status put = (*s)->Put(*a, names);
  killer.join();
  if (put.ok()) GTEST_SKIP() << "the upload finished before the server was killed";
  EXPECT_EQ(put.code(), Status::Code::kUnavailable) << put.ToString();
  EXPECT_NE(put.message().find(server_.uri()), std::string::npos) << put.message();
}

// The server dies and a new one takes its place: the retry succeeds, and
// every object in the store matches its name.
TEST_F(RedisStorageTest, ServerRestartedMidUploadIsRetried) {
  TestStore a, b;
  auto names = PutValues(a, 300, 256 << 10);
  auto s = OpenStorage(server_.uri());
  RedisServer second;
  std::thread restarter([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(30));
    int port = server_.port();
    server_.Kill();
    ASSERT_TRUE(second.Start(port));
  });
  Status put = (*s)->Put(*a, names);
  restarter.join();
  ASSERT_TRUE(put.ok()) << put.ToString();
  // Whatever the new server holds (the batches after the restart) is intact.
  auto has = (*s)->Has(names);
  ASSERT_TRUE(has.ok());
  std::vector<Name> there;
  for (size_t i = 0; i < names.size(); ++i) {
    if ((*has)[i]) there.push_back(names[i]);
  }
  EXPECT_FALSE(there.empty());
  Status get = (*s)->Get(*b, there);
  EXPECT_TRUE(get.ok()) << get.ToString();
}

}  // namespace
}  // namespace gg
