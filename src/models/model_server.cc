#include "models/model_server.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string_view>

#include "core/beneath.h"
#include "models/gcc_command.h"
#include "models/project_view.h"
#include "models/tool_models.h"

namespace gg::models {
namespace {

// The models read the caller's cwd and a few variables (CPATH,
// LIBRARY_PATH, SOURCE_DATE_EPOCH...): take on the caller's.
Status Become(const ModelRequest& r) {
  if (chdir(r.cwd.c_str()) != 0) return Status::FromErrno("chdir " + r.cwd, errno);
  clearenv();
  for (const auto& e : r.env) {
    size_t eq = e.find('=');
    if (eq != std::string::npos && eq > 0) setenv(e.substr(0, eq).c_str(), e.c_str() + eq + 1, 1);
  }
  return Status::Ok();
}

// A placeholder program run through /bin/sh: it and the shared libraries
// beside it (or in libtool's .libs) that are still placeholders.
std::vector<std::string> ShellForce(const std::string& prog) {
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
  return FindPlaceholders(candidates);
}

// A configure step's compile check (CMake's try_compile, Meson's compiler
// checks, SCons' Configure) runs in a scratch directory of the configure
// tool, which reads only the exit status and whether the output appeared:
// an early "exit 0" would turn a missing header into a found one. Such a
// command is forced now, as one whose stderr goes to /dev/null.
bool InConfigureCheck(const std::string& cwd) {
  for (const char* dir : {"/CMakeFiles/CMakeScratch/", "/CMakeFiles/CMakeTmp", "/meson-private/", "/.sconf_temp"}) {
    if ((cwd + "/").find(dir) != std::string::npos) return true;
  }
  return false;
}

// Autoconf's and libtool's checks compile `conftest.c` (or .cc, .rc...) into
// `conftest`/`conftest.o` in the build directory itself, often with stderr
// piped into a file they compare (`2>&1 >/dev/null | sed 1d >conftest.err`):
// they want the compiler's exact exit status and messages, so they run for real.
bool IsAutoconfCheck(const std::vector<std::string>& args) {
  for (size_t i = 0; i < args.size(); ++i) {
    std::string_view a = args[i];
    if (a == "-o" && i + 1 < args.size()) a = args[++i];
    else if (a.starts_with("-o")) a.remove_prefix(2);
    else if (a.starts_with("-")) continue;
    size_t slash = a.rfind('/');
    if (a.substr(slash == std::string_view::npos ? 0 : slash + 1).starts_with("conftest")) return true;
  }
  return false;
}

}  // namespace

ModelReply HandleModelRequest(const Session& s, LocalStore* store, const ModelRequest& request) {
  ModelReply reply;
  if (request.argv.empty()) {
    reply.message = "empty command";
    return reply;
  }
  if (Status st = Become(request); !st.ok()) {
    reply.message = st.message();
    return reply;
  }
  if (request.kind == ModelRequest::Kind::kShell) {
    reply.kind = ModelReply::Kind::kLocal;
    if (request.argv.size() >= 2) reply.force = ShellForce(request.argv[1]);
    return reply;
  }
  auto it = s.config.tools.find(request.exe);
  if (it == s.config.tools.end()) {
    reply.message = request.exe + " is not a tool of this session";
    return reply;
  }
  std::string kind = it->second.first;
  const std::string& argv0 = request.argv[0];
  if (Toolchain::IsClang(kind)) {
    // clang and clang++ are one file; the name it was called by decides.
    std::string called = argv0.substr(argv0.rfind('/') + 1);
    kind = called.find("++") != std::string::npos ? "clangxx" : "clang";
  }
  std::vector<std::string> args(request.argv.begin() + 1, request.argv.end());
  Result<ModelResult> r = ModelResult{"no model for " + kind, {}};
  using Stderr = ModelRequest::Stderr;
  const bool wants_status = request.stderr_to == Stderr::kDiscarded || InConfigureCheck(request.cwd);
  s.log_thunks = !wants_status;
  const bool compiler = kind == "cc" || kind == "cxx" || Toolchain::IsClang(kind);
  if (request.stderr_to == Stderr::kCaptured) r = ModelResult{"its stderr goes to a file the build may read", {}};
  else if (compiler && IsAutoconfCheck(args)) r = ModelResult{"a configure check (conftest)", {}};
  else if (compiler) r = ModelGcc(store, s, kind, args, argv0);
  else if (kind == "ar") r = ModelAr(store, s, args);
  else if (kind == "ranlib" || kind == "strip") r = ModelInPlace(store, s, kind, args);
  s.log_thunks = true;
  if (r.ok() && r->local_reason.empty()) {
    reply.kind = ModelReply::Kind::kModelled;
    // The caller wants the real exit status: it forces these and waits.
    if (wants_status) reply.force = r->placeholders;
    reply.dep_file = r->dep_file;
    return reply;
  }
  // Run for real, after forcing any placeholder it names.
  reply.kind = ModelReply::Kind::kLocal;
  reply.message = kind + ": " + (r.ok() ? r->local_reason : r.status().message());
  if ((kind == "cc" || kind == "cxx") && ParseGccCommand(args).query) {
    s.LogQuery(reply.message, request.argv);
  } else {
    s.LogLocal(reply.message, request.argv);
  }
  std::vector<std::string> candidates;
  for (const auto& a : args) {
    if (!a.empty() && a[0] != '-') candidates.push_back(a);
    else if (a.starts_with("-o") && a.size() > 2) candidates.push_back(a.substr(2));
  }
  reply.force = FindPlaceholders(candidates);
  return reply;
}

int ServeModels(const std::string& session_dir, int listen_fd) {
  auto session = Session::Load(session_dir);
  if (!session.ok()) {
    std::fprintf(stderr, "gg-model-server: %s\n", session.status().message().c_str());
    return 1;
  }
  auto store = LocalStore::Open(session->config.store_dir);
  if (!store.ok()) {
    std::fprintf(stderr, "gg-model-server: %s\n", store.status().message().c_str());
    return 1;
  }
  // Each view lists again only what changed since the last (project_view.h).
  (void)EnableListingCache();
  // A server's first call lists the project and copies its files into the
  // store (zlib: ~150 files); the servers' first calls come at once (make
  // -j2), and each copied every file, the later copies thrown away. One
  // first call at a time: the next finds the files in the hash cache's log.
  UniqueFd first_call(open((session_dir + "/first-call.lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
  for (;;) {
    int fd = accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      return 0;  // shut down by gg infer: the build is over
    }
    // Only an optimization: without the lock the call is the same.
    if (first_call.valid()) {
      while (flock(first_call.get(), LOCK_EX) != 0 && errno == EINTR) {
      }
    }
    auto frame = ReadFrame(fd);
    auto request = frame ? DecodeRequest(*frame) : std::nullopt;
    ModelReply reply;
    if (request) reply = HandleModelRequest(*session, store->get(), *request);
    else reply.message = "malformed request";
    first_call = UniqueFd();  // unlocks: the later calls of this server run beside the others'
    (void)WriteFrame(fd, Encode(reply));
    close(fd);
  }
}

}  // namespace gg::models
