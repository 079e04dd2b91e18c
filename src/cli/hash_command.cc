// `gg hash` and `gg collect`: naming and storing files.
#include <cstdio>
#include <cstring>

#include "cli/command.h"
#include "core/byte_size.h"
#include "core/collect.h"
#include "core/sha256.h"
#include "sandbox/sandbox.h"

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
  // No thunk could write a larger file, so none needs to read one.
  uint64_t max_size = sandbox::EffectiveLimits({}).file_bytes;
  int first = 1;
  std::string_view a = argc > 1 ? argv[1] : "";
  if (a == "--max-size" || a.starts_with("--max-size=")) {
    bool inline_value = a != "--max-size";
    std::string value = inline_value ? std::string(a.substr(11)) : argc > 2 ? argv[2] : "";
    auto size = ParseByteSize(value);
    if (!size.ok()) return Fail(size.status().Prefix("--max-size"));
    max_size = *size;
    first = inline_value ? 2 : 3;
  }
  if (WantsHelp(argc, argv) || argc <= first) {
    std::fprintf(argc <= first && !WantsHelp(argc, argv) ? stderr : stdout,
                 "usage: gg collect [--max-size SIZE] PATH...\n\nStores each file (or directory, as one tree "
                 "object) in the\nstore and prints its name, one per line.\n\n"
                 "  --max-size SIZE  refuse a file larger than SIZE (bytes, or with k, M, G, T)\n"
                 "                   (default: the per-file limit of thunks, $GG_LIMIT_FILE or 16G)\n");
    return argc <= first && !WantsHelp(argc, argv) ? kExitUsage : kExitOk;
  }
  auto store = OpenStoreOrComplain();
  if (!store) return kExitError;
  for (int i = first; i < argc; ++i) {
    auto name = CollectPath(store.get(), argv[i], max_size);
    if (!name.ok()) return Fail(name.status());
    std::printf("%s\n", name->str().c_str());
  }
  return kExitOk;
}

}  // namespace gg::cli
