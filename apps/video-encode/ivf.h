// The IVF container VP8 streams travel in: a 32-byte file header, then each
// frame as a 12-byte header (size, timestamp) and its bytes.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

namespace vx {

struct IvfHeader {
  char fourcc[4] = {'V', 'P', '8', '0'};
  uint16_t width = 0;
  uint16_t height = 0;
  uint32_t rate = 30;   ///< time base denominator
  uint32_t scale = 1;   ///< time base numerator
  uint32_t frames = 0;
};

struct IvfFrame {
  uint64_t pts = 0;
  std::vector<unsigned char> data;
};

/// Reads a whole IVF file; on failure returns false and sets `error`.
bool ReadIvf(const std::string& path, IvfHeader* header, std::vector<IvfFrame>* frames, std::string* error);

/// Writes the header (with header.frames as given) and the frames.
bool WriteIvf(FILE* f, const IvfHeader& header, const std::vector<IvfFrame>& frames);

}  // namespace vx
