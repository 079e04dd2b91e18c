// gg-discover: the program of a discovery thunk (see discovery.h). Runs in
// the sandbox, so it is linked statically and needs nothing but its inputs.
//
//   gg-discover TEMPLATE OUTPUT --deps DEP_FILE -- DRIVER ARG...
//   gg-discover TEMPLATE OUTPUT --deps-stdout DEP_FILE -- DRIVER ARG...
//   gg-discover TEMPLATE OUTPUT --reads FILE -- DRIVER ARG...
//
// runs DRIVER ARG... (the compile's preprocessor-only form), then writes the
// compile thunk to OUTPUT: with --deps, completed with the files listed in
// the dependency file the preprocessor wrote; with --reads, with FILE alone
// (the preprocessed text the preprocessor wrote, which the compile reads).
// --deps-stdout: the list is what the driver prints (`gcc -M a.c b.c`: with
// several sources gcc writes each one's list over the last one's -MF file).
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "core/path_util.h"
#include "core/sha256.h"
#include "models/discovery.h"

namespace {

int Fail(const std::string& what) {
  fprintf(stderr, "gg-discover: %s\n", what.c_str());
  return 125;
}

// Runs argv; returns its exit status as a shell would (128+signal).
int Run(std::vector<std::string>& argv, const std::string& stdout_path) {
  std::vector<char*> cargv;
  for (auto& a : argv) cargv.push_back(a.data());
  cargv.push_back(nullptr);
  pid_t pid = fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    if (!stdout_path.empty()) {
      int fd = open(stdout_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
      if (fd < 0 || dup2(fd, 1) < 0) {
        fprintf(stderr, "gg-discover: cannot write %s: %s\n", stdout_path.c_str(), strerror(errno));
        _exit(127);
      }
    }
    execv(cargv[0], cargv.data());
    fprintf(stderr, "gg-discover: cannot run %s: %s\n", cargv[0], strerror(errno));
    _exit(127);
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return -1;
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 7 || std::string(argv[5]) != "--" ||
      (std::string(argv[3]) != "--deps" && std::string(argv[3]) != "--deps-stdout" &&
       std::string(argv[3]) != "--reads")) {
    return Fail("usage: gg-discover TEMPLATE OUTPUT (--deps DEP_FILE | --deps-stdout DEP_FILE | --reads FILE) -- "
                "DRIVER ARG...");
  }
  const std::string output = argv[2], list = argv[4];
  const bool dep_file = std::string(argv[3]) != "--reads";
  const bool dep_stdout = std::string(argv[3]) == "--deps-stdout";
  auto bytes = gg::ReadFile(argv[1]);
  if (!bytes.ok()) return Fail(bytes.status().message());
  auto tmpl = gg::models::CompileTemplate::Parse(*bytes);
  if (!tmpl.ok()) return Fail(std::string(argv[1]) + ": " + tmpl.status().message());

  std::vector<std::string> command(argv + 6, argv + argc);
  int rc = Run(command, dep_stdout ? list : "");
  if (rc != 0) {
    // The preprocessor's own message (a missing header, a syntax error in a
    // directive) is already on stderr; its status is the thunk's.
    return rc < 0 ? Fail("cannot run the preprocessor: " + std::string(strerror(errno))) : rc;
  }
  std::vector<std::string> read = {list};
  if (dep_file) {
    auto deps = gg::ReadFile(list);
    if (!deps.ok()) return Fail("the preprocessor wrote no dependency list: " + deps.status().message());
    auto files = gg::models::ParseDepFile(*deps);
    if (!files.ok()) return Fail(list + ": " + files.status().message());
    read = std::move(*files);
  }

  gg::models::DiscoveryHost host;
  host.hash = [](const std::string& path) { return gg::HashFile(path); };
  host.is_directory = [](const std::string& path) {
    struct stat st {};
    return stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
  };
  auto compile = gg::models::CompleteCompile(*tmpl, read, host);
  if (!compile.ok()) return Fail(compile.status().message());
  gg::Status s = gg::WriteFileAtomic(output, compile->Serialize());
  if (!s.ok()) return Fail(s.message());
  return 0;
}
