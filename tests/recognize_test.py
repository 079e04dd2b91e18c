"""apps/recognize end to end: the real gg, ffmpeg, Tesseract and OpenCV on a
short testsrc2 clip with the frame number drawn on every frame, so what OCR
should read is known."""
import json
import os
import re
import shutil
import subprocess
import tempfile
import unittest

import ggtest

APP = os.path.join(ggtest.ROOT, "apps", "recognize", "run")
RECOGNIZE = os.path.join(ggtest.BUILD, "apps", "recognize", "recognize")
FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"
FACES = "/usr/share/opencv4/haarcascades/haarcascade_frontalface_default.xml"
OCR = "/usr/share/tesseract-ocr/5/tessdata/eng.traineddata"
# Real photographs and a real video from a Debian package (opencv-doc).
SAMPLES = "/usr/share/doc/opencv-doc/examples/data"
MESSI, FRUITS, VTEST = (os.path.join(SAMPLES, f) for f in ("messi5.jpg", "fruits.jpg", "vtest.avi"))
FRAMES = 40


def have_tools():
    return (all(shutil.which(t) for t in ("ffmpeg", "ffprobe")) and os.path.exists(RECOGNIZE)
            and all(os.path.exists(f) for f in (FONT, FACES, OCR)))


def make_clip(path, frames, size="640x360"):
    """testsrc2 with "Frame N" drawn large on a white box, 10 fps, H.264."""
    text = f"drawtext=fontfile={FONT}:text='Frame %{{frame_num}}':fontsize=72:fontcolor=black:" \
           "box=1:boxcolor=white:boxborderw=60:x=(w-tw)/2:y=(h-th)/2"
    subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-f", "lavfi", "-i", f"testsrc2=size={size}:rate=10",
                    "-frames:v", str(frames), "-vf", text, "-c:v", "libx264", "-crf", "12", "-pix_fmt", "yuv420p",
                    path], check=True)


def thunk_command(env, thunk):
    """What a thunk runs: gg-recognize's subcommand, or the program."""
    p = subprocess.run([ggtest.GG, "describe", "--json", thunk], env=env, capture_output=True, text=True, check=True)
    args = json.loads(p.stdout)["args"]
    return args[1] if args[0] == "gg-recognize" else args[0]


def lines(path):
    with open(path) as f:
        return [json.loads(line) for line in f]


@unittest.skipUnless(have_tools(), "needs ffmpeg, fonts-dejavu-core, tesseract-ocr-eng, opencv-data and "
                                   "build/apps/recognize (libtesseract-dev, libopencv-dev)")
class RecognizeTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="gg-recognize-test.")
        cls.clip = os.path.join(cls.dir, "clip.mp4")
        make_clip(cls.clip, FRAMES)

    @classmethod
    def tearDownClass(cls):
        subprocess.run(["chmod", "-R", "u+w", cls.dir], check=False)
        shutil.rmtree(cls.dir, ignore_errors=True)

    def setUp(self):
        self.work = os.path.join(self.dir, self.id().rsplit(".", 1)[-1])
        os.makedirs(self.work)
        self.env = dict(os.environ, GG_DIR=os.path.join(self.work, ".gg"), GG_BINARY=ggtest.GG)
        subprocess.run([ggtest.GG, "init"], cwd=self.work, env=self.env, check=True, capture_output=True)

    def app(self, *args, check=True):
        p = subprocess.run([APP, *args], cwd=self.work, env=self.env, capture_output=True, text=True, timeout=600)
        if check:
            self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        return p

    def run_gg(self, out, *args, video=None):
        """The gg pipeline at -j 2; the thunks that ran (from the trace)."""
        trace = out + ".trace.json"
        self.app(video or self.clip, "-o", out, "-j", "2", "--frames-per-thunk", "4", "--frames-per-decode", "20",
                 "--trace", trace, *args)
        with open(trace) as f:
            events = json.load(f)
        events = events["traceEvents"] if isinstance(events, dict) else events
        return {e["args"]["thunk"] for e in events if e.get("cat") == "running"}

    def sequential(self, out, *args):
        self.app(self.clip, "-o", out, "--sequential", *args)
        with open(out, "rb") as f:
            return f.read()

    def test_ocr_reads_the_frame_numbers_identically_to_a_sequential_run_and_is_memoized(self):
        out = os.path.join(self.work, "gg.jsonl")
        ran = self.run_gg(out)
        kinds = sorted(thunk_command(self.env, t) for t in ran)
        self.assertEqual(kinds, ["ffmpeg"] * 2 + ["merge"] + ["recognize"] * (FRAMES // 4))
        with open(out, "rb") as f:
            self.assertEqual(f.read(), self.sequential(os.path.join(self.work, "seq.jsonl")))
        results = lines(out)
        self.assertEqual([r["frame"] for r in results], list(range(FRAMES)))
        self.assertEqual(results[15]["time"], 1.5)
        right = [r["frame"] for r in results if re.search(rf"\bFrame {r['frame']}\b", r["text"])]
        self.assertGreaterEqual(len(right), 0.95 * FRAMES, [r["text"] for r in results])
        self.assertTrue(all(b["label"] and b["w"] > 0 for r in results for b in r["boxes"]))

        self.assertEqual(self.run_gg(out), set(), "a second run forced something")
        with open(out, "rb") as f:
            self.assertEqual(f.read(), self.sequential(os.path.join(self.work, "seq2.jsonl")))

    def test_find_looks_closer_at_exactly_the_matching_frames(self):
        out = os.path.join(self.work, "find.jsonl")
        ran = self.run_gg(out, "--find", "Frame 1")
        results = lines(out)
        matching = {r["frame"] for r in results if "frame 1" in r["text"].lower()}
        self.assertGreaterEqual(matching, {1} | set(range(10, 20)))  # "Frame 1", "Frame 10".."Frame 19"
        self.assertEqual({r["frame"] for r in results if "followup" in r}, matching)
        for r in results:
            if "followup" in r:
                self.assertIn("frame 1", r["followup"]["text"].lower(), r)
                self.assertEqual(r["followup"]["frame"], r["frame"])
        kinds = [thunk_command(self.env, t) for t in ran]
        groups = {f // 4 for f in matching}
        # One follow-up thunk per group with a match; a scan per group, made
        # one by one by the tail calls; a join per follow-up but the last.
        self.assertEqual(kinds.count("followup"), len(groups), kinds)
        self.assertEqual(kinds.count("scan"), FRAMES // 4, kinds)
        self.assertEqual(kinds.count("join"), len(groups) - (1 if FRAMES // 4 - 1 in groups else 0), kinds)
        with open(out, "rb") as f:
            self.assertEqual(f.read(), self.sequential(os.path.join(self.work, "seq.jsonl"), "--find", "Frame 1"))
        self.assertEqual(self.run_gg(out, "--find", "Frame 1"), set(), "a second run forced something")

    def test_a_model_that_fails_to_load_is_named(self):
        bad = os.path.join(self.work, "eng.traineddata")
        with open(bad, "wb") as f:
            f.write(b"not a model\n" * 100)
        p = self.app(self.clip, "-o", os.path.join(self.work, "x.jsonl"), "-j", "2", "--model-file", bad,
                     check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("eng.traineddata", p.stderr)
        self.assertIn("model", p.stderr)
        self.assertRegex(p.stderr, r"frame \d+ not recognized: the model failed to load")  # which frame failed
        self.assertFalse(os.path.exists(os.path.join(self.work, "x.jsonl")))

    def test_a_frame_that_is_not_an_image_is_named(self):
        # ffmpeg writes only good PNGs, so a damaged frame reaches
        # gg-recognize only when something else made it: run it directly, as
        # a thunk would.
        frame = os.path.join(self.work, "frame000007.png")
        with open(frame, "wb") as f:
            f.write(b"\x89PNG\r\n\x1a\n" + b"\0" * 100)
        p = subprocess.run([os.path.join(ggtest.BUILD, "apps", "recognize", "gg-recognize"), "recognize", "-o",
                            os.path.join(self.work, "out"), "--model", "ocr", "--model-file", OCR, "--fps", "10/1",
                            frame], capture_output=True, text=True)
        self.assertEqual(p.returncode, 1)
        self.assertIn("frame 7:", p.stderr)
        self.assertIn("frame000007.png: not a readable image", p.stderr)

    def test_a_truncated_video_is_refused_before_anything_runs(self):
        cut = os.path.join(self.work, "cut.mp4")
        with open(self.clip, "rb") as f, open(cut, "wb") as g:
            g.write(f.read()[:2000])
        p = self.app(cut, "-o", os.path.join(self.work, "x.jsonl"), check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("cut.mp4", p.stderr)

    def test_help(self):
        p = self.app("--help")
        self.assertIn("usage: recognize VIDEO", p.stdout)
        p = self.app("--frames-per-thunk", check=False)
        self.assertEqual(p.returncode, 2)
        self.assertIn("usage", p.stderr)


def make_faces_clip(path):
    """5 frames of messi5.jpg (one real face), 5 of fruits.jpg (none), twice:
    548x342, 10 fps, H.264."""
    still = ["-loop", "1", "-framerate", "10", "-t", "0.5", "-i"]
    subprocess.run(["ffmpeg", "-loglevel", "error", "-y", *still, MESSI, *still, FRUITS, *still, MESSI, *still, FRUITS,
                    "-filter_complex", "[0]setsar=1[a];[1]scale=548:342,setsar=1[b];[2]setsar=1[c];"
                    "[3]scale=548:342,setsar=1[d];[a][b][c][d]concat=n=4", "-c:v", "libx264", "-crf", "12",
                    "-pix_fmt", "yuv420p", path], check=True)


def inside(box, x0, y0, x1, y1):
    """Whether the box's centre lies in the rectangle."""
    cx, cy = box["x"] + box["w"] / 2, box["y"] + box["h"] / 2
    return x0 <= cx <= x1 and y0 <= cy <= y1


@unittest.skipUnless(have_tools() and all(os.path.exists(f) for f in (MESSI, FRUITS, VTEST)),
                     "needs opencv-doc's sample images and video")
class DetectorTest(unittest.TestCase):
    """The detectors on real pictures: a face in a photograph, people walking in
    OpenCV's own pedestrian video, where the ground truth is known."""

    def setUp(self):
        self.work = tempfile.mkdtemp(prefix="gg-recognize-detect.")
        self.env = dict(os.environ, GG_DIR=os.path.join(self.work, ".gg"), GG_BINARY=ggtest.GG)
        subprocess.run([ggtest.GG, "init"], cwd=self.work, env=self.env, check=True, capture_output=True)

    def tearDown(self):
        subprocess.run(["chmod", "-R", "u+w", self.work], check=False)
        shutil.rmtree(self.work, ignore_errors=True)

    def app(self, *args):
        p = subprocess.run([APP, *args], cwd=self.work, env=self.env, capture_output=True, text=True, timeout=600)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)

    def gg_and_sequential(self, video, *args):
        """The results of the gg pipeline at -j 2, after checking they are
        byte-identical to a sequential run's; the thunks that ran."""
        out, seq, trace = (os.path.join(self.work, n) for n in ("gg.jsonl", "seq.jsonl", "trace.json"))
        self.app(video, "-o", out, "-j", "2", "--frames-per-thunk", "4", "--frames-per-decode", "10", "--trace", trace,
                 *args)
        self.app(video, "-o", seq, "--sequential", *args)
        with open(out, "rb") as f, open(seq, "rb") as g:
            self.assertEqual(f.read(), g.read())
        with open(trace) as f:
            events = json.load(f)
        events = events["traceEvents"] if isinstance(events, dict) else events
        return lines(out), {e["args"]["thunk"] for e in events if e.get("cat") == "running"}

    def test_finds_the_face_in_a_photograph_and_follows_up_exactly_those_frames(self):
        clip = os.path.join(self.work, "faces.mp4")
        make_faces_clip(clip)
        results, ran = self.gg_and_sequential(clip, "--model", "faces", "--find", "-")
        self.assertEqual(len(results), 20)
        messi = {f for f in range(20) if (f // 5) % 2 == 0}
        for r in results:
            # Messi's face in messi5.jpg: centre about (244, 112).
            on_face = [b for b in r["boxes"] if b["label"] == "face" and inside(b, 229, 97, 259, 127)]
            if r["frame"] in messi:
                self.assertTrue(on_face, f"frame {r['frame']}: no box on the face: {r}")
            else:
                self.assertEqual(r["boxes"], [], f"frame {r['frame']} shows fruit, not a face: {r}")
        self.assertEqual({r["frame"] for r in results if "followup" in r}, messi)
        kinds = [thunk_command(self.env, t) for t in ran]
        self.assertEqual(kinds.count("followup"), len({f // 4 for f in messi}), kinds)

    def test_finds_the_people_walking_in_opencvs_pedestrian_video(self):
        clip = os.path.join(self.work, "people.mp4")
        subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-i", VTEST, "-frames:v", "12", "-c:v", "libx264",
                        "-crf", "12", "-pix_fmt", "yuv420p", clip], check=True)
        results, _ = self.gg_and_sequential(clip, "--model", "people")
        self.assertEqual(len(results), 12)
        self.assertTrue(all(b["label"] == "person" for r in results for b in r["boxes"]))
        # The man walking left to right in the foreground, feet at y ~ 310,
        # ~140 px tall: found on most frames, the box on him.
        on_him = [r["frame"] for r in results
                  if any(inside(b, 240, 230, 350, 285) and 110 <= b["h"] <= 180 for b in r["boxes"])]
        self.assertGreaterEqual(len(on_him), 9, results)


@unittest.skipUnless(have_tools() and os.environ.get("GG_TEST_LARGE") == "1",
                     "GG_TEST_LARGE=1: installs the SDK and builds apps/recognize against it")
class StandaloneBuildTest(unittest.TestCase):
    def test_builds_against_an_installed_sdk_and_runs(self):
        d = tempfile.mkdtemp(prefix="gg-recognize-sdk.")
        try:
            prefix, build = os.path.join(d, "prefix"), os.path.join(d, "build")
            for cmd in (["cmake", "--install", ggtest.BUILD, "--prefix", prefix],
                        ["cmake", "-S", os.path.join(ggtest.ROOT, "apps", "recognize"), "-B", build, "-G", "Ninja",
                         f"-DCMAKE_PREFIX_PATH={prefix}"],
                        ["cmake", "--build", build]):
                p = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
                self.assertEqual(p.returncode, 0, f"{' '.join(cmd)}\n{p.stdout}\n{p.stderr}")
            with open(os.path.join(build, "build.ninja")) as f:
                self.assertNotIn(os.path.join(ggtest.ROOT, "src"), f.read())
            clip = os.path.join(d, "clip.mp4")
            make_clip(clip, 8)
            env = dict(os.environ, GG_DIR=os.path.join(d, ".gg"), GG_BINARY=os.path.join(prefix, "bin", "gg"),
                       RECOGNIZE=os.path.join(build, "recognize"))
            out = os.path.join(d, "r.jsonl")
            p = subprocess.run([APP, clip, "-o", out, "-j", "2", "--frames-per-thunk", "4"], cwd=d, env=env,
                               capture_output=True, text=True, timeout=600)
            self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
            self.assertEqual([r["frame"] for r in lines(out)], list(range(8)))
        finally:
            subprocess.run(["chmod", "-R", "u+w", d], check=False)
            shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    unittest.main()
