#include "models/project_view.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include <gtest/gtest.h>

#include "core/path_util.h"
#include "core/placeholder.h"
#include "core/sha256.h"
#include "core/test_util.h"
#include "core/tree.h"

namespace gg::models {
namespace {

using namespace std::chrono_literals;

// Each test runs twice: listing afresh for every view, and with the
// listings kept between views (a model server's ListingCache), which must
// see every change a fresh listing sees.
class ProjectViewTest : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    ASSERT_TRUE(LocalStore::Init(dir_.path() + "/.gg").ok());
    auto s = LocalStore::Open(dir_.path() + "/.gg");
    ASSERT_TRUE(s.ok());
    store_ = std::move(*s);
    root_ = dir_.path() + "/proj";
    Write("src/main.c", "#include \"lib.h\"\nint main(void) { return f(); }\n");
    Write("include/lib.h", "int f(void);\n");
    Write("include/sub/deep.h", "#define DEEP 1\n");
    Write("build/Makefile", "all:\n");
    // Every file settled from the start; the racy-window test sets its own.
    SetViewSettleTime(0ns);
    if (GetParam()) {
      ASSERT_TRUE(EnableListingCache());
    }
  }
  void TearDown() override {
    SetViewSettleTime(2s);
    DisableListingCache();
  }

  void Write(const std::string& rel, const std::string& content) {
    std::string p = root_ + "/" + rel;
    ASSERT_TRUE(MakeDirs(DirName(p)).ok());
    ASSERT_TRUE(WriteFileAtomic(p, content).ok());
  }

  // A compile in build/ reading src/ and include/: build/ is expanded, the
  // others are trees.
  ViewRequest Request() const {
    ViewRequest r;
    r.roots = {root_};
    r.workdir = root_ + "/build";
    r.needed = {root_ + "/src", root_ + "/include"};
    r.expand = {root_ + "/build"};
    return r;
  }

  // The name of the tree mounted at `rel`.
  std::string TreeAt(const std::vector<ThunkInput>& inputs, const std::string& rel) {
    for (const auto& in : inputs) {
      if (in.path == root_ + "/" + rel) return in.name;
    }
    ADD_FAILURE() << "no input for " << rel;
    return "";
  }

  std::vector<ThunkInput> View() {
    auto v = BuildView(store_.get(), Request());
    EXPECT_TRUE(v.ok()) << v.status().ToString();
    return v.ok() ? *v : std::vector<ThunkInput>{};
  }

  // Rewrites a file in place with content of the same size and gives it its
  // old mtime back: only the ctime tells.
  void EditInPlaceKeepingMtime(const std::string& rel, const std::string& content) {
    std::string p = root_ + "/" + rel;
    struct stat before {};
    ASSERT_EQ(stat(p.c_str(), &before), 0);
    ASSERT_EQ(static_cast<size_t>(before.st_size), content.size());
    int fd = open(p.c_str(), O_WRONLY);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(pwrite(fd, content.data(), content.size(), 0), static_cast<ssize_t>(content.size()));
    close(fd);
    struct timespec times[2] = {before.st_atim, before.st_mtim};
    ASSERT_EQ(utimensat(AT_FDCWD, p.c_str(), times, 0), 0);
    struct stat after {};
    ASSERT_EQ(stat(p.c_str(), &after), 0);
    ASSERT_EQ(after.st_ino, before.st_ino);
    ASSERT_EQ(after.st_size, before.st_size);
    ASSERT_EQ(after.st_mtim.tv_sec, before.st_mtim.tv_sec);
    ASSERT_EQ(after.st_mtim.tv_nsec, before.st_mtim.tv_nsec);
  }

  std::vector<std::string> RecordFiles() {
    std::vector<std::string> out;
    for (const auto& e : std::filesystem::directory_iterator(store_->dir() + "/view-cache")) {
      out.push_back(e.path().string());
    }
    return out;
  }

  ScratchDir dir_;
  std::unique_ptr<LocalStore> store_;
  std::string root_;
};

TEST_P(ProjectViewTest, SecondViewComesFromTheCacheAndMatches) {
  auto first = View();
  auto before = GetViewCacheStats();
  auto second = View();
  auto after = GetViewCacheStats();
  ASSERT_EQ(first.size(), second.size());
  for (size_t i = 0; i < first.size(); ++i) {
    EXPECT_EQ(first[i].name, second[i].name);
    EXPECT_EQ(first[i].path, second[i].path);
  }
  EXPECT_EQ(after.trees_reused - before.trees_reused, 2);  // src and include
  EXPECT_EQ(after.trees_built, before.trees_built);
  EXPECT_EQ(after.files_hashed, before.files_hashed);
  // The cached tree is the tree of the directory as it is.
  auto tree = store_->Get(*Name::Parse(TreeAt(second, "include")));
  ASSERT_TRUE(tree.ok());
  auto parsed = Tree::Parse(*tree);
  ASSERT_TRUE(parsed.ok());
  std::vector<std::string> paths;
  for (const auto& e : parsed->entries) paths.push_back(e.path);
  EXPECT_EQ(paths, (std::vector<std::string>{"lib.h", "sub", "sub/deep.h"}));
}

TEST_P(ProjectViewTest, InPlaceEditWithMtimeRestoredChangesTheTree) {
  auto first = View();
  std::string include = TreeAt(first, "include");
  std::string src = TreeAt(first, "src");
  // Let the clock move past the first view's timestamps so ctime changes
  // even on filesystems with coarse timestamps.
  std::this_thread::sleep_for(20ms);
  EditInPlaceKeepingMtime("include/sub/deep.h", "#define DEEP 2\n");
  auto second = View();
  EXPECT_NE(TreeAt(second, "include"), include);
  EXPECT_EQ(TreeAt(second, "src"), src);
  // And the new tree holds the new content.
  auto fresh = store_->PutFile(root_ + "/include/sub/deep.h");
  ASSERT_TRUE(fresh.ok());
  auto tree = Tree::Parse(*store_->Get(*Name::Parse(TreeAt(second, "include"))));
  ASSERT_TRUE(tree.ok());
  for (const auto& e : tree->entries) {
    if (e.path == "sub/deep.h") {
      EXPECT_EQ(e.name, *fresh);
    }
  }
}

TEST_P(ProjectViewTest, EditInsideTheRacyWindowIsSeen) {
  // With the default window the files just written are not trusted by stat:
  // an edit within the same timestamp tick must still be seen.
  SetViewSettleTime(2s);
  auto first = View();
  EditInPlaceKeepingMtime("include/lib.h", "int g(void);\n");
  auto second = View();
  EXPECT_NE(TreeAt(second, "include"), TreeAt(first, "include"));
}

TEST_P(ProjectViewTest, NewFileChangesTheTreeAndPlaceholdersAndProductsDoNot) {
  auto first = View();
  Write("include/sub/gen.o", "object");
  ASSERT_TRUE(WritePlaceholder(root_ + "/include/sub/made.h", Name::ForContent("x")).ok());
  auto same = View();
  EXPECT_EQ(TreeAt(same, "include"), TreeAt(first, "include"));
  Write("include/sub/new.h", "#define NEW 1\n");
  auto second = View();
  EXPECT_NE(TreeAt(second, "include"), TreeAt(first, "include"));
  EXPECT_EQ(TreeAt(second, "src"), TreeAt(first, "src"));
  // Removing it again gives the first tree back (content addressing).
  ASSERT_EQ(unlink((root_ + "/include/sub/new.h").c_str()), 0);
  EXPECT_EQ(TreeAt(View(), "include"), TreeAt(first, "include"));
}

TEST_P(ProjectViewTest, ExpandedDirFilesFollowEdits) {
  auto first = View();
  auto find = [&](const std::vector<ThunkInput>& v) {
    for (const auto& in : v) {
      if (in.path == "Makefile") return in.name;
    }
    return std::string();
  };
  ASSERT_FALSE(find(first).empty());
  std::this_thread::sleep_for(20ms);
  EditInPlaceKeepingMtime("build/Makefile", "al2:\n");
  EXPECT_NE(find(View()), find(first));
}

TEST_P(ProjectViewTest, DamagedRecordsAreIgnored) {
  auto first = View();
  auto records = RecordFiles();
  ASSERT_GE(records.size(), 4u);  // build, src, include, include/sub
  // Garble every record in a different way: truncated, a flipped content
  // name (still well-formed), empty, and not a record at all.
  int i = 0;
  for (const auto& r : records) {
    auto text = ReadFile(r);
    ASSERT_TRUE(text.ok());
    std::string t = *text;
    switch (i++ % 4) {
      case 0: t = t.substr(0, t.size() / 2); break;
      case 1: {
        size_t at = t.find(" V");  // a blob name on an entry line
        if (at == std::string::npos) at = t.find(" D");  // a tree line
        if (at == std::string::npos) at = t.find("\ndir ");  // a record of dirs only
        ASSERT_NE(at, std::string::npos) << t;
        t[at + 5] = t[at + 5] == 'a' ? 'b' : 'a';
        break;
      }
      case 2: t.clear(); break;
      case 3: t = "gg-view-cache 1\ndir /elsewhere\nsum 00\n"; break;
    }
    ASSERT_TRUE(WriteFileAtomic(r, t).ok());
  }
  auto before = GetViewCacheStats();
  auto second = View();
  auto after = GetViewCacheStats();
  ASSERT_EQ(first.size(), second.size());
  for (size_t k = 0; k < first.size(); ++k) EXPECT_EQ(first[k].name, second[k].name) << first[k].path;
  EXPECT_GE(after.records_rejected - before.records_rejected, 3);
  // They were rewritten whole: the third view is all from the cache.
  before = GetViewCacheStats();
  View();
  after = GetViewCacheStats();
  EXPECT_EQ(after.records_rejected, before.records_rejected);
  EXPECT_EQ(after.trees_built, before.trees_built);
}

TEST_P(ProjectViewTest, OddNamesRoundTrip) {
  Write("include/with space%and\nnewline.h", "x\n");
  ASSERT_EQ(symlink("-", (root_ + "/include/dash-link").c_str()), 0);
  auto first = View();
  auto before = GetViewCacheStats();
  auto second = View();
  auto after = GetViewCacheStats();
  EXPECT_EQ(after.records_rejected, before.records_rejected);
  EXPECT_EQ(TreeAt(second, "include"), TreeAt(first, "include"));
  // Rebuilt from the per-entry records (no tree line): same tree.
  for (const auto& r : RecordFiles()) {
    auto text = ReadFile(r);
    size_t at = text->find("\ntree ");
    if (at == std::string::npos) continue;
    std::string t = text->substr(0, at + 1) + text->substr(text->find('\n', at + 1) + 1);
    t = t.substr(0, t.rfind("sum "));
    ASSERT_TRUE(WriteFileAtomic(r, t + "sum " + HexOf(HashBytes(t)) + "\n").ok());
  }
  before = GetViewCacheStats();
  auto third = View();
  after = GetViewCacheStats();
  EXPECT_EQ(after.records_rejected, before.records_rejected);
  EXPECT_EQ(after.files_hashed, before.files_hashed);
  EXPECT_EQ(TreeAt(third, "include"), TreeAt(first, "include"));
}

// With the listings kept: a second view lists nothing again, and after each
// change below it equals a view listed afresh, so no change is missed.
TEST_P(ProjectViewTest, KeptListingsSeeEveryChange) {
  if (!GetParam()) GTEST_SKIP() << "listings kept only";
  ScratchDir outside;
  ASSERT_EQ(link((root_ + "/include/lib.h").c_str(), (outside.path() + "/lib.h").c_str()), 0);
  auto first = View();
  auto before = GetListingCacheStats();
  auto second = View();
  auto after = GetListingCacheStats();
  EXPECT_EQ(after.listed, before.listed);
  EXPECT_GT(after.reused, before.reused);
  EXPECT_EQ(TreeAt(second, "include"), TreeAt(first, "include"));

  auto same_as_fresh = [&](const std::string& what) {
    auto kept = View();
    SuspendListingCache(true);
    auto fresh = View();
    SuspendListingCache(false);
    ASSERT_EQ(kept.size(), fresh.size()) << what;
    for (size_t i = 0; i < kept.size(); ++i) {
      EXPECT_EQ(kept[i].path, fresh[i].path) << what;
      EXPECT_EQ(kept[i].name, fresh[i].name) << what << ": " << kept[i].path;
    }
  };
  std::string include = TreeAt(View(), "include");
  // A new header in a search dir (it may shadow one found later in the path).
  Write("include/sub/lib.h", "int shadow(void);\n");
  same_as_fresh("new file");
  EXPECT_NE(TreeAt(View(), "include"), include);
  // An edit in place, same size, mtime restored.
  std::this_thread::sleep_for(20ms);
  EditInPlaceKeepingMtime("include/sub/lib.h", "int shadoW(void);\n");
  same_as_fresh("edit in place");
  // chmod.
  ASSERT_EQ(chmod((root_ + "/include/sub/lib.h").c_str(), 0600), 0);
  same_as_fresh("chmod");
  // A directory renamed away and another made in its place.
  ASSERT_EQ(rename((root_ + "/include/sub").c_str(), (root_ + "/include/old").c_str()), 0);
  Write("include/sub/deep.h", "#define DEEP 3\n");
  same_as_fresh("directory replaced");
  // Removed.
  ASSERT_EQ(unlink((root_ + "/include/old/lib.h").c_str()), 0);
  same_as_fresh("removed");
  // A file with a second hard link outside, written through that one (no
  // event in the watched directory).
  std::this_thread::sleep_for(20ms);
  {
    int fd = open((outside.path() + "/lib.h").c_str(), O_WRONLY);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(pwrite(fd, "long", 4, 0), 4);
    close(fd);
  }
  same_as_fresh("written through another link");
  // Source dirs in the work dir (expanded): a new file there.
  Write("build/config.h", "#define X 1\n");
  same_as_fresh("new file in the work dir");
  // Entries named by events are looked at again, not the whole directory:
  // a new file, a new directory, an object (left out), a file made and
  // removed again, all between two views.
  (void)View();
  before = GetListingCacheStats();
  Write("include/new.h", "#define NEW 1\n");
  Write("include/newdir/in.h", "#define IN 1\n");
  Write("include/lib.o", "not a source\n");
  Write("include/gone.h", "#define GONE 1\n");
  ASSERT_EQ(unlink((root_ + "/include/gone.h").c_str()), 0);
  auto patched = View();
  after = GetListingCacheStats();
  EXPECT_GT(after.patched, before.patched);
  EXPECT_NE(TreeAt(patched, "include"), TreeAt(first, "include"));
  same_as_fresh("entries added and removed");
}

INSTANTIATE_TEST_SUITE_P(Listings, ProjectViewTest, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& p) { return p.param ? "Kept" : "Afresh"; });

}  // namespace
}  // namespace gg::models
