#include "core/local_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include <gtest/gtest.h>

#include "core/path_util.h"
#include "core/test_util.h"
#include "core/tree.h"

namespace gg {
namespace {

class LocalStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(LocalStore::Init(dir_.path() + "/.gg").ok());
    auto s = LocalStore::Open(dir_.path() + "/.gg");
    ASSERT_TRUE(s.ok());
    store_ = std::move(*s);
  }
  ScratchDir dir_;
  std::unique_ptr<LocalStore> store_;
};

TEST_F(LocalStoreTest, PutGetRoundTrip) {
  auto n = store_->Put("hello world");
  ASSERT_TRUE(n.ok());
  EXPECT_TRUE(store_->Has(*n));
  auto c = store_->Get(*n);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(*c, "hello world");
}

TEST_F(LocalStoreTest, FlippedByteIsDetectedOnRead) {
  auto n = store_->Put("precious data");
  ASSERT_TRUE(n.ok());
  ASSERT_TRUE(store_->Verify(*n).ok());
  std::string path = store_->BlobPath(*n);
  chmod(path.c_str(), 0644);
  int fd = open(path.c_str(), O_WRONLY);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(pwrite(fd, "P", 1, 0), 1);
  close(fd);
  auto c = store_->Get(*n);
  EXPECT_EQ(c.status().code(), Status::Code::kCorrupt);
  EXPECT_NE(c.status().message().find("does not match its name"), std::string::npos);
  EXPECT_EQ(store_->Verify(*n).code(), Status::Code::kCorrupt);
}

TEST_F(LocalStoreTest, MissingObjectSaysWhatToDo) {
  auto c = store_->Get(Name::ForContent("never stored"));
  EXPECT_EQ(c.status().code(), Status::Code::kNotFound);
  EXPECT_NE(c.status().message().find("gg collect"), std::string::npos);
}

TEST_F(LocalStoreTest, PutFileLeavesNoTemporaryFiles) {
  std::string f = dir_.path() + "/input";
  ASSERT_TRUE(WriteFileAtomic(f, std::string(3 << 20, 'x')).ok());
  auto n = store_->PutFile(f);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(n->size(), 3u << 20);
  EXPECT_TRUE(std::filesystem::is_empty(store_->TempDir()));
  auto again = store_->PutFile(f);  // served by the hash cache
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, *n);
}

TEST_F(LocalStoreTest, ExecutableTwinHasExecMode) {
  auto n = store_->Put("#!/bin/sh\necho hi\n");
  ASSERT_TRUE(n.ok());
  auto p = store_->MaterializeFile(*n, true);
  ASSERT_TRUE(p.ok());
  struct stat st {};
  ASSERT_EQ(stat(p->c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0555u);
  ASSERT_EQ(stat(store_->BlobPath(*n).c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0444u);
}

TEST_F(LocalStoreTest, TreeMaterializesOnce) {
  auto a = store_->Put("int a;\n");
  auto b = store_->Put("#!/bin/true\n");
  ASSERT_TRUE(a.ok() && b.ok());
  Tree t;
  t.entries = {{"include", TreeEntry::Kind::kDir, false, {}, {}},
               {"include/a.h", TreeEntry::Kind::kFile, false, *a, {}},
               {"bin/tool", TreeEntry::Kind::kFile, true, *b, {}},
               {"include/link.h", TreeEntry::Kind::kSymlink, false, {}, "a.h"}};
  auto tn = store_->Put(t.Serialize());
  ASSERT_TRUE(tn.ok());
  EXPECT_EQ(tn->type(), ObjectType::kTree);
  auto dir = store_->MaterializeTree(*tn);
  ASSERT_TRUE(dir.ok()) << dir.status().ToString();
  EXPECT_EQ(*ReadFile(*dir + "/include/link.h"), "int a;\n");
  EXPECT_EQ(access((*dir + "/bin/tool").c_str(), X_OK), 0);
  auto again = store_->MaterializeTree(*tn);
  EXPECT_EQ(*again, *dir);
}

}  // namespace
}  // namespace gg
