// The defaults of a sandbox's limits and their overrides from the
// environment (one gg process, e.g. one `gg force`, sets them for all its
// thunks).
#include <cstdio>
#include <cstdlib>
#include <string>

#include "sandbox/sandbox.h"

namespace gg::sandbox {
namespace {

/// "4G", "512M", "64k", "1000": bytes (binary units); 0 if absent or bad.
uint64_t SizeFromEnv(const char* name) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') return 0;
  char* end = nullptr;
  unsigned long long n = std::strtoull(v, &end, 10);
  if (end == v) return 0;
  int shift = 0;
  switch (*end) {
    case 'k': case 'K': shift = 10; ++end; break;
    case 'm': case 'M': shift = 20; ++end; break;
    case 'g': case 'G': shift = 30; ++end; break;
    case 't': case 'T': shift = 40; ++end; break;
    default: break;
  }
  if (*end == 'i') ++end;
  if (*end == 'B' || *end == 'b') ++end;
  if (*end != '\0' || n > (~0ull >> shift)) return 0;
  return n << shift;
}

uint64_t Pick(uint64_t asked, const char* env, uint64_t dflt) {
  if (asked != 0) return asked;
  uint64_t from_env = SizeFromEnv(env);
  return from_env != 0 ? from_env : dflt;
}

}  // namespace

Limits EffectiveLimits(const Limits& asked) {
  Limits l;
  l.memory_bytes = Pick(asked.memory_bytes, "GG_LIMIT_MEMORY", kDefaultMemory);
  l.processes = Pick(asked.processes, "GG_LIMIT_PROCS", kDefaultProcesses);
  l.tmp_bytes = Pick(asked.tmp_bytes, "GG_LIMIT_TMP", kDefaultTmp);
  l.file_bytes = Pick(asked.file_bytes, "GG_LIMIT_FILE", kDefaultFile);
  return l;
}

std::string FormatBytes(uint64_t b) {
  static const char* const kUnits[] = {"bytes", "KiB", "MiB", "GiB", "TiB"};
  int u = 0;
  double v = static_cast<double>(b);
  while (v >= 1024 && u < 4) {
    v /= 1024;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, v == static_cast<double>(static_cast<uint64_t>(v)) ? "%.0f %s" : "%.1f %s", v,
                kUnits[u]);
  return buf;
}

}  // namespace gg::sandbox
