// Reading and writing YUV4MPEG2 (Y4M) streams of 8-bit 4:2:0 frames: the
// raw format the pipeline splits, and each chunk thunk encodes.
#pragma once

#include <cstdio>
#include <string>
#include <vector>

namespace vx {

/// The stream header: what a chunk must repeat so each chunk is a valid Y4M.
struct Y4mHeader {
  int width = 0;
  int height = 0;
  int fps_num = 30;
  int fps_den = 1;
  std::string line;  ///< the header line as read (without "\n"), written back unchanged

  size_t FrameBytes() const {
    return static_cast<size_t>(width) * height + 2 * (static_cast<size_t>((width + 1) / 2) * ((height + 1) / 2));
  }
};

/// Reads Y4M frames one by one. Errors are messages naming the file.
class Y4mReader {
 public:
  /// Opens `path` and parses its header; on failure error() says why.
  explicit Y4mReader(const std::string& path);
  ~Y4mReader();
  Y4mReader(const Y4mReader&) = delete;
  Y4mReader& operator=(const Y4mReader&) = delete;

  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }
  const Y4mHeader& header() const { return header_; }

  /// Reads the next frame's planes (Y, then U, then V) into `frame`.
  /// Returns false at the end of the stream or on an error (see error()).
  bool Next(std::vector<unsigned char>* frame);

  /// The same, without a copy where the file could be mapped: `*planes`
  /// points into the mapped file (or, if it could not be mapped, into a
  /// buffer of the reader's) and stays valid until the next call.
  bool NextView(const unsigned char** planes);

  /// Moves past `n` frames without reading them, assuming each is a bare
  /// "FRAME" line and its planes (as ffmpeg writes them); a frame with
  /// parameters makes the next Next() fail on its marker, never misread.
  bool Skip(long n);

 private:
  /// Maps the rest of the file after the header, if it is a regular file.
  void Map();

  std::string path_;
  FILE* f_ = nullptr;
  const unsigned char* map_ = nullptr;  ///< the whole file, when mapped
  size_t map_size_ = 0;
  size_t pos_ = 0;  ///< where the next frame starts in map_
  std::vector<unsigned char> buffer_;  ///< NextView's frame when not mapped
  Y4mHeader header_;
  std::string error_;
  long frames_read_ = 0;
};

/// Writes `header` and then frames to a file.
bool WriteY4mHeader(FILE* f, const Y4mHeader& header);
bool WriteY4mFrame(FILE* f, const std::vector<unsigned char>& frame);

}  // namespace vx
