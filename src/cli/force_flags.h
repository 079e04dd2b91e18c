// The options of every command that forces thunks (force, build, test):
// which engines, the shared store, the trace, the straggler timeout, the
// attempts and -j, parsed one way and turned into a ready ForceOptions.
#pragma once

#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "coordinator/coordinator.h"
#include "engines/engine_set.h"
#include "storage/remote_cache.h"
#include "storage/storage.h"

namespace gg::cli {

struct ForceFlags {
  engines::Config engines;      ///< --engine (repeatable), -j, --secret-file
  std::string storage_uri;      ///< --storage; $GG_STORAGE_URI when empty
  double straggler_seconds = 0; ///< --timeout; 0: adaptive
  int max_attempts = 3;         ///< --max-attempts
  std::string trace_path;       ///< --trace
  ThunkLimits limits;           ///< --limit-*: for limits a thunk does not set itself
};

/// The --limit-* options' lines for a command's --help (force's and
/// create-thunk's).
std::string LimitFlagsHelp();
/// If `name` is a --limit-* option, parses `value` into `limits` and returns
/// true; false if it is not one; an error for a bad value.
Result<bool> TakeLimitFlag(std::string_view name, const std::string& value, ThunkLimits* limits);

/// The flags' lines for a command's --help.
std::string ForceFlagsHelp();

/// If argv[*i] is one of the flags, stores it and moves *i past it and its
/// value ("--engine E", "--engine=E", "-j N", "-jN"); false if it is not one.
/// An error for a missing or bad value.
Result<bool> TakeForceFlag(int argc, char** argv, int* i, ForceFlags* flags);

/// For commands whose operands are a command line (gg build, gg test): takes
/// the flags out of the options before the first operand or "--", and returns
/// the rest of argv (argv[0] first). `valued` lists the command's own options
/// that take a separate value (e.g. "--root"), so their values are not taken
/// for the first operand.
Result<std::vector<char*>> ExtractForceFlags(int argc, char** argv, std::initializer_list<std::string_view> valued,
                                             ForceFlags* flags);

/// What a force needs, made from the flags. `options` points into the rest.
struct ForceSetup {
  std::unique_ptr<Storage> storage;
  std::unique_ptr<RemoteCache> shared;
  std::unique_ptr<engines::EngineSet> engines;
  ForceOptions options;  ///< engines, shared store, trace, timeout, attempts, interrupts caught
};

/// Opens the shared store (if any) and starts the engines.
Result<std::unique_ptr<ForceSetup>> SetUpForce(LocalStore* store, const ForceFlags& flags);

}  // namespace gg::cli
