#include "chunk_encoder.h"

#include <vpx/vp8cx.h>
#include <vpx/vpx_encoder.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

// XXH3 compiled in (Debian's libxxhash-dev header): the static gg-vpx needs no library for it.
#define XXH_INLINE_ALL
#include <xxhash.h>

namespace vx {
namespace {

constexpr char kStateMagic[8] = {'G', 'G', 'V', 'P', '8', 'S', 'T', '1'};

int Align16(int v) { return (v + 15) & ~15; }

/// Bytes of an I420 frame whose planes are `w` x `h` (chroma rounded up).
size_t I420Bytes(int w, int h) {
  return static_cast<size_t>(w) * h + 2 * (static_cast<size_t>((w + 1) / 2) * ((h + 1) / 2));
}

/// Copies tightly packed I420 planes of w x h into `img` (which may be larger).
void PackedToImage(const unsigned char* src, int w, int h, vpx_image_t* img) {
  const int cw = (w + 1) / 2, ch = (h + 1) / 2;
  for (int y = 0; y < h; ++y) std::memcpy(img->planes[0] + y * img->stride[0], src + y * w, w);
  src += static_cast<size_t>(w) * h;
  for (int p = 1; p <= 2; ++p) {
    for (int y = 0; y < ch; ++y) std::memcpy(img->planes[p] + y * img->stride[p], src + y * cw, cw);
    src += static_cast<size_t>(cw) * ch;
  }
}

/// Copies the top-left w x h of `from` into `to`.
void CopyVisible(const vpx_image_t& from, int w, int h, vpx_image_t* to) {
  for (int p = 0; p < 3; ++p) {
    const int pw = p ? (w + 1) / 2 : w, ph = p ? (h + 1) / 2 : h;
    for (int y = 0; y < ph; ++y) std::memcpy(to->planes[p] + y * to->stride[p], from.planes[p] + y * from.stride[p], pw);
  }
}

/// The top-left w x h of `img`, as tightly packed I420 planes.
std::vector<unsigned char> ImageToPacked(const vpx_image_t& img, int w, int h) {
  const int cw = (w + 1) / 2, ch = (h + 1) / 2;
  std::vector<unsigned char> out(I420Bytes(w, h));
  unsigned char* dst = out.data();
  for (int y = 0; y < h; ++y, dst += w) std::memcpy(dst, img.planes[0] + y * img.stride[0], w);
  for (int p = 1; p <= 2; ++p) {
    for (int y = 0; y < ch; ++y, dst += cw) std::memcpy(dst, img.planes[p] + y * img.stride[p], cw);
  }
  return out;
}

std::string Hex(XXH128_hash_t d) {
  char hex[33];
  std::snprintf(hex, sizeof hex, "%016llx%016llx", static_cast<unsigned long long>(d.high64),
                static_cast<unsigned long long>(d.low64));
  return hex;
}

struct ImageDeleter {
  void operator()(vpx_image_t* img) const { vpx_img_free(img); }
};
using ImagePtr = std::unique_ptr<vpx_image_t, ImageDeleter>;

/// An image of the encoder's internal (macroblock-aligned) size. Reference
/// frames are exchanged at that size: motion vectors may point into the
/// part of a reference beyond the visible picture, so it must travel too.
ImagePtr AlignedImage(int w, int h) {
  // align 1: stride == width, so libvpx sees no border to extend into.
  return ImagePtr(vpx_img_alloc(nullptr, VPX_IMG_FMT_I420, Align16(w), Align16(h), 1));
}

std::string CodecError(vpx_codec_ctx_t* codec, const char* what) {
  std::string msg = std::string(what) + ": " + vpx_codec_error(codec);
  if (const char* detail = vpx_codec_error_detail(codec)) msg += std::string(" (") + detail + ")";
  return msg;
}

class Encoder {
 public:
  ~Encoder() {
    if (open_) vpx_codec_destroy(&codec_);
  }

  bool Open(const Y4mHeader& h, const EncodeSettings& s, std::string* error) {
    vpx_codec_enc_cfg_t cfg;
    if (vpx_codec_enc_config_default(vpx_codec_vp8_cx(), &cfg, 0) != VPX_CODEC_OK) {
      *error = "libvpx: no VP8 encoder configuration";
      return false;
    }
    cfg.g_w = static_cast<unsigned>(h.width);
    cfg.g_h = static_cast<unsigned>(h.height);
    cfg.g_timebase.num = h.fps_den;
    cfg.g_timebase.den = h.fps_num;
    cfg.g_threads = 1;        // deterministic: the same bytes on every machine
    cfg.g_lag_in_frames = 0;  // no look-ahead, so no hidden alt-ref frames
    cfg.g_pass = VPX_RC_ONE_PASS;
    cfg.g_error_resilient = VPX_ERROR_RESILIENT_DEFAULT;  // no entropy state carried between frames
    cfg.rc_end_usage = VPX_CQ;
    cfg.rc_target_bitrate = static_cast<unsigned>(s.target_kbps);
    cfg.rc_dropframe_thresh = 0;
    cfg.kf_mode = VPX_KF_DISABLED;  // key frames only where we ask
    if (vpx_codec_enc_init(&codec_, vpx_codec_vp8_cx(), &cfg, 0) != VPX_CODEC_OK) {
      *error = CodecError(&codec_, "libvpx: cannot start the VP8 encoder");
      return false;
    }
    open_ = true;
    if (vpx_codec_control(&codec_, VP8E_SET_CPUUSED, s.cpu_used) != VPX_CODEC_OK ||
        vpx_codec_control(&codec_, VP8E_SET_CQ_LEVEL, s.cq_level) != VPX_CODEC_OK ||
        vpx_codec_control(&codec_, VP8E_SET_ENABLEAUTOALTREF, 0) != VPX_CODEC_OK ||
        vpx_codec_control(&codec_, VP8E_SET_NOISE_SENSITIVITY, 0) != VPX_CODEC_OK ||
        vpx_codec_control(&codec_, VP8E_SET_TOKEN_PARTITIONS, 0) != VPX_CODEC_OK) {
      *error = CodecError(&codec_, "libvpx: bad encoder setting");
      return false;
    }
    width_ = h.width;
    height_ = h.height;
    return true;
  }

  /// Encodes one frame; appends its packet to `frames` unless `discard`.
  bool Encode(vpx_image_t* img, vpx_enc_frame_flags_t flags, bool discard, std::vector<IvfFrame>* frames,
              std::string* error, unsigned long deadline = VPX_DL_GOOD_QUALITY) {
    if (vpx_codec_encode(&codec_, img, pts_, 1, flags, deadline) != VPX_CODEC_OK) {
      *error = CodecError(&codec_, "libvpx: encoding failed");
      return false;
    }
    int packets = 0;
    vpx_codec_iter_t iter = nullptr;
    while (const vpx_codec_cx_pkt_t* pkt = vpx_codec_get_cx_data(&codec_, &iter)) {
      if (pkt->kind != VPX_CODEC_CX_FRAME_PKT) continue;
      ++packets;
      if (discard) continue;
      IvfFrame frame;
      frame.pts = static_cast<uint64_t>(frames->size());
      const auto* bytes = static_cast<const unsigned char*>(pkt->data.frame.buf);
      frame.data.assign(bytes, bytes + pkt->data.frame.sz);
      frames->push_back(std::move(frame));
    }
    ++pts_;
    if (packets != 1) {
      *error = "libvpx: expected one packet per frame, got " + std::to_string(packets);
      return false;
    }
    return true;
  }

  bool SetSpeed(int cpu_used, std::string* error) {
    if (vpx_codec_control(&codec_, VP8E_SET_CPUUSED, cpu_used) != VPX_CODEC_OK) {
      *error = CodecError(&codec_, "libvpx: bad speed setting");
      return false;
    }
    return true;
  }

  /// The frame just encoded as a decoder shows it (the reconstruction, in
  /// the encoder's own buffers: no copy), or null when libvpx does not
  /// offer it (a frame that refreshes ALTREF).
  const vpx_image_t* Shown() { return vpx_codec_get_preview_frame(&codec_); }

  /// Reads (copy) or replaces (set) a reference frame, at the aligned size.
  bool Reference(vpx_ref_frame_type_t which, vpx_image_t* img, bool set, std::string* error) {
    vpx_ref_frame_t ref;
    ref.frame_type = which;
    ref.img = *img;
    vpx_codec_err_t err = set ? vpx_codec_control(&codec_, VP8_SET_REFERENCE, &ref)
                              : vpx_codec_control(&codec_, VP8_COPY_REFERENCE, &ref);
    if (err != VPX_CODEC_OK) {
      *error = CodecError(&codec_, set ? "libvpx: cannot set a reference frame" : "libvpx: cannot read a reference frame");
      return false;
    }
    return true;
  }

 private:
  vpx_codec_ctx_t codec_{};
  bool open_ = false;
  int width_ = 0, height_ = 0;
  vpx_codec_pts_t pts_ = 0;
};

}  // namespace

std::string ImageDigest(const vpx_image_t& img, int w, int h) {
  // Row by row from the planes: the same bytes as PackedDigest of the
  // packed frame, with no packed copy made.
  XXH3_state_t state;
  XXH3_128bits_reset(&state);
  const int cw = (w + 1) / 2, ch = (h + 1) / 2;
  for (int p = 0; p < 3; ++p) {
    const int pw = p ? cw : w, ph = p ? ch : h;
    for (int y = 0; y < ph; ++y) XXH3_128bits_update(&state, img.planes[p] + y * img.stride[p], pw);
  }
  return Hex(XXH3_128bits_digest(&state));
}

std::string PackedDigest(const unsigned char* frame, size_t bytes) { return Hex(XXH3_128bits(frame, bytes)); }

bool ReadState(const std::string& path, ChunkState* state, std::string* error) {
  std::unique_ptr<FILE, int (*)(FILE*)> f(std::fopen(path.c_str(), "rb"), std::fclose);
  if (!f) {
    *error = path + ": cannot open the encoder state: " + std::strerror(errno);
    return false;
  }
  char magic[8];
  int32_t wh[2];
  if (std::fread(magic, 1, 8, f.get()) != 8 || std::memcmp(magic, kStateMagic, 8) != 0 ||
      std::fread(wh, sizeof wh, 1, f.get()) != 1 || wh[0] <= 0 || wh[1] <= 0 || wh[0] > 16384 || wh[1] > 16384) {
    *error = path + ": not an encoder state written by gg-vpx";
    return false;
  }
  state->width = wh[0];
  state->height = wh[1];
  state->last.resize(I420Bytes(Align16(wh[0]), Align16(wh[1])));
  if (std::fread(state->last.data(), 1, state->last.size(), f.get()) != state->last.size()) {
    *error = path + ": the encoder state is truncated";
    return false;
  }
  return true;
}

bool WriteState(const std::string& path, const ChunkState& state, std::string* error) {
  std::unique_ptr<FILE, int (*)(FILE*)> f(std::fopen(path.c_str(), "wb"), std::fclose);
  int32_t wh[2] = {state.width, state.height};
  if (!f || std::fwrite(kStateMagic, 1, 8, f.get()) != 8 || std::fwrite(wh, sizeof wh, 1, f.get()) != 1 ||
      std::fwrite(state.last.data(), 1, state.last.size(), f.get()) != state.last.size() ||
      std::fflush(f.get()) != 0) {
    *error = path + ": cannot write the encoder state: " + std::strerror(errno);
    return false;
  }
  return true;
}

bool EncodeChunk(Y4mReader* input, const EncodeSettings& settings, const ChunkState* start, EncodedChunk* out,
                 std::string* error) {
  const Y4mHeader& h = input->header();
  if (start && (start->width != h.width || start->height != h.height)) {
    *error = "the previous chunk's state is " + std::to_string(start->width) + "x" + std::to_string(start->height) +
             " but this chunk is " + std::to_string(h.width) + "x" + std::to_string(h.height);
    return false;
  }
  Encoder enc;
  if (!enc.Open(h, settings, error)) return false;
  ImagePtr frame_img(vpx_img_alloc(nullptr, VPX_IMG_FMT_I420, h.width, h.height, 16));
  ImagePtr ref_img = AlignedImage(h.width, h.height);
  if (!frame_img || !ref_img) {
    *error = "out of memory for frame buffers";
    return false;
  }
  const int aw = Align16(h.width), ah = Align16(h.height);

  const vpx_enc_frame_flags_t kNoEntropy = VP8_EFLAG_NO_UPD_ENTROPY;
  vpx_enc_frame_flags_t first_flags = VPX_EFLAG_FORCE_KF | kNoEntropy;
  if (start) {
    // libvpx always codes an encoder's first frame as a key frame. Spend it
    // on a throw-away frame, then load the previous chunk's LAST frame into
    // all three references. The chunk's first frame predicts from LAST only
    // (the decoder's GOLDEN and ALTREF are not carried) and refreshes GOLDEN
    // and ALTREF, so from then on encoder and decoder hold the same state.
    //
    // The throw-away frame is the previous chunk's last picture (so the rate
    // control starts from a key frame of the real content's size), coded at
    // the real-time deadline and speed 13: about half the work of a key
    // frame at --good. A negative speed, since a real-time encoder with a
    // positive one picks its speed from measured time (not deterministic);
    // not 14 or more, which switch the encoder to VP8's simple loop filter
    // for good (every later frame of the chunk would be filtered that way).
    PackedToImage(start->last.data(), aw, ah, ref_img.get());
    CopyVisible(*ref_img, h.width, h.height, frame_img.get());
    std::vector<IvfFrame> discarded;
    if (!enc.SetSpeed(-13, error) ||
        !enc.Encode(frame_img.get(), VPX_EFLAG_FORCE_KF | kNoEntropy, true, &discarded, error, VPX_DL_REALTIME) ||
        !enc.SetSpeed(settings.cpu_used, error)) {
      return false;
    }
    for (auto which : {VP8_LAST_FRAME, VP8_GOLD_FRAME, VP8_ALTR_FRAME}) {
      if (!enc.Reference(which, ref_img.get(), true, error)) return false;
    }
    first_flags = VP8_EFLAG_NO_REF_GF | VP8_EFLAG_NO_REF_ARF | VP8_EFLAG_FORCE_GF | VP8_EFLAG_FORCE_ARF | kNoEntropy;
  }

  // With even sides a Y4M frame's packed planes are exactly the layout
  // vpx_img_wrap gives (stride = width): the encoder reads the frame where
  // it was read, not from a copy.
  const bool wrap = h.width % 2 == 0 && h.height % 2 == 0;
  vpx_image_t wrapped;
  const unsigned char* frame = nullptr;
  while (input->NextView(&frame)) {
    vpx_image_t* img = frame_img.get();
    if (wrap) {
      // libvpx only reads the source image (it copies it into its own
      // look-ahead buffer), so the mapped input may be wrapped as it is.
      img = vpx_img_wrap(&wrapped, VPX_IMG_FMT_I420, h.width, h.height, 1, const_cast<unsigned char*>(frame));
    } else {
      PackedToImage(frame, h.width, h.height, img);
    }
    vpx_enc_frame_flags_t flags = out->frames.empty() ? first_flags : kNoEntropy;
    if (!enc.Encode(img, flags, false, &out->frames, error)) return false;
    const vpx_image_t* shown = enc.Shown();
    if (shown == nullptr) {
      // Every frame refreshes LAST, so LAST is what a decoder shows now.
      if (!enc.Reference(VP8_LAST_FRAME, ref_img.get(), false, error)) return false;
      shown = ref_img.get();
    }
    out->recon_digests.push_back(ImageDigest(*shown, h.width, h.height));
  }
  if (!input->ok()) {
    *error = input->error();
    return false;
  }
  if (out->frames.empty()) {
    *error = "the chunk has no frames";
    return false;
  }
  // The state passed on: LAST at the aligned size (the part beyond the
  // visible picture too, see AlignedImage).
  if (!enc.Reference(VP8_LAST_FRAME, ref_img.get(), false, error)) return false;
  out->end_state.width = h.width;
  out->end_state.height = h.height;
  out->end_state.last = ImageToPacked(*ref_img, aw, ah);
  out->header.width = static_cast<uint16_t>(h.width);
  out->header.height = static_cast<uint16_t>(h.height);
  out->header.rate = static_cast<uint32_t>(h.fps_num);
  out->header.scale = static_cast<uint32_t>(h.fps_den);
  out->header.frames = static_cast<uint32_t>(out->frames.size());
  return true;
}

}  // namespace vx
