#include "gtest/learn.h"

#include <gtest/gtest.h>

#include "core/path_util.h"
#include "core/test_util.h"

namespace gg::gtest {
namespace {

TEST(LearnTest, ParsesStraceOpens) {
  const char* trace =
      "100 openat(AT_FDCWD</src>, \"/lib/x86_64-linux-gnu/libc.so.6\", O_RDONLY|O_CLOEXEC) = 3</usr/lib/x86_64-linux-gnu/libc.so.6>\n"
      "100 openat(AT_FDCWD, \"testdata/a.txt\", O_RDONLY) = 3</src/testdata/a.txt>\n"
      "100 openat(AT_FDCWD, \"testdata/missing\", O_RDONLY) = -1 ENOENT (No such file or directory)\n"
      "100 openat(AT_FDCWD, \"out.tmp\", O_WRONLY|O_CREAT|O_TRUNC, 0666) = 4</src/out.tmp>\n"
      "100 openat(5</src/testdata>, \"sub/../b.txt\", O_RDONLY) = 6</src/testdata/b.txt>\n"
      "101 openat(AT_FDCWD, \"./c.txt\", O_RDONLY <unfinished ...>\n"
      "100 open(\"/src/out.tmp\", O_RDONLY) = 7\n"
      "101 <... openat resumed>) = 8</src/c.txt>\n"
      "102 openat(AT_FDCWD, \"d.txt\", O_RDONLY <unfinished ...>\n"
      "102 <... openat resumed>) = -1 ENOENT (No such file or directory)\n"
      "100 +++ exited with 0 +++\n";
  OpenedFiles got = ParseStraceOpens(trace, "/src");
  EXPECT_EQ(got.read, (std::set<std::string>{"/lib/x86_64-linux-gnu/libc.so.6", "/src/testdata/a.txt",
                                             "/src/testdata/b.txt", "/src/c.txt"}));
  EXPECT_EQ(got.written, (std::set<std::string>{"/src/out.tmp"}));
}

TEST(LearnTest, DataFilesAreRegularFilesUnderARoot) {
  ScratchDir a, b;
  ASSERT_TRUE(MakeDirs(a.path() + "/testdata").ok());
  ASSERT_TRUE(WriteFileAtomic(a.path() + "/testdata/x", "x").ok());
  ASSERT_TRUE(WriteFileAtomic(b.path() + "/y", "y").ok());
  OpenedFiles opened;
  opened.read = {a.path() + "/testdata/x", a.path() + "/testdata", b.path() + "/y", a.path() + "/gone",
                 "/etc/hostname"};
  EXPECT_EQ(DataFilesUnder(opened, {a.path(), b.path()}), (std::set<std::string>{"testdata/x", "y"}));
}

TEST(LearnTest, TracesARealRun) {
  ScratchDir dir;
  ASSERT_TRUE(WriteFileAtomic(dir.path() + "/data.txt", "hello").ok());
  // /bin/sh stands in for a test binary: it gets --gtest_filter=... as $0's
  // first argument, which sh -c ignores.
  ASSERT_TRUE(WriteFileAtomic(dir.path() + "/fake_test", "#!/bin/sh\ncat data.txt > /dev/null\n", 0755).ok());
  LocalRun run{dir.path() + "/fake_test", "*", {}, dir.path(), 30};
  auto opened = TraceRun(run, dir.path());
  ASSERT_TRUE(opened.ok()) << opened.status().message();
  // The shell also opens the script itself; gg test leaves the binary out.
  EXPECT_EQ(DataFilesUnder(*opened, {dir.path()}).count("data.txt"), 1u);
}

}  // namespace
}  // namespace gg::gtest
