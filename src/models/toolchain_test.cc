#include "models/toolchain.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/path_util.h"
#include "core/test_util.h"

namespace gg::models {
namespace {

// A stand-in driver that counts its runs and prints what gcc prints.
class SearchDirsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = NewStoreIn(dir_);
    ASSERT_NE(store_, nullptr);
    install_ = dir_.path() + "/install";
    ASSERT_TRUE(MakeDirs(install_).ok());
    WriteDriver("");
    unsetenv("LIBRARY_PATH");
  }
  void TearDown() override { unsetenv("LIBRARY_PATH"); }
  void WriteDriver(const std::string& extra) {
    std::string script = "#!/bin/sh\necho run >>" + dir_.path() + "/runs\necho 'install: " + install_ +
                         "/'\necho 'libraries: =/usr/lib/'\n" + extra;
    ASSERT_TRUE(WriteFileAtomic(cc_, script, 0755).ok());
  }
  size_t Runs() {
    auto text = ReadFile(dir_.path() + "/runs");
    size_t n = 0;
    if (text.ok()) {
      for (char c : *text) n += c == '\n';
    }
    return n;
  }

  ScratchDir dir_;
  std::unique_ptr<LocalStore> store_;
  std::string install_, cc_ = dir_.path() + "/gcc";
};

TEST_F(SearchDirsTest, AskedOnceWhileNothingItDependsOnChanges) {
  auto first = GccSearchDirs(store_.get(), cc_);
  ASSERT_TRUE(first.ok()) << first.status().message();
  EXPECT_NE(first->find("install: " + install_ + "/"), std::string::npos);
  EXPECT_EQ(Runs(), 1u);
  EXPECT_EQ(*GccSearchDirs(store_.get(), cc_), *first);
  EXPECT_EQ(Runs(), 1u);

  setenv("LIBRARY_PATH", "/opt/lib", 1);  // the driver lists $LIBRARY_PATH's dirs
  ASSERT_TRUE(GccSearchDirs(store_.get(), cc_).ok());
  EXPECT_EQ(Runs(), 2u);
  unsetenv("LIBRARY_PATH");
  ASSERT_TRUE(GccSearchDirs(store_.get(), cc_).ok());
  EXPECT_EQ(Runs(), 2u);  // the first answer again

  ASSERT_TRUE(WriteFileAtomic(install_ + "/specs", "*cpp:\n").ok());  // a specs file added: the dir changed
  ASSERT_TRUE(GccSearchDirs(store_.get(), cc_).ok());
  EXPECT_EQ(Runs(), 3u);

  WriteDriver("echo 'programs: =/new/'\n");  // another driver (a gcc upgrade)
  auto upgraded = GccSearchDirs(store_.get(), cc_);
  ASSERT_TRUE(upgraded.ok());
  EXPECT_EQ(Runs(), 4u);
  EXPECT_NE(upgraded->find("programs: =/new/"), std::string::npos);

  ASSERT_TRUE(GccSearchDirs(store_.get(), cc_, /*refresh=*/true).ok());  // gg infer --refresh-toolchain
  EXPECT_EQ(Runs(), 5u);
}

}  // namespace
}  // namespace gg::models
