// Paths (viewed, owned elsewhere) to positions: a fixed-size table with
// open addressing, one allocation however many paths. Thunk validation and
// the sandbox's input-view plan look up every input of every thunk run;
// node-based sets (an allocation per input) and sorting (an input order
// close to sorted is quicksort's worst case) were most of their time.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string_view>
#include <vector>

namespace gg {

class PathIndex {
 public:
  static constexpr size_t kAbsent = SIZE_MAX;

  /// Room for `capacity` paths (more is a programming error), each shorter
  /// than 4 GiB, at positions below 2^32 - 1 (a thunk is far smaller).
  /// Slots are 16 bytes and at most ~2/3 full: the table of a 10,000-input
  /// thunk is 256 KiB (zeroing and faulting in a larger one was a visible
  /// part of every force of such a thunk).
  explicit PathIndex(size_t capacity)
      : slots_(std::bit_ceil(capacity + capacity / 2 + 2)), mask_(slots_.size() - 1) {}

  /// Adds `path` at `position`; if it is there already, returns the
  /// position it has and changes nothing, else returns `position`.
  size_t Insert(std::string_view path, size_t position) {
    Slot& s = Find(path);
    if (s.position != 0) return s.position - 1;
    s = {path.data(), static_cast<uint32_t>(path.size()), static_cast<uint32_t>(position + 1)};
    return position;
  }
  /// The position of `path`, or kAbsent.
  size_t Get(std::string_view path) const {
    const Slot& s = const_cast<PathIndex*>(this)->Find(path);
    return s.position != 0 ? s.position - 1 : kAbsent;
  }

 private:
  struct Slot {
    const char* data = nullptr;
    uint32_t size = 0;
    uint32_t position = 0;  ///< + 1; 0: empty
  };
  /// The slot holding `path`, or the empty one where it would go.
  Slot& Find(std::string_view path) {
    for (size_t i = std::hash<std::string_view>{}(path) & mask_;; i = (i + 1) & mask_) {
      Slot& s = slots_[i];
      if (s.position == 0 || std::string_view(s.data, s.size) == path) return s;
    }
  }

  std::vector<Slot> slots_;
  size_t mask_;
};

}  // namespace gg
