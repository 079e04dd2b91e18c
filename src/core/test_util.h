// Helpers for tests: a scratch directory removed at the end of the test.
#pragma once

#include <stdlib.h>

#include <memory>
#include <string>

#include "core/local_store.h"
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

/// A new store at DIR/.gg, or null if it cannot be made.
inline std::unique_ptr<LocalStore> NewStoreIn(const ScratchDir& dir) {
  if (!LocalStore::Init(dir.path() + "/.gg").ok()) return nullptr;
  auto s = LocalStore::Open(dir.path() + "/.gg");
  return s.ok() ? std::move(*s) : nullptr;
}

}  // namespace gg
