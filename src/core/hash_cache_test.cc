#include "core/hash_cache.h"

#include <fcntl.h>

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <vector>

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

TEST(HashCacheTest, MappedLogThenOwnAndOthersLinesAndACompactionUnderIt) {
  // The log as first read is mapped; lines this instance adds, and those
  // another appends later, live beside it; a compaction renames a new log
  // over the mapped one.
  ScratchDir dir;
  std::string log = dir.path() + "/hashcache";
  ASSERT_TRUE(WriteFileAtomic(log, LineFor(FakeStat(1), Name::ForContent("a")) +
                                       LineFor(FakeStat(2), Name::ForContent("b"))).ok());
  HashCache c(log);
  EXPECT_EQ(c.Lookup(FakeStat(1)), Name::ForContent("a"));
  c.Remember(FakeStat(3), Name::ForContent("c"));
  c.Remember(FakeStat(1), Name::ForContent("a2"));  // a later line wins over the mapped one
  HashCache other(log);
  other.Remember(FakeStat(4), Name::ForContent("d"));
  ASSERT_TRUE(HashCache::Compact(log).ok());
  EXPECT_EQ(c.Lookup(FakeStat(1)), Name::ForContent("a2"));
  EXPECT_EQ(c.Lookup(FakeStat(2)), Name::ForContent("b"));
  EXPECT_EQ(c.Lookup(FakeStat(3)), Name::ForContent("c"));
  EXPECT_EQ(c.Lookup(FakeStat(4)), Name::ForContent("d"));
  HashCache fresh(log);
  EXPECT_EQ(fresh.Lookup(FakeStat(1)), Name::ForContent("a2"));
  EXPECT_EQ(fresh.Lookup(FakeStat(4)), Name::ForContent("d"));
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

// Each file's last line is kept (a relink moved its ctime: the earlier
// lines describe a stat it no longer has); what the log answered for the
// files' current stats it still answers, and a process that had the old log
// open goes on working.
TEST(HashCacheTest, CompactKeepsEachFilesLastLine) {
  ScratchDir dir;
  std::string log = dir.path() + "/hashcache";
  std::string text;
  for (uint64_t i = 0; i < 100; ++i) text += LineFor(FakeStat(i), Name::ForContent("v" + std::to_string(i)));
  std::vector<struct stat> now;
  for (uint64_t i = 0; i < 100; ++i) {
    struct stat st = FakeStat(i);
    if (i % 3 == 0) {  // linked again twice: a new ctime each time
      for (int k = 1; k <= 2; ++k) {
        st.st_ctim.tv_nsec = (st.st_ctim.tv_nsec + 1) % 1000000000;
        text += LineFor(st, Name::ForContent("v" + std::to_string(i)));
      }
    }
    now.push_back(st);
  }
  struct stat other_dev = FakeStat(7);
  other_dev.st_dev = 2;  // the same inode number on another device: another file
  text += LineFor(other_dev, Name::ForContent("elsewhere"));
  text += "junk line\n";
  text += LineFor(FakeStat(200), Name::ForContent("torn")).substr(0, 20);  // no newline yet
  ASSERT_TRUE(WriteFileAtomic(log, text).ok());
  HashCache before(log);
  ASSERT_EQ(before.Lookup(now[3]), Name::ForContent("v3"));  // loaded

  auto c = HashCache::Compact(log);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->lines, 100u + 2 * 34 + 1 + 1);  // the torn line is not whole
  EXPECT_EQ(c->kept, 101u);
  auto compacted = ReadFile(log);
  ASSERT_TRUE(compacted.ok());
  EXPECT_EQ(std::count(compacted->begin(), compacted->end(), '\n'), 101);
  HashCache after(log);
  for (uint64_t i = 0; i < 100; ++i) EXPECT_EQ(after.Lookup(now[i]), Name::ForContent("v" + std::to_string(i))) << i;
  EXPECT_EQ(after.Lookup(other_dev), Name::ForContent("elsewhere"));
  EXPECT_FALSE(after.Lookup(FakeStat(0)).has_value());  // a stat file 0 no longer has
  // The process that had the old log open still answers and remembers.
  EXPECT_EQ(before.Lookup(now[6]), Name::ForContent("v6"));
  before.Remember(FakeStat(300), Name::ForContent("later"));
  EXPECT_EQ(before.Lookup(FakeStat(300)), Name::ForContent("later"));
  // Compacting a compacted log changes nothing; no log is nothing to do.
  auto again = HashCache::Compact(log);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->lines, again->kept);
  auto none = HashCache::Compact(dir.path() + "/missing");
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none->lines, 0u);
}

}  // namespace
}  // namespace gg
