#!/usr/bin/env python3
"""apps/recognize: a sequential loop of the recognizer over every frame
(`recognize --sequential`: ffmpeg, then gg-recognize over all frames, no gg)
against the gg pipeline at -j 1 and -j 2 (one recognize thunk per frame), in
one run. Prints frames per second, the speed-up, and gg's per-frame overhead
(gg -j 1 time minus the sequential time, per frame), and what that overhead
means at 1,000 workers.

  nice -n 10 python3 bench/recognize_bench.py [--frames N] [--size WxH] [--workers W] [--engine E]

--workers W also runs the pipeline over W `gg worker`s on loopback (one slot
each), started and stopped by the benchmark.

Every gg run starts from an empty store, so nothing is memoized. The outputs
of all runs must be byte-identical, else the benchmark fails.
"""
import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
BUILD = os.environ.get("GG_BUILD_DIR", os.path.join(ROOT, "build"))
RUN = os.path.join(ROOT, "apps", "recognize", "run")
FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--frames", type=int, default=200)
    ap.add_argument("--size", default="640x360")
    ap.add_argument("--engine", action="append", default=[],
                    help="also run the pipeline with this engine (e.g. remote=HOST:PORT,...)")
    ap.add_argument("--workers", type=int, default=0, help="also run over this many loopback gg workers")
    a = ap.parse_args()
    workers = []
    d = tempfile.mkdtemp(prefix="gg-recognize-bench.")
    env = dict(os.environ, GG_BINARY=os.environ.get("GG_BINARY", os.path.join(BUILD, "src", "cli", "gg")),
               RECOGNIZE=os.path.join(BUILD, "apps", "recognize", "recognize"))
    try:
        clip = os.path.join(d, "clip.mp4")
        text = f"drawtext=fontfile={FONT}:text='Frame %{{frame_num}}':fontsize=72:fontcolor=black:" \
               "box=1:boxcolor=white:boxborderw=60:x=(w-tw)/2:y=(h-th)/2"
        subprocess.run(["ffmpeg", "-loglevel", "error", "-f", "lavfi", "-i", f"testsrc2=size={a.size}:rate=10",
                        "-frames:v", str(a.frames), "-vf", text, "-c:v", "libx264", "-crf", "12", "-pix_fmt",
                        "yuv420p", clip], check=True)

        def run(label, *args):
            work = os.path.join(d, label.replace(" ", "_").replace("/", "_"))
            store = os.path.join(work, ".gg")
            os.makedirs(store)
            out = os.path.join(work, "out.jsonl")
            start = time.monotonic()
            p = subprocess.run([RUN, clip, "-o", out, *args], env=dict(env, GG_DIR=store), capture_output=True,
                               text=True)
            seconds = time.monotonic() - start
            if p.returncode != 0:
                sys.exit(f"{label}: failed\n{p.stdout}{p.stderr}")
            with open(out, "rb") as f:
                data = f.read()
            print(f"{label:<22} {seconds:8.1f} s  {a.frames / seconds:6.2f} frames/s", flush=True)
            return seconds, data

        print(f"{a.frames} frames {a.size}, OCR (Tesseract LSTM), one recognize thunk per frame, "
              f"decode chunks of 32; load {os.getloadavg()[0]:.1f}", flush=True)
        seq, ref = run("sequential")
        runs = {}
        extra = tuple((f"gg --engine {e}", ["--engine", e]) for e in a.engine)
        if a.workers:
            secret = os.path.join(d, "secret")
            with open(secret, "w") as f:
                f.write("bench secret\n")
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
            s.close()
            worker_env = {k: v for k, v in env.items() if k != "GG_DIR"}
            for w in range(a.workers):
                workers.append(subprocess.Popen(
                    [env["GG_BINARY"], "worker", "--connect", f"127.0.0.1:{port}", "--secret-file", secret,
                     "--slots", "1", "--cache", os.path.join(d, f"worker{w}")], env=worker_env,
                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
            extra += ((f"gg {a.workers} workers", ["--engine", f"remote=127.0.0.1:{port}", "--secret-file", secret]),)
        for label, args in (("gg -j 1", ["-j", "1"]), ("gg -j 2", ["-j", "2"])) + extra:
            runs[label] = run(label, *args)
            if runs[label][1] != ref:
                sys.exit(f"{label}: the results differ from the sequential run")
        j1, j2 = runs["gg -j 1"][0], runs["gg -j 2"][0]
        overhead = (j1 - seq) / a.frames
        print(f"gg -j 2 vs sequential: {seq / j2:.2f}x; gg -j 1 vs sequential: {seq / j1:.2f}x")
        print(f"per-frame overhead (gg -j 1 - sequential) / frames: {overhead * 1000:.0f} ms "
              f"(recognition itself: {seq / a.frames * 1000:.0f} ms/frame; the overhead includes loading the "
              f"model once per thunk, which the sequential loop does once in all)")
        per = seq / a.frames
        print(f"at 1,000 workers (one frame per thunk, the overhead paid on each worker in parallel): "
              f"1,000,000 frames = 1,000 per worker = {1000 * (per + overhead) / 60:.1f} min, of which "
              f"{1000 * overhead / 60:.1f} min ({100 * overhead / (per + overhead):.0f}%) is gg's overhead; "
              f"the coordinator's serial dispatch of 1,000,000 thunks is not measured here")
        print(f"load after: {os.getloadavg()[0]:.1f}")
    finally:
        for w in workers:
            w.terminate()
        for w in workers:
            w.wait()
        subprocess.run(["chmod", "-R", "u+w", d], check=False)
        shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    main()
