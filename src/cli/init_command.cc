#include <cstdio>

#include "cli/command.h"
#include "core/path_util.h"

namespace gg::cli {

int InitMain(int argc, char** argv) {
  if (WantsHelp(argc, argv)) {
    std::printf("usage: gg init\n\nCreates the .gg store in the current directory (or $GG_DIR if set).\n");
    return kExitOk;
  }
  if (argc != 1) {
    std::fprintf(stderr, "usage: gg init\n");
    return kExitUsage;
  }
  const char* env = std::getenv("GG_DIR");
  std::string dir = env != nullptr && *env != '\0' ? AbsolutePath(env) : AbsolutePath(".gg");
  if (Status s = LocalStore::Init(dir); !s.ok()) return Fail(s);
  std::printf("initialized gg store in %s\n", dir.c_str());
  return kExitOk;
}

}  // namespace gg::cli
