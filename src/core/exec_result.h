// How one run of a thunk ended, and its one encoding for the wire: the
// executor makes it, engines carry it (worker protocol, Lambda payloads),
// the coordinator reads it. See docs/engines.md.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/reduction.h"
#include "gg/status.h"

namespace gg {

/// The kinds are distinct so the coordinator can tell a program's failure
/// (final) from infrastructure trouble (retried).
struct ExecResult {
  enum class Kind {
    kOk,
    kNonzeroExit,    ///< the program exited with exit_code != 0
    kSignaled,       ///< the program died of `signal`
    kMissingOutput,  ///< it exited 0 but left no file for a declared output
    kTimedOut,       ///< it ran past the thunk's timeout and was killed
    kSetupFailed,    ///< inputs could not be materialized or the sandbox built
    kCrashed,        ///< the executor or sandbox died under it
    kCancelled,      ///< killed on request (a straggler's losing copy)
  };
  Kind kind = Kind::kCrashed;
  Reduction reduction;     ///< outputs and run time, for kOk
  int exit_code = -1;
  int signal = 0;
  std::string message;     ///< what went wrong, in words
  std::string stdout_tail; ///< the last few KiB the program wrote
  std::string stderr_tail;
  /// kSetupFailed only: the thunk itself cannot be set up (e.g. an input
  /// path through a symlink), so it would fail the same way anywhere.
  bool thunk_at_fault = false;

  bool ok() const { return kind == Kind::kOk; }
  /// Worth running again elsewhere: the failure was not the program's.
  bool infrastructure_failure() const {
    return (kind == Kind::kSetupFailed && !thunk_at_fault) || kind == Kind::kCrashed;
  }
  /// In words, for people: "exited with status 2".
  std::string KindName() const;
};

/// The stable spelling of a kind on the wire ("ok", "nonzero_exit", ...).
std::string_view KindToString(ExecResult::Kind kind);
/// The kind spelled `s`; an error for one this gg does not know (a newer peer).
Result<ExecResult::Kind> KindFromString(std::string_view s);

/// Copies a result into a protobuf message with the fields kind (string),
/// exit_code, signal, message, stdout_tail, stderr_tail, seconds, outputs
/// (tag, name, executable) and thunk_at_fault — the worker protocol's Done and
/// the cloud functions' Result share them, so both are written and read here.
template <typename Message>
void EncodeResult(const ExecResult& r, Message* m) {
  m->set_kind(std::string(KindToString(r.kind)));
  m->set_exit_code(r.exit_code);
  m->set_signal(r.signal);
  m->set_message(r.message);
  m->set_stdout_tail(r.stdout_tail);
  m->set_stderr_tail(r.stderr_tail);
  m->set_seconds(r.reduction.seconds);
  m->set_thunk_at_fault(r.thunk_at_fault);
  if (!r.ok()) return;
  for (const auto& o : r.reduction.outputs) {
    auto* out = m->add_outputs();
    out->set_tag(o.tag);
    out->set_name(o.name.str());
    out->set_executable(o.executable);
  }
}

/// The inverse of EncodeResult; an unknown kind, a bad output name or an ok
/// result without outputs is an error.
template <typename Message>
Result<ExecResult> DecodeResult(const Message& m) {
  ExecResult r;
  GG_ASSIGN_OR_RETURN(r.kind, KindFromString(m.kind()));
  r.exit_code = m.exit_code();
  r.signal = m.signal();
  r.message = m.message();
  r.stdout_tail = m.stdout_tail();
  r.stderr_tail = m.stderr_tail();
  r.reduction.seconds = m.seconds();
  // Only a set-up failure can be the thunk's own; a peer saying so of any
  // other kind would turn it into a retried or final failure wrongly.
  r.thunk_at_fault = m.thunk_at_fault() && r.kind == ExecResult::Kind::kSetupFailed;
  for (const auto& o : m.outputs()) {
    GG_ASSIGN_OR_RETURN(Name name, Name::Parse(o.name()));
    r.reduction.outputs.push_back({o.tag(), name, o.executable()});
  }
  if (r.ok() && r.reduction.outputs.empty()) return Status::Corrupt("a result of kind ok has no outputs");
  return r;
}

}  // namespace gg
