#include <signal.h>

#include <cstdio>
#include <cstring>

#include "cli/command.h"

namespace gg::cli {

namespace {
std::atomic<bool> g_interrupted{false};
void OnInterrupt(int) { g_interrupted = true; }
}  // namespace

const std::atomic<bool>* CatchInterrupts() {
  struct sigaction sa {};
  sa.sa_handler = OnInterrupt;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  return &g_interrupted;
}

void PrintError(const Status& s) { std::fprintf(stderr, "gg: %s\n", s.message().c_str()); }

int Fail(const Status& s) {
  PrintError(s);
  switch (s.code()) {
    case Status::Code::kFailed:
    case Status::Code::kTimeout: return kExitThunkFailed;
    case Status::Code::kInvalid: return kExitUsage;
    default: return kExitError;
  }
}

bool WantsHelp(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--") == 0) return false;
    if (std::strcmp(argv[i], "--help") == 0 || std::strcmp(argv[i], "-h") == 0) return true;
  }
  return false;
}

std::unique_ptr<LocalStore> OpenStoreOrComplain() {
  auto store = LocalStore::OpenDefault();
  if (!store.ok()) {
    PrintError(store.status());
    return nullptr;
  }
  return std::move(*store);
}

std::string Bytes(uint64_t b) {
  char buf[32];
  if (b >= (1ull << 30)) std::snprintf(buf, sizeof buf, "%.1f GiB", b / double(1ull << 30));
  else if (b >= (1ull << 20)) std::snprintf(buf, sizeof buf, "%.1f MiB", b / double(1ull << 20));
  else if (b >= 1024) std::snprintf(buf, sizeof buf, "%.1f KiB", b / 1024.0);
  else std::snprintf(buf, sizeof buf, "%llu bytes", static_cast<unsigned long long>(b));
  return buf;
}

}  // namespace gg::cli
