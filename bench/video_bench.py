#!/usr/bin/env python3
"""apps/video-encode against vpxenc, in one run.

    bench/video_bench.py [--frames N] [--size WxH] [--chunk-frames N] [--batch K] [--workers W] [--rounds R]
                         [--pairs-only]

Encodes one clip (ffmpeg's mandelbrot source: motion everywhere) six ways:
a sequential single-threaded vpxenc, the gg pipeline at -j 2 and -j 1
(state passing), vpxenc --threads=2, the gg pipeline with plain vpxenc chunks at
-j 2, and the state-passing pipeline over W loopback workers. Prints the
wall time, the CPU time (user + system of every process involved, workers'
included; less swayed by a loaded machine than wall time, though cache
contention inflates it too),
bitrate and SSIM of each, the speed-ups, and the pipeline's overhead in CPU:
per chunk (gg and its thunks at -j 1 less the sequential encode, per chunk)
and per clip (the app's own process: Python, hashing and writing the chunks).
Under each gg -j 2 run, its timeline from gg's trace: when the first encode
started, each slot's encodes and idle time, the stitch.
Each gg run starts from an empty store; its time is the whole command's
(Python's start-up, storing the chunks, forcing, copying the result out)
less the checks the app makes afterwards (decoding, SSIM, PSNR).

On a shared machine the load changes from minute to minute, so a speed-up
from two runs minutes apart says little: the sequential vpxenc and the gg
pipeline at -j 2 run R times in turn (each pair seconds apart), and each
pair's ratio is printed with their median. Each round also runs two plain
vpxenc processes at once on the clip's two halves (no gg): the speed-up
this machine's two cores give two encoders, the bound for any pipeline.
(gg's sandbox starts each thunk in a session of its own, so where the kernel shares the CPU by session
(autogroup), each running thunk gets one share of a busy machine, as the
sequential vpxenc, alone in the benchmark's session, gets one.)
"""
import argparse
import json
import os
import re
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
BUILD = os.environ.get("GG_BUILD_DIR", os.path.join(ROOT, "build"))
GG = os.path.join(BUILD, "src", "cli", "gg")
# The app's script run by this interpreter, as `run` does, without the
# shell (and a version manager's shims, 0.1 CPU-s with pyenv) in between.
APP = [sys.executable, os.path.join(ROOT, "apps", "video-encode", "encode.py")]
sys.path.insert(0, os.path.join(ROOT, "apps", "video-encode"))
import encode  # noqa: E402  (the app's own settings and quality measure)


def children_cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def timed(cmd, **kw):
    """Wall seconds, CPU seconds (user + system of the command and every
    process it waited for: gg's sandboxes and their programs too) and stdout."""
    start, cpu = time.monotonic(), children_cpu()
    p = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if p.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{p.stdout}{p.stderr}")
    return time.monotonic() - start, children_cpu() - cpu, p.stdout


def tree_cpu(roots):
    """CPU seconds of running processes and their descendants so far: each
    live process's own time plus what it has reaped (workers' sandboxes)."""
    parent, own = {}, {}
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        parent[int(pid)] = int(fields[1])
        own[int(pid)] = sum(int(x) for x in fields[11:15]) / os.sysconf("SC_CLK_TCK")
    total, todo = 0.0, list(roots)
    while todo:
        pid = todo.pop()
        total += own.get(pid, 0.0)
        todo += [c for c, p in parent.items() if p == pid]
    return total


def timeline(trace, started, seconds):
    """Where a run's wall time went, from gg's trace (times in seconds from
    the app's start): when gg began forcing and the first encode started,
    each slot's encodes, the idle time a slot had while work was left or
    at the end, the stitch, and what followed until the command ended."""
    with open(trace) as f:
        t = json.load(f)
    base = float(t["otherData"]["start_unix"]) - started
    runs = sorted((base + e["ts"] / 1e6, base + (e["ts"] + e["dur"]) / 1e6, e["tid"] % 100000,
                   (e["args"].get("command", "").split(" ") + [""])[1])
                  for e in t["traceEvents"] if e.get("ph") == "X" and e["cat"] == "running")
    encodes = [r for r in runs if r[3] == "encode"]
    stitch = [r for r in runs if r[3] == "stitch"]
    if not encodes or not stitch:
        return "no encodes in the trace (memoized?)"
    first, last = min(r[0] for r in encodes), max(r[1] for r in encodes)
    busy = sum(r[1] - r[0] for r in encodes)
    slots = sorted({r[2] for r in encodes})
    ends = {s: max(r[1] for r in encodes if r[2] == s) for s in slots}
    per_slot = ", ".join(f"slot {s}: {sum(1 for r in encodes if r[2] == s)} encodes "
                         f"{sum(r[1] - r[0] for r in encodes if r[2] == s):.2f} s, done at {ends[s]:.2f}"
                         for s in slots)
    idle = sum(last - first - sum(r[1] - r[0] for r in encodes if r[2] == s) for s in slots)
    return (f"  timeline (s from the app's start): gg forcing at {base:.2f}, first encode at {first:.2f}, "
            f"last encode done at {last:.2f} ({per_slot}; encodes {busy:.2f} s in all, {busy / len(slots):.2f} "
            f"per slot; slots idle {idle:.2f} s between the first encode's start and the last's end), "
            f"stitch {stitch[0][0]:.2f}-{stitch[0][1]:.2f}, command done at {seconds:.2f}")


def report_pairs(pairs):
    """Each round: the sequential vpxenc, gg -j 2, and the machine's own
    bound, two plain vpxenc processes at once on the clip's two halves (no
    gg, no store: what two cores give two encoders here)."""
    for r, (s, s_cpu, g, g_cpu, h) in enumerate(pairs, 1):
        print(f"round {r}: gg state -j 2 over the sequential vpxenc just before it: {s / g:.2f}x  "
              f"(CPU {g_cpu / s_cpu:.2f}x of it); two plain vpxenc at once on the halves: {s / h:.2f}x")
    print(f"median of {len(pairs)}: {statistics.median(s / g for s, _, g, _, _ in pairs):.2f}x  "
          f"(CPU {statistics.median(g_cpu / s_cpu for _, s_cpu, _, g_cpu, _ in pairs):.2f}x); "
          f"the machine's bound, two plain vpxenc at once: {statistics.median(s / h for s, _, _, _, h in pairs):.2f}x; "
          f"gg reaches {statistics.median(h / g for _, _, g, _, h in pairs):.0%} of it")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--frames", type=int, default=480)
    ap.add_argument("--size", default="1280x720")
    # The app's defaults: 8 chunks in 4 batches, so 2 cores (-j 2) run two
    # batches' chains at a time and finish together.
    ap.add_argument("--chunk-frames", type=int, default=60)
    ap.add_argument("--batch", type=int, default=2)
    ap.add_argument("--workers", type=int, default=4)
    ap.add_argument("--rounds", type=int, default=3, help="sequential vpxenc / gg -j 2 pairs (default 3)")
    ap.add_argument("--pairs-only", action="store_true",
                    help="only those pairs (to repeat the main ratio on a busy machine)")
    opts = ap.parse_args()
    work = tempfile.mkdtemp(prefix="gg-video-bench.")
    procs = []
    try:
        clip = os.path.join(work, "clip.y4m")
        subprocess.run(["ffmpeg", "-loglevel", "error", "-f", "lavfi", "-i", f"mandelbrot=size={opts.size}:rate=30",
                        "-frames:v", str(opts.frames), "-pix_fmt", "yuv420p", clip], check=True)
        video = encode.Y4m(clip)
        settings = encode.vpxenc_settings(argparse.Namespace(cpu_used=4, cq_level=20, target_bitrate=4000))
        rows = []

        def report(label, seconds, cpu, ivf):
            q = encode.quality(ivf, clip)
            kbps = os.path.getsize(ivf) * 8 / (video.frames / 30) / 1000
            rows.append((label, seconds, cpu))
            print(f"{label:40s} {seconds:7.2f} s {cpu:7.2f} CPU-s  {kbps:6.0f} kbit/s  SSIM {q['ssim']:.4f}  "
                  f"(load {os.getloadavg()[0]:.1f})", flush=True)

        def vpxenc(threads, label):
            out = os.path.join(work, f"vpxenc{threads}.ivf")
            s, cpu, _ = timed(["vpxenc", *[a for a in settings if not a.startswith("--threads")],
                               f"--threads={threads}", "--ivf", "-o", out, clip])
            report(label, s, cpu, out)
            return s, cpu

        seq, seq_cpu = vpxenc(1, "vpxenc --threads=1 (whole clip)")

        def pipeline(label, *args, extra_cpu=lambda: 0.0, trace=False):
            env = dict(os.environ, GG_DIR=os.path.join(work, label.replace(" ", "_"), ".gg"), GG_BINARY=GG,
                       GG_BUILD_DIR=BUILD)
            os.makedirs(env["GG_DIR"])
            out = os.path.join(work, label.replace(" ", "_") + ".ivf")
            before = extra_cpu()
            trace_file = os.path.join(work, "trace.json")
            if trace:
                args += ("--trace", trace_file)
            started = time.time()
            wall, _, stdout = timed([*APP, clip, "-o", out, "--chunk-frames", str(opts.chunk_frames), "--no-verify",
                                     *args], env=env)
            # The whole command (Python's start-up, storing the chunks,
            # forcing, copying out) but not the app's decoding and SSIM/PSNR
            # checks afterwards; CPU likewise (the app counts its own).
            seconds = wall - float(re.search(r"checked in (\S+) s", stdout).group(1))
            m = re.search(r"encoded in \S+ s .*; (\S+) CPU-s here: (\S+) in Python storing the chunks, (\S+) in gg",
                          stdout)
            cpu, storing, thunks = (float(x) for x in m.groups())
            report(label, seconds, cpu + extra_cpu() - before, out)
            if trace:
                print(timeline(trace_file, started, seconds), flush=True)
            # Its stored chunks (the clip's size again) would otherwise crowd
            # the page cache for the runs after it.
            shutil.rmtree(os.path.dirname(env["GG_DIR"]))
            return seconds, cpu, storing, thunks

        # The clip's two halves, for two plain vpxenc at once (the bound).
        halves = [os.path.join(work, f"half{i}.y4m") for i in (1, 2)]
        per = len(b"FRAME\n") + video.frame_bytes
        with open(clip, "rb") as f:
            header = f.readline()
            for i, half in enumerate(halves):
                count = video.frames // 2 if i == 0 else video.frames - video.frames // 2
                with open(half, "wb") as out:
                    out.write(header + f.read(count * per))

        def halves_at_once(r):
            start = time.monotonic()
            encoders = [subprocess.Popen(["vpxenc", *settings, "--ivf", "-o", half + ".ivf", half]) for half in halves]
            if any(e.wait() != 0 for e in encoders):
                sys.exit("vpxenc failed on a half of the clip")
            seconds = time.monotonic() - start
            print(f"{'two vpxenc at once on the halves, round ' + str(r):40s} {seconds:7.2f} s  "
                  f"(load {os.getloadavg()[0]:.1f})", flush=True)
            return seconds

        chunks = (video.frames + opts.chunk_frames - 1) // opts.chunk_frames
        batch = ["--batch", str(opts.batch)]
        pairs = [(seq, seq_cpu, *pipeline("gg state -j 2", *batch, "-j", "2", trace=True)[:2], halves_at_once(1))]
        for r in range(2, opts.rounds + 1):
            pairs.append((*vpxenc(1, f"vpxenc --threads=1, round {r}"),
                          *pipeline(f"gg state -j 2, round {r}", *batch, "-j", "2", trace=True)[:2],
                          halves_at_once(r)))
        if opts.pairs_only:
            report_pairs(pairs)
            return
        vpxenc(2, "vpxenc --threads=2 (whole clip)")
        _, _, j1_storing, j1_thunks = pipeline("gg state -j 1", *batch, "-j", "1")
        pipeline("gg vpxenc chunks -j 2", "--mode", "vpxenc", "-j", "2")

        secret = os.path.join(work, "secret")
        open(secret, "w").write("bench secret\n")
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
        for w in range(opts.workers):
            env = {k: v for k, v in os.environ.items() if k != "GG_DIR"}
            procs.append(subprocess.Popen([GG, "worker", "--connect", f"127.0.0.1:{port}", "--secret-file", secret,
                                           "--slots", "1", "--cache", os.path.join(work, f"w{w}")], env=env,
                                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        pipeline(f"gg state, {opts.workers} loopback workers", *batch, "--engine", f"remote=127.0.0.1:{port}",
                 "--secret-file", secret, extra_cpu=lambda: tree_cpu([p.pid for p in procs]))

        print(f"\n{video.frames} frames {opts.size}, {chunks} chunks of {opts.chunk_frames}, batches of {opts.batch}")
        for label, seconds, cpu in rows[1:]:
            if "round" not in label:
                print(f"speed-up of {label:40s} over sequential vpxenc: {seq / seconds:.2f}x  "
                      f"(CPU {cpu / seq_cpu:.2f}x of it)")
        report_pairs(pairs)
        seq_cpus = [p[1] for p in pairs]
        print(f"per-chunk overhead in CPU (gg and its thunks at -j 1 less sequential vpxenc, per chunk): "
              f"{(j1_thunks - statistics.median(seq_cpus)) / chunks * 1000:.0f} ms; per clip, Python storing "
              f"the chunks: {j1_storing:.2f} CPU-s "
              f"(the sequential vpxenc took {min(seq_cpus):.2f}-{max(seq_cpus):.2f} CPU-s in this run)")
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
