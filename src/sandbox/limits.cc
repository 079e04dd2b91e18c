// The defaults of a sandbox's limits and their overrides from the
// environment (one gg process, e.g. one `gg force`, sets them for all its
// thunks). A thunk's own limits and `gg force --limit-*` come first; see
// docs/sandbox.md, "Limits".
#include <cstdlib>
#include <string>

#include "core/byte_size.h"
#include "sandbox/sandbox.h"

namespace gg::sandbox {
namespace {

/// The variable's size, or 0 if it is unset or not a size.
uint64_t SizeFromEnv(const char* name) {
  const char* v = std::getenv(name);
  if (v == nullptr) return 0;
  auto size = ParseByteSize(v);
  return size.ok() ? *size : 0;
}

uint64_t Pick(uint64_t asked, const char* env, uint64_t dflt) {
  if (asked != 0) return asked;
  uint64_t from_env = SizeFromEnv(env);
  return from_env != 0 ? from_env : dflt;
}

uint64_t Or(uint64_t a, uint64_t b) { return a != 0 ? a : b; }

}  // namespace

Limits EffectiveLimits(const Limits& asked) {
  Limits l;
  l.memory_bytes = Pick(asked.memory_bytes, "GG_LIMIT_MEMORY", kDefaultMemory);
  l.processes = Pick(asked.processes, "GG_LIMIT_PROCS", kDefaultProcesses);
  l.tmp_bytes = Pick(asked.tmp_bytes, "GG_LIMIT_TMP", kDefaultTmp);
  l.file_bytes = Pick(asked.file_bytes, "GG_LIMIT_FILE", kDefaultFile);
  l.workdir_bytes = Pick(asked.workdir_bytes, "GG_LIMIT_WORKDIR", kDefaultWorkdirBytes);
  return l;
}

uint64_t FileCap(uint64_t bytes) { return bytes / kBytesPerFile > kMinFiles ? bytes / kBytesPerFile : kMinFiles; }

Limits Prefer(const Limits& p, const Limits& f) {
  return {Or(p.memory_bytes, f.memory_bytes), Or(p.processes, f.processes), Or(p.tmp_bytes, f.tmp_bytes),
          Or(p.file_bytes, f.file_bytes), Or(p.workdir_bytes, f.workdir_bytes)};
}

}  // namespace gg::sandbox
