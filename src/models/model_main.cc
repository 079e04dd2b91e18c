// gg-model: stands in for gcc, g++, cc, c++, ar, ranlib, strip, as, ld (and
// /bin/sh) while `gg infer` runs a build. `gg infer` bind-mounts this binary
// over each real tool in a private mount namespace; the tool it stands for is
// found from /proc/self/exe (the overlaid path) in the session's config.
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "core/local_store.h"
#include "core/placeholder.h"
#include "models/gcc_command.h"
#include "models/session.h"
#include "models/tool_models.h"

namespace {

using namespace gg;
using namespace gg::models;

[[noreturn]] void ExecReal(const std::string& real, char** argv) {
  setenv(kPassthroughEnv, "1", 1);
  execv(real.c_str(), argv);
  std::fprintf(stderr, "gg-model: cannot run %s: %s\n", real.c_str(), std::strerror(errno));
  _exit(127);
}

// The real clang, run from its bind-mounted copy, would look for its headers
// beside that copy (it finds its resource dir from /proc/self/exe): name the
// real one.
[[noreturn]] void ExecRealClang(const Session& s, const std::string& real, char** argv) {
  std::vector<char*> args;
  for (char** a = argv; *a; ++a) args.push_back(*a);
  std::string flag = "-resource-dir", dir = s.toolchain.clang_resource_dir;
  if (!dir.empty()) {
    args.push_back(flag.data());
    args.push_back(dir.data());
  }
  args.push_back(nullptr);
  ExecReal(real, args.data());
}

// /bin/sh: a placeholder run as a program (`./prog` of a program the build
// just linked) is forced first, then run; everything else goes straight to
// the real shell.
[[noreturn]] void Shell(int argc, char** argv) {
  const char* real = getenv(kRealShellEnv);
  if (!real) _exit(127);
  if (argc >= 2 && argv[1][0] != '-' && getenv(kGgExeEnv)) {
    int fd = open(argv[1], O_RDONLY | O_CLOEXEC);
    char buf[40];
    ssize_t n = fd >= 0 ? read(fd, buf, sizeof buf) : -1;
    if (fd >= 0) close(fd);
    if (n > 0 && std::string_view(buf, n).starts_with("#!/bin/sh\n# gg-placeholder ")) {
      // The program and what it may load beside it (shared libraries in
      // its directory or in libtool's .libs) become real first.
      std::string prog = argv[1];
      std::string dir = prog.find('/') == std::string::npos ? "." : prog.substr(0, prog.rfind('/'));
      std::vector<std::string> candidates = {prog};
      for (const auto& d : {dir, dir + "/.libs"}) {
        if (DIR* dp = opendir(d.c_str())) {
          while (dirent* e = readdir(dp)) {
            std::string entry = e->d_name;
            if (entry.find(".so") != std::string::npos) candidates.push_back(d + "/" + entry);
          }
          closedir(dp);
        }
      }
      if (Status s = ForcePlaceholders(getenv(kGgExeEnv), FindPlaceholders(candidates)); !s.ok()) {
        std::fprintf(stderr, "gg-model: %s\n", s.message().c_str());
        _exit(127);
      }
      execv(argv[1], argv + 1);
      std::fprintf(stderr, "gg-model: cannot run %s: %s\n", argv[1], std::strerror(errno));
      _exit(127);
    }
  }
  execv(real, argv);
  _exit(127);
}

}  // namespace

int main(int argc, char** argv) {
  char exe[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  exe[n > 0 ? n : 0] = '\0';
  if (const char* sh = getenv(kShellEnv); sh && std::strcmp(sh, exe) == 0) Shell(argc, argv);

  const char* dir = getenv(kSessionEnv);
  if (!dir) {
    std::fprintf(stderr, "gg-model: not started by gg infer (no $%s)\n", kSessionEnv);
    return 127;
  }
  auto session = Session::Load(dir);
  if (!session.ok()) {
    std::fprintf(stderr, "gg-model: %s\n", session.status().message().c_str());
    return 127;
  }
  auto it = session->config.tools.find(exe);
  if (it == session->config.tools.end()) {
    std::fprintf(stderr, "gg-model: %s is not a tool of this session\n", exe);
    return 127;
  }
  auto [kind, real] = it->second;
  if (Toolchain::IsClang(kind)) {
    // clang and clang++ are one file; the name it was called by decides.
    std::string called = argv[0];
    called = called.substr(called.rfind('/') + 1);
    kind = called.find("++") != std::string::npos ? "clangxx" : "clang";
  }
  if (getenv(kPassthroughEnv)) {
    if (Toolchain::IsClang(kind)) ExecRealClang(*session, real, argv);
    ExecReal(real, argv);
  }

  std::vector<std::string> args(argv + 1, argv + argc);
  std::string reason = "no model for " + kind;
  auto store = LocalStore::Open(session->config.store_dir);
  if (store.ok()) {
    Result<ModelResult> r = ModelResult{reason, {}};
    if (kind == "cc" || kind == "cxx" || Toolchain::IsClang(kind)) r = ModelGcc(store->get(), *session, kind, args, argv[0]);
    else if (kind == "ar") r = ModelAr(store->get(), *session, args);
    else if (kind == "ranlib" || kind == "strip") r = ModelInPlace(store->get(), *session, kind, args);
    if (r.ok() && r->local_reason.empty()) return 0;
    reason = r.ok() ? r->local_reason : r.status().message();
  } else {
    reason = store.status().message();
  }
  // Run it for real, after forcing any placeholder it names.
  std::vector<std::string> command(argv, argv + argc);
  if ((kind == "cc" || kind == "cxx") && ParseGccCommand(args).query) {
    session->LogQuery(kind + ": " + reason, command);
  } else {
    session->LogLocal(kind + ": " + reason, command);
  }
  std::vector<std::string> candidates;
  for (const auto& a : args) {
    if (!a.empty() && a[0] != '-') candidates.push_back(a);
    else if (a.starts_with("-o") && a.size() > 2) candidates.push_back(a.substr(2));
  }
  auto placeholders = FindPlaceholders(candidates);
  if (Status s = ForcePlaceholders(session->config.gg_exe, placeholders); !s.ok()) {
    std::fprintf(stderr, "gg-model: %s\n", s.message().c_str());
    return 1;
  }
  if (Toolchain::IsClang(kind)) ExecRealClang(*session, real, argv);
  ExecReal(real, argv);
}
