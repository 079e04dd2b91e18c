#include "engines/engine_set.h"

#include <gtest/gtest.h>

#include "core/test_util.h"
#include "engines/gcf_engine.h"
#include "engines/lambda_engine.h"
#include "engines/slurm_launcher.h"

namespace gg::engines {
namespace {

class EngineSetTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = NewStoreIn(dir_);
    ASSERT_NE(store_, nullptr);
  }
  Status Error(std::vector<std::string> specs) {
    Config c;
    c.specs = std::move(specs);
    auto set = CreateFromSpecs(store_.get(), c);
    return set.ok() ? Status::Ok() : set.status();
  }
  ScratchDir dir_;
  std::unique_ptr<LocalStore> store_;
};

TEST(EngineSpecTest, SplitsOptions) {
  EXPECT_EQ(SplitOptions("fn,region=r,slots=3"), (std::vector<std::string>{"fn", "region=r", "slots=3"}));
  EXPECT_EQ(SplitOptions(""), std::vector<std::string>{""});
}

TEST(EngineSpecTest, ParsesSlurmOptions) {
  auto o = SlurmOptions::Parse("4,partition=debug,slots=2,host=10.0.0.1");
  ASSERT_TRUE(o.ok()) << o.status().message();
  EXPECT_EQ(o->workers, 4);
  EXPECT_EQ(o->partition, "debug");
  EXPECT_EQ(o->slots, 2);
  EXPECT_EQ(o->host, "10.0.0.1");
  EXPECT_FALSE(SlurmOptions::Parse("0").ok());
  EXPECT_FALSE(SlurmOptions::Parse("2,colour=blue").ok());
}

TEST(EngineSpecTest, ParsesLambdaOptions) {
  auto o = LambdaOptions::Parse("gg-fn,region=eu-west-1,slots=7,workers=2,host=h");
  ASSERT_TRUE(o.ok()) << o.status().message();
  EXPECT_EQ(o->function, "gg-fn");
  EXPECT_EQ(o->region, "eu-west-1");
  EXPECT_EQ(o->slots, 7);
  EXPECT_EQ(o->workers, 2);
  EXPECT_FALSE(LambdaOptions::Parse(",region=x").ok());
  EXPECT_FALSE(LambdaOptions::Parse("fn,slots=0").ok());
}

TEST(EngineSpecTest, ParsesLambdaBudgets) {
  auto o = LambdaOptions::Parse("fn,workers=2,budget=5.5,tmp=512M,memory=3G");
  ASSERT_TRUE(o.ok()) << o.status().message();
  EXPECT_EQ(o->budget, 5.5);
  EXPECT_EQ(o->limits.tmp_bytes, uint64_t{512} << 20);
  EXPECT_EQ(o->limits.memory_bytes, uint64_t{3} << 30);
  EXPECT_FALSE(o->limits.tmp_in_memory);
  EXPECT_NE(LambdaOptions::Parse("fn,budget=5").status().message().find("workers=W"), std::string::npos);
  EXPECT_NE(LambdaOptions::Parse("fn,workers=1,budget=0").status().message().find("positive"), std::string::npos);
  EXPECT_NE(LambdaOptions::Parse("fn,tmp=lots").status().message().find("bad size in 'tmp=lots'"), std::string::npos);
}

TEST(EngineSpecTest, ParsesGcfOptions) {
  auto o = GcfOptions::Parse("https://europe-west1-p.cloudfunctions.net/gg,slots=9,memory=2G");
  ASSERT_TRUE(o.ok()) << o.status().message();
  EXPECT_EQ(o->url, "https://europe-west1-p.cloudfunctions.net/gg");
  EXPECT_EQ(o->slots, 9);
  EXPECT_EQ(o->limits.memory_bytes, uint64_t{2} << 30);
  EXPECT_TRUE(o->limits.tmp_in_memory);  // Cloud Functions' /tmp is in memory
  EXPECT_NE(GcfOptions::Parse("").status().message().find("URL"), std::string::npos);
  EXPECT_NE(GcfOptions::Parse("gg-fn").status().message().find("http"), std::string::npos);
  EXPECT_NE(GcfOptions::Parse("http://h/,slots=0").status().message().find("positive"), std::string::npos);
  EXPECT_NE(GcfOptions::Parse("http://h/,region=x").status().message().find("unknown option 'region=x'"),
            std::string::npos);
}

TEST_F(EngineSetTest, UnknownEngineNamesTheSpecAndListsTheEngines) {
  Status s = Error({"quantum=9"});
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), Status::Code::kInvalid);
  EXPECT_NE(s.message().find("engine 'quantum=9': unknown engine"), std::string::npos) << s.message();
  for (const char* kind : {"local[=N]", "remote=HOST:PORT", "slurm=N", "lambda=FUNCTION", "gcf=URL"}) {
    EXPECT_NE(s.message().find(kind), std::string::npos) << kind;
  }
}

TEST_F(EngineSetTest, BadOptionsAreErrors) {
  EXPECT_NE(Error({"local=0"}).message().find("positive"), std::string::npos);
  EXPECT_NE(Error({"remote=127.0.0.1:0"}).message().find("--secret-file"), std::string::npos);
  EXPECT_NE(Error({"slurm=2,colour=blue"}).message().find("unknown option 'colour=blue'"), std::string::npos);
  EXPECT_NE(Error({"lambda=fn"}).message().find("shared store"), std::string::npos);
  EXPECT_NE(Error({"gcf=http://127.0.0.1:1/"}).message().find("shared store"), std::string::npos);
}

TEST_F(EngineSetTest, BuildsEnginesInOrder) {
  std::string secret = dir_.path() + "/secret";
  ASSERT_TRUE(WriteFileAtomic(secret, "s3cret\n").ok());
  Config c;
  c.specs = {"remote=127.0.0.1:0", "remote=127.0.0.1:0"};
  c.secret_file = secret;
  auto set = CreateFromSpecs(store_.get(), c);
  ASSERT_TRUE(set.ok()) << set.status().message();
  std::vector<Engine*> engines = (*set)->engines();
  ASSERT_EQ(engines.size(), 2u);
  EXPECT_EQ(engines[0]->capacity(), 0);  // no worker has connected
}

}  // namespace
}  // namespace gg::engines
