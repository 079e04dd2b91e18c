// gg-model: stands in for gcc, g++, cc, c++, ar, ranlib, strip, as, ld (and
// /bin/sh) while `gg infer` runs a build. `gg infer` bind-mounts this binary
// over each real tool in a private mount namespace. It is a small static
// client: it hands the command (argv, cwd, environment, and which tool ran,
// from /proc/self/exe) to the session's model server (model_server.h) and
// does what the reply says: nothing (modelled: the server wrote the thunk
// and placeholders), or run the real tool after forcing placeholders.
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "models/model_protocol.h"
#include "models/model_server.h"
#include "models/session.h"

extern char** environ;

namespace {

using namespace gg::models;

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "gg-model: %s\n", what.c_str());
  _exit(127);
}

// The real tool for an overlaid path, and clang's resource dir (the real
// clang, run from its bind-mounted copy, would look for its headers beside
// the copy), from the session's table.
struct RealTool {
  std::string path, resource_dir;
};

RealTool FindReal(const std::string& exe) {
  const char* dir = getenv(kSessionEnv);
  if (!dir) Die(std::string("not started by gg infer (no $") + kSessionEnv + ")");
  std::string table_path = std::string(dir) + kRealToolsFile;
  FILE* f = std::fopen(table_path.c_str(), "re");
  if (!f) Die("cannot read " + table_path + ": " + std::strerror(errno));
  char* line = nullptr;
  size_t cap = 0;
  RealTool found;
  while (getline(&line, &cap, f) > 0) {
    std::string l = line;
    if (!l.empty() && l.back() == '\n') l.pop_back();
    size_t t1 = l.find('\t'), t2 = l.find('\t', t1 + 1);
    if (t1 == std::string::npos || t2 == std::string::npos || l.compare(0, t1, exe) != 0 || t1 != exe.size()) continue;
    found = {l.substr(t1 + 1, t2 - t1 - 1), l.substr(t2 + 1)};
    break;
  }
  free(line);
  std::fclose(f);
  if (found.path.empty()) Die(exe + " is not a tool of this session");
  return found;
}

[[noreturn]] void ExecReal(const RealTool& real, char** argv) {
  setenv(kPassthroughEnv, "1", 1);
  std::vector<char*> args;
  for (char** a = argv; *a; ++a) args.push_back(*a);
  std::string flag = "-resource-dir", dir = real.resource_dir;
  if (!dir.empty()) {
    args.push_back(flag.data());
    args.push_back(dir.data());
  }
  args.push_back(nullptr);
  execv(real.path.c_str(), args.data());
  Die("cannot run " + real.path + ": " + std::strerror(errno));
}

// core/placeholder.h's ReadPlaceholder, without gg_core: this client is
// linked statically from model_main.cc and model_protocol.cc alone.
bool IsPlaceholderFile(const std::string& path) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  char buf[40];
  ssize_t n = fd >= 0 ? read(fd, buf, sizeof buf) : -1;
  if (fd >= 0) close(fd);
  return n > 0 && std::string_view(buf, n).starts_with("#!/bin/sh\n# gg-placeholder ");
}

// A connected socket to `path`, or -1 with errno set.
int Connect(const char* path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (std::strlen(path) >= sizeof addr.sun_path) {
    errno = ENAMETOOLONG;
    return -1;
  }
  std::strcpy(addr.sun_path, path);
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd >= 0 && connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    int err = errno;
    close(fd);
    errno = err;
    return -1;
  }
  return fd;
}

// Under `gg build`: the placeholders forced through it (force_service.h),
// which waits for a thunk its force runs already instead of running it a
// second time beside it. nullopt: no gg build, or it could not.
std::optional<ForceReply> ForceThroughBuild(const std::vector<std::string>& paths) {
  const char* socket_path = getenv(kForceSocketEnv);
  if (!socket_path) return std::nullopt;
  char cwd[PATH_MAX];
  if (!getcwd(cwd, sizeof cwd)) return std::nullopt;
  ForceRequest req;
  for (const auto& p : paths) req.paths.push_back(p.starts_with("/") ? p : std::string(cwd) + "/" + p);
  int fd = Connect(socket_path);
  if (fd < 0) return std::nullopt;
  auto frame = WriteFrame(fd, Encode(req)) ? ReadFrame(fd) : std::nullopt;
  close(fd);
  auto reply = frame ? DecodeForceReply(*frame) : std::nullopt;
  if (!reply || reply->kind == ForceReply::Kind::kNotHere) return std::nullopt;
  return reply;
}

// Forces placeholder files (through gg build, else `gg force`, keeping the
// build's stdout clean): 0, 1 if a thunk failed (as `gg force`), or `gg
// force`'s exit status.
int RunForce(const std::vector<std::string>& all) {
  if (auto reply = ForceThroughBuild(all)) {
    if (reply->kind == ForceReply::Kind::kForced) return 0;
    std::fprintf(stderr, "gg: %s\n", reply->message.c_str());
    return 1;
  }
  std::vector<std::string> paths;  // less what gg build forced before it stopped
  for (const auto& p : all) {
    if (IsPlaceholderFile(p) || access(p.c_str(), F_OK) != 0) paths.push_back(p);
  }
  if (paths.empty()) return 0;
  const char* gg = getenv(kGgExeEnv);
  if (!gg) Die(std::string("no $") + kGgExeEnv);
  std::vector<std::string> argv = {gg, "force"};
  argv.insert(argv.end(), paths.begin(), paths.end());
  pid_t pid = fork();
  if (pid < 0) Die(std::string("fork: ") + std::strerror(errno));
  if (pid == 0) {
    dup2(2, 1);
    std::vector<char*> args;
    for (auto& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    execv(gg, args.data());
    _exit(127);
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

void Force(const std::vector<std::string>& paths) {
  if (paths.empty()) return;
  if (RunForce(paths) != 0) Die("gg force of " + paths[0] + (paths.size() > 1 ? " and others" : "") + " failed");
}

ModelReply Ask(ModelRequest::Kind kind, const std::string& exe, int argc, char** argv) {
  const char* socket_path = getenv(kSocketEnv);
  if (!socket_path) Die(std::string("not started by gg infer (no $") + kSocketEnv + ")");
  ModelRequest req;
  req.kind = kind;
  req.exe = exe;
  char cwd[PATH_MAX];
  if (!getcwd(cwd, sizeof cwd)) Die(std::string("getcwd: ") + std::strerror(errno));
  req.cwd = cwd;
  req.argv.assign(argv, argv + argc);
  for (char** e = environ; *e; ++e) req.env.push_back(*e);
  const char* build_stderr = getenv(kBuildStderrEnv);
  req.stderr_to = StderrOf(2, build_stderr ? build_stderr : "");
  int fd = Connect(socket_path);
  if (fd < 0) {
    Die(std::string("cannot reach the model server at ") + socket_path + ": " + std::strerror(errno) +
        " (did gg infer stop?)");
  }
  if (!WriteFrame(fd, Encode(req))) Die("the model server closed the connection");
  auto frame = ReadFrame(fd);
  close(fd);
  auto reply = frame ? DecodeReply(*frame) : std::nullopt;
  if (!reply) Die("no answer from the model server (see gg's messages above)");
  if (reply->kind == ModelReply::Kind::kError) Die(reply->message);
  return *reply;
}

// /bin/sh: a placeholder run as a program (`./prog` of a program the build
// just linked) is forced first, with the libraries beside it, then run;
// everything else goes straight to the real shell.
[[noreturn]] void Shell(const std::string& exe, int argc, char** argv) {
  const char* real = getenv(kRealShellEnv);
  if (!real) Die(std::string("no $") + kRealShellEnv);
  if (argc >= 2 && argv[1][0] != '-') {
    if (IsPlaceholderFile(argv[1])) {
      Force(Ask(ModelRequest::Kind::kShell, exe, argc, argv).force);
      execv(argv[1], argv + 1);
      Die(std::string("cannot run ") + argv[1] + ": " + std::strerror(errno));
    }
  }
  execv(real, argv);
  Die(std::string("cannot run ") + real + ": " + std::strerror(errno));
}

// The first bytes of a small /proc file, or "" if it cannot be read.
std::string_view ReadProcFile(const std::string& path, char* buf, size_t size) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return {};
  ssize_t n = read(fd, buf, size - 1);
  close(fd);
  if (n <= 0) return {};
  buf[n] = '\0';
  return std::string_view(buf, static_cast<size_t>(n));
}

// Whether the build tool running this command is ninja (or samurai): our
// parent, or one of the two above it (the shell ninja runs commands with).
bool CalledByNinja() {
  pid_t pid = getpid();
  char buf[512];
  for (int level = 0; level < 3; ++level) {
    std::string_view stat = ReadProcFile("/proc/" + std::to_string(pid) + "/stat", buf, sizeof buf);
    // "pid (comm) state ppid ...": comm may hold spaces and parentheses.
    size_t close_paren = stat.rfind(')');
    if (close_paren == std::string_view::npos) return false;
    pid = static_cast<pid_t>(std::atoi(stat.data() + close_paren + 4));
    if (pid <= 1) return false;
    std::string_view comm = ReadProcFile("/proc/" + std::to_string(pid) + "/comm", buf, sizeof buf);
    if (comm.ends_with('\n')) comm.remove_suffix(1);
    if (comm == "ninja" || comm == "samu") return true;
  }
  return false;
}

}  // namespace

int main(int argc, char** argv) {
  char buf[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
  buf[n > 0 ? n : 0] = '\0';
  const std::string exe = buf;
  if (const char* sh = getenv(kShellEnv); sh && exe == sh) Shell(exe, argc, argv);
  // The real tools' own calls (gcc running as, ld) pass straight through.
  if (getenv(kPassthroughEnv)) ExecReal(FindReal(exe), argv);
  ModelReply reply = Ask(ModelRequest::Kind::kTool, exe, argc, argv);
  if (reply.kind == ModelReply::Kind::kModelled) {
    std::vector<std::string> wait = reply.force;
    // Ninja reads a command's depfile the moment the command exits, in its
    // one loop: a placeholder there stops it, commands it could start and
    // all, until the guard has forced the file. Its commands ran in pairs,
    // the next pair after the slower of the two (yaml-cpp: one core idle a
    // third of the build). So the command waits for its depfile instead, as
    // the plain compile would, and ninja keeps starting the next ones.
    if (wait.empty() && !reply.dep_file.empty() && CalledByNinja() && IsPlaceholderFile(reply.dep_file)) {
      wait.push_back(reply.dep_file);
    }
    if (wait.empty()) return 0;
    // The caller wants the real exit status (model_protocol.h).
    int rc = RunForce(wait);
    if (rc == 0) return 0;
    for (const auto& p : wait) {  // a failed command leaves no output, as gcc's
      if (IsPlaceholderFile(p)) unlink(p.c_str());
    }
    if (rc == 1) return 1;  // the program failed: the command's own answer
    // gg could not tell (not the program's failure): ask the real tool.
    ExecReal(FindReal(exe), argv);
  }
  Force(reply.force);
  ExecReal(FindReal(exe), argv);
}
