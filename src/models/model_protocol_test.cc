#include "models/model_protocol.h"

#include <gtest/gtest.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <climits>
#include <cstdlib>
#include <thread>

#include "core/path_util.h"
#include "core/placeholder.h"
#include "core/test_util.h"
#include "models/model_server.h"

extern char** environ;

namespace gg::models {
namespace {

TEST(ModelProtocol, RequestRoundTrips) {
  ModelRequest r;
  r.kind = ModelRequest::Kind::kShell;
  r.exe = "/usr/bin/x86_64-linux-gnu-gcc-12";
  r.cwd = "/src/zlib";
  r.argv = {"gcc", "-c", "a b.c", ""};
  r.env = {"PATH=/usr/bin", "EMPTY="};
  r.stderr_to = ModelRequest::Stderr::kCaptured;
  auto back = DecodeRequest(Encode(r));
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->kind, r.kind);
  EXPECT_EQ(back->exe, r.exe);
  EXPECT_EQ(back->cwd, r.cwd);
  EXPECT_EQ(back->argv, r.argv);
  EXPECT_EQ(back->env, r.env);
  EXPECT_EQ(back->stderr_to, r.stderr_to);
}

TEST(ModelProtocol, StderrOfTellsWhereAToolsStderrGoes) {
  char path[] = "/tmp/gg-stderr-XXXXXX";
  int file = mkstemp(path);
  ASSERT_GE(file, 0);
  int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
  int pipe_fds[2];
  ASSERT_EQ(pipe(pipe_fds), 0);
  using S = ModelRequest::Stderr;
  const std::string build = FileIdOf(pipe_fds[1]);  // the build's own stderr: a pipe
  EXPECT_EQ(StderrOf(pipe_fds[1], build), S::kShown);
  EXPECT_EQ(StderrOf(null, build), S::kDiscarded);  // `2>/dev/null`: only the status is wanted
  EXPECT_EQ(StderrOf(file, build), S::kCaptured);   // `2>conftest.err`
  EXPECT_EQ(StderrOf(null, FileIdOf(null)), S::kShown);  // the whole build's stderr is /dev/null
  EXPECT_EQ(StderrOf(file, FileIdOf(file)), S::kShown);  // `gg build ... 2>log`
  unlink(path);
  EXPECT_EQ(StderrOf(file, build), S::kShown);  // make -O's unlinked temporary file
  for (int fd : {file, null, pipe_fds[0], pipe_fds[1]}) close(fd);
}

TEST(ModelProtocol, ReplyRoundTrips) {
  ModelReply r;
  r.kind = ModelReply::Kind::kLocal;
  r.force = {"libz.a", "x.o"};
  r.message = "cc: -E";
  r.dep_file = "/src/b/x.o.d";
  auto back = DecodeReply(Encode(r));
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->kind, r.kind);
  EXPECT_EQ(back->force, r.force);
  EXPECT_EQ(back->message, r.message);
  EXPECT_EQ(back->dep_file, r.dep_file);
}

TEST(ModelProtocol, ForceRequestRoundTrips) {
  ForceRequest r{{"/src/zlib/libz.a", "/src/a b.o", ""}};
  auto back = DecodeForceRequest(Encode(r));
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->paths, r.paths);
  std::string bytes = Encode(r);
  for (size_t n = 0; n < bytes.size(); ++n) EXPECT_FALSE(DecodeForceRequest(bytes.substr(0, n)).has_value()) << n;
  EXPECT_FALSE(DecodeForceRequest(bytes + "x").has_value());
}

TEST(ModelProtocol, TruncatedOrPaddedMessagesAreRejected) {
  ModelRequest r;
  r.argv = {"gcc", "-c", "x.c"};
  std::string bytes = Encode(r);
  for (size_t n = 0; n < bytes.size(); ++n) EXPECT_FALSE(DecodeRequest(bytes.substr(0, n)).has_value()) << n;
  EXPECT_FALSE(DecodeRequest(bytes + "x").has_value());
  std::string bad_stderr = bytes;
  bad_stderr.back() = 3;
  EXPECT_FALSE(DecodeRequest(bad_stderr).has_value());
  std::string bad_kind = bytes;
  bad_kind[0] = 9;
  EXPECT_FALSE(DecodeRequest(bad_kind).has_value());
}

TEST(ModelProtocol, FramesCrossASocket) {
  int fds[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
  std::string big(1 << 20, 'x');  // larger than a socket buffer: written in parts
  std::thread writer([&] {
    EXPECT_TRUE(WriteFrame(fds[0], big));
    EXPECT_TRUE(WriteFrame(fds[0], ""));
    close(fds[0]);
  });
  EXPECT_EQ(ReadFrame(fds[1]).value_or("?"), big);
  EXPECT_EQ(ReadFrame(fds[1]).value_or("?"), "");
  EXPECT_FALSE(ReadFrame(fds[1]).has_value());  // EOF
  writer.join();
  close(fds[1]);
}

TEST(ModelProtocol, OversizedFrameIsRefused) {
  int fds[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
  ASSERT_TRUE(WriteFrame(fds[0], std::string(100, 'x')));
  EXPECT_FALSE(ReadFrame(fds[1], 10).has_value());
  close(fds[0]);
  close(fds[1]);
}

// HandleModelRequest takes on the caller's cwd and environment: give the
// test process its own back afterwards.
class ModelServer : public ::testing::Test {
 protected:
  void SetUp() override {
    char buf[PATH_MAX];
    cwd_ = getcwd(buf, sizeof buf) ? buf : "/";
    for (char** e = environ; *e; ++e) env_.push_back(*e);
  }
  void TearDown() override {
    ASSERT_EQ(chdir(cwd_.c_str()), 0);
    clearenv();
    for (const auto& e : env_) {
      size_t eq = e.find('=');
      setenv(e.substr(0, eq).c_str(), e.c_str() + eq + 1, 1);
    }
  }

 private:
  std::string cwd_;
  std::vector<std::string> env_;
};

TEST_F(ModelServer, UnknownToolIsAnError) {
  ScratchDir dir;
  Session s;
  ModelRequest r;
  r.exe = "/usr/bin/not-a-tool";
  r.cwd = dir.path();
  r.argv = {"not-a-tool", "-c", "x.c"};
  ModelReply reply = HandleModelRequest(s, nullptr, r);
  EXPECT_EQ(reply.kind, ModelReply::Kind::kError);
  EXPECT_NE(reply.message.find("not a tool of this session"), std::string::npos) << reply.message;
}

TEST_F(ModelServer, ShellRequestNamesThePlaceholderProgramAndItsLibraries) {
  ScratchDir dir;
  Name target(ObjectType::kThunk, Sha256{1, 2, 3}, 100);
  ASSERT_TRUE(WritePlaceholder(dir.path() + "/prog", target, 0755).ok());
  ASSERT_TRUE(MakeDirs(dir.path() + "/.libs").ok());
  ASSERT_TRUE(WritePlaceholder(dir.path() + "/.libs/libx.so.1", target.WithTag("lib"), 0644).ok());
  ASSERT_TRUE(WriteFileAtomic(dir.path() + "/libreal.so", "ELF, not a placeholder").ok());
  // libtool's link to the library: named by what it leads to, so that forcing
  // writes the library and leaves the link a link.
  ASSERT_EQ(symlink("libx.so.1", (dir.path() + "/.libs/libx.so").c_str()), 0);
  Session s;
  ModelRequest r;
  r.kind = ModelRequest::Kind::kShell;
  r.cwd = dir.path();
  r.argv = {"/bin/sh", "./prog", "arg"};
  r.env = {"PATH=/usr/bin:/bin"};
  ModelReply reply = HandleModelRequest(s, nullptr, r);
  EXPECT_EQ(reply.kind, ModelReply::Kind::kLocal);
  // The library once, by its own name or the link's target, whichever the
  // directory listed first.
  ASSERT_EQ(reply.force.size(), 2u);
  EXPECT_EQ(reply.force[0], "./prog");
  EXPECT_EQ(RealPath(dir.path() + "/" + reply.force[1]), RealPath(dir.path() + "/.libs/libx.so.1")) << reply.force[1];
  EXPECT_TRUE(reply.force[1] == "./.libs/libx.so.1" || reply.force[1] == RealPath(dir.path() + "/.libs/libx.so.1"))
      << reply.force[1];
}

}  // namespace
}  // namespace gg::models
