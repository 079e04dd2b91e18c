// A thunk: a deterministic program invocation over named inputs. This is the
// public C++ view of the format; programs build thunks with it, serialize
// them, and name them by the hash of their bytes. See docs/thunk_format.md.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "gg/name.h"
#include "gg/status.h"

namespace gg {

/// An object the thunk may see and where it sees it.
struct ThunkInput {
  std::string name;          ///< V.../D... object, or T.../T...#tag thunk output
  std::string path;          ///< relative: under workdir; absolute: in the sandbox
  bool executable = false;   ///< materialized with mode 0555

  bool operator==(const ThunkInput&) const = default;
};

/// What one run of a thunk may use; 0 leaves a limit to the force (`gg force
/// --limit-*`, then GG_LIMIT_*, then the default: docs/sandbox.md, "Limits").
struct ThunkLimits {
  uint64_t memory_bytes = 0;   ///< address space
  uint64_t processes = 0;      ///< processes at once
  uint64_t tmp_bytes = 0;      ///< size of /tmp and of /dev/shm, each
  uint64_t file_bytes = 0;     ///< largest file it may write
  uint64_t workdir_bytes = 0;  ///< total size of what it writes in its working directory

  bool any() const { return memory_bytes || processes || tmp_bytes || file_bytes || workdir_bytes; }
  bool operator==(const ThunkLimits&) const = default;
};

/// The smallest memory limit a thunk may ask for.
inline constexpr uint64_t kMinMemoryLimit = 16ull << 20;
/// Sizes up to 1 PiB, a memory limit of at least 16 MiB, processes up to
/// 2^22 (the kernel's pid maximum); 0 (no limit of its own) is always valid.
Status ValidateLimits(const ThunkLimits& limits);

inline constexpr std::string_view kDefaultWorkdir = "/work";
inline constexpr uint32_t kThunkFormatVersion = 1;
/// The longest timeout a thunk may have: 30 days.
inline constexpr uint64_t kMaxTimeoutMs = 30ull * 24 * 3600 * 1000;

/// A timeout given in seconds as milliseconds: 0 (no limit), or a finite
/// number from 0.001 (1 ms) to 30 days; anything else is an error.
Result<uint64_t> TimeoutMsFromSeconds(double seconds);

struct Thunk {
  std::string function;            ///< name of the executable; also in `inputs`
  std::vector<std::string> args;   ///< argv, argv[0] included
  std::vector<std::string> env;    ///< NAME=VALUE; the whole environment
  std::vector<ThunkInput> inputs;
  std::vector<std::string> outputs;  ///< tags, files left in workdir; first is the main one
  uint64_t timeout_ms = 0;           ///< 0: no limit; at most kMaxTimeoutMs
  std::string workdir;               ///< absolute; empty means /work
  ThunkLimits limits;                ///< none set: not serialized (the name stays as without)

  // Building (each returns *this, so calls chain). One call covers every kind
  // of input, since the name says what it is: a value (V...), a tree (D...),
  // or a thunk's output (T... for the first, T...#tag for another).

  /// Makes `exe` (a value) the program to run, seen at `path`.
  Thunk& SetFunction(const Name& exe, std::string path) {
    function = exe.str();
    return AddInput(exe, std::move(path), /*executable=*/true);
  }
  /// Lets the thunk see `object` at `path` (relative: under the workdir).
  Thunk& AddInput(const Name& object, std::string path, bool executable = false) {
    inputs.push_back({object.str(), std::move(path), executable});
    return *this;
  }
  /// "@{GG:NAME}": in args and env, replaced by where input NAME is seen.
  static std::string Placeholder(const Name& input) { return "@{GG:" + input.str() + "}"; }

  /// The magic header followed by the protobuf message.
  std::string Serialize() const;
  /// Parses and validates; errors say what is malformed.
  static Result<Thunk> Parse(std::string_view bytes);
  /// The thunk's name: the hash of Serialize().
  Name name() const;

  /// Checks the invariants Parse relies on (names parse, paths are sane,
  /// the function is an executable input, outputs are unique).
  Status Validate() const;

  std::string effective_workdir() const {
    return workdir.empty() ? std::string(kDefaultWorkdir) : workdir;
  }
  /// Where an input is seen inside the sandbox, as an absolute path.
  std::string SandboxPath(const ThunkInput& input) const;
  /// Replaces every `@{GG:NAME}` in `text` by the sandbox path of input NAME.
  Result<std::string> ExpandPlaceholders(std::string_view text) const;
  /// The input that holds the function, or nullptr.
  const ThunkInput* FunctionInput() const;
  /// Names of the thunks whose outputs this thunk consumes.
  std::vector<Name> ThunkDependencies() const;

  bool operator==(const Thunk&) const = default;
};

}  // namespace gg
