// Encodes one chunk of frames with libvpx's VP8 encoder, optionally without a
// key frame: starting from the decoder state the previous chunk ended in
// (ExCamera's idea, within what libvpx's API allows; see README.md).
#pragma once

#include <string>
#include <vector>

#include <vpx/vpx_image.h>

#include "ivf.h"
#include "y4m.h"

namespace vx {

struct EncodeSettings {
  int cq_level = 20;         ///< --end-usage=cq --cq-level
  int cpu_used = 4;          ///< --cpu-used (speed/quality trade-off)
  int target_kbps = 4000;    ///< the CQ mode's bitrate ceiling
};

/// The decoder state a chunk ends in, as far as the next chunk needs it: the
/// LAST reference frame (I420, visible size). GOLDEN and ALTREF are not
/// carried: the next chunk's first frame predicts from LAST only and
/// refreshes both (see README.md).
struct ChunkState {
  int width = 0;
  int height = 0;
  std::vector<unsigned char> last;  ///< Y, U, V planes, tightly packed
};

bool ReadState(const std::string& path, ChunkState* state, std::string* error);
bool WriteState(const std::string& path, const ChunkState& state, std::string* error);

struct EncodedChunk {
  IvfHeader header;
  std::vector<IvfFrame> frames;
  std::vector<std::string> recon_digests;  ///< per frame: ImageDigest of the encoder's reconstruction (what a decoder must show)
  ChunkState end_state;
};

/// Encodes every frame of `input`. With `start` (not null), the chunk has no
/// key frame: its first frame is an inter frame against `start`.
bool EncodeChunk(Y4mReader* input, const EncodeSettings& settings, const ChunkState* start, EncodedChunk* out,
                 std::string* error);

/// XXH3-128 (hex) of the top-left w x h of `img` as tightly packed I420
/// planes: what EncodeChunk records per frame, and `gg-vpx digests` prints.
/// Not SHA-256: every reconstructed frame is hashed, and SHA-256 took 6% of
/// a chunk's encoding time; this checks exactness (no adversary) at ~20x
/// the speed.
std::string ImageDigest(const vpx_image_t& img, int w, int h);

/// The same digest of a frame already packed (`bytes` of Y, U, V planes).
std::string PackedDigest(const unsigned char* frame, size_t bytes);

}  // namespace vx
