"""apps/video-encode end to end: the real gg, gg-vpx, vpxenc, vpxdec and
ffmpeg on short clips made with ffmpeg's test sources."""
import json
import os
import re
import shutil
import subprocess
import tempfile
import unittest

import ggtest

APP = os.path.join(ggtest.ROOT, "apps", "video-encode", "run")
GG_VPX = os.path.join(ggtest.BUILD, "apps", "video-encode", "gg-vpx")
W, H, FRAMES = 352, 288, 60
FRAME_BYTES = W * H * 3 // 2


def read(path, mode="rb"):
    with open(path, mode) as f:
        return f.read()


def have_tools():
    return all(shutil.which(t) for t in ("ffmpeg", "vpxenc", "vpxdec")) and os.path.exists(GG_VPX)


def key_frames(ivf):
    """Indices of the key frames in an IVF stream (VP8 frame tag bit 0 clear)."""
    data = read(ivf)
    pos, i, keys = 32, 0, []
    while pos < len(data):
        size = int.from_bytes(data[pos:pos + 4], "little")
        if data[pos + 12] & 1 == 0:
            keys.append(i)
        pos += 12 + size
        i += 1
    return keys


def decoded_frames(ivf):
    p = subprocess.run(["vpxdec", "--i420", "-o", "-", ivf], capture_output=True, check=True)
    return [p.stdout[i:i + FRAME_BYTES] for i in range(0, len(p.stdout), FRAME_BYTES)]


@unittest.skipUnless(have_tools(), "needs ffmpeg, vpx-tools and gg-vpx (libvpx-dev)")
class VideoEncodeTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="gg-video-test.")
        cls.clip = os.path.join(cls.dir, "clip.y4m")
        subprocess.run(["ffmpeg", "-loglevel", "error", "-f", "lavfi", "-i", f"testsrc2=size={W}x{H}:rate=30",
                        "-frames:v", str(FRAMES), "-pix_fmt", "yuv420p", cls.clip], check=True)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir, ignore_errors=True)

    def setUp(self):
        self.env = dict(os.environ, GG_DIR=os.path.join(self.dir, self.id().rsplit(".", 1)[-1], ".gg"),
                        GG_BINARY=ggtest.GG, GG_BUILD_DIR=os.path.abspath(ggtest.BUILD))
        os.makedirs(self.env["GG_DIR"])
        subprocess.run([ggtest.GG, "init"], env=self.env, check=True, capture_output=True)

    def run_app(self, src, out, *args):
        trace = out + ".trace.json"
        p = subprocess.run([APP, src, "-o", out, "--chunk-frames", "10", "-j", "2", "--trace", trace, *args],
                           env=self.env, capture_output=True, text=True, timeout=600)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        events = json.loads(read(trace, "r"))
        events = events["traceEvents"] if isinstance(events, dict) else events
        ran = {e["args"]["thunk"] for e in events if e.get("cat") == "running"}
        return p.stdout, ran

    def test_state_passing_decodes_to_the_reconstruction_with_one_key_frame_per_batch(self):
        out = os.path.join(self.dir, "state.ivf")
        stdout, ran = self.run_app(self.clip, out, "--batch", "3")
        self.assertIn("verified: all 60 decoded frames equal the encoder's reconstruction", stdout)
        self.assertEqual(len(ran), 6 + 1)  # an encode per chunk (split as stored), stitch
        self.assertEqual(key_frames(out), [0, 30])
        frames = decoded_frames(out)
        self.assertEqual(len(frames), FRAMES)
        # ffmpeg decodes it too, to the same number of frames.
        p = subprocess.run(["ffprobe", "-v", "error", "-count_frames", "-select_streams", "v:0", "-show_entries",
                            "stream=nb_read_frames", "-of", "csv=p=0", out], capture_output=True, text=True)
        self.assertEqual(p.stdout.strip(), str(FRAMES), p.stderr)

        # The same commands run one after another without gg give the same
        # bytes (and gg-vpx split cuts the chunks the app stored).
        plain = os.path.join(self.dir, "plain")
        os.makedirs(plain)
        run = lambda *a: subprocess.run([GG_VPX, *a], cwd=plain, check=True, capture_output=True)
        run("split", self.clip, "10", "c")
        settings = ["--cq-level", "20", "--cpu-used", "4", "--target-bitrate", "4000"]
        for i in range(6):
            extra = ["--state-in", f"s{i - 1}"] if i % 3 else []
            run("encode", f"c{i:03d}.y4m", f"{i:03d}.ivf", "--state-out", f"s{i}", "--recon", f"r{i}",
                *extra, *settings)
        run("stitch", "all.ivf", *[f"{i:03d}.ivf" for i in range(6)])
        self.assertEqual(read(out), read(os.path.join(plain, "all.ivf")))
        recon = "".join(read(os.path.join(plain, f"r{i}"), "r") for i in range(6)).split()
        digests = subprocess.run([GG_VPX, "frame-digests", str(W), str(H)], input=b"".join(frames),
                                 capture_output=True, check=True).stdout.decode().split()
        self.assertEqual(digests, recon)
        self.assertEqual(len(set(recon)), FRAMES)  # a digest that ignored its input could not tell frames apart
        # A cut-short frame is an error, not a digest.
        self.assertEqual(subprocess.run([GG_VPX, "frame-digests", "2", "2"], input=b"x" * 5,
                                        capture_output=True).returncode, 1)

    def test_vpxenc_chunks_are_byte_identical_to_running_vpxenc_by_hand(self):
        out = os.path.join(self.dir, "vpxenc.ivf")
        stdout, _ = self.run_app(self.clip, out, "--mode", "vpxenc")
        self.assertEqual(key_frames(out), [0, 10, 20, 30, 40, 50])
        plain = os.path.join(self.dir, "plain-vpxenc")
        os.makedirs(plain)
        subprocess.run([GG_VPX, "split", self.clip, "10", "c"], cwd=plain, check=True)
        settings = ["--codec=vp8", "--good", "--cpu-used=4", "--end-usage=cq", "--cq-level=20",
                    "--target-bitrate=4000", "--threads=1", "--lag-in-frames=0", "--auto-alt-ref=0",
                    "--kf-max-dist=100000", "--error-resilient=1", "--drop-frame=0", "--quiet"]
        for i in range(6):
            subprocess.run(["vpxenc", *settings, "--ivf", "-o", f"{i:03d}.ivf", f"c{i:03d}.y4m"], cwd=plain,
                           check=True, capture_output=True)
        subprocess.run([GG_VPX, "stitch", "all.ivf", *[f"{i:03d}.ivf" for i in range(6)]], cwd=plain, check=True)
        self.assertEqual(read(out), read(os.path.join(plain, "all.ivf")))
        self.assertEqual(len(decoded_frames(out)), FRAMES)

    def test_quality_is_within_001_ssim_of_a_sequential_encode(self):
        out = os.path.join(self.dir, "compare.ivf")
        stdout, _ = self.run_app(self.clip, out, "--batch", "3", "--compare")
        ssim = [float(x) for x in re.findall(r"SSIM (\S+),", stdout)]
        self.assertEqual(len(ssim), 2, stdout)
        self.assertLess(abs(ssim[0] - ssim[1]), 0.01, stdout)

    def test_memoized_and_one_changed_chunk_reencodes_only_its_batch_tail(self):
        out = os.path.join(self.dir, "memo.ivf")
        _, first = self.run_app(self.clip, out, "--batch", "3")
        self.assertEqual(len(first), 7)
        _, again = self.run_app(self.clip, out, "--batch", "3")
        self.assertEqual(again, set(), "a second run forced something")

        # Change frames 10-19 (chunk 1 of batch 0): chunks 1 and 2 re-encode,
        # batch 1 (chunks 3-5) does not; the stitch runs again.
        changed = os.path.join(self.dir, "changed.y4m")
        data = bytearray(read(self.clip))
        header = data.index(b"\n") + 1
        for f in range(10, 20):
            start = header + f * (6 + FRAME_BYTES) + 6
            data[start:start + W * 16] = bytes(W * 16)  # a black band at the top of the frame
        with open(changed, "wb") as f:
            f.write(data)
        _, after = self.run_app(changed, os.path.join(self.dir, "changed.ivf"), "--batch", "3")
        self.assertEqual(len(after), 2 + 1, after)

    def test_odd_frame_size_decodes_to_the_reconstruction(self):
        # Odd sides: chroma planes rounded up, and frames copied into the
        # encoder's image rather than wrapped where they were read.
        odd = os.path.join(self.dir, "odd.y4m")
        subprocess.run(["ffmpeg", "-loglevel", "error", "-f", "lavfi", "-i", "testsrc2=size=161x91:rate=30",
                        "-frames:v", "12", "-pix_fmt", "yuv420p", odd], check=True)
        stdout, _ = self.run_app(odd, os.path.join(self.dir, "odd.ivf"), "--chunk-frames", "4", "--batch", "3")
        self.assertIn("verified: all 12 decoded frames equal the encoder's reconstruction", stdout)

    def test_non_y4m_input_is_converted_and_bad_input_is_refused(self):
        mp4 = os.path.join(self.dir, "clip.mkv")
        subprocess.run(["ffmpeg", "-loglevel", "error", "-f", "lavfi", "-i", "mandelbrot=size=320x240:rate=25",
                        "-frames:v", "25", "-c:v", "ffv1", mp4], check=True)
        stdout, ran = self.run_app(mp4, os.path.join(self.dir, "m.ivf"))
        self.assertIn("25 frames in 3 chunks", stdout)
        # An MP4 (MPEG-4 part 2 here, H.264 alike) converts to Y4M with
        # MPEG-2 chroma siting (C420mpeg2): 8-bit 4:2:0 all the same.
        m4 = os.path.join(self.dir, "clip.mp4")
        subprocess.run(["ffmpeg", "-loglevel", "error", "-f", "lavfi", "-i", "mandelbrot=size=160x120:rate=25",
                        "-frames:v", "9", "-c:v", "mpeg4", m4], check=True)
        stdout, _ = self.run_app(m4, os.path.join(self.dir, "m4.ivf"), "--chunk-frames", "4")
        self.assertIn("verified: all 9 decoded frames equal the encoder's reconstruction", stdout)
        # A Y4M that is not 8-bit 4:2:0 (C420p10 starts like C420) is converted, not misread.
        p10 = os.path.join(self.dir, "p10.y4m")
        subprocess.run(["ffmpeg", "-loglevel", "error", "-f", "lavfi", "-i", "testsrc2=size=64x48:rate=25",
                        "-frames:v", "5", "-pix_fmt", "yuv420p10le", "-strict", "-1", p10], check=True)
        stdout, _ = self.run_app(p10, os.path.join(self.dir, "p10.ivf"), "--chunk-frames", "2")
        self.assertIn("verified: all 5 decoded frames equal the encoder's reconstruction", stdout)
        # Interlaced frames (vpxenc refuses them too) are refused before any thunk, naming the file.
        interlaced = os.path.join(self.dir, "tff.y4m")
        subprocess.run(["ffmpeg", "-loglevel", "error", "-f", "lavfi", "-i", "testsrc2=size=64x48:rate=25",
                        "-frames:v", "3", "-pix_fmt", "yuv420p", "-vf", "setfield=tff", interlaced], check=True)
        p = subprocess.run([APP, interlaced, "-o", os.path.join(self.dir, "i.ivf")], env=self.env,
                           capture_output=True, text=True)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("tff.y4m: interlaced input", p.stderr)
        # An output gg cannot write is refused before any encoding, not with a traceback after it.
        p = subprocess.run([APP, m4, "-o", os.path.join(self.dir, "no-such-dir", "x.ivf")], env=self.env,
                           capture_output=True, text=True)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("no-such-dir is not a writable directory", p.stderr)
        self.assertNotIn("Traceback", p.stderr)
        junk = os.path.join(self.dir, "junk.y4m")
        with open(junk, "wb") as f:
            f.write(b"YUV4MPEG2 W16 H16 F30:1 Ip C420jpeg\nFRAME\nshort")
        p = subprocess.run([APP, junk, "-o", os.path.join(self.dir, "j.ivf")], env=self.env, capture_output=True,
                           text=True)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("junk.y4m", p.stderr)


if __name__ == "__main__":
    unittest.main()
