// What gg-model (the small client overlaid on each tool) and the model
// server (`gg-model-server`, started by `gg infer`) say to each other over
// the session's unix socket: one request and one reply per connection.
// The server keeps the session, toolchain, store and view cache in memory,
// so a model call costs a connect and a few ms of work, not a process start
// that loads them again. See docs/models.md.
//
// Framing: a u32 length (host order: both ends run on one machine), then
// fields: a u8 kind, then strings (u32 length + bytes) and string lists
// (u32 count + strings). Depends on nothing but the C++ library, because
// gg-model is linked statically and must start in well under a millisecond.
#pragma once

#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gg::models {

struct ModelRequest {
  enum class Kind : uint8_t { kTool = 1, kShell = 2 };
  Kind kind = Kind::kTool;
  std::string exe;                ///< the overlaid path that ran (/proc/self/exe)
  std::string cwd;
  std::vector<std::string> argv;  ///< argv[0] as called
  std::vector<std::string> env;   ///< "NAME=value", the caller's whole environment
  /// Where the tool's stderr goes, next to the build's own (StderrOf).
  enum class Stderr : uint8_t {
    kShown = 0,      ///< the build's stderr, a terminal, a pipe (ninja's), make -O's unlinked file
    kDiscarded = 1,  ///< /dev/null while the build's is not: the caller may want only
                     ///< the exit status (`$(CC) ... 2>/dev/null && echo yes`), which a
                     ///< model answering at once cannot know; the client forces the
                     ///< thunk and waits (libtool's second compile looks the same, and
                     ///< stays a memoized thunk)
    kCaptured = 2,   ///< a file of the build's (configure's `2>conftest.err`): what the
                     ///< compiler says is read, so the command runs for real
  };
  Stderr stderr_to = Stderr::kShown;
};

/// "DEV:INO" of what `fd` is open on ("" if fstat fails).
inline std::string FileIdOf(int fd) {
  struct stat st {};
  if (fstat(fd, &st) != 0) return "";
  return std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino);
}

/// Where a tool's stderr `fd` goes, given the build's (FileIdOf its stderr).
inline ModelRequest::Stderr StderrOf(int fd, const std::string& build_stderr) {
  struct stat st {};
  if (fstat(fd, &st) != 0 || FileIdOf(fd) == build_stderr) return ModelRequest::Stderr::kShown;
  if (S_ISCHR(st.st_mode) && st.st_rdev == makedev(1, 3)) return ModelRequest::Stderr::kDiscarded;
  if (S_ISREG(st.st_mode) && st.st_nlink > 0) return ModelRequest::Stderr::kCaptured;
  return ModelRequest::Stderr::kShown;
}

struct ModelReply {
  enum class Kind : uint8_t { kModelled = 1, kLocal = 2, kError = 3 };
  Kind kind = Kind::kError;
  /// kLocal: placeholders to force (`gg force`) before the real tool runs,
  /// as the command names them; kShell: the program and libraries to force;
  /// kModelled: the command's own placeholders, to force now and wait for
  /// (Stderr::kDiscarded), its exit status being the force's.
  std::vector<std::string> force;
  std::string message;  ///< kError: what went wrong; kLocal: why not modelled
  /// kModelled compile: the placeholder of the dependency file it writes
  /// (absolute), "" if none. A compile ninja runs waits for it: ninja reads
  /// it the moment the command exits (model_main.cc).
  std::string dep_file;
};

/// Environment variable: `gg build`'s force service (force_service.h), for
/// gg-model's forces while the build runs.
inline constexpr char kForceSocketEnv[] = "GG_BUILD_FORCE_SOCKET";

/// gg-model to `gg build`'s force service: force these placeholders
/// (absolute paths) through the build's own force. One request and one
/// answer per connection.
struct ForceRequest {
  std::vector<std::string> paths;
};
struct ForceReply {
  enum class Kind : uint8_t {
    kForced = 1,   ///< each placeholder holds its real output now
    kNotHere = 2,  ///< not forced here (another store's placeholder, gg build's force has
                   ///< stopped): force them yourself, with `gg force`
    kFailed = 3,   ///< a thunk failed (`message` says which and why): the command's answer
  };
  Kind kind = Kind::kNotHere;
  std::string message;
};

std::string Encode(const ModelRequest& r);
std::string Encode(const ModelReply& r);
/// nullopt when the bytes are not one whole, well-formed message.
std::optional<ModelRequest> DecodeRequest(std::string_view frame);
std::optional<ModelReply> DecodeReply(std::string_view frame);
std::string Encode(const ForceRequest& r);
std::optional<ForceRequest> DecodeForceRequest(std::string_view frame);
std::string Encode(const ForceReply& r);
std::optional<ForceReply> DecodeForceReply(std::string_view frame);

/// Writes `payload` with its length in front; false on a write error.
bool WriteFrame(int fd, const std::string& payload);
/// Reads one frame (at most `max` bytes); nullopt on EOF, error or too large.
std::optional<std::string> ReadFrame(int fd, size_t max = 64 << 20);

}  // namespace gg::models
