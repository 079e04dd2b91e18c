#include "sandbox/input_view.h"

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <deque>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "core/path_util.h"

namespace gg {
namespace {

namespace fs = std::filesystem;

class InputViewTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/gg-view-test-XXXXXX";
    dir_ = mkdtemp(tmpl);
    ASSERT_TRUE(LocalStore::Init(dir_ + "/.gg").ok());
    auto s = LocalStore::Open(dir_ + "/.gg");
    ASSERT_TRUE(s.ok());
    store_ = std::move(*s);
  }
  void TearDown() override { RemoveTree(dir_); }

  /// `n` files in a few directories, the i-th holding "file i".
  std::vector<ViewFile> Files(int n, int first = 0) {
    std::vector<ViewFile> files;
    for (int i = first; i < first + n; ++i) {
      auto name = store_->Put("file " + std::to_string(i) + "\n");
      EXPECT_TRUE(name.ok());
      // ViewFile views its strings (a thunk's, in the executor): kept here.
      const std::string& path =
          strings_.emplace_back((i % 3 ? "d" + std::to_string(i % 3) + "/sub/" : "") + "f" + std::to_string(i));
      files.push_back({path, strings_.emplace_back(name->str()), i % 5 == 0});
    }
    std::sort(files.begin(), files.end(), [](const ViewFile& a, const ViewFile& b) { return a.path < b.path; });
    return files;
  }

  std::string dir_;
  std::unique_ptr<LocalStore> store_;
  std::deque<std::string> strings_;
};

std::string Slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST_F(InputViewTest, LinkedBlobsStayKnownToTheHashCacheButAChangedOneDoesNot) {
  // A link moves the blob's ctime: the view tells the hash cache, so the
  // next view of those blobs reads none of them again.
  auto files = Files(12);
  ASSERT_TRUE(MaterializeView(store_.get(), files, geteuid()).ok());
  for (const ViewFile& f : files) {
    if (f.executable) continue;  // a copy of its own, not linked in the view
    auto name = Name::Parse(f.name);
    struct stat st {};
    ASSERT_EQ(stat(store_->BlobPath(*name).c_str(), &st), 0);
    auto known = store_->hash_cache().Lookup(st);
    ASSERT_TRUE(known.has_value()) << f.path;
    EXPECT_EQ(*known, name->object());
  }
  // A blob changed behind the store's back (its mtime moves) is found out by
  // the next view, not taken from the cache.
  size_t k = 0;
  while (files[k].executable) k++;
  auto name = Name::Parse(files[k].name);
  std::string blob = store_->BlobPath(*name);
  ASSERT_EQ(chmod(blob.c_str(), 0644), 0);
  { std::ofstream(blob) << "changed\n"; }
  files.erase(files.begin() + (k == 0 ? 1 : 0));  // another set: another view
  auto view = MaterializeView(store_.get(), files, geteuid());
  ASSERT_FALSE(view.ok());
  EXPECT_NE(view.status().message().find("does not match its name"), std::string::npos) << view.status().message();
}

TEST_F(InputViewTest, BlobsTheHashCacheDoesNotKnowAreCheckedBeforeTheyAreLinked) {
  // Blobs the hash cache knows are linked after one stat; the others are
  // read and hashed first (here: a store whose hash cache log was lost), and
  // a damaged one is refused, not linked.
  auto files = Files(12);
  store_.reset();
  ASSERT_EQ(unlink((dir_ + "/.gg/hashcache").c_str()), 0);
  auto reopened = LocalStore::Open(dir_ + "/.gg");
  ASSERT_TRUE(reopened.ok());
  store_ = std::move(*reopened);
  auto view = MaterializeView(store_.get(), files, geteuid());
  ASSERT_TRUE(view.ok()) << view.status().message();
  for (const ViewFile& f : files) {
    auto name = Name::Parse(f.name);
    ASSERT_TRUE(name.ok());
    EXPECT_EQ(Slurp(*view + "/" + std::string(f.path)), *store_->Get(*name)) << f.path;
  }
  // Unknown and changed: hashed, found out, refused.
  size_t k = 0;
  while (files[k].executable) k++;
  std::string blob = store_->BlobPath(*Name::Parse(files[k].name));
  store_.reset();
  ASSERT_EQ(unlink((dir_ + "/.gg/hashcache").c_str()), 0);
  ASSERT_EQ(chmod(blob.c_str(), 0644), 0);
  { std::ofstream(blob) << "changed\n"; }
  reopened = LocalStore::Open(dir_ + "/.gg");
  ASSERT_TRUE(reopened.ok());
  store_ = std::move(*reopened);
  files.erase(files.begin() + (k == 0 ? 1 : 0));  // another set: another view
  auto damaged = MaterializeView(store_.get(), files, geteuid());
  ASSERT_FALSE(damaged.ok());
  EXPECT_NE(damaged.status().message().find("does not match its name"), std::string::npos) << damaged.status().message();
}

TEST_F(InputViewTest, RemovedViewsLeaveTheirBlobsKnownToTheHashCache) {
  // Removing a view's links moves each blob's ctime, as making it did: the
  // gc tells the hash cache, so the next view reads none of them again,
  // not even a blob two removed views (or two paths of one) linked.
  auto files = Files(12);
  files.push_back({"again/f1", files[1].name, files[1].executable});
  std::sort(files.begin(), files.end(), [](const ViewFile& a, const ViewFile& b) { return a.path < b.path; });
  ASSERT_TRUE(MaterializeView(store_.get(), files, geteuid()).ok());
  auto other = Files(12);
  other.pop_back();  // another set: a second view of the same blobs
  ASSERT_TRUE(MaterializeView(store_.get(), other, geteuid()).ok());
  auto removed = RemoveViews(store_.get());
  ASSERT_TRUE(removed.ok()) << removed.status().message();
  EXPECT_EQ(*removed, 2u);
  auto reopened = LocalStore::Open(dir_ + "/.gg");  // another process: the log only
  ASSERT_TRUE(reopened.ok());
  for (const ViewFile& f : files) {
    auto name = Name::Parse(f.name);
    std::string blob = f.executable ? dir_ + "/.gg/blobs-x/" + name->object().str() : store_->BlobPath(*name);
    struct stat st {};
    ASSERT_EQ(stat(blob.c_str(), &st), 0) << blob;
    EXPECT_EQ(st.st_nlink, 1u) << f.path;
    auto known = (*reopened)->hash_cache().Lookup(st);
    ASSERT_TRUE(known.has_value()) << f.path;
    EXPECT_EQ(*known, name->object());
  }
}

TEST_F(InputViewTest, HoldsExactlyItsFilesReadOnlyWithTheirModes) {
  auto files = Files(20);
  auto view = MaterializeView(store_.get(), files, geteuid());
  ASSERT_TRUE(view.ok()) << view.status().message();
  size_t seen = 0;
  for (const auto& e : fs::recursive_directory_iterator(*view)) {
    if (e.is_directory()) continue;
    seen++;
  }
  EXPECT_EQ(seen, files.size());
  for (const ViewFile& f : files) {
    std::string path = *view + "/" + std::string(f.path);
    struct stat st {};
    ASSERT_EQ(lstat(path.c_str(), &st), 0) << path;
    EXPECT_TRUE(S_ISREG(st.st_mode));
    EXPECT_EQ(st.st_mode & 0777, f.executable ? 0555u : 0444u) << f.path;
    std::string i(f.path.substr(f.path.rfind('f') + 1));
    EXPECT_EQ(Slurp(path), "file " + i + "\n");
  }
  // The same set again is the same view; a different mode is another.
  auto again = MaterializeView(store_.get(), files, geteuid());
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, *view);
  files[0].executable = !files[0].executable;
  EXPECT_NE(ViewKey(files, geteuid()), fs::path(*view).filename().string());
}

TEST_F(InputViewTest, ItsDirectoriesBelongToTheProgramsUid) {
  // The sandbox's programs run as another uid when gg runs as root: the
  // view's directories are theirs (to create files beside their inputs),
  // its files are not, and the same files for another uid are another view.
  if (geteuid() != 0) GTEST_SKIP() << "only root can give directories to another uid";
  constexpr uid_t kProgram = 2147418112;
  auto files = Files(20);
  auto view = MaterializeView(store_.get(), files, kProgram);
  ASSERT_TRUE(view.ok()) << view.status().message();
  EXPECT_EQ(fs::path(*view).filename().string(), ViewKey(files, kProgram));
  EXPECT_NE(ViewKey(files, kProgram), ViewKey(files, 0));
  size_t dirs = 0;
  for (const auto& e : fs::recursive_directory_iterator(*view)) {
    struct stat st {};
    ASSERT_EQ(lstat(e.path().c_str(), &st), 0);
    if (S_ISDIR(st.st_mode)) {
      dirs++;
      EXPECT_EQ(st.st_uid, kProgram) << e.path();
      EXPECT_EQ(st.st_gid, kProgram) << e.path();
    } else {
      EXPECT_EQ(st.st_uid, 0u) << e.path();
    }
  }
  EXPECT_EQ(dirs, 4u);  // d1, d1/sub, d2, d2/sub
}

TEST_F(InputViewTest, ProcessesMakingTheSameViewsAtOnceAllSeeThemWhole) {
  // Eight processes, each making the same two overlapping views in turn,
  // from scratch, many times: every one must get a whole view.
  auto a = Files(300);
  auto b = Files(300, 150);
  for (int round = 0; round < 3; ++round) {
    std::vector<pid_t> pids;
    for (int p = 0; p < 8; ++p) {
      pid_t pid = fork();
      ASSERT_GE(pid, 0);
      if (pid == 0) {
        auto store = LocalStore::Open(dir_ + "/.gg");
        if (!store.ok()) _exit(2);
        for (const auto* files : p % 2 ? std::vector{&a, &b} : std::vector{&b, &a}) {
          auto view = MaterializeView(store->get(), *files, geteuid());
          if (!view.ok()) _exit(3);
          for (const ViewFile& f : *files) {
            if (access((*view + "/" + std::string(f.path)).c_str(), R_OK) != 0) _exit(4);
          }
        }
        _exit(0);
      }
      pids.push_back(pid);
    }
    for (pid_t pid : pids) {
      int status = 0;
      ASSERT_EQ(waitpid(pid, &status, 0), pid);
      EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "status " << status;
    }
    auto views = ListDirectory(ViewsDir(store_->dir()));
    ASSERT_TRUE(views.ok());
    EXPECT_EQ(views->size(), 2u);
    // Losers dropped their copies.
    auto tmp = ListDirectory(store_->TempDir());
    ASSERT_TRUE(tmp.ok());
    for (const auto& e : *tmp) EXPECT_FALSE(e.starts_with("view.")) << e;
    auto removed = RemoveViews(store_.get());
    ASSERT_TRUE(removed.ok());
    EXPECT_EQ(*removed, 2u);
  }
}

TEST_F(InputViewTest, GcKeepsAViewARunHolds) {
  auto files = Files(10);
  auto lease = LeaseView(store_.get(), files, geteuid());
  ASSERT_TRUE(lease.ok()) << lease.status().message();
  auto other = LeaseView(store_.get(), Files(10, 100), geteuid());
  ASSERT_TRUE(other.ok());
  other->fd = UniqueFd();  // that run ended
  auto removed = RemoveViews(store_.get());
  ASSERT_TRUE(removed.ok()) << removed.status().message();
  EXPECT_EQ(*removed, 1u);
  EXPECT_TRUE(fs::exists(lease->path + "/" + std::string(files[0].path)));
  EXPECT_FALSE(fs::exists(other->path));
  lease->fd = UniqueFd();
  removed = RemoveViews(store_.get());
  ASSERT_TRUE(removed.ok());
  EXPECT_EQ(*removed, 1u);
  EXPECT_FALSE(fs::exists(lease->path));
}

TEST_F(InputViewTest, AMissingBlobNamesTheInput) {
  auto files = Files(3);
  files[1].name = strings_.emplace_back(Name::ForContent("not stored").str());
  auto view = MaterializeView(store_.get(), files, geteuid());
  ASSERT_FALSE(view.ok());
  EXPECT_NE(view.status().message().find("input " + std::string(files[1].path)), std::string::npos) << view.status().message();
  EXPECT_FALSE(fs::exists(ViewsDir(store_->dir()) + "/" + ViewKey(files, geteuid())));
}

}  // namespace
}  // namespace gg
