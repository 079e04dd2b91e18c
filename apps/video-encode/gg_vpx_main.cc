// gg-vpx: the programs the video pipeline's thunks run, in one static
// binary (so a thunk needs no shared libraries):
//   gg-vpx split IN.y4m FRAMES PREFIX [--only I]   chunks PREFIX000.y4m, ... (or chunk I)
//   gg-vpx encode IN.y4m OUT.ivf [options] one chunk, optionally without a key frame
//   gg-vpx stitch OUT.ivf IN.ivf...        one stream, timestamps renumbered
//   gg-vpx digests IN.ivf                  per-frame digest of the decoded frames
//   gg-vpx frame-digests W H < FRAMES      the same of raw I420 frames (vpxdec --i420 -o -)
#include <vpx/vp8dx.h>
#include <vpx/vpx_decoder.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "chunk_encoder.h"
#include "ivf.h"
#include "y4m.h"

namespace vx {
namespace {

constexpr char kUsage[] =
    "usage: gg-vpx split IN.y4m FRAMES_PER_CHUNK PREFIX [--only I]\n"
    "       gg-vpx encode IN.y4m OUT.ivf [--state-in FILE] [--state-out FILE] [--recon FILE]\n"
    "                     [--cq-level Q] [--cpu-used N] [--target-bitrate KBPS]\n"
    "       gg-vpx stitch OUT.ivf IN.ivf...\n"
    "       gg-vpx digests IN.ivf\n"
    "       gg-vpx frame-digests WIDTH HEIGHT < FRAMES.i420\n\n"
    "The VP8 programs of apps/video-encode (see its README.md). `encode` with\n"
    "--state-in codes the chunk without a key frame, continuing from the state\n"
    "the previous chunk's --state-out wrote; --recon writes a digest (XXH3-128)\n"
    "of each reconstructed frame, one a line, which `digests` of the joined\n"
    "stream must repeat, as must `frame-digests` of another decoder's raw\n"
    "I420 output (e.g. vpxdec --i420 -o - OUT.ivf).\n";

int Fail(const std::string& msg) {
  std::fprintf(stderr, "gg-vpx: %s\n", msg.c_str());
  return 1;
}

using File = std::unique_ptr<FILE, int (*)(FILE*)>;

File Create(const std::string& path) { return File(std::fopen(path.c_str(), "wb"), std::fclose); }

bool Close(File f) { return std::fflush(f.get()) == 0 && std::fclose(f.release()) == 0; }

bool ParseInt(const char* s, int lo, int hi, int* out) {
  char* end = nullptr;
  errno = 0;
  long v = std::strtol(s, &end, 10);
  if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi) return false;
  *out = static_cast<int>(v);
  return true;
}

int Split(int argc, char** argv) {
  int per_chunk = 0, only = -1;
  if ((argc != 3 && !(argc == 5 && std::strcmp(argv[3], "--only") == 0 && ParseInt(argv[4], 0, 1 << 20, &only))) ||
      !ParseInt(argv[1], 1, 1 << 20, &per_chunk)) {
    return Fail(std::string("bad arguments\n") + kUsage);
  }
  Y4mReader in(argv[0]);
  if (!in.ok()) return Fail(in.error());
  std::string prefix = argv[2];
  std::vector<unsigned char> frame;
  int chunk = 0, in_chunk = 0;
  if (only >= 0) {
    // One chunk only: the split is then one thunk per chunk, all at once.
    if (!in.Skip(static_cast<long>(only) * per_chunk)) return Fail(in.error());
    chunk = only;
  }
  File out(nullptr, std::fclose);
  while (in.Next(&frame)) {
    if (in_chunk == 0) {
      char name[32];
      std::snprintf(name, sizeof name, "%03d.y4m", chunk);
      out = Create(prefix + name);
      if (!out || !WriteY4mHeader(out.get(), in.header())) return Fail(prefix + name + ": cannot write");
    }
    if (!WriteY4mFrame(out.get(), frame)) return Fail("cannot write chunk " + std::to_string(chunk));
    if (++in_chunk == per_chunk) {
      if (!Close(std::move(out))) return Fail("cannot write chunk " + std::to_string(chunk));
      in_chunk = 0;
      ++chunk;
      if (only >= 0) break;
    }
  }
  if (!in.ok()) return Fail(in.error());
  if (only >= 0 && chunk == only && in_chunk == 0) return Fail("the input has no chunk " + std::to_string(only));
  if (out && !Close(std::move(out))) return Fail("cannot write chunk " + std::to_string(chunk));
  return 0;
}

int Encode(int argc, char** argv) {
  if (argc < 2) return Fail(std::string("bad arguments\n") + kUsage);
  std::string in_path = argv[0], out_path = argv[1], state_in, state_out, recon;
  EncodeSettings s;
  for (int i = 2; i < argc; ++i) {
    std::string a = argv[i];
    if (i + 1 >= argc) return Fail(a + " needs a value");
    const char* v = argv[++i];
    bool ok = true;
    if (a == "--state-in") state_in = v;
    else if (a == "--state-out") state_out = v;
    else if (a == "--recon") recon = v;
    else if (a == "--cq-level") ok = ParseInt(v, 0, 63, &s.cq_level);
    else if (a == "--cpu-used") ok = ParseInt(v, -16, 16, &s.cpu_used);
    else if (a == "--target-bitrate") ok = ParseInt(v, 1, 1000000, &s.target_kbps);
    else return Fail("unknown option " + a + "\n" + kUsage);
    if (!ok) return Fail("bad value for " + a + ": " + v);
  }
  Y4mReader in(in_path);
  if (!in.ok()) return Fail(in.error());
  ChunkState start;
  std::string error;
  if (!state_in.empty() && !ReadState(state_in, &start, &error)) return Fail(error);
  EncodedChunk chunk;
  if (!EncodeChunk(&in, s, state_in.empty() ? nullptr : &start, &chunk, &error)) return Fail(in_path + ": " + error);
  File out = Create(out_path);
  if (!out || !WriteIvf(out.get(), chunk.header, chunk.frames) || !Close(std::move(out))) {
    return Fail(out_path + ": cannot write");
  }
  if (!state_out.empty() && !WriteState(state_out, chunk.end_state, &error)) return Fail(error);
  if (!recon.empty()) {
    File r = Create(recon);
    if (!r) return Fail(recon + ": cannot write");
    for (const auto& d : chunk.recon_digests) std::fprintf(r.get(), "%s\n", d.c_str());
    if (!Close(std::move(r))) return Fail(recon + ": cannot write");
  }
  return 0;
}

int Stitch(int argc, char** argv) {
  if (argc < 2) return Fail(std::string("bad arguments\n") + kUsage);
  IvfHeader joined;
  std::vector<IvfFrame> frames;
  for (int i = 1; i < argc; ++i) {
    IvfHeader h;
    std::vector<IvfFrame> part;
    std::string error;
    if (!ReadIvf(argv[i], &h, &part, &error)) return Fail(error);
    if (i == 1) {
      joined = h;
    } else if (h.width != joined.width || h.height != joined.height || std::memcmp(h.fourcc, joined.fourcc, 4) != 0 ||
               h.rate != joined.rate || h.scale != joined.scale) {
      return Fail(std::string(argv[i]) + ": its size, codec or frame rate differs from " + argv[1] + "'s");
    }
    for (auto& f : part) {
      f.pts = frames.size();
      frames.push_back(std::move(f));
    }
  }
  joined.frames = static_cast<uint32_t>(frames.size());
  File out = Create(argv[0]);
  if (!out || !WriteIvf(out.get(), joined, frames) || !Close(std::move(out))) {
    return Fail(std::string(argv[0]) + ": cannot write");
  }
  return 0;
}

int Digests(int argc, char** argv) {
  if (argc != 1) return Fail(std::string("bad arguments\n") + kUsage);
  IvfHeader h;
  std::vector<IvfFrame> frames;
  std::string error;
  if (!ReadIvf(argv[0], &h, &frames, &error)) return Fail(error);
  vpx_codec_ctx_t codec;
  vpx_codec_dec_cfg_t cfg{};
  cfg.threads = 1;
  if (vpx_codec_dec_init(&codec, vpx_codec_vp8_dx(), &cfg, 0) != VPX_CODEC_OK) return Fail("cannot start the decoder");
  int status = 0;
  for (size_t i = 0; i < frames.size() && status == 0; ++i) {
    if (vpx_codec_decode(&codec, frames[i].data.data(), static_cast<unsigned>(frames[i].data.size()), nullptr, 0) !=
        VPX_CODEC_OK) {
      status = Fail(std::string(argv[0]) + ": frame " + std::to_string(i) + " does not decode: " + vpx_codec_error(&codec));
      break;
    }
    vpx_codec_iter_t iter = nullptr;
    while (vpx_image_t* img = vpx_codec_get_frame(&codec, &iter)) {
      std::printf("%s\n", ImageDigest(*img, static_cast<int>(img->d_w), static_cast<int>(img->d_h)).c_str());
    }
  }
  vpx_codec_destroy(&codec);
  return status;
}

int FrameDigests(int argc, char** argv) {
  int w = 0, h = 0;
  if (argc != 2 || !ParseInt(argv[0], 1, 16384, &w) || !ParseInt(argv[1], 1, 16384, &h)) {
    return Fail(std::string("bad arguments\n") + kUsage);
  }
  Y4mHeader size;
  size.width = w;
  size.height = h;
  std::vector<unsigned char> frame(size.FrameBytes());
  for (long i = 0;; ++i) {
    size_t got = std::fread(frame.data(), 1, frame.size(), stdin);
    if (got == 0 && std::feof(stdin)) return 0;
    if (got != frame.size()) {
      return Fail("frame " + std::to_string(i) + " of the input is cut short (" + std::to_string(got) + " of " +
                  std::to_string(frame.size()) + " bytes): not " + argv[0] + "x" + argv[1] + " I420 frames");
    }
    std::printf("%s\n", PackedDigest(frame.data(), frame.size()).c_str());
  }
}

}  // namespace
}  // namespace vx

int main(int argc, char** argv) {
  if (argc < 2 || std::strcmp(argv[1], "--help") == 0 || std::strcmp(argv[1], "-h") == 0) {
    std::printf("%s", vx::kUsage);
    return argc < 2 ? 2 : 0;
  }
  std::string cmd = argv[1];
  if (cmd == "split") return vx::Split(argc - 2, argv + 2);
  if (cmd == "encode") return vx::Encode(argc - 2, argv + 2);
  if (cmd == "stitch") return vx::Stitch(argc - 2, argv + 2);
  if (cmd == "digests") return vx::Digests(argc - 2, argv + 2);
  if (cmd == "frame-digests") return vx::FrameDigests(argc - 2, argv + 2);
  return vx::Fail("unknown command " + cmd + "\n" + vx::kUsage);
}
