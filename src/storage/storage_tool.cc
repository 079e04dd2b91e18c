// gg-storage-tool: `push` and `pull` exactly as `gg push` / `gg pull`, for
// the storage tests and benchmarks in a build where the gg command does not
// list them yet.
#include <cstdio>
#include <cstring>

#include "cli/command.h"

namespace gg::cli {
int PushMain(int argc, char** argv);
int PullMain(int argc, char** argv);
}  // namespace gg::cli

int main(int argc, char** argv) {
  using namespace gg::cli;
  if (argc >= 2 && std::strcmp(argv[1], "push") == 0) return PushMain(argc - 1, argv + 1);
  if (argc >= 2 && std::strcmp(argv[1], "pull") == 0) return PullMain(argc - 1, argv + 1);
  std::fprintf(stderr, "usage: gg-storage-tool push|pull [--storage URI] NAME...\n");
  return kExitUsage;
}
