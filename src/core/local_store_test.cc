#include "core/local_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <tuple>
#include <vector>

#include <gtest/gtest.h>

#include "core/gg.pb.h"
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

TEST_F(LocalStoreTest, ObjectsReadIntoOneBufferAreEachWhole) {
  // The coordinator reads thunk after thunk into one buffer: a smaller
  // object after a larger one is exactly itself, not followed by what the
  // larger left in the buffer, and a larger one grows it.
  std::string big(300000, 'b'), small = "small", bigger(500000, 'B');
  auto nb = store_->Put(big), ns = store_->Put(small), ng = store_->Put(bigger);
  ASSERT_TRUE(nb.ok() && ns.ok() && ng.ok());
  std::string buffer;
  auto b = store_->GetInto(*nb, &buffer);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(*b, big);
  const char* memory = buffer.data();
  auto s = store_->GetInto(*ns, &buffer);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(*s, small);
  EXPECT_EQ(buffer.data(), memory);  // the same memory, not a new string
  auto g = store_->GetInto(*ng, &buffer);
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(*g, bigger);
  // Verified as Get verifies: a changed byte is found, the buffer reused.
  std::string path = store_->BlobPath(*ns);
  chmod(path.c_str(), 0644);
  int fd = open(path.c_str(), O_WRONLY);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(pwrite(fd, "S", 1, 0), 1);
  close(fd);
  EXPECT_EQ(store_->GetInto(*ns, &buffer).status().code(), Status::Code::kCorrupt);
  EXPECT_EQ(store_->GetInto(Name::ForContent("never stored"), &buffer).status().code(), Status::Code::kNotFound);
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

TEST_F(LocalStoreTest, ObjectsWrittenAreKnownToOtherProcessesWithoutReading) {
  // Another gg process on the same store (a model, the coordinator) must not
  // hash again what this one wrote: put, copied in, or adopted from a work dir.
  std::string f = dir_.path() + "/input", out = dir_.path() + "/out";
  ASSERT_TRUE(WriteFileAtomic(f, "copied in").ok());
  ASSERT_TRUE(WriteFileAtomic(out, "adopted").ok());
  auto put = store_->Put("put");
  auto copied = store_->PutFile(f);
  auto adopted = store_->AdoptFile(out);
  ASSERT_TRUE(put.ok() && copied.ok() && adopted.ok());
  auto other = LocalStore::Open(dir_.path() + "/.gg");
  ASSERT_TRUE(other.ok());
  for (const Name& n : {*put, *copied, *adopted}) {
    struct stat st {};
    ASSERT_EQ(stat(store_->BlobPath(n).c_str(), &st), 0);
    EXPECT_EQ((*other)->hash_cache().Lookup(st), n.object());
    auto content = (*other)->Get(n);
    ASSERT_TRUE(content.ok());
    EXPECT_EQ(Name::ForContent(*content), n.object());
  }
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
               {"bin", TreeEntry::Kind::kDir, false, {}, {}},
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

// A tree serialized without Tree::Serialize's sorting, as a hostile
// producer (another thunk, a shared store) could write it.
std::string RawTree(const std::vector<std::tuple<std::string, uint32_t, std::string>>& entries) {
  proto::Tree p;
  p.set_version(1);
  for (const auto& [path, mode, extra] : entries) {
    auto* e = p.add_entries();
    e->set_path(path);
    e->set_mode(mode);
    if ((mode & 0170000) == 0120000) e->set_target(extra);
    if ((mode & 0170000) == 0100000) e->set_name(extra);
  }
  std::string body;
  p.SerializeToString(&body);
  return std::string(kTreeMagic) + body;
}

TEST_F(LocalStoreTest, HostileTreesAreRejectedAndCreateNothing) {
  ScratchDir victim;
  auto v = store_->Put("planted\n");
  ASSERT_TRUE(v.ok());
  std::string f = v->str();
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"below a symlink", RawTree({{"a", 0120777, victim.path()}, {"a/evil", 0100644, f}})},
      {"below a file", RawTree({{"a", 0100644, f}, {"a/evil", 0100644, f}})},
      {"missing parent", RawTree({{"a/evil", 0100644, f}})},
      {"dot-dot", RawTree({{"..", 0040755, ""}})},
      {"dot-dot inside", RawTree({{"a", 0040755, ""}, {"a/../evil", 0100644, f}})},
      {"dot", RawTree({{".", 0040755, ""}})},
      {"empty", RawTree({{"", 0100644, f}})},
      {"absolute", RawTree({{victim.path() + "/evil", 0100644, f}})},
      {"duplicate", RawTree({{"a", 0040755, ""}, {"a", 0120777, victim.path()}, {"a/evil", 0100644, f}})},
      {"out of order", RawTree({{"b", 0100644, f}, {"a", 0100644, f}})},
      {"nul byte", RawTree({{std::string("a\0b", 3), 0100644, f}})},
      {"empty link target", RawTree({{"a", 0120777, ""}})},
  };
  for (const auto& [what, bytes] : cases) {
    EXPECT_FALSE(Tree::Parse(bytes).ok()) << what;
    auto tn = store_->Put(bytes);
    ASSERT_TRUE(tn.ok());
    auto dir = store_->MaterializeTree(*tn);
    ASSERT_FALSE(dir.ok()) << what;
    EXPECT_NE(dir.status().message().find("malformed tree"), std::string::npos) << dir.status().ToString();
  }
  EXPECT_TRUE(std::filesystem::is_empty(victim.path()));
  EXPECT_TRUE(std::filesystem::is_empty(store_->TempDir()));
}

TEST_F(LocalStoreTest, AdoptingAnOutputFollowsNoSymlink) {
  ScratchDir host;
  ASSERT_TRUE(WriteFileAtomic(host.path() + "/secret", "host secret\n").ok());
  std::string work = dir_.path() + "/work";
  ASSERT_TRUE(MakeDirs(work).ok());
  ASSERT_EQ(symlink(host.path().c_str(), (work + "/sub").c_str()), 0);
  ASSERT_EQ(symlink((host.path() + "/secret").c_str(), (work + "/direct").c_str()), 0);
  ASSERT_EQ(mkfifo((work + "/fifo").c_str(), 0644), 0);
  int dirfd = open(work.c_str(), O_RDONLY | O_DIRECTORY);
  ASSERT_GE(dirfd, 0);
  bool x = false;
  for (const char* rel : {"sub/secret", "direct", "fifo"}) {
    auto n = store_->AdoptFileAt(dirfd, rel, rel, &x);
    ASSERT_FALSE(n.ok()) << rel;
    EXPECT_EQ(n.status().code(), Status::Code::kInvalid) << n.status().ToString();
  }
  EXPECT_EQ(store_->AdoptFileAt(dirfd, "none", "none", &x).status().code(), Status::Code::kNotFound);
  close(dirfd);
  EXPECT_EQ(*ReadFile(host.path() + "/secret"), "host secret\n");
  EXPECT_FALSE(store_->Has(Name::ForContent("host secret\n")));
}

TEST_F(LocalStoreTest, PatchedExecutableCopyIsRecreated) {
  auto n = store_->Put("#!/bin/sh\necho good\n");
  ASSERT_TRUE(n.ok());
  auto p = store_->MaterializeFile(*n, true);
  ASSERT_TRUE(p.ok());
  chmod(p->c_str(), 0755);
  ASSERT_TRUE(WriteFileAtomic(*p + ".evil", "#!/bin/sh\necho evil\n", 0555).ok());
  ASSERT_EQ(rename((*p + ".evil").c_str(), p->c_str()), 0);  // same size, new content
  auto again = store_->MaterializeFile(*n, true);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(*ReadFile(*again), "#!/bin/sh\necho good\n");
}

// Many processes materializing the same and overlapping trees at once, from
// an empty store each round: none may see another's half-made tree or
// temporary file, and every one must find the full content.
TEST_F(LocalStoreTest, ConcurrentMaterializationIsSafe) {
  constexpr int kProcesses = 10;
  constexpr int kRounds = 3;
  std::vector<Name> files;
  for (int i = 0; i < 40; ++i) {
    auto n = store_->Put("file " + std::to_string(i) + "\n");
    ASSERT_TRUE(n.ok());
    files.push_back(*n);
  }
  // Three trees sharing most files, executable and not.
  std::vector<Name> trees;
  for (int t = 0; t < 3; ++t) {
    Tree tree;
    tree.entries.push_back({"d", TreeEntry::Kind::kDir, false, {}, {}});
    for (int i = t * 5; i < 30 + t * 5; ++i) {
      tree.entries.push_back({"d/f" + std::to_string(i), TreeEntry::Kind::kFile, i % 2 == 0, files[i], {}});
    }
    tree.entries.push_back({"l", TreeEntry::Kind::kSymlink, false, {}, "d/f10"});
    auto tn = store_->Put(tree.Serialize());
    ASSERT_TRUE(tn.ok());
    trees.push_back(*tn);
  }
  for (int round = 0; round < kRounds; ++round) {
    ASSERT_TRUE(RemoveTree(store_->dir() + "/trees").ok());
    ASSERT_TRUE(RemoveTree(store_->dir() + "/blobs-x").ok());
    ASSERT_TRUE(LocalStore::Init(store_->dir()).ok());
    std::vector<pid_t> children;
    for (int p = 0; p < kProcesses; ++p) {
      pid_t pid = fork();
      ASSERT_GE(pid, 0);
      if (pid == 0) {
        auto own = LocalStore::Open(store_->dir());
        if (!own.ok()) _exit(2);
        for (int k = 0; k < 3; ++k) {
          // Store the files again from fresh copies, as model processes do
          // with project files: no process may replace an object another
          // is linking into a tree.
          for (int i = p % 4; i < 40; i += 4) {
            std::string copy = own->get()->TempDir() + "/copy." + std::to_string(getpid()) + "." + std::to_string(i);
            if (!WriteFileAtomic(copy, "file " + std::to_string(i) + "\n").ok()) _exit(7);
            auto put = (*own)->PutFile(copy);
            unlink(copy.c_str());
            if (!put.ok() || *put != files[i]) _exit(8);
          }
          int t = (p + k) % 3;
          auto dir = (*own)->MaterializeTree(trees[t]);
          if (!dir.ok()) {
            std::fprintf(stderr, "child %d: %s\n", p, dir.status().ToString().c_str());
            _exit(3);
          }
          for (int i = t * 5; i < 30 + t * 5; ++i) {
            auto c = ReadFile(*dir + "/d/f" + std::to_string(i));
            if (!c.ok() || *c != "file " + std::to_string(i) + "\n") _exit(4);
            if ((access((*dir + "/d/f" + std::to_string(i)).c_str(), X_OK) == 0) != (i % 2 == 0)) _exit(5);
          }
          auto l = ReadFile(*dir + "/l");
          if (!l.ok() || *l != "file 10\n") _exit(6);
        }
        _exit(0);
      }
      children.push_back(pid);
    }
    for (pid_t pid : children) {
      int status = 0;
      ASSERT_EQ(waitpid(pid, &status, 0), pid);
      EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "round " << round << " status " << status;
    }
    EXPECT_TRUE(std::filesystem::is_empty(store_->TempDir())) << "round " << round;
  }
}

}  // namespace
}  // namespace gg
