// Small path and file helpers shared by the layers.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "gg/status.h"

namespace gg {

/// "a/b/c": not empty, no leading '/', no "", "." or ".." components, no NUL.
bool IsCleanRelativePath(std::string_view path);
/// "/a/b": absolute, with no "", "." or ".." components after the root.
bool IsCleanAbsolutePath(std::string_view path);

/// Reads a whole file.
Result<std::string> ReadFile(const std::string& path);
/// Reads a whole file into `buffer`, reusing its memory, and returns a view
/// of the bytes read (valid until `buffer` next changes). `buffer` is grown
/// when needed, never shrunk (what lies past the view is left over): gg
/// reads thunks of a megabyte one after another, and a fresh string for
/// each was zeroed and faulted in page by page before the read overwrote it.
Result<std::string_view> ReadFileInto(const std::string& path, std::string* buffer);
/// Writes `content` to `path` atomically: a temporary file beside it,
/// fsync-free (content addressing makes a torn file detectable), then rename.
Status WriteFileAtomic(const std::string& path, std::string_view content, int mode = 0644);
/// mkdir -p.
Status MakeDirs(const std::string& path, int mode = 0755);
/// rm -rf; missing is fine.
Status RemoveTree(const std::string& path);
/// The names in a directory, without "." and "..", in no particular order.
Result<std::vector<std::string>> ListDirectory(const std::string& dir);
/// The directory part of a path ("" for a bare name).
std::string DirName(std::string_view path);
/// What follows the last '/' (all of `path` without one).
std::string BaseName(std::string_view path);
/// An absolute, lexically normalized form of `path` relative to the cwd.
std::string AbsolutePath(const std::string& path);
/// `path` with every symlink resolved (realpath(3)); empty if it does not resolve.
std::string RealPath(const std::string& path);
/// A unique suffix for temporary files: pid, thread and a counter.
std::string UniqueSuffix();

}  // namespace gg
