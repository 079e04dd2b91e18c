#include "core/subprocess.h"

#include <gtest/gtest.h>

namespace gg {
namespace {

TEST(SubprocessTest, CapturesBothStreamsWithoutDeadlock) {
  // 200 KiB on stderr before anything on stdout: reading stdout to its end
  // first would block forever on a full stderr pipe.
  auto c = RunCapture({"sh", "-c", "head -c 204800 /dev/zero >&2; echo out; exit 3"});
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->out, "out\n");
  EXPECT_EQ(c->err.size(), 204800u);
  EXPECT_EQ(c->exit_code, 3);
}

TEST(SubprocessTest, MergesStderrWhenAsked) {
  auto c = RunCapture({"sh", "-c", "echo a; echo b >&2"}, true);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->out, "a\nb\n");
  EXPECT_EQ(c->exit_code, 0);
}

TEST(SubprocessTest, MissingProgramIsAnError) {
  EXPECT_FALSE(RunCapture({"/nonexistent/program"}).ok());
}

TEST(SubprocessTest, ShellQuote) {
  EXPECT_EQ(ShellQuote("plain/path-1.c"), "plain/path-1.c");
  EXPECT_EQ(ShellQuote(""), "''");
  EXPECT_EQ(ShellQuote("it's here"), "'it'\\''s here'");
  auto c = RunCapture({"sh", "-c", "printf %s " + ShellQuote("a 'b' $c")});
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->out, "a 'b' $c");
}

}  // namespace
}  // namespace gg
