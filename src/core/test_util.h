// Helpers for tests: a scratch directory removed at the end of the test.
#pragma once

#include <stdlib.h>

#include <string>

#include "core/path_util.h"

namespace gg {

class ScratchDir {
 public:
  ScratchDir() {
    char tmpl[] = "/tmp/gg-test-XXXXXX";
    path_ = mkdtemp(tmpl);
  }
  ~ScratchDir() { RemoveTree(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace gg
