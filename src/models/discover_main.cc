// gg-discover: the program of a discovery thunk (see discovery.h). Runs in
// the sandbox, so it is linked statically and needs nothing but its inputs.
//
//   gg-discover [COMPILE...] TEMPLATE OUTPUT --deps DEP_FILE -- DRIVER ARG...
//   gg-discover [COMPILE...] TEMPLATE OUTPUT --deps-stdout DEP_FILE -- DRIVER ARG...
//   gg-discover [COMPILE...] TEMPLATE OUTPUT --reads FILE -- DRIVER ARG...
//   (each may start with --read FILE...: files the compile reads that no
//   list names, such as an assembler source `x.s`)
//
// runs DRIVER ARG... (the compile's preprocessor-only form), then writes the
// compile thunk to OUTPUT: with --deps, completed with the files listed in
// the dependency file the preprocessor wrote; with --reads, with FILE alone
// (the preprocessed text the preprocessor wrote, which the compile reads).
// --deps-stdout: the list is what the driver prints (`gcc -M a.c b.c`: with
// several sources gcc writes each one's list over the last one's -MF file).
//
// COMPILE (a substitute for the discovery thunk, coordinator/substitute.h):
//   --compile [--compile-deps FILE [--sunpro]] [--read FILE]...
// also runs the compile thunk's command here and moves each of its outputs
// TAG to .gg-tail/TAG. With --compile-deps the compile runs instead of the
// preprocessor and FILE is the complete list of what it read (the command's
// own -MD file, or with --sunpro the one gcc writes for
// $SUNPRO_DEPENDENCIES, which leaves out the sources: --read adds them);
// otherwise the preprocessor runs first, as the discovery thunk does, and
// then the compile (with --reads, on the preprocessor's text).
// When the run might not give the compile thunk's bytes (an assembler read
// CompleteCompile cannot name, discovery.h) it exits 3 without claiming anything, and the
// discovery thunk runs on its own.
//
// The preprocessed-text form's cheaper cold run and its cut-off (docs/models.md):
//   --compile ... --files-template FILE: the compile thunk is the one FILE
//     (a files-form template) completes, the compile runs once from the
//     source, and the text output (--reads FILE) is left empty: no
//     preprocessor runs.
//   --same-text OLD --old-compile FILE (split, --reads): if the preprocessor
//     writes the bytes of OLD, the compile thunk is the one in FILE (the
//     files-form compile recorded for that text, after kOldCompileMagic, discovery.h)
//     instead of the one compiling the text.
//   gg-discover --text-only -- DRIVER ARG...: runs the preprocessor alone.

#include <fcntl.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "core/path_util.h"
#include "core/substitute.h"
#include "models/discovery.h"

namespace {

constexpr int kDeclined = 3;


int Fail(const std::string& what) {
  fprintf(stderr, "gg-discover: %s\n", what.c_str());
  return 125;
}

// Runs argv; returns its exit status as a shell would (128+signal). Spawned
// (vfork semantics): a fork would copy this process's page tables only to
// throw them away at the exec, twice per compile.
int Run(std::vector<std::string> argv, const std::string& stdout_path, const std::string& sunpro = "") {
  std::vector<char*> cargv;
  for (auto& a : argv) cargv.push_back(a.data());
  cargv.push_back(nullptr);
  // gcc appends each source's list (with system headers) to this file.
  std::vector<std::string> env_strings;
  std::vector<char*> envp;
  for (char** e = environ; *e != nullptr; ++e) {
    if (!sunpro.empty() && std::strncmp(*e, "SUNPRO_DEPENDENCIES=", 20) == 0) continue;
    envp.push_back(*e);
  }
  if (!sunpro.empty()) {
    env_strings.push_back("SUNPRO_DEPENDENCIES=" + sunpro + " gg-deps");
    envp.push_back(env_strings.back().data());
  }
  envp.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  if (!stdout_path.empty()) {
    posix_spawn_file_actions_addopen(&actions, 1, stdout_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  }
  pid_t pid = 0;
  int err = posix_spawn(&pid, cargv[0], &actions, nullptr, cargv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  if (err != 0) {
    // The opening of stdout_path fails the spawn too, with its own errno.
    fprintf(stderr, "gg-discover: cannot run %s%s: %s\n", cargv[0],
            stdout_path.empty() ? "" : (" with its output to " + stdout_path).c_str(), strerror(err));
    return 127;
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return -1;
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int Decline(const std::string& why) {
  fprintf(stderr, "gg-discover: not compiling with discovery: %s; the discovery runs alone\n", why.c_str());
  return kDeclined;
}

// The compile thunk's sandbox makes the directory of each output before its
// program starts (sandbox/executor.cc), so gcc can write `.deps/x.Tpo` even
// when the view holds no `.deps` (automake's holds only dependency files,
// which the view leaves out: the directory vanishes). The combined run must
// give the compile the same directories, or it fails where C succeeds.
gg::Status MakeOutputDirs(const gg::Thunk& compile) {
  for (const auto& tag : compile.outputs) {
    if (tag.find('/') == std::string::npos) continue;
    GG_RETURN_IF_ERROR(gg::MakeDirs(gg::DirName(tag)));
  }
  return gg::Status::Ok();
}

struct Compile {
  bool on = false;
  std::string deps;  // where the compile writes its full list
  bool sunpro = false;
  std::vector<std::string> also_read;
  std::string files_template;  // the files-form template the compile completes, if not the text form's
};

struct SameText {
  std::string old_text;     // the text the recorded files-form compile saw
  std::string old_compile;  // that compile, after kOldCompileMagic
};

}  // namespace

int main(int argc, char** argv) {
  if (argc >= 4 && std::string(argv[1]) == "--text-only" && std::string(argv[2]) == "--") {
    int rc = Run(std::vector<std::string>(argv + 3, argv + argc), "");
    return rc < 0 ? Fail("cannot run the preprocessor: " + std::string(strerror(errno))) : rc;
  }
  Compile compile;
  SameText same;
  int i = 1;
  for (; i + 1 < argc; ++i) {
    std::string a = argv[i];
    if (a == "--files-template") {
      compile.files_template = argv[++i];
    } else if (a == "--same-text") {
      same.old_text = argv[++i];
    } else if (a == "--old-compile") {
      same.old_compile = argv[++i];
    } else if (a == "--compile") {
      compile.on = true;
    } else if (a == "--sunpro") {
      compile.sunpro = true;
    } else if (a == "--compile-deps") {
      compile.deps = argv[++i];
    } else if (a == "--read") {
      compile.also_read.push_back(argv[++i]);
    } else {
      break;
    }
  }
  argv += i - 1;
  argc -= i - 1;
  if (argc < 7 || std::string(argv[5]) != "--" ||
      (std::string(argv[3]) != "--deps" && std::string(argv[3]) != "--deps-stdout" &&
       std::string(argv[3]) != "--reads")) {
    return Fail("usage: gg-discover [--compile [--compile-deps FILE [--sunpro]] [--read FILE]... [--files-template FILE]] "
                "[--same-text OLD --old-compile FILE] TEMPLATE OUTPUT "
                "(--deps DEP_FILE | --deps-stdout DEP_FILE | --reads FILE) -- DRIVER ARG...\n"
                "       gg-discover --text-only -- DRIVER ARG...");
  }
  const std::string output = argv[2], list = argv[4];
  const bool dep_file = std::string(argv[3]) != "--reads";
  const bool dep_stdout = std::string(argv[3]) == "--deps-stdout";
  auto bytes = gg::ReadFile(argv[1]);
  if (!bytes.ok()) return Fail(bytes.status().message());
  auto tmpl = gg::models::CompileTemplate::Parse(*bytes);
  if (!tmpl.ok()) return Fail(std::string(argv[1]) + ": " + tmpl.status().message());
  if (!compile.files_template.empty()) {
    // The compile completed is the files form's; the text output stays empty.
    if (!compile.on || dep_file || compile.deps.empty()) {
      return Fail("--files-template goes with --compile --compile-deps and --reads");
    }
    auto files_bytes = gg::ReadFile(compile.files_template);
    if (!files_bytes.ok()) return Fail(files_bytes.status().message());
    tmpl = gg::models::CompileTemplate::Parse(*files_bytes);
    if (!tmpl.ok()) return Fail(compile.files_template + ": " + tmpl.status().message());
    if (gg::Status s = gg::WriteFileAtomic(list, ""); !s.ok()) return Fail(s.message());
  }

  std::vector<std::string> read;
  // The compile's own list when it has one; otherwise the preprocessor first.
  const bool compile_lists = compile.on && (dep_file || !compile.files_template.empty()) && !compile.deps.empty();
  if (compile_lists) {
    // One run: the compile itself, listing what it read.
    if (gg::Status s = MakeOutputDirs(tmpl->compile); !s.ok()) return Fail(s.message());
    int rc = Run(tmpl->compile.args, "", compile.sunpro ? compile.deps : "");
    if (rc != 0) return rc < 0 ? Fail("cannot run the compiler: " + std::string(strerror(errno))) : rc;
    auto deps = gg::ReadFile(compile.deps);
    if (!deps.ok()) return Fail("the compiler wrote no dependency list: " + deps.status().message());
    auto files = gg::models::ParseDepFile(*deps);
    if (!files.ok()) return Fail(compile.deps + ": " + files.status().message());
    read = compile.also_read;
    read.insert(read.end(), files->begin(), files->end());
  } else {
    std::vector<std::string> command(argv + 6, argv + argc);
    int rc = Run(command, dep_stdout ? list : "");
    if (rc != 0) {
      // The preprocessor's own message (a missing header, a syntax error in a
      // directive) is already on stderr; its status is the thunk's.
      return rc < 0 ? Fail("cannot run the preprocessor: " + std::string(strerror(errno))) : rc;
    }
    if (!same.old_text.empty() && !compile.on && !dep_file) {
      // The text the recorded files-form compile saw: that compile is this one.
      auto now = gg::ReadFile(list);
      auto old = gg::ReadFile(same.old_text);
      auto recorded = gg::ReadFile(same.old_compile);
      if (!now.ok() || !old.ok() || !recorded.ok()) {
        return Fail((!now.ok() ? now : !old.ok() ? old : recorded).status().message());
      }
      if (!recorded->starts_with(gg::models::kOldCompileMagic)) return Fail(same.old_compile + " is not a recorded compile");
      if (*now == *old) {
        gg::Status s = gg::WriteFileAtomic(output, recorded->substr(gg::models::kOldCompileMagic.size()));
        return s.ok() ? 0 : Fail(s.message());
      }
    }
    read = {list};
    if (dep_file) {
      auto deps = gg::ReadFile(list);
      if (!deps.ok()) return Fail("the preprocessor wrote no dependency list: " + deps.status().message());
      auto files = gg::models::ParseDepFile(*deps);
      if (!files.ok()) return Fail(list + ": " + files.status().message());
      read = std::move(*files);
    }
    read.insert(read.end(), compile.also_read.begin(), compile.also_read.end());
  }

  gg::models::DiscoveryHost host;
  host.read = [](const std::string& path) { return gg::ReadFile(path); };
  host.is_directory = [](const std::string& path) {
    struct stat st {};
    return stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
  };
  host.is_file = [](const std::string& path) {
    struct stat st {};
    return stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
  };
  std::string unnamed_read;
  auto completed = gg::models::CompleteCompile(*tmpl, read, host, &unnamed_read);
  if (!completed.ok()) return Fail(completed.status().message());
  if (compile.on && !unnamed_read.empty()) return Decline(unnamed_read);
  if (compile.on && !compile_lists) {
    if (gg::Status s = MakeOutputDirs(tmpl->compile); !s.ok()) return Fail(s.message());
    int rc = Run(tmpl->compile.args, "");
    if (rc != 0) return rc < 0 ? Fail("cannot run the compiler: " + std::string(strerror(errno))) : rc;
  }
  gg::Status s = gg::WriteFileAtomic(output, completed->Serialize());
  if (!s.ok()) return Fail(s.message());
  if (compile.on) {
    for (const auto& tag : completed->outputs) {
      std::string to = std::string(gg::kTailClaimPrefix) + tag;
      s = gg::MakeDirs(gg::DirName(to));
      if (!s.ok()) return Fail(s.message());
      if (rename(tag.c_str(), to.c_str()) != 0) {
        return Fail("the compile left no " + tag + ": " + strerror(errno));
      }
    }
  }
  return 0;
}
