// What `gg lambda deploy` and `gg gcf package` share: finding the statically
// linked executor the functions run, and writing a function's files as a zip
// or a directory.
#pragma once

#include <string>
#include <vector>

#include "gg/status.h"

namespace gg::cli {

/// One file of a function's source: text held in gg, or a file on disk.
struct PackageFile {
  std::string name;   ///< its path in the package
  std::string text;   ///< its content, when `source` is empty
  std::string source; ///< a file to copy instead
  unsigned mode = 0644;
};

/// `--output PATH` and `--executor PATH` (either also as `--flag=PATH`; -o for
/// --output) from a packaging command's arguments (argv[0] is the
/// subcommand); false, after naming the unexpected argument on stderr, if
/// there is anything else.
bool ParsePackageArgs(int argc, char** argv, const char* command, std::string* output, std::string* executor);

/// The gg-lambda executor: `flag` if given, else $GG_LAMBDA_EXECUTOR, else
/// beside gg, else where this build left it.
Result<std::string> FindExecutor(const std::string& flag);

/// Writes `files` into the zip `out` (Unix modes kept).
Status WriteZip(const std::string& out, const std::vector<PackageFile>& files);
/// Writes `files` into the directory `out` (created if missing).
Status WriteDirectory(const std::string& out, const std::vector<PackageFile>& files);

}  // namespace gg::cli
