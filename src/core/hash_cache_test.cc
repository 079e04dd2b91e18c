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

}  // namespace
}  // namespace gg
