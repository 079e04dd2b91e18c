// Naming content without storing it: for data in memory use
// Name::ForContent; for large data, stream it through a Hasher.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "gg/name.h"
#include "gg/status.h"

namespace gg {

/// Computes the name of content given in pieces, in order.
class Hasher {
 public:
  Hasher();
  ~Hasher();
  Hasher(Hasher&&) noexcept;
  Hasher& operator=(Hasher&&) noexcept;

  void Update(std::string_view data);
  /// The name of everything passed to Update; the hasher is then spent.
  Name Finish();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// The name of a file's content, read once in large chunks.
Result<Name> NameOfFile(const std::string& path);

}  // namespace gg
