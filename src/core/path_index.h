// Paths (viewed, owned elsewhere) to positions: a fixed-size table with
// open addressing, one allocation however many paths. Thunk validation and
// the sandbox's input-view plan look up every input of every thunk run;
// node-based sets (an allocation per input) and sorting (an input order
// close to sorted is quicksort's worst case) were most of their time.
#pragma once

#include <bit>
#include <cstddef>
#include <functional>
#include <string_view>
#include <vector>

namespace gg {

class PathIndex {
 public:
  /// Room for `capacity` paths (more is a programming error).
  explicit PathIndex(size_t capacity) : slots_(std::bit_ceil(2 * capacity + 2)), mask_(slots_.size() - 1) {}

  /// Adds `path` at `position`; if it is there already, returns the
  /// position it has and changes nothing, else returns `position`.
  size_t Insert(std::string_view path, size_t position) {
    Slot& s = Find(path);
    if (s.used) return s.position;
    s = {path, position, true};
    return position;
  }
  /// The position of `path`, or nullptr.
  const size_t* Get(std::string_view path) const {
    const Slot& s = const_cast<PathIndex*>(this)->Find(path);
    return s.used ? &s.position : nullptr;
  }

 private:
  struct Slot {
    std::string_view path;
    size_t position = 0;
    bool used = false;
  };
  /// The slot holding `path`, or the empty one where it would go.
  Slot& Find(std::string_view path) {
    for (size_t i = std::hash<std::string_view>{}(path) & mask_;; i = (i + 1) & mask_) {
      Slot& s = slots_[i];
      if (!s.used || s.path == path) return s;
    }
  }

  std::vector<Slot> slots_;
  size_t mask_;
};

}  // namespace gg
