#include "y4m.h"

#include <sys/mman.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace vx {

Y4mReader::Y4mReader(const std::string& path) : path_(path) {
  f_ = std::fopen(path.c_str(), "rb");
  if (!f_) {
    error_ = path + ": cannot open: " + std::strerror(errno);
    return;
  }
  std::string line;
  int c;
  while ((c = std::fgetc(f_)) != EOF && c != '\n') {
    line.push_back(static_cast<char>(c));
    if (line.size() > 4096) break;
  }
  if (line.rfind("YUV4MPEG2 ", 0) != 0 || c != '\n') {
    error_ = path + ": not a YUV4MPEG2 (y4m) file; convert it first, e.g. ffmpeg -i IN -pix_fmt yuv420p OUT.y4m";
    return;
  }
  header_.line = line;
  // Space-separated tokens, each a letter and a value.
  size_t pos = 10;
  while (pos < line.size()) {
    size_t end = line.find(' ', pos);
    if (end == std::string::npos) end = line.size();
    std::string tok = line.substr(pos, end - pos);
    pos = end + 1;
    if (tok.empty()) continue;
    switch (tok[0]) {
      case 'W': header_.width = std::atoi(tok.c_str() + 1); break;
      case 'H': header_.height = std::atoi(tok.c_str() + 1); break;
      case 'F': std::sscanf(tok.c_str() + 1, "%d:%d", &header_.fps_num, &header_.fps_den); break;
      case 'I':
        if (tok != "Ip") error_ = path + ": interlaced input (" + tok + ") is not supported; deinterlace it first";
        break;
      case 'C':
        // Only 8-bit 4:2:0, what VP8 encodes, with any chroma siting (the
        // planes are laid out alike; ffmpeg writes C420mpeg2 for H.264).
        if (tok != "C420" && tok != "C420jpeg" && tok != "C420mpeg2" && tok != "C420paldv") {
          error_ = path + ": colour space " + tok.substr(1) +
                   " is not supported; convert to 8-bit 4:2:0 (ffmpeg -pix_fmt yuv420p)";
        }
        break;
      default: break;
    }
  }
  if (error_.empty() && (header_.width <= 0 || header_.height <= 0 || header_.width > 16384 ||
                         header_.height > 16384)) {
    error_ = path + ": bad frame size in the y4m header";
  }
  if (error_.empty() && (header_.fps_num <= 0 || header_.fps_den <= 0)) {
    error_ = path + ": bad frame rate in the y4m header";
  }
  if (error_.empty()) Map();
}

Y4mReader::~Y4mReader() {
  if (map_) munmap(const_cast<unsigned char*>(map_), map_size_);
  if (f_) std::fclose(f_);
}

void Y4mReader::Map() {
  // A chunk thunk's input is a file of the store (80 MB at 720p): reading
  // it would copy every byte once more, mapping it costs page-table entries
  // only (MAP_POPULATE: all at once, not a fault per page). Anything that
  // cannot be mapped (a pipe) is read as before.
  struct stat st;
  const long at = std::ftell(f_);
  if (at < 0 || fstat(fileno(f_), &st) != 0 || !S_ISREG(st.st_mode) || st.st_size <= at) return;
  void* m = mmap(nullptr, static_cast<size_t>(st.st_size), PROT_READ, MAP_PRIVATE | MAP_POPULATE, fileno(f_), 0);
  if (m == MAP_FAILED) return;
  map_ = static_cast<const unsigned char*>(m);
  map_size_ = static_cast<size_t>(st.st_size);
  pos_ = static_cast<size_t>(at);
}

bool Y4mReader::NextView(const unsigned char** planes) {
  if (!map_) {
    if (!Next(&buffer_)) return false;
    *planes = buffer_.data();
    return true;
  }
  if (!ok() || pos_ == map_size_) return false;
  const size_t limit = std::min(map_size_, pos_ + 1024);
  const auto* nl = static_cast<const unsigned char*>(std::memchr(map_ + pos_, '\n', limit - pos_));
  if (nl == nullptr || nl - (map_ + pos_) < 5 || std::memcmp(map_ + pos_, "FRAME", 5) != 0) {
    error_ = path_ + ": frame " + std::to_string(frames_read_) + ": missing FRAME marker";
    return false;
  }
  const size_t start = static_cast<size_t>(nl - map_) + 1;
  if (map_size_ - start < header_.FrameBytes()) {
    error_ = path_ + ": frame " + std::to_string(frames_read_) + " is truncated";
    return false;
  }
  *planes = map_ + start;
  pos_ = start + header_.FrameBytes();
  ++frames_read_;
  return true;
}

bool Y4mReader::Next(std::vector<unsigned char>* frame) {
  if (!ok()) return false;
  if (map_) {
    const unsigned char* planes = nullptr;
    if (!NextView(&planes)) return false;
    frame->assign(planes, planes + header_.FrameBytes());
    return true;
  }
  std::string tag;
  int c;
  while ((c = std::fgetc(f_)) != EOF && c != '\n') {
    tag.push_back(static_cast<char>(c));
    if (tag.size() > 1024) break;
  }
  if (c == EOF && tag.empty()) return false;
  if (tag.rfind("FRAME", 0) != 0 || c != '\n') {
    error_ = path_ + ": frame " + std::to_string(frames_read_) + ": missing FRAME marker";
    return false;
  }
  frame->resize(header_.FrameBytes());
  if (std::fread(frame->data(), 1, frame->size(), f_) != frame->size()) {
    error_ = path_ + ": frame " + std::to_string(frames_read_) + " is truncated";
    return false;
  }
  ++frames_read_;
  return true;
}

bool Y4mReader::Skip(long n) {
  if (!ok()) return false;
  const long per = static_cast<long>(header_.FrameBytes()) + 6;  // "FRAME\n"
  if (map_) {
    // Past the end is the end of the stream, as fseek past it would be.
    pos_ = std::min(map_size_, pos_ + static_cast<size_t>(std::max(n, 0L)) * static_cast<size_t>(per));
  } else if (n > 0 && std::fseek(f_, n * per, SEEK_CUR) != 0) {
    error_ = path_ + ": cannot seek past " + std::to_string(n) + " frames";
    return false;
  }
  frames_read_ += n;
  return true;
}

bool WriteY4mHeader(FILE* f, const Y4mHeader& header) {
  return std::fprintf(f, "%s\n", header.line.c_str()) > 0;
}

bool WriteY4mFrame(FILE* f, const std::vector<unsigned char>& frame) {
  return std::fputs("FRAME\n", f) >= 0 && std::fwrite(frame.data(), 1, frame.size(), f) == frame.size();
}

}  // namespace vx
