// Learning a test's data files: run it once on this machine under strace
// (Debian's), keep the files it opened for reading under the data roots. The
// same trace explains a sandboxed failure: a file the test opens here but was
// not given there.
#pragma once

#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "gg/status.h"

namespace gg::gtest {

/// What a traced run opened: absolute, lexically normal paths.
struct OpenedFiles {
  std::set<std::string> read;     ///< opened successfully, read-only
  std::set<std::string> written;  ///< opened for writing or created: the test's own files
};

/// Parses `strace -f -y -e trace=open,openat,openat2,creat` output; relative
/// paths are resolved against `cwd` (or the directory strace -y shows for the
/// dirfd). Failed opens are left out.
OpenedFiles ParseStraceOpens(std::string_view trace, const std::string& cwd);

/// How one test (or shard) runs locally: the same filter and environment as
/// in its thunk, from `cwd`.
struct LocalRun {
  std::string binary;
  std::string filter;              ///< --gtest_filter
  std::vector<std::string> env;    ///< added to this process's environment
  std::string cwd;
  double timeout_seconds = 0;      ///< 0: none
};

/// Runs it under strace; fails if strace is missing or could not start (the
/// test failing is fine: its opens are still what it needs).
Result<OpenedFiles> TraceRun(const LocalRun& run, const std::string& scratch_dir);

/// The data files among `opened`: regular files read (never written) under one
/// of `roots`, relative to the first root holding them.
std::set<std::string> DataFilesUnder(const OpenedFiles& opened, const std::vector<std::string>& roots);

}  // namespace gg::gtest
