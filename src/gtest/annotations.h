// The data files each test reads, in the original gg's annotations format:
// the output of --gtest_list_tests with `@file` lines added (see
// docs/gg_test.md):
//
//   # comment
//   Suite.
//     @testdata/shared.txt        a file for every test of Suite
//     Test
//       @testdata/only_this.txt   a file for Suite.Test alone
//
// Paths are relative to a data root (gg test --data-root, default the
// current directory) and keep their directory structure in the sandbox.
#pragma once

#include <map>
#include <set>
#include <string>
#include <string_view>

#include "gg/status.h"

namespace gg::gtest {

struct Annotations {
  std::map<std::string, std::set<std::string>> suite_files;  ///< suite -> files
  std::map<std::string, std::set<std::string>> test_files;   ///< Suite.Test -> files

  /// The files of one test: its suite's and its own.
  std::set<std::string> FilesFor(const std::string& suite, const std::string& test) const;
  bool empty() const { return suite_files.empty() && test_files.empty(); }

  /// Errors name the line and what it should look like.
  static Result<Annotations> Parse(std::string_view text);
  /// Every suite and test that has files, sorted; Parse(Serialize()) == *this.
  std::string Serialize() const;
};

/// The annotations file gg test reads (and --learn writes) for `binary`:
/// `BINARY.gg-test` beside it.
std::string AnnotationsPathFor(const std::string& binary);

}  // namespace gg::gtest
