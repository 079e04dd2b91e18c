// Toolchain capture: the host's compiler, binutils, the files they read
// (cc1, crt files, libgcc, libc and its linker scripts, system headers) and
// the shared libraries and dynamic loader they need, as content-addressed
// thunk inputs at their real absolute paths. Directories that recur (the gcc
// install dir, /usr/include) are tree objects; the scattered library files
// are gathered into one synthetic tree per directory. Captured once per
// machine and cached in the store, keyed by the tools' paths and mtimes.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "core/local_store.h"
#include "gg/thunk.h"

namespace gg::models {

struct Toolchain {
  /// Tool kind ("cc", "cxx", "clang", "clangxx", "ar", "ranlib", "strip",
  /// "as", "ld", "nm", "objcopy") -> the real host file (symlinks resolved).
  std::map<std::string, std::string> tools;
  /// Everything a tool thunk needs besides its own inputs.
  std::vector<ThunkInput> inputs;
  /// The same for clang and clang++ (kinds "clang", "clangxx"): gcc's files
  /// (clang links with its crt files and libstdc++) plus clang's libraries,
  /// resource dir and the /etc files its distribution detection reads. Kept
  /// apart so gcc thunks do not carry clang's ~230 MB of libraries.
  std::vector<ThunkInput> clang_inputs;
  /// `clang -print-resource-dir` (its own headers and runtime).
  std::string clang_resource_dir;

  static bool IsClang(const std::string& kind) { return kind == "clang" || kind == "clangxx"; }
  const std::vector<ThunkInput>& InputsFor(const std::string& kind) const {
    return IsClang(kind) ? clang_inputs : inputs;
  }
  /// busybox (static), visible as /bin/sh and /usr/bin/sh in thunks.
  std::string shell;
  /// Directories captured whole (the gcc install dir, system include dirs).
  std::vector<std::string> whole_dirs;
  /// Where the linker looks for -lNAME after the -L dirs (gcc's
  /// `-print-search-dirs` "libraries", normalized, existing ones only).
  std::vector<std::string> lib_dirs;

  /// `inputs` plus host files outside the capture (libraries a link names,
  /// their symlink chains): each joins the synthetic tree of its directory,
  /// or a new tree for a directory the capture has none for. Files under
  /// `whole_dirs` are there already.
  Result<std::vector<ThunkInput>> InputsWith(LocalStore* store, const std::vector<std::string>& files,
                                             const std::string& kind) const;

  /// The value input holding a tool, at its real path (a thunk's function).
  Result<ThunkInput> ToolInput(const std::string& kind) const;
  std::string Serialize() const;
  static Result<Toolchain> Parse(const std::string& text);
};

/// Loads the cached capture for this machine's tools, or captures now.
/// `refresh` forces a new capture.
Result<Toolchain> CaptureToolchain(LocalStore* store, bool refresh = false);

/// What a dynamically linked program needs to start: its shared-library
/// closure (ldd) and the dynamic loader, as inputs at their real paths
/// (system libraries gathered in one tree per directory, as in a toolchain
/// capture; others, e.g. a build dir's, as single files).
Result<std::vector<ThunkInput>> SharedLibraryInputs(LocalStore* store, const std::string& binary);

/// `cc -print-search-dirs`, kept in the store's models/ and reused while the
/// driver (inode, size, times), $GCC_EXEC_PREFIX, $COMPILER_PATH,
/// $LIBRARY_PATH and the install directory it names (its times) are
/// unchanged: what the output depends on. `refresh` asks gcc again.
Result<std::string> GccSearchDirs(LocalStore* store, const std::string& cc, bool refresh = false);

/// Runs argv (no shell) and returns its stdout+stderr; fails on exit != 0
/// unless `allow_failure`.
Result<std::string> RunCapture(const std::vector<std::string>& argv, bool allow_failure = false);
/// `name` found in $PATH (or itself if it has a slash), or empty.
std::string FindInPath(const std::string& name);

}  // namespace gg::models
