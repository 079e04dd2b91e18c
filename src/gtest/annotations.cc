#include "gtest/annotations.h"

#include "core/path_util.h"
#include "gtest/lines.h"

namespace gg::gtest {

std::set<std::string> Annotations::FilesFor(const std::string& suite, const std::string& test) const {
  std::set<std::string> out;
  if (auto it = suite_files.find(suite); it != suite_files.end()) out = it->second;
  if (auto it = test_files.find(suite + "." + test); it != test_files.end()) out.insert(it->second.begin(), it->second.end());
  return out;
}

Result<Annotations> Annotations::Parse(std::string_view text) {
  Annotations a;
  std::string suite, test;
  int line_no = 0;
  for (std::string_view line : Lines(text)) {
    ++line_no;
    while (!line.empty() && (line.back() == ' ' || line.back() == '\r')) line.remove_suffix(1);
    size_t indent = line.find_first_not_of(' ');
    if (indent == std::string_view::npos || line[indent] == '#') continue;
    std::string_view body = line.substr(indent);
    // --gtest_list_tests comments ("  # GetParam() = 3") may be left in.
    if (size_t c = body.find("  #"); c != std::string_view::npos) {
      body = body.substr(0, c);
      while (!body.empty() && body.back() == ' ') body.remove_suffix(1);
    }
    auto bad = [&](const std::string& why) {
      return Status::Invalid("line " + std::to_string(line_no) + ": " + why + ": '" + std::string(line) + "'");
    };
    if (indent == 0) {
      if (!body.ends_with('.')) return bad("a suite line is 'Suite.'");
      suite = std::string(body.substr(0, body.size() - 1));
      test.clear();
      continue;
    }
    if (suite.empty()) return bad("a test or file before the first 'Suite.' line");
    if (body[0] != '@') {
      if (indent != 2) return bad("a test is indented by two spaces");
      test = std::string(body);
      continue;
    }
    std::string file(body.substr(1));
    if (!IsCleanRelativePath(file)) return bad("a file is a relative path without '.' or '..' parts");
    if (indent == 2) {
      a.suite_files[suite].insert(file);
      test.clear();  // `  @file` after a test belongs to the suite again
    } else if (indent == 4) {
      if (test.empty()) return bad("a test's file ('    @file') comes after its test line");
      a.test_files[suite + "." + test].insert(file);
    } else {
      return bad("'@file' is indented by two spaces (suite) or four (test)");
    }
  }
  return a;
}

std::string Annotations::Serialize() const {
  std::string out = "# gg test annotations: data files each test reads (docs/gg_test.md)\n";
  // Suites in order, each with its own files, then its tests'.
  std::map<std::string, std::map<std::string, const std::set<std::string>*>> tests_by_suite;
  std::set<std::string> suites;
  for (const auto& [suite, files] : suite_files) suites.insert(suite);
  for (const auto& [full, files] : test_files) {
    // Parameterized suites have '/' but never '.' in the suite name; split at
    // the first '.'.
    size_t dot = full.find('.');
    suites.insert(full.substr(0, dot));
    tests_by_suite[full.substr(0, dot)][full.substr(dot + 1)] = &files;
  }
  for (const auto& suite : suites) {
    out += suite + ".\n";
    if (auto it = suite_files.find(suite); it != suite_files.end()) {
      for (const auto& f : it->second) out += "  @" + f + "\n";
    }
    for (const auto& [test, files] : tests_by_suite[suite]) {
      out += "  " + test + "\n";
      for (const auto& f : *files) out += "    @" + f + "\n";
    }
  }
  return out;
}

std::string AnnotationsPathFor(const std::string& binary) { return binary + ".gg-test"; }

}  // namespace gg::gtest
