#include "ivf.h"

#include <cerrno>
#include <cstring>
#include <memory>

namespace vx {
namespace {

uint16_t Le16(const unsigned char* p) { return static_cast<uint16_t>(p[0] | p[1] << 8); }
uint32_t Le32(const unsigned char* p) {
  return static_cast<uint32_t>(p[0]) | static_cast<uint32_t>(p[1]) << 8 | static_cast<uint32_t>(p[2]) << 16 |
         static_cast<uint32_t>(p[3]) << 24;
}
void Put16(unsigned char* p, uint16_t v) {
  p[0] = v & 0xff;
  p[1] = v >> 8;
}
void Put32(unsigned char* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = (v >> (8 * i)) & 0xff;
}

// A stream larger than this is not a chunk of ours: refuse rather than
// allocate whatever a corrupt size field says.
constexpr uint32_t kMaxFrameBytes = 64u << 20;

}  // namespace

bool ReadIvf(const std::string& path, IvfHeader* header, std::vector<IvfFrame>* frames, std::string* error) {
  std::unique_ptr<FILE, int (*)(FILE*)> f(std::fopen(path.c_str(), "rb"), std::fclose);
  if (!f) {
    *error = path + ": cannot open: " + std::strerror(errno);
    return false;
  }
  unsigned char h[32];
  if (std::fread(h, 1, 32, f.get()) != 32 || std::memcmp(h, "DKIF", 4) != 0 || Le16(h + 6) != 32) {
    *error = path + ": not an IVF file (no 32-byte DKIF header)";
    return false;
  }
  std::memcpy(header->fourcc, h + 8, 4);
  header->width = Le16(h + 12);
  header->height = Le16(h + 14);
  header->rate = Le32(h + 16);
  header->scale = Le32(h + 20);
  header->frames = Le32(h + 24);
  frames->clear();
  unsigned char fh[12];
  size_t n;
  while ((n = std::fread(fh, 1, 12, f.get())) == 12) {
    uint32_t size = Le32(fh);
    if (size > kMaxFrameBytes) {
      *error = path + ": frame " + std::to_string(frames->size()) + " claims " + std::to_string(size) + " bytes";
      return false;
    }
    IvfFrame frame;
    frame.pts = static_cast<uint64_t>(Le32(fh + 4)) | static_cast<uint64_t>(Le32(fh + 8)) << 32;
    frame.data.resize(size);
    if (std::fread(frame.data.data(), 1, size, f.get()) != size) {
      *error = path + ": frame " + std::to_string(frames->size()) + " is truncated";
      return false;
    }
    frames->push_back(std::move(frame));
  }
  if (n != 0) {
    *error = path + ": truncated frame header after frame " + std::to_string(frames->size());
    return false;
  }
  return true;
}

bool WriteIvf(FILE* f, const IvfHeader& header, const std::vector<IvfFrame>& frames) {
  unsigned char h[32] = {'D', 'K', 'I', 'F'};
  Put16(h + 4, 0);
  Put16(h + 6, 32);
  std::memcpy(h + 8, header.fourcc, 4);
  Put16(h + 12, header.width);
  Put16(h + 14, header.height);
  Put32(h + 16, header.rate);
  Put32(h + 20, header.scale);
  Put32(h + 24, header.frames);
  if (std::fwrite(h, 1, 32, f) != 32) return false;
  for (const auto& frame : frames) {
    unsigned char fh[12];
    Put32(fh, static_cast<uint32_t>(frame.data.size()));
    Put32(fh + 4, static_cast<uint32_t>(frame.pts));
    Put32(fh + 8, static_cast<uint32_t>(frame.pts >> 32));
    if (std::fwrite(fh, 1, 12, f) != 12) return false;
    if (std::fwrite(frame.data.data(), 1, frame.data.size(), f) != frame.data.size()) return false;
  }
  return true;
}

}  // namespace vx
