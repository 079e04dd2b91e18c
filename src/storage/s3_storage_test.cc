#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "storage/s3_client.h"
#include "storage/s3_storage.h"
#include "storage/storage.h"
#include "storage/storage_test_util.h"

namespace gg {
namespace {

using testing::MotoServer;
using testing::RandomBytes;
using testing::ScopedEnv;
using testing::TestStore;

TEST(S3UriTest, ParsesBucketPrefixRegionAndEndpoint) {
  ScopedEnv key("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE"), secret("AWS_SECRET_ACCESS_KEY", "s3cr3t");
  ScopedEnv region("AWS_REGION", nullptr), dregion("AWS_DEFAULT_REGION", nullptr);
  ScopedEnv ep("AWS_ENDPOINT_URL", nullptr), ep3("AWS_ENDPOINT_URL_S3", nullptr);
  auto u = ParseUri("s3://bkt/some/prefix/?region=eu-west-1&endpoint=http://localhost:9000/");
  auto c = ParseS3Uri(*u);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->bucket, "bkt");
  EXPECT_EQ(c->prefix, "some/prefix");
  EXPECT_EQ(c->region, "eu-west-1");
  EXPECT_EQ(c->endpoint, "http://localhost:9000");
  EXPECT_TRUE(c->path_style);
  EXPECT_EQ(c->Key("blobs/V1"), "some/prefix/blobs/V1");
  EXPECT_EQ(c->Uri(), "s3://bkt/some/prefix?region=eu-west-1&endpoint=http://localhost:9000");
  EXPECT_EQ(c->credentials.secret_access_key, "s3cr3t");

  auto aws = ParseS3Uri(*ParseUri("s3://bkt"));
  ASSERT_TRUE(aws.ok());
  EXPECT_FALSE(aws->path_style);  // AWS itself: virtual-hosted
  EXPECT_EQ(aws->region, "us-east-1");

  auto gs = ParseS3Uri(*ParseUri("gs://gbkt/p"));
  ASSERT_TRUE(gs.ok());
  EXPECT_EQ(gs->endpoint, "https://storage.googleapis.com");
  EXPECT_EQ(gs->region, "auto");
  EXPECT_EQ(gs->Uri(), "gs://gbkt/p");

  EXPECT_FALSE(ParseS3Uri(*ParseUri("s3://bkt?bogus=1")).ok());
  EXPECT_FALSE(ParseS3Uri(*ParseUri("s3:///prefix")).ok());
  EXPECT_FALSE(OpenStorage("ftp://x").ok());
  EXPECT_FALSE(OpenStorage("no-scheme").ok());
}

TEST(S3ClientTest, XmlValue) {
  EXPECT_EQ(S3Client::XmlValue("<Error><Code>NoSuchKey</Code><Message>a &amp; b</Message></Error>", "Code"),
            "NoSuchKey");
  EXPECT_EQ(S3Client::XmlValue("<Error><Message>a &amp; b</Message></Error>", "Message"), "a & b");
  EXPECT_EQ(S3Client::XmlValue("<x/>", "Code"), "");
}

class S3StorageTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    server_ = new MotoServer;
    if (!server_->Start()) {
      delete server_;
      server_ = nullptr;
    }
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }
  void SetUp() override {
    if (server_ == nullptr) GTEST_SKIP() << "moto_server (with boto3) is not installed or would not start";
    key_ = std::make_unique<ScopedEnv>("AWS_ACCESS_KEY_ID", server_->key().c_str());
    secret_ = std::make_unique<ScopedEnv>("AWS_SECRET_ACCESS_KEY", server_->secret().c_str());
    token_ = std::make_unique<ScopedEnv>("AWS_SESSION_TOKEN", nullptr);
    auto s = OpenStorage(server_->uri(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    storage_ = std::move(*s);
  }

  static MotoServer* server_;
  std::unique_ptr<ScopedEnv> key_, secret_, token_;
  std::unique_ptr<Storage> storage_;
};
MotoServer* S3StorageTest::server_ = nullptr;

TEST_F(S3StorageTest, PutHasGetRoundTrip) {
  TestStore a, b;
  std::vector<Name> names;
  for (int i = 0; i < 100; ++i) names.push_back(*a->Put(RandomBytes(5000 + i, i)));
  names.push_back(*a->Put(""));
  auto has = storage_->Has(names);
  ASSERT_TRUE(has.ok()) << has.status().ToString();
  for (bool h : *has) EXPECT_FALSE(h);
  Status put = storage_->Put(*a, names);
  ASSERT_TRUE(put.ok()) << put.ToString();
  has = storage_->Has(names);
  ASSERT_TRUE(has.ok());
  for (bool h : *has) EXPECT_TRUE(h);
  Status get = storage_->Get(*b, names);
  ASSERT_TRUE(get.ok()) << get.ToString();
  for (const auto& n : names) EXPECT_EQ(*b->Get(n), *a->Get(n));
  EXPECT_TRUE(std::filesystem::is_empty(b->TempDir()));
}

TEST_F(S3StorageTest, LargeObjectsUseMultipartUpload) {
  TestStore a, b;
  auto big = a->Put(RandomBytes(kMultipartThreshold + kMinPartSize + 777, 3));
  ASSERT_TRUE(big.ok());
  Status put = storage_->Put(*a, {*big});
  ASSERT_TRUE(put.ok()) << put.ToString();
  Status get = storage_->Get(*b, {*big});
  ASSERT_TRUE(get.ok()) << get.ToString();
  EXPECT_TRUE(b->Verify(*big).ok());
}

TEST_F(S3StorageTest, Reductions) {
  TestStore a;
  auto out = a->Put("output");
  auto thunk = *Name::Parse("T" + out->str().substr(1));
  auto none = storage_->GetReduction(thunk);
  ASSERT_TRUE(none.ok()) << none.status().ToString();
  EXPECT_FALSE(none->has_value());
  Reduction r{{{"out", *out, true}}, 0.25};
  ASSERT_TRUE(storage_->PutReduction(thunk, r).ok());
  auto got = storage_->GetReduction(thunk);
  ASSERT_TRUE(got.ok() && got->has_value());
  EXPECT_EQ((*got)->outputs, r.outputs);
}

TEST_F(S3StorageTest, CorruptObjectIsDetectedOnDownload) {
  TestStore a, b;
  auto n = *a->Put("the real content, 0123456789");
  ASSERT_TRUE(storage_->Put(*a, {n}).ok());
  // Overwrite the object behind gg's back with other bytes.
  auto config = ParseS3Uri(*ParseUri(storage_->uri()));
  S3Client client(*config);
  S3Request r;
  r.method = "PUT";
  r.key = config->Key("blobs/" + n.str());
  r.has_body = true;
  r.body = "the fake content, 0123456789";
  client.Run({&r});
  ASSERT_TRUE(r.ok()) << client.ErrorFor(r).ToString();
  Status s = storage_->Get(*b, {n});
  EXPECT_EQ(s.code(), Status::Code::kCorrupt) << s.ToString();
  EXPECT_NE(s.message().find(n.str()), std::string::npos);
  EXPECT_NE(s.message().find(storage_->uri()), std::string::npos);
  EXPECT_FALSE(b->Has(n));
  EXPECT_TRUE(std::filesystem::is_empty(b->TempDir()));
}

TEST_F(S3StorageTest, WrongSecretIsRefusedWithoutShowingIt) {
  ScopedEnv wrong("AWS_SECRET_ACCESS_KEY", "definitely-the-wrong-secret");
  auto s = OpenStorage(server_->uri());
  TestStore a;
  auto n = *a->Put("x");
  Status put = (*s)->Put(*a, {n});
  ASSERT_FALSE(put.ok());
  EXPECT_NE(put.message().find("access denied by " + (*s)->uri()), std::string::npos) << put.message();
  EXPECT_NE(put.message().find("AWS_SECRET_ACCESS_KEY"), std::string::npos);
  EXPECT_EQ(put.message().find("definitely-the-wrong-secret"), std::string::npos);
  EXPECT_EQ(put.message().find(server_->secret()), std::string::npos);
}

TEST_F(S3StorageTest, MissingBucketIsNamed) {
  auto s = OpenStorage(server_->uri("", "no-such-bucket"));
  TestStore a;
  auto has = (*s)->Has({*a->Put("x")});
  ASSERT_FALSE(has.ok());
  EXPECT_EQ(has.status().code(), Status::Code::kNotFound);
  EXPECT_NE(has.status().message().find("bucket 'no-such-bucket' does not exist"), std::string::npos)
      << has.status().message();
}

TEST_F(S3StorageTest, MissingObjectIsNotFound) {
  TestStore a, b;
  Status s = storage_->Get(*b, {*a->Put("never uploaded")});
  EXPECT_EQ(s.code(), Status::Code::kNotFound) << s.ToString();
  EXPECT_NE(s.message().find("is not in " + storage_->uri()), std::string::npos);
}

TEST_F(S3StorageTest, GsUrisUseTheSameClient) {
  // gs:// pointed at moto instead of storage.googleapis.com.
  auto s = OpenStorage("gs://gg-test/gs-prefix?endpoint=" + server_->endpoint());
  ASSERT_TRUE(s.ok());
  TestStore a, b;
  auto n = *a->Put("through gs://");
  Status put = (*s)->Put(*a, {n});
  ASSERT_TRUE(put.ok()) << put.ToString();
  ASSERT_TRUE((*s)->Get(*b, {n}).ok());
}

TEST(S3UnreachableTest, GivesUpNamingTheUri) {
  ScopedEnv timeout("GG_STORAGE_TIMEOUT", "2");
  ScopedEnv key("AWS_ACCESS_KEY_ID", "k"), secret("AWS_SECRET_ACCESS_KEY", "s");
  int port = testing::FreePort();
  auto s = OpenStorage("s3://b?endpoint=http://127.0.0.1:" + std::to_string(port));
  ASSERT_TRUE(s.ok());
  TestStore a;
  auto start = std::chrono::steady_clock::now();
  auto has = (*s)->Has({*a->Put("x")});
  double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ASSERT_FALSE(has.ok());
  EXPECT_EQ(has.status().code(), Status::Code::kUnavailable);
  EXPECT_NE(has.status().message().find("cannot reach s3://b"), std::string::npos) << has.status().message();
  EXPECT_LT(took, 10);
}

// moto dies in the middle of an upload: a clear error in bounded time.
TEST(S3KilledTest, ServerKilledMidUploadGivesAClearError) {
  MotoServer server;
  if (!server.Start()) GTEST_SKIP() << "moto_server is not available";
  ScopedEnv timeout("GG_STORAGE_TIMEOUT", "3");
  ScopedEnv key("AWS_ACCESS_KEY_ID", server.key().c_str()), secret("AWS_SECRET_ACCESS_KEY", server.secret().c_str());
  TestStore a;
  std::vector<Name> names;
  for (int i = 0; i < 400; ++i) names.push_back(*a->Put(RandomBytes(20000, i)));
  auto s = OpenStorage(server.uri());
  std::thread killer([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    server.Kill();
  });
  Status put = (*s)->Put(*a, names);
  killer.join();
  if (put.ok()) GTEST_SKIP() << "the upload finished before the server was killed";
  EXPECT_EQ(put.code(), Status::Code::kUnavailable) << put.ToString();
  EXPECT_NE(put.message().find((*s)->uri()), std::string::npos) << put.message();
}

}  // namespace
}  // namespace gg
