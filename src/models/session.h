// An infer session: what `gg infer` tells the models it starts (through the
// environment and a directory of small files), and what they tell it back
// (the thunks they wrote, the commands they ran for real).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "gg/status.h"
#include "models/canonical_paths.h"
#include "models/toolchain.h"

namespace gg::models {

/// Environment variables of a session.
inline constexpr char kSessionEnv[] = "GG_MODEL_SESSION";   ///< the session directory
inline constexpr char kPassthroughEnv[] = "GG_MODEL_PASSTHROUGH";  ///< set: every model runs the real tool
inline constexpr char kShellEnv[] = "GG_MODEL_SH";          ///< the real path of /bin/sh (overlaid)
inline constexpr char kRealShellEnv[] = "GG_MODEL_REAL_SH"; ///< where the real shell is still reachable
inline constexpr char kGgExeEnv[] = "GG_MODEL_GG";          ///< the gg binary, for `gg force`
/// The build's own stderr, "DEV:INO" (model_protocol.h, StderrOf): a tool's
/// stderr that is not it tells whether the build wants what the tool says.
inline constexpr char kBuildStderrEnv[] = "GG_MODEL_BUILD_STDERR";

struct SessionConfig {
  std::string store_dir;
  std::string gg_exe;
  std::vector<std::string> roots;
  bool canonical_paths = false;  ///< thunks see the roots at /gg/rootN
  /// Overlaid real path -> {kind, path where the real tool is reachable}.
  std::map<std::string, std::pair<std::string, std::string>> tools;

  std::string Serialize() const;
  static Result<SessionConfig> Parse(const std::string& text);
};

struct Session {
  std::string dir;
  SessionConfig config;
  Toolchain toolchain;
  /// Where thunks see the roots: empty unless config.canonical_paths.
  PathMap paths;
  /// False while the server models a command whose caller forces the thunks
  /// itself and waits (its stderr is discarded: it wants the exit status);
  /// LogThunk then logs nothing, so gg build neither forces them a second
  /// time nor checks an answer the build already got for real.
  mutable bool log_thunks = true;

  static Result<Session> Load(const std::string& dir);
  /// Appends one line to the session's log of thunks ("NAME\tPATH").
  void LogThunk(const std::string& name, const std::string& path) const;
  /// Appends one line to the log of commands that ran for real.
  void LogLocal(const std::string& reason, const std::vector<std::string>& argv) const;
  /// Appends one line to the log of queries (commands that write no file,
  /// like `gcc -dumpmachine`) that ran for real.
  void LogQuery(const std::string& reason, const std::vector<std::string>& argv) const;
  /// Path of the real tool for an overlaid path's kind.
  std::string RealTool(const std::string& kind) const;
};

/// Among `candidates` (paths as written, relative to the cwd), the ones that
/// are placeholders.
std::vector<std::string> FindPlaceholders(const std::vector<std::string>& candidates);

}  // namespace gg::models
