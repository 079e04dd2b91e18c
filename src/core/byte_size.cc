#include "core/byte_size.h"

#include <cstdio>

namespace gg {

Result<uint64_t> ParseByteSize(std::string_view text) {
  auto bad = [&] {
    return Status::Invalid("'" + std::string(text) + "' is not a size (a positive number of bytes, or with k, M, G or T: 512M, 4G)");
  };
  size_t i = 0;
  uint64_t n = 0;
  for (; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i) {
    if (n > (~0ull - 9) / 10) return bad();
    n = n * 10 + static_cast<uint64_t>(text[i] - '0');
  }
  if (i == 0 || n == 0) return bad();
  int shift = 0;
  if (i < text.size()) {
    switch (text[i]) {
      case 'k': case 'K': shift = 10; ++i; break;
      case 'm': case 'M': shift = 20; ++i; break;
      case 'g': case 'G': shift = 30; ++i; break;
      case 't': case 'T': shift = 40; ++i; break;
      default: break;
    }
  }
  if (shift != 0 && i < text.size() && text[i] == 'i') ++i;
  if (i < text.size() && (text[i] == 'B' || text[i] == 'b')) ++i;
  if (i != text.size() || n > (~0ull >> shift)) return bad();
  return n << shift;
}

std::string FormatBytes(uint64_t b) {
  static const char* const kUnits[] = {"bytes", "KiB", "MiB", "GiB", "TiB", "PiB"};
  int u = 0;
  double v = static_cast<double>(b);
  while (v >= 1024 && u < 5) {
    v /= 1024;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, v == static_cast<double>(static_cast<uint64_t>(v)) ? "%.0f %s" : "%.1f %s", v,
                kUnits[u]);
  return buf;
}

}  // namespace gg
