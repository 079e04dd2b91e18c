// `gg hash` and `gg collect`: naming and storing files.
#include <cstdio>
#include <cstring>

#include "cli/command.h"
#include "core/collect.h"
#include "core/sha256.h"

namespace gg::cli {

int HashMain(int argc, char** argv) {
  if (WantsHelp(argc, argv) || argc < 2) {
    std::fprintf(argc < 2 && !WantsHelp(argc, argv) ? stderr : stdout,
                 "usage: gg hash FILE...\n\nPrints the name of each FILE's content, one per line.\n"
                 "Uses the store's hash cache when there is a store, so unchanged files are not re-read.\n");
    return argc < 2 && !WantsHelp(argc, argv) ? kExitUsage : kExitOk;
  }
  auto store = LocalStore::OpenDefault();
  for (int i = 1; i < argc; ++i) {
    auto name = store.ok() ? (*store)->hash_cache().Hash(argv[i]) : HashFile(argv[i]);
    if (!name.ok()) return Fail(name.status());
    std::printf("%s\n", name->str().c_str());
  }
  return kExitOk;
}

int CollectMain(int argc, char** argv) {
  if (WantsHelp(argc, argv) || argc < 2) {
    std::fprintf(argc < 2 && !WantsHelp(argc, argv) ? stderr : stdout,
                 "usage: gg collect PATH...\n\nStores each file (or directory, as one tree object) in the\n"
                 "store and prints its name, one per line.\n");
    return argc < 2 && !WantsHelp(argc, argv) ? kExitUsage : kExitOk;
  }
  auto store = OpenStoreOrComplain();
  if (!store) return kExitError;
  for (int i = 1; i < argc; ++i) {
    auto name = CollectPath(store.get(), argv[i]);
    if (!name.ok()) return Fail(name.status());
    std::printf("%s\n", name->str().c_str());
  }
  return kExitOk;
}

}  // namespace gg::cli
