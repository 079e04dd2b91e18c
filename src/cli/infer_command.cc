// gg infer: run a build with the tools replaced by models (src/models).
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "cli/command.h"
#include "models/infer.h"

namespace gg::cli {
namespace {

constexpr char kUsage[] =
    "usage: gg infer [--root DIR]... [--canonical-paths] [--refresh-toolchain] [--] COMMAND [ARG...]\n\n"
    "Runs COMMAND (a build: make, ninja, cmake --build...) with gcc, g++, cc, c++,\n"
    "ar, ranlib and strip replaced by models that write thunks and leave\n"
    "placeholders where the outputs would be; `gg force` (or `gg build`) computes\n"
    "them. Commands a model does not understand run for real and are listed.\n\n"
    "  --root DIR            a project directory thunks may read (repeatable;\n"
    "                        the cwd and CMake's source dir are roots already)\n"
    "  --canonical-paths     thunks see the roots at /gg/root0, /gg/root1...: checkouts\n"
    "                        at different paths share results; debug info and\n"
    "                        __FILE__ then name those paths\n"
    "  --refresh-toolchain   capture the compilers and system files again\n\n"
    "Exit status: COMMAND's, or 3 if infer itself failed. See docs/models.md.\n";

}  // namespace

/// Parses the options shared by infer and build; returns the index of COMMAND.
int ParseInferOptions(int argc, char** argv, models::InferOptions* o, int* jobs) {
  int i = 1;
  for (; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--") {
      ++i;
      break;
    }
    if (a == "--root" && i + 1 < argc) o->roots.push_back(argv[++i]);
    else if (a == "--refresh-toolchain") o->refresh_toolchain = true;
    else if (a == "--canonical-paths") o->canonical_paths = true;
    else if (jobs && a == "-j" && i + 1 < argc) *jobs = std::atoi(argv[++i]);
    else if (jobs && a.starts_with("-j") && a.size() > 2) *jobs = std::atoi(a.c_str() + 2);
    else if (a.starts_with("-")) return -1;
    else break;
  }
  for (int k = i; k < argc; ++k) o->command.push_back(argv[k]);
  char exe[4096];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  exe[n > 0 ? n : 0] = '\0';
  o->gg_exe = exe;
  o->model_exe = models::DefaultModelExe(o->gg_exe);
  return o->command.empty() ? -1 : i;
}

/// gg build and gg infer without a store found ($GG_DIR, a .gg here or
/// above) use the per-user one, $XDG_CACHE_HOME/gg (default ~/.cache/gg),
/// shared by every project so the toolchain is captured once per user.
Status UseUserStoreIfNone() {
  if (LocalStore::FindDir().ok()) return Status::Ok();
  std::string dir;
  if (const char* xdg = getenv("XDG_CACHE_HOME"); xdg && xdg[0] == '/') dir = std::string(xdg) + "/gg";
  else if (const char* home = getenv("HOME"); home && *home) dir = std::string(home) + "/.cache/gg";
  else return Status::NotFound("no .gg found, and neither $XDG_CACHE_HOME nor $HOME is set: run 'gg init' or set GG_DIR");
  if (access((dir + "/blobs").c_str(), F_OK) != 0) {
    GG_RETURN_IF_ERROR(LocalStore::Init(dir).Prefix("creating the per-user store"));
    std::fprintf(stderr, "gg: no .gg here or above: using the per-user store %s (cap it with 'gg gc --max-size')\n",
                 dir.c_str());
  }
  setenv("GG_DIR", dir.c_str(), 1);
  return Status::Ok();
}

int InferMain(int argc, char** argv) {
  if (WantsHelp(argc, argv)) {
    std::printf("%s", kUsage);
    return kExitOk;
  }
  models::InferOptions options;
  if (ParseInferOptions(argc, argv, &options, nullptr) < 0) {
    std::fprintf(stderr, "%s", kUsage);
    return kExitUsage;
  }
  if (Status s = UseUserStoreIfNone(); !s.ok()) return Fail(s);
  auto store = OpenStoreOrComplain();
  if (!store) return kExitError;
  auto r = models::RunInfer(store.get(), options);
  if (!r.ok()) return Fail(r.status());
  std::fprintf(stderr, "gg: infer wrote %zu placeholders in %.2f s\n", r->thunks, r->seconds);
  models::PrintLocalSummary(*r, stderr);
  return r->exit_code;
}

}  // namespace gg::cli
