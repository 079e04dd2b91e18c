// Tests of the sandbox against real namespaces (no mocks). The program is
// busybox, bind-mounted at /bin/sh and /bin/busybox inside the sandbox.
#include "sandbox/sandbox.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <future>
#include <mutex>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>

namespace gg::sandbox {
namespace {

namespace fs = std::filesystem;
constexpr char kBusybox[] = "/usr/bin/busybox";
using Kind = Outcome::Kind;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void WriteFile(const std::string& path, const std::string& data, bool exec = false) {
  std::ofstream(path) << data;
  if (exec) chmod(path.c_str(), 0755);
}

/// The comm and parent pid of a process, from /proc/PID/stat.
bool ProcStat(pid_t pid, std::string* comm, pid_t* ppid) {
  std::string stat = ReadFile("/proc/" + std::to_string(pid) + "/stat");
  size_t open = stat.find('('), close = stat.rfind(')');
  if (open == std::string::npos || close == std::string::npos) return false;
  *comm = stat.substr(open + 1, close - open - 1);
  *ppid = std::atoi(stat.c_str() + close + 4);
  return true;
}

std::vector<pid_t> AllPids() {
  std::vector<pid_t> pids;
  for (const auto& e : fs::directory_iterator("/proc")) {
    pid_t pid = std::atoi(e.path().filename().c_str());
    if (pid > 0) pids.push_back(pid);
  }
  return pids;
}

/// Processes named `comm` whose parent is `ppid` (0: any parent).
std::vector<pid_t> FindProcesses(const std::string& comm, pid_t ppid) {
  std::vector<pid_t> found;
  for (pid_t pid : AllPids()) {
    std::string c;
    pid_t p;
    if (ProcStat(pid, &c, &p) && c == comm && (ppid == 0 || p == ppid)) found.push_back(pid);
  }
  return found;
}

/// True if some process's command line contains `needle`.
bool AnyCommandLineHas(const std::string& needle) {
  for (pid_t pid : AllPids()) {
    std::string cmd = ReadFile("/proc/" + std::to_string(pid) + "/cmdline");
    for (char& c : cmd) {
      if (c == '\0') c = ' ';
    }
    if (cmd.find(needle) != std::string::npos) return true;
  }
  return false;
}

pid_t ServerPid() {
  auto pids = FindProcesses("gg-sandbox-srv", getpid());
  return pids.size() == 1 ? pids[0] : -1;
}

class SandboxTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/gg-sandbox-test-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    fs::create_directories(dir_ + "/root");
    fs::create_directories(dir_ + "/work");
    auto server = Server::Start(options_);
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    server_ = std::move(server.value());
  }
  void TearDown() override {
    server_.reset();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  /// A spec that runs `sh -c script` in /work with PATH=/bin.
  Spec Sh(const std::string& script) {
    Spec s;
    s.root_dir = dir_ + "/root";
    s.work_host_dir = dir_ + "/work";
    s.workdir = "/work";
    s.mounts = {{kBusybox, "/bin/sh", false}, {kBusybox, "/bin/busybox", false}};
    s.exe = "/bin/sh";
    s.argv = {"sh", "-c", script};
    s.env = {"PATH=/bin"};
    s.stdout_path = dir_ + "/stdout";
    s.stderr_path = dir_ + "/stderr";
    return s;
  }

  /// Runs `spec` to completion.
  Outcome Run(const Spec& spec, std::function<void(Server::Id)> while_running = nullptr) {
    std::promise<Outcome> done;
    auto id = server_->Launch(spec, [&](const Outcome& o) { done.set_value(o); });
    if (!id.ok()) {
      ADD_FAILURE() << id.status().ToString();
      return {};
    }
    if (while_running) while_running(*id);
    auto f = done.get_future();
    if (f.wait_for(std::chrono::seconds(60)) != std::future_status::ready) {
      ADD_FAILURE() << "run did not finish";
      std::abort();
    }
    return f.get();
  }

  std::string Out() { return ReadFile(dir_ + "/stdout"); }
  std::string Err() { return ReadFile(dir_ + "/stderr"); }

  Options options_;
  std::string dir_;
  std::unique_ptr<Server> server_;
};

TEST_F(SandboxTest, IsHermetic) { EXPECT_TRUE(server_->hermetic()); }

TEST_F(SandboxTest, ExitCodePassesThrough) {
  Outcome o = Run(Sh("exit 7"));
  EXPECT_EQ(o.kind, Kind::kExited) << o.error;
  EXPECT_EQ(o.exit_code, 7);
  EXPECT_GT(o.seconds, 0);
}

TEST_F(SandboxTest, StdoutAndStderrLandInFiles) {
  Outcome o = Run(Sh("echo to-out; echo to-err >&2"));
  EXPECT_EQ(o.kind, Kind::kExited) << o.error;
  EXPECT_EQ(Out(), "to-out\n");
  EXPECT_EQ(Err(), "to-err\n");
}

TEST_F(SandboxTest, OnlySpecEnvIsVisible) {
  setenv("GG_SANDBOX_TEST_SECRET", "leak", 1);
  Spec s = Sh("");
  s.exe = "/bin/busybox";
  s.argv = {"env"};
  s.env = {"FOO=bar", "A=b c"};
  Outcome o = Run(s);
  EXPECT_EQ(o.kind, Kind::kExited) << o.error;
  EXPECT_EQ(Out(), "FOO=bar\nA=b c\n");
}

TEST_F(SandboxTest, RunsUnprivileged) {
  Outcome o = Run(Sh("id -u; id -g; grep -E '^(CapEff|CapBnd|CapAmb|NoNewPrivs)' /proc/self/status;"
                     " hostname"));
  EXPECT_EQ(o.kind, Kind::kExited) << o.error << Err();
  std::string out = Out();
  EXPECT_NE(out.find("1000\n1000\n"), std::string::npos) << out;
  EXPECT_NE(out.find("CapEff:\t0000000000000000"), std::string::npos) << out;
  EXPECT_NE(out.find("CapBnd:\t0000000000000000"), std::string::npos) << out;
  EXPECT_NE(out.find("NoNewPrivs:\t1"), std::string::npos) << out;
  EXPECT_NE(out.find("\ngg\n"), std::string::npos) << out;
}

TEST_F(SandboxTest, HostFilesAreInvisible) {
  Outcome o = Run(Sh("cat /etc/passwd"));
  EXPECT_EQ(o.kind, Kind::kExited);
  EXPECT_NE(o.exit_code, 0);
  EXPECT_EQ(Out(), "");
  o = Run(Sh("ls /; ls /dev"));
  EXPECT_EQ(o.exit_code, 0);
  EXPECT_EQ(Out(),
            "bin\ndev\nproc\ntmp\nwork\n"
            "fd\nfull\nnull\nrandom\nshm\nstderr\nstdin\nstdout\nurandom\nzero\n");
}

TEST_F(SandboxTest, WritesGoOnlyWhereAllowed) {
  WriteFile(dir_ + "/input.txt", "original\n");
  Spec s = Sh(
      "echo x > /new && exit 10; echo x > /data/input.txt && exit 11; mkdir /bin/d && exit 12;"
      "echo t > /tmp/t && cat /tmp/t || exit 13; echo y > /dev/shm/y || exit 14;"
      "echo w > out.txt || exit 15; echo z > /dev/null || exit 16; exit 0");
  s.mounts.push_back({dir_ + "/input.txt", "/data/input.txt", false});
  s.outputs = {"out.txt"};
  Outcome o = Run(s);
  EXPECT_EQ(o.kind, Kind::kExited) << o.error;
  EXPECT_EQ(o.exit_code, 0) << Err();
  EXPECT_EQ(Out(), "t\n");
  EXPECT_EQ(ReadFile(dir_ + "/input.txt"), "original\n");
  EXPECT_EQ(ReadFile(dir_ + "/work/out.txt"), "w\n");
}

TEST_F(SandboxTest, MountsUnderWorkdirAndDirectories) {
  WriteFile(dir_ + "/input.txt", "hello\n");
  fs::create_directories(dir_ + "/tree/sub");
  WriteFile(dir_ + "/tree/sub/leaf", "leaf\n");
  Spec s = Sh("cat src/in.txt /usr/share/tree/sub/leaf; echo more > src/in.txt && exit 9; "
              "touch /usr/share/tree/sub/x && exit 8; exit 0");
  s.mounts.push_back({dir_ + "/input.txt", "/work/src/in.txt", false});
  s.mounts.push_back({dir_ + "/tree", "/usr/share/tree", true});
  Outcome o = Run(s);
  EXPECT_EQ(o.kind, Kind::kExited) << o.error;
  EXPECT_EQ(o.exit_code, 0);
  EXPECT_EQ(Out(), "hello\nleaf\n");
  EXPECT_EQ(ReadFile(dir_ + "/input.txt"), "hello\n");
  EXPECT_FALSE(fs::exists(dir_ + "/tree/sub/x"));
}

TEST_F(SandboxTest, InputsUnderWorkdirLeaveNothingInTheHostWorkDir) {
  WriteFile(dir_ + "/input.txt", "hello\n");
  Spec s = Sh("cat src/in.txt && echo out > src/new.txt && rm -f gone");
  s.mounts.push_back({dir_ + "/input.txt", "/work/src/in.txt", false});
  s.mounts.push_back({"", "/work/empty", true, true});
  s.outputs = {"src/new.txt"};
  Outcome o = Run(s);
  EXPECT_EQ(o.kind, Kind::kExited) << o.error;
  EXPECT_EQ(o.exit_code, 0) << Err();
  EXPECT_EQ(Out(), "hello\n");
  // Only what the program wrote reaches the host: no mount points.
  EXPECT_EQ(ReadFile(dir_ + "/work/src/new.txt"), "out\n");
  EXPECT_FALSE(fs::exists(dir_ + "/work/src/in.txt"));
  EXPECT_FALSE(fs::exists(dir_ + "/work/empty"));
}

TEST_F(SandboxTest, MountPointThroughSymlinkIsThePermanentFault) {
  WriteFile(dir_ + "/input.txt", "x");
  std::string victim = dir_ + "/victim";
  fs::create_directories(dir_ + "/tree");
  fs::create_symlink(victim, dir_ + "/tree/link");
  for (const char* where : {"/opt/t", "/work/t"}) {
    Spec s = Sh("true");
    s.mounts.push_back({dir_ + "/tree", where, true});
    s.mounts.push_back({dir_ + "/input.txt", std::string(where) + "/link/created", false});
    Outcome o = Run(s);
    EXPECT_EQ(o.kind, Kind::kSetupFailed) << where;
    EXPECT_TRUE(o.permanent) << where;
    EXPECT_NE(o.error.find("goes through a symlink"), std::string::npos) << o.error;
    EXPECT_FALSE(fs::exists(victim)) << where;
  }
  Spec s = Sh("true");
  s.mounts.push_back({dir_ + "/input.txt", "/proc/1/root" + victim + "/created", false});
  Outcome o = Run(s);
  EXPECT_EQ(o.kind, Kind::kSetupFailed);
  EXPECT_TRUE(o.permanent) << o.error;
  EXPECT_FALSE(fs::exists(victim));
}

TEST_F(SandboxTest, ThousandsOfMounts) {
  WriteFile(dir_ + "/input.txt", "x");
  Spec s = Sh("ls /m/d7 | wc -l; cat /m/d3/f2503");
  for (int i = 0; i < 3000; ++i) {
    s.mounts.push_back({dir_ + "/input.txt",
                        "/m/d" + std::to_string(i % 10) + "/f" + std::to_string(i), false});
  }
  Outcome o = Run(s);
  EXPECT_EQ(o.kind, Kind::kExited) << o.error;
  EXPECT_EQ(Out(), "300\nx");
  std::printf("3000 mounts: %.1f ms\n", o.seconds * 1e3);
}

TEST_F(SandboxTest, NoNetwork) {
  int listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  socklen_t len = sizeof addr;
  getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len);
  ASSERT_EQ(listen(listener, 8), 0);
  int port = ntohs(addr.sin_port);
  Outcome o = Run(Sh("nc -w 2 127.0.0.1 " + std::to_string(port) + " </dev/null"));
  EXPECT_EQ(o.kind, Kind::kExited);
  EXPECT_NE(o.exit_code, 0);
  pollfd p{listener, POLLIN, 0};
  EXPECT_EQ(poll(&p, 1, 0), 0) << "the sandbox connected to the host";
  close(listener);
}

TEST_F(SandboxTest, SignalFromInside) {
  Outcome o = Run(Sh("kill -SEGV $$"));
  EXPECT_EQ(o.kind, Kind::kSignaled) << o.error;
  EXPECT_EQ(o.signal, SIGSEGV);
}

TEST_F(SandboxTest, TimeoutKillsWholeTree) {
  Spec s = Sh("sleep 4321 & sleep 4322");
  s.timeout_seconds = 0.5;
  Outcome o = Run(s);
  EXPECT_EQ(o.kind, Kind::kTimedOut) << o.error;
  EXPECT_GE(o.seconds, 0.5);
  EXPECT_LT(o.seconds, 5);
  EXPECT_FALSE(AnyCommandLineHas("sleep 4321"));
  EXPECT_FALSE(AnyCommandLineHas("sleep 4322"));
}

TEST_F(SandboxTest, KillCancels) {
  Outcome o = Run(Sh("sleep 4323"), [&](Server::Id id) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    server_->Kill(id);
  });
  EXPECT_EQ(o.kind, Kind::kCancelled) << o.error;
  EXPECT_FALSE(AnyCommandLineHas("sleep 4323"));
}

TEST_F(SandboxTest, InitKilledFromOutsideIsCrash) {
  Outcome o = Run(Sh("sleep 4324"), [&](Server::Id) {
    std::vector<pid_t> inits;
    for (int i = 0; i < 200 && inits.empty(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
      if (AnyCommandLineHas("sleep 4324")) inits = FindProcesses("gg-sandbox", ServerPid());
    }
    ASSERT_EQ(inits.size(), 1u);
    kill(inits[0], SIGKILL);
  });
  EXPECT_EQ(o.kind, Kind::kCrashed);
  EXPECT_EQ(o.error, "sandbox init killed by signal 9");
  EXPECT_FALSE(AnyCommandLineHas("sleep 4324"));
}

TEST_F(SandboxTest, MissingMountSourceIsSetupFailure) {
  Spec s = Sh("true");
  s.mounts.push_back({"/usr/lib/no-such-lib.so", "/lib/x.so", false});
  Outcome o = Run(s);
  EXPECT_EQ(o.kind, Kind::kSetupFailed);
  EXPECT_EQ(o.error, "mount /usr/lib/no-such-lib.so at /lib/x.so: No such file or directory");
}

TEST_F(SandboxTest, ExecFailureIsSetupFailure) {
  Spec s = Sh("");
  s.exe = "/bin/no-such-program";
  Outcome o = Run(s);
  EXPECT_EQ(o.kind, Kind::kSetupFailed);
  EXPECT_EQ(o.error, "exec /bin/no-such-program: No such file or directory");
}

TEST_F(SandboxTest, BadSpecIsRejected) {
  Spec s = Sh("true");
  s.mounts.push_back({kBusybox, "/bin/../../etc/x", false});
  EXPECT_FALSE(server_->Launch(s, [](const Outcome&) {}).ok());
}

TEST_F(SandboxTest, ServerDeathCrashesRunsAndRestarts) {
  pid_t server = ServerPid();
  ASSERT_GT(server, 0);
  Outcome o = Run(Sh("sleep 4325"), [&](Server::Id) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    kill(server, SIGKILL);
  });
  EXPECT_EQ(o.kind, Kind::kCrashed);
  EXPECT_EQ(o.error, "sandbox server died");
  o = Run(Sh("exit 3"));
  EXPECT_EQ(o.kind, Kind::kExited) << o.error;
  EXPECT_EQ(o.exit_code, 3);
  EXPECT_NE(ServerPid(), server);
  for (int i = 0; i < 100 && AnyCommandLineHas("sleep 4325"); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_FALSE(AnyCommandLineHas("sleep 4325"));
}

TEST_F(SandboxTest, LaunchFromCallback) {
  std::promise<Outcome> second;
  auto first = server_->Launch(Sh("exit 1"), [&](const Outcome&) {
    auto id = server_->Launch(Sh("exit 2"), [&](const Outcome& o) { second.set_value(o); });
    EXPECT_TRUE(id.ok());
  });
  ASSERT_TRUE(first.ok());
  auto f = second.get_future();
  ASSERT_EQ(f.wait_for(std::chrono::seconds(30)), std::future_status::ready);
  EXPECT_EQ(f.get().exit_code, 2);
}

TEST_F(SandboxTest, ManyConcurrentRuns) {
  constexpr int kRuns = 200;
  std::mutex mu;
  std::condition_variable cv;
  int done = 0, ok = 0;
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < kRuns; ++i) {
    auto id = server_->Launch(Sh("sleep 1"), [&](const Outcome& o) {
      std::lock_guard<std::mutex> l(mu);
      ++done;
      if (o.kind == Kind::kExited && o.exit_code == 0) ++ok;
      else ADD_FAILURE() << o.error;
      cv.notify_all();
    });
    ASSERT_TRUE(id.ok()) << id.status().ToString();
  }
  std::unique_lock<std::mutex> l(mu);
  ASSERT_TRUE(cv.wait_for(l, std::chrono::seconds(120), [&] { return done == kRuns; }));
  EXPECT_EQ(ok, kRuns);
  std::printf("%d concurrent `sleep 1`: %.2f s\n", kRuns,
              std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
}

TEST_F(SandboxTest, SequentialOverhead) {
  Spec s = Sh("");
  s.exe = "/bin/busybox";
  s.argv = {"true"};
  constexpr int kRuns = 200;
  double server_seconds = 0;
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < kRuns; ++i) {
    Outcome o = Run(s);
    ASSERT_EQ(o.kind, Kind::kExited) << o.error;
    server_seconds += o.seconds;
  }
  double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("`true` in a sandbox: %.2f ms launch-to-callback, %.2f ms fork-to-exit (mean of %d)\n",
              wall / kRuns * 1e3, server_seconds / kRuns * 1e3, kRuns);
}

class FallbackTest : public SandboxTest {
 protected:
  void SetUp() override {
    options_.force_fallback = true;
    SandboxTest::SetUp();
  }
};

TEST_F(FallbackTest, RunsRelativeInputsUnsandboxed) {
  EXPECT_FALSE(server_->hermetic());
  WriteFile(dir_ + "/prog", "#!/bin/sh\necho \"$FOO $(pwd) $HOME\"; cat data/in.txt\n", true);
  WriteFile(dir_ + "/input.txt", "input\n");
  Spec s = Sh("");
  s.mounts = {{dir_ + "/prog", "/work/bin/prog", false},
              {dir_ + "/input.txt", "/work/data/in.txt", false}};
  s.exe = "/work/bin/prog";
  s.argv = {"prog"};
  s.env = {"FOO=bar", "PATH=/usr/bin:/bin"};
  Outcome o = Run(s);
  EXPECT_EQ(o.kind, Kind::kExited) << o.error;
  EXPECT_EQ(o.exit_code, 0) << Err();
  EXPECT_EQ(Out(), "bar " + dir_ + "/work \ninput\n");
}

TEST_F(FallbackTest, RefusesAbsoluteInputs) {
  Outcome o = Run(Sh("true"));
  EXPECT_EQ(o.kind, Kind::kSetupFailed);
  EXPECT_EQ(o.error,
            "absolute input path /bin/sh needs namespaces (unavailable: disabled by "
            "GG_SANDBOX=none or Options::force_fallback)");
}

TEST_F(FallbackTest, TimeoutKillsProcessGroup) {
  WriteFile(dir_ + "/prog", "#!/bin/sh\nsleep 4326 & sleep 4327\n", true);
  Spec s = Sh("");
  s.mounts = {{dir_ + "/prog", "/work/prog", false}};
  s.exe = "/work/prog";
  s.argv = {"prog"};
  s.env = {"PATH=/usr/bin:/bin"};
  s.timeout_seconds = 0.5;
  Outcome o = Run(s);
  EXPECT_EQ(o.kind, Kind::kTimedOut) << o.error;
  // SIGKILL to the group is delivered at once, but under load the process
  // may still be listed for a moment before it is gone.
  for (int i = 0; i < 100 && AnyCommandLineHas("sleep 4326"); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_FALSE(AnyCommandLineHas("sleep 4326"));
}

// The static server beside the program serves when it is there: found
// through the symlink the program is run by (as /proc/self/exe is).
TEST(ServerProgramTest, PrefersTheStaticServerBesideTheProgram) {
  char tmpl[] = "/tmp/gg-server-program-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  std::string dir = tmpl;
  fs::create_directories(dir + "/bin");
  fs::create_directories(dir + "/links");
  std::ofstream(dir + "/bin/gg") << "#!/bin/sh\n";
  fs::permissions(dir + "/bin/gg", fs::perms::owner_all);
  fs::create_symlink("../bin/gg", dir + "/links/gg");
  // None beside it: the program itself.
  EXPECT_EQ(ServerProgram(dir + "/links/gg"), dir + "/links/gg");
  // One that is not executable does not count.
  std::ofstream(dir + "/bin/gg-sandbox-server") << "x";
  fs::permissions(dir + "/bin/gg-sandbox-server", fs::perms::owner_read);
  EXPECT_EQ(ServerProgram(dir + "/links/gg"), dir + "/links/gg");
  fs::permissions(dir + "/bin/gg-sandbox-server", fs::perms::owner_all);
  EXPECT_EQ(ServerProgram(dir + "/links/gg"), dir + "/bin/gg-sandbox-server");
  EXPECT_EQ(ServerProgram(dir + "/bin/gg"), dir + "/bin/gg-sandbox-server");
  // This test binary has none beside it.
  EXPECT_EQ(ServerProgram("/proc/self/exe"), "/proc/self/exe");
  fs::remove_all(dir);
}

}  // namespace
}  // namespace gg::sandbox
