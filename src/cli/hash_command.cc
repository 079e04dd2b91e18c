// `gg hash` and `gg collect`: naming and storing files.
#include <cstdio>
#include <cstring>

#include "cli/command.h"
#include "core/byte_size.h"
#include "core/collect.h"
#include "core/sha256.h"
#include "sandbox/sandbox.h"

namespace gg::cli {

namespace {

/// Parses a leading `--max-size SIZE` (or `--max-size=SIZE`): sets *max and
/// returns the index of the first path, or -1 after reporting a bad size.
int MaxSizeOption(int argc, char** argv, uint64_t* max) {
  // No thunk could write a larger file, so none needs to read one.
  *max = sandbox::EffectiveLimits({}).file_bytes;
  std::string_view a = argc > 1 ? argv[1] : "";
  if (a != "--max-size" && !a.starts_with("--max-size=")) return 1;
  bool inline_value = a != "--max-size";
  std::string value = inline_value ? std::string(a.substr(11)) : argc > 2 ? argv[2] : "";
  auto size = ParseByteSize(value);
  if (!size.ok()) {
    Fail(size.status().Prefix("--max-size"));
    return -1;
  }
  *max = *size;
  return inline_value ? 2 : 3;
}

constexpr const char* kMaxSizeHelp =
    "  --max-size SIZE  refuse a file larger than SIZE (bytes, or with k, M, G, T)\n"
    "                   (default: the per-file limit of thunks, $GG_LIMIT_FILE or 16G)\n";

}  // namespace

int HashMain(int argc, char** argv) {
  uint64_t max_size = 0;
  int first = MaxSizeOption(argc, argv, &max_size);
  if (first < 0) return kExitError;
  if (WantsHelp(argc, argv) || argc <= first) {
    std::fprintf(argc <= first && !WantsHelp(argc, argv) ? stderr : stdout,
                 "usage: gg hash [--max-size SIZE] FILE...\n\nPrints the name of each FILE's content, one per "
                 "line.\nUses the store's hash cache when there is a store, so unchanged files are not re-read.\n"
                 "FIFOs, sockets, devices and directories are refused, like gg collect refuses them.\n\n%s",
                 kMaxSizeHelp);
    return argc <= first && !WantsHelp(argc, argv) ? kExitUsage : kExitOk;
  }
  auto store = LocalStore::OpenDefault();
  for (int i = first; i < argc; ++i) {
    auto name = HashRegularFile(store.ok() ? store->get() : nullptr, argv[i], max_size);
    if (!name.ok()) return Fail(name.status());
    std::printf("%s\n", name->str().c_str());
  }
  return kExitOk;
}

int CollectMain(int argc, char** argv) {
  uint64_t max_size = 0;
  int first = MaxSizeOption(argc, argv, &max_size);
  if (first < 0) return kExitError;
  if (WantsHelp(argc, argv) || argc <= first) {
    std::fprintf(argc <= first && !WantsHelp(argc, argv) ? stderr : stdout,
                 "usage: gg collect [--max-size SIZE] PATH...\n\nStores each file (or directory, as one tree "
                 "object) in the\nstore and prints its name, one per line.\n\n%s",
                 kMaxSizeHelp);
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
