#include "core/exec_result.h"

namespace gg {
namespace {

constexpr std::pair<ExecResult::Kind, std::string_view> kKinds[] = {
    {ExecResult::Kind::kOk, "ok"},
    {ExecResult::Kind::kNonzeroExit, "nonzero_exit"},
    {ExecResult::Kind::kSignaled, "signaled"},
    {ExecResult::Kind::kMissingOutput, "missing_output"},
    {ExecResult::Kind::kTimedOut, "timed_out"},
    {ExecResult::Kind::kSetupFailed, "setup_failed"},
    {ExecResult::Kind::kCrashed, "crashed"},
    {ExecResult::Kind::kCancelled, "cancelled"},
};

}  // namespace

std::string ExecResult::KindName() const {
  switch (kind) {
    case Kind::kOk: return "ok";
    case Kind::kNonzeroExit: return "exited with status " + std::to_string(exit_code);
    case Kind::kSignaled: return "killed by signal " + std::to_string(signal);
    case Kind::kMissingOutput: return "missing output";
    case Kind::kTimedOut: return "timed out";
    case Kind::kSetupFailed: return "sandbox set-up failed";
    case Kind::kCrashed: return "executor crashed";
    case Kind::kCancelled: return "cancelled";
  }
  return "?";
}

std::string_view KindToString(ExecResult::Kind kind) {
  for (const auto& [k, s] : kKinds) {
    if (k == kind) return s;
  }
  return "crashed";  // unreachable: every kind is listed
}

Result<ExecResult::Kind> KindFromString(std::string_view s) {
  for (const auto& [k, name] : kKinds) {
    if (name == s) return k;
  }
  return Status::Corrupt("unknown result kind '" + std::string(s) +
                         "' (from a newer gg? run the same gg version on both sides)");
}

}  // namespace gg
