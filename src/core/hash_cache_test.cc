#include "core/hash_cache.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "core/path_util.h"
#include "core/test_util.h"

namespace gg {
namespace {

struct stat StatOf(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(stat(path.c_str(), &st), 0) << path;
  return st;
}

TEST(HashCacheTest, RemembersAcrossInstancesOfOneLog) {
  ScratchDir dir;
  std::string log = dir.path() + "/hashcache", f = dir.path() + "/f";
  ASSERT_TRUE(WriteFileAtomic(f, "content").ok());
  HashCache a(log);
  auto n = a.Hash(f);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, Name::ForContent("content"));
  HashCache b(log);  // another process, later: reads the log
  EXPECT_EQ(b.Lookup(StatOf(f)), *n);
}

TEST(HashCacheTest, SeesWhatAnotherProcessAppendedAfterItLoaded) {
  ScratchDir dir;
  std::string log = dir.path() + "/hashcache", f = dir.path() + "/f", g = dir.path() + "/g";
  ASSERT_TRUE(WriteFileAtomic(f, "one").ok());
  ASSERT_TRUE(WriteFileAtomic(g, "two").ok());
  HashCache reader(log);
  EXPECT_FALSE(reader.Lookup(StatOf(f)).has_value());  // loaded (empty) now
  HashCache writer(log);
  writer.Remember(StatOf(f), Name::ForContent("one"));
  writer.Remember(StatOf(g), Name::ForContent("two"));
  EXPECT_EQ(reader.Lookup(StatOf(g)), Name::ForContent("two"));
  EXPECT_EQ(reader.Lookup(StatOf(f)), Name::ForContent("one"));
}

TEST(HashCacheTest, TornLineIsReadOnceComplete) {
  ScratchDir dir;
  std::string log = dir.path() + "/hashcache", f = dir.path() + "/f";
  ASSERT_TRUE(WriteFileAtomic(f, "x").ok());
  struct stat st = StatOf(f);
  std::string line = std::to_string(st.st_dev) + " " + std::to_string(st.st_ino) + " " + std::to_string(st.st_size) +
                     " " + std::to_string(st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec) + " " +
                     std::to_string(st.st_ctim.tv_sec * 1000000000LL + st.st_ctim.tv_nsec) + " " +
                     Name::ForContent("x").str() + "\n";
  int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  ASSERT_GE(fd, 0);
  std::string junk = "garbage line\n12 34\n";
  ASSERT_EQ(write(fd, junk.data(), junk.size()), static_cast<ssize_t>(junk.size()));
  ASSERT_EQ(write(fd, line.data(), 20), 20);  // a writer midway
  HashCache reader(log);
  EXPECT_FALSE(reader.Lookup(st).has_value());
  ASSERT_EQ(write(fd, line.data() + 20, line.size() - 20), static_cast<ssize_t>(line.size() - 20));
  close(fd);
  EXPECT_EQ(reader.Lookup(st), Name::ForContent("x"));
}

TEST(HashCacheTest, ChangedFileIsHashedAgain) {
  ScratchDir dir;
  std::string log = dir.path() + "/hashcache", f = dir.path() + "/f";
  ASSERT_TRUE(WriteFileAtomic(f, "before").ok());
  HashCache c(log);
  ASSERT_EQ(*c.Hash(f), Name::ForContent("before"));
  ASSERT_TRUE(WriteFileAtomic(f, "after!").ok());  // same size, new inode
  EXPECT_EQ(*c.Hash(f), Name::ForContent("after!"));
}

// Keys as the log spells them, for files that need not exist.
struct stat FakeStat(uint64_t i) {
  struct stat st {};
  st.st_dev = 1;
  st.st_ino = i;
  st.st_size = static_cast<off_t>(i % 4096);
  st.st_mtim = {static_cast<time_t>(1700000000 + i / 3), static_cast<long>(i * 7 % 1000000000)};
  st.st_ctim = {static_cast<time_t>(1700000000 + i / 3), static_cast<long>(i * 11 % 1000000000)};
  return st;
}

std::string LineFor(const struct stat& st, const Name& n) {
  return std::to_string(st.st_dev) + " " + std::to_string(st.st_ino) + " " + std::to_string(st.st_size) + " " +
         std::to_string(st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec) + " " +
         std::to_string(st.st_ctim.tv_sec * 1000000000LL + st.st_ctim.tv_nsec) + " " + n.str() + "\n";
}

TEST(HashCacheTest, LargeLogEveryKeyFoundAndLaterLinesWin) {
  // Enough lines to grow the index several times, in two reads (the second
  // after the first instance loaded), with every other key given again.
  ScratchDir dir;
  std::string log = dir.path() + "/hashcache";
  constexpr uint64_t kKeys = 20000;
  std::string text;
  for (uint64_t i = 0; i < kKeys; ++i) text += LineFor(FakeStat(i), Name::ForContent("old" + std::to_string(i)));
  ASSERT_TRUE(WriteFileAtomic(log, text).ok());
  HashCache c(log);
  EXPECT_EQ(c.Lookup(FakeStat(kKeys - 1)), Name::ForContent("old" + std::to_string(kKeys - 1)));
  text.clear();
  for (uint64_t i = 0; i < kKeys; i += 2) text += LineFor(FakeStat(i), Name::ForContent("new" + std::to_string(i)));
  text += LineFor(FakeStat(kKeys), Name::ForContent("last"));
  int fd = open(log.c_str(), O_WRONLY | O_APPEND);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(write(fd, text.data(), text.size()), static_cast<ssize_t>(text.size()));
  close(fd);
  EXPECT_EQ(c.Lookup(FakeStat(kKeys)), Name::ForContent("last"));  // a miss reads the new lines
  for (uint64_t i = 0; i < kKeys; ++i) {
    Name want = Name::ForContent((i % 2 ? "old" : "new") + std::to_string(i));
    ASSERT_EQ(c.Lookup(FakeStat(i)), want) << i;
  }
  HashCache fresh(log);  // all in one read
  for (uint64_t i = 0; i < kKeys; i += 997) {
    EXPECT_EQ(fresh.Lookup(FakeStat(i)), Name::ForContent((i % 2 ? "old" : "new") + std::to_string(i))) << i;
  }
  struct stat other = FakeStat(3);
  other.st_ctim.tv_nsec += 1;  // one field off: not the same file
  EXPECT_FALSE(fresh.Lookup(other).has_value());
}

TEST(HashCacheTest, LineWithABadNameIsAMiss) {
  ScratchDir dir;
  std::string log = dir.path() + "/hashcache";
  struct stat st = FakeStat(5);
  std::string bad = LineFor(st, Name::ForContent("x"));
  bad.replace(bad.rfind(' ') + 1, 1, "Q");  // no such type letter
  ASSERT_TRUE(WriteFileAtomic(log, LineFor(st, Name::ForContent("x")) + bad).ok());
  HashCache c(log);
  EXPECT_FALSE(c.Lookup(st).has_value());  // hashed again rather than trusted
}

}  // namespace
}  // namespace gg
