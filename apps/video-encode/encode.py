#!/usr/bin/env python3
"""Parallel VP8 encoding with gg, ExCamera's way (see README.md).

    apps/video-encode/run IN -o OUT.ivf [--chunk-frames N] [--batch K] [--cq-level Q]
        [--cpu-used N] [--target-bitrate KBPS] [--mode state|vpxenc] [--compare] [--no-verify]
        [-j N] [--engine E]... [--storage URI] [--trace FILE] [--secret-file FILE]

The input is cut into chunks of N frames as it is stored; each chunk is
encoded by its own thunk; one thunk stitches the chunks into OUT.ivf. With --mode
state (the default) only the first chunk of each batch of K starts with a key
frame: every other chunk starts from the decoder state the previous chunk
ended in, which passes from thunk to thunk. With --mode vpxenc every chunk is
a plain single-threaded `vpxenc` run (a key frame per chunk).

Written with gg's Python SDK (python/gg).
"""
from __future__ import annotations

import argparse
import concurrent.futures
import mmap
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Iterator

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
try:
    import gg
except ImportError:  # run from a checkout without the SDK installed
    sys.path.insert(0, os.path.join(ROOT, "python"))
    import gg

GG_VPX = "/bin/gg-vpx"  # where the static gg-vpx is seen inside a thunk


def fail(msg: str) -> "NoReturn":  # type: ignore[name-defined]
    print(f"video-encode: {msg}", file=sys.stderr)
    sys.exit(1)


def build_dir() -> str:
    return os.environ.get("GG_BUILD_DIR") or os.path.join(ROOT, "build")


def find_program(env: str, built: str, name: str) -> str:
    path = os.environ.get(env) or os.path.join(build_dir(), built)
    if not os.path.exists(path):
        fail(f"{name} not found at {path}: build gg first (scripts/setup) or set {env}")
    return path


# --- the input ----------------------------------------------------------------------------------

class Y4m:
    """The header of a Y4M file and its frame count, checked exactly."""

    def __init__(self, path: str) -> None:
        with open(path, "rb") as f:
            header = f.readline(4096)
        if not header.startswith(b"YUV4MPEG2 ") or not header.endswith(b"\n"):
            fail(f"{path}: not a YUV4MPEG2 file")
        fields = {t[:1]: t[1:] for t in header.decode().split()[1:]}
        if fields.get("I", "p") != "p":  # vpxenc refuses these too
            fail(f"{path}: interlaced input (I{fields['I']}) is not supported; deinterlace it first, "
                 "e.g. ffmpeg -i IN -vf yadif -pix_fmt yuv420p OUT.y4m")
        self.width, self.height = int(fields.get("W", 0)), int(fields.get("H", 0))
        num, _, den = fields.get("F", "30:1").partition(":")
        self.fps = (int(num), int(den or 1))
        cw, ch = (self.width + 1) // 2, (self.height + 1) // 2
        self.frame_bytes = self.width * self.height + 2 * cw * ch
        # Every frame is "FRAME\n" (no parameters from ffmpeg) and its planes;
        # anything else would make the count below wrong, so check it.
        body = os.path.getsize(path) - len(header)
        per = len(b"FRAME\n") + self.frame_bytes
        if self.width <= 0 or self.height <= 0 or body % per != 0:
            fail(f"{path}: frames are not all 'FRAME' + {self.frame_bytes} bytes; re-create it with ffmpeg")
        self.frames = body // per


# The Y4M colour spaces that are 8-bit 4:2:0 (chroma siting aside, the
# planes are laid out alike): what VP8 encodes. No C tag means C420jpeg.
# Anything else (C420p10, C422, mono...) is converted by ffmpeg first.
Y4M_420 = {"C420", "C420jpeg", "C420mpeg2", "C420paldv"}


def to_y4m(path: str, tmp: str) -> str:
    """The input as 8-bit 4:2:0 Y4M: as it is, or converted by ffmpeg."""
    with open(path, "rb") as f:
        header = f.readline(4096)
    if header.startswith(b"YUV4MPEG2 "):
        colour = [t for t in header.decode(errors="replace").split()[1:] if t.startswith("C")]
        if not colour or colour[0] in Y4M_420:
            return path
    out = os.path.join(tmp, "input.y4m")
    p = subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-i", path, "-pix_fmt", "yuv420p",
                        "-f", "yuv4mpegpipe", "-strict", "-1", out], capture_output=True, text=True)
    if p.returncode != 0:
        fail(f"ffmpeg cannot convert {path}: {p.stderr.strip()}")
    return out


# --- the graph ------------------------------------------------------------------------------------

class Pipeline:
    def __init__(self, store: gg.Store, args: argparse.Namespace, video: Y4m, source: str) -> None:
        self.store, self.args, self.video, self.source = store, args, video, source
        self.vpx = store.put_file(find_program("GG_VPX", "apps/video-encode/gg-vpx", "gg-vpx"))
        self.chunks = (video.frames + args.chunk_frames - 1) // args.chunk_frames
        self.settings = ["--cq-level", str(args.cq_level), "--cpu-used", str(args.cpu_used),
                         "--target-bitrate", str(args.target_bitrate)]
        self.vpxenc: list[gg.Input] | None = None  # its program's inputs, once a thunk needs them
        self.stored = 0.0  # when the last chunk was stored (time.monotonic)

    def vpx_thunk(self, args: list[str], outputs: list[str]) -> gg.Thunk:
        return gg.Thunk(args=["gg-vpx", *args], outputs=outputs).set_function(self.vpx, GG_VPX)

    def store_order(self) -> list[int]:
        """The chunks in the order they are stored: the first of every batch
        first (each can start encoding at once), then the second of each
        (needed only once the first is encoded), and so on. Each chunk's
        predecessor in its batch comes before it. (Plain vpxenc chunks:
        in order.)"""
        batch = self.args.batch if self.args.mode == "state" else 1
        return sorted(range(self.chunks), key=lambda i: (i % batch, i))

    def split(self) -> Iterator[tuple[int, str]]:
        """Stores each chunk of N frames as its own Y4M (the input's header
        line, then the frames, byte for byte what `gg-vpx split` writes) and
        yields (index, name) in store_order(), each as soon as it is stored
        (so its encoding can start while later chunks are stored).
        The whole input is never stored, and no thunk copies it again: each
        byte is hashed from the mapped input and written once, in one pass
        (each MB written while it is in the cache from hashing it), and gg
        verifies the chunks through its hash cache, without reading them
        again. Two threads, since hashing and writing run outside Python's
        lock. If the first chunk is stored already (the same input again),
        the rest are only hashed, and written only where they differ."""
        with open(self.source, "rb") as f:
            header = f.readline()
            mapped = mmap.mmap(f.fileno(), 0, prot=mmap.PROT_READ)
        per = len(b"FRAME\n") + self.video.frame_bytes
        view = memoryview(mapped)

        def put_chunk(i: int, one_pass: bool) -> str:
            first = i * self.args.chunk_frames
            count = min(self.args.chunk_frames, self.video.frames - first)
            data = view[len(header) + first * per:len(header) + (first + count) * per]
            bad = next((k for k in range(count) if data[k * per:k * per + 6] != b"FRAME\n"), None)
            if len(data) != count * per or bad is not None:
                fail(f"{self.source}: frame {first + (bad or 0)} has no bare FRAME marker or is truncated; "
                     "re-create it with ffmpeg")
            return self.store.put_parts([header, data], one_pass=one_pass)

        pool = concurrent.futures.ThreadPoolExecutor(max_workers=2)
        try:
            # Whether the first chunk was stored already (this input stored
            # before: the rest most likely are too) decides how the chunks
            # after the second are put; a wrong guess costs time, never
            # correctness. (Older than a second: file times are coarse.)
            # The first two are written in one pass either way: the first
            # encodes wait for them, and a blob stored already keeps its
            # old time (the new copy is dropped), which tells.
            before = time.time_ns() - 1_000_000_000
            order = self.store_order()
            chunks = [pool.submit(put_chunk, order[0], True)]
            if self.chunks > 1:
                chunks.append(pool.submit(put_chunk, order[1], True))
            first = chunks[0].result()
            again = os.stat(os.path.join(self.store.dir, "blobs", gg.object_of(first))).st_mtime_ns < before
            chunks += [pool.submit(put_chunk, i, not again) for i in order[2:]]
            for i, chunk in zip(order, chunks):
                yield i, chunk.result()
        finally:
            # Also when the consumer stops early (gg failed): what has not
            # started is dropped, what runs is waited for (it reads `view`).
            pool.shutdown(wait=True, cancel_futures=True)
            view.release()
            mapped.close()

    def encode_state(self, i: int, chunk: str, previous: str | None) -> str:
        """Chunk i's encode thunk: the first of a batch of K from a key
        frame, each other from its predecessor's (`previous`) end state.
        Its outputs: the stream, the end state, the reconstruction digests."""
        args = ["encode", "in.y4m", "out.ivf", "--state-out", "state", "--recon", "recon", *self.settings]
        t = self.vpx_thunk(args, ["out.ivf", "state", "recon"])
        t.add_input(chunk, "in.y4m")
        if i % self.args.batch != 0:
            t.args[-len(self.settings):-len(self.settings)] = ["--state-in", "prev.state"]
            t.add_input(gg.with_tag(previous, "state"), "prev.state")  # type: ignore[arg-type]
        return self.store.put_thunk(t)

    def encode_vpxenc(self, chunk: str) -> str:
        if self.vpxenc is None:
            self.vpxenc = gg.program_inputs(self.store, shutil.which("vpxenc") or fail("vpxenc is not installed (vpx-tools)"))
        t = gg.Thunk(args=["vpxenc", *vpxenc_settings(self.args), "--ivf", "-o", "out.ivf", "in.y4m"],
                     outputs=["out.ivf"])
        t.function = self.vpxenc[0].name
        t.inputs = list(self.vpxenc)
        t.add_input(chunk, "in.y4m")
        return self.store.put_thunk(t)

    def targets(self) -> Iterator[str]:
        """The job for gg, streamed: each chunk's encode thunk as soon as
        its chunk is stored, then the stitch and (state mode) each chunk's
        reconstruction digests."""
        streams: list[str] = [""] * self.chunks
        for i, chunk in self.split():
            if self.args.mode == "state":
                streams[i] = self.encode_state(i, chunk, streams[i - 1] if i else None)
            else:
                streams[i] = self.encode_vpxenc(chunk)
            yield streams[i]
        self.stored = time.monotonic()
        yield self.stitch(streams)
        if self.args.mode == "state":
            yield from (gg.with_tag(s, "recon") for s in streams)

    def stitch(self, streams: list[str]) -> str:
        t = self.vpx_thunk(["stitch", "out.ivf", *[f"{i:03d}.ivf" for i in range(len(streams))]], ["out.ivf"])
        for i, s in enumerate(streams):
            t.add_input(s, f"{i:03d}.ivf")
        return self.store.put_thunk(t)


def vpxenc_settings(args: argparse.Namespace) -> list[str]:
    """The same encoder settings as gg-vpx's, for vpxenc (one key frame at
    the start, no alt-ref frames, no entropy state carried between frames)."""
    return ["--codec=vp8", "--good", f"--cpu-used={args.cpu_used}", "--end-usage=cq",
            f"--cq-level={args.cq_level}", f"--target-bitrate={args.target_bitrate}", "--threads=1",
            "--lag-in-frames=0", "--auto-alt-ref=0", "--kf-max-dist=100000", "--error-resilient=1",
            "--drop-frame=0", "--quiet"]


# --- checking and measuring -----------------------------------------------------------------------

def cpu_seconds() -> tuple[float, float]:
    """User + system time of this process (Python, storing the chunks) and
    of every process it waited for (gg, its sandboxes and their programs)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime, children.ru_utime + children.ru_stime


def decoded_digests(ivf: str, video: Y4m) -> list[str]:
    """The digest (gg-vpx's, as the encoder's --recon) of each frame the
    real vpxdec decodes from `ivf`, hashed as vpxdec writes them out."""
    read_end, write_end = os.pipe()
    with tempfile.TemporaryFile() as decoder_err:
        decoder = subprocess.Popen(["vpxdec", "--i420", "-o", "-", ivf], stdout=write_end, stderr=decoder_err)
        digests = subprocess.Popen([find_program("GG_VPX", "apps/video-encode/gg-vpx", "gg-vpx"), "frame-digests",
                                    str(video.width), str(video.height)], stdin=read_end,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        os.close(read_end)
        os.close(write_end)
        out, err = digests.communicate()
        if decoder.wait() != 0:
            decoder_err.seek(0)
            fail(f"vpxdec cannot decode {ivf}: {decoder_err.read().decode(errors='replace').strip()}")
    if digests.returncode != 0:
        fail(f"vpxdec's output of {ivf}: {err.decode(errors='replace').strip()}")
    return out.decode().split()


def quality(ivf: str, source: str) -> dict[str, float]:
    """SSIM and PSNR (all planes) of the decoded stream against the source."""
    out: dict[str, float] = {}
    for metric in ("ssim", "psnr"):
        p = subprocess.run(["ffmpeg", "-hide_banner", "-nostats", "-i", ivf, "-i", source, "-lavfi", metric,
                            "-f", "null", "-"], capture_output=True, text=True)
        m = re.search(r"All:(\S+)" if metric == "ssim" else r"average:(\S+)", p.stderr)
        if p.returncode != 0 or not m:
            fail(f"ffmpeg could not measure {metric} of {ivf}: {p.stderr.strip()[-500:]}")
        out[metric] = float(m.group(1)) if m.group(1) != "inf" else float("inf")
    return out


def summary(label: str, ivf: str, source: str, video: Y4m, seconds: float | None) -> str:
    q = quality(ivf, source)
    kbps = os.path.getsize(ivf) * 8 / (video.frames * video.fps[1] / video.fps[0]) / 1000
    took = f", {seconds:.2f} s" if seconds is not None else ""
    return f"{label}: {kbps:.0f} kbit/s, SSIM {q['ssim']:.4f}, PSNR {q['psnr']:.2f} dB{took}"


# --- the command ------------------------------------------------------------------------------------

def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="apps/video-encode/run", description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("input", help="a Y4M file, or anything ffmpeg reads (converted first)")
    p.add_argument("-o", "--output", required=True, help="the IVF file to write")
    p.add_argument("--chunk-frames", type=int, default=60, help="frames per chunk (default 60)")
    p.add_argument("--batch", type=int, default=2, help="chunks per key frame with --mode state (default 2)")
    p.add_argument("--cq-level", type=int, default=20, help="quality level, 0-63 (default 20)")
    p.add_argument("--cpu-used", type=int, default=4, help="speed, -16..16 (default 4)")
    p.add_argument("--target-bitrate", type=int, default=4000, help="bitrate ceiling in kbit/s (default 4000)")
    p.add_argument("--mode", choices=("state", "vpxenc"), default="state")
    p.add_argument("--compare", action="store_true", help="also encode sequentially with vpxenc and compare")
    p.add_argument("--no-verify", action="store_true", help="skip decoding the result against the reconstruction")
    p.add_argument("-j", type=int, dest="jobs", help="thunks at once (gg force -j)")
    p.add_argument("--engine", action="append", default=[], help="as gg force --engine (repeatable)")
    p.add_argument("--storage", help="as gg force --storage")
    p.add_argument("--trace", help="as gg force --trace")
    p.add_argument("--secret-file", help="as gg force --secret-file (remote workers)")
    args = p.parse_args(argv)
    if args.chunk_frames < 1 or args.batch < 1:
        p.error("--chunk-frames and --batch must be at least 1")
    if not 0 <= args.cq_level <= 63:
        p.error("--cq-level must be 0 to 63")
    return args


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    if not os.environ.get("GG_BINARY") and not shutil.which("gg"):
        os.environ["GG_BINARY"] = find_program("GG_BINARY", "src/cli/gg", "gg")
    if not os.path.exists(args.input):
        fail(f"{args.input}: no such file")
    # The output is checked before any encoding, not found wrong after it.
    out_dir = os.path.dirname(os.path.abspath(args.output))
    if os.path.isdir(args.output):
        fail(f"{args.output} is a directory: give the IVF file to write, e.g. -o {os.path.join(args.output, 'out.ivf')}")
    if not os.path.isdir(out_dir) or not os.access(out_dir, os.W_OK):
        fail(f"cannot write {args.output}: {out_dir} is not a writable directory")
    store_dir = os.environ.get("GG_DIR") or os.path.join(HERE, ".gg")
    store = gg.Store.init(store_dir)  # opens it when it is one already
    with tempfile.TemporaryDirectory(prefix="gg-video.") as tmp:
        source = to_y4m(args.input, tmp)
        video = Y4m(source)
        if video.frames == 0:
            fail(f"{args.input} has no frames")
        began = time.monotonic()
        pipeline = Pipeline(store, args, video, source)
        # The chunks are stored while the first ones encode: gg starts each
        # encode thunk as soon as it is written.
        names = store.force(pipeline.targets(), jobs=args.jobs, engines=args.engine, storage=args.storage,
                            trace=args.trace, secret_file=args.secret_file, progress=sys.stderr.isatty())
        took = time.monotonic() - began
        final, recons = names[pipeline.chunks], names[pipeline.chunks + 1:]
        try:
            store.copy_out(final, args.output)
        except OSError as e:
            fail(f"cannot write {args.output}: {e.strerror}")
        # CPU from this process's start (Python's own start-up included).
        encoded, (own, children) = time.monotonic() - began, cpu_seconds()
        print(f"{args.output}: {video.frames} frames in {pipeline.chunks} chunks of {args.chunk_frames} "
              f"({args.mode}{f', batches of {args.batch}' if args.mode == 'state' else ''}), "
              f"encoded in {encoded:.2f} s (chunks stored in {pipeline.stored - began:.2f} s while the first "
              f"encoded, forced in {took:.2f} s; {own + children:.2f} CPU-s here: {own:.2f} in Python storing "
              f"the chunks, {children:.2f} in gg and its thunks, remote workers not counted)")

        checking = time.monotonic()
        decoded = decoded_digests(args.output, video)
        if len(decoded) != video.frames:
            fail(f"{args.output} decodes to {len(decoded)} frames, the input has {video.frames}")
        if recons and not args.no_verify:
            expected = b"".join(store.get(n) for n in recons).decode().split()
            bad = [i for i, (a, b) in enumerate(zip(decoded, expected)) if a != b]
            if bad or len(expected) != len(decoded):
                fail(f"{args.output}: decoded frames differ from the encoder's reconstruction "
                     f"(first at frame {bad[0] if bad else len(expected)})")
            print(f"verified: all {len(decoded)} decoded frames equal the encoder's reconstruction")
        print(summary("gg", args.output, source, video, None))
        print(f"checked in {time.monotonic() - checking:.2f} s (decoding, verifying, SSIM and PSNR)")
        if args.compare:
            seq = os.path.join(tmp, "sequential.ivf")
            start = time.monotonic()
            subprocess.run(["vpxenc", *vpxenc_settings(args), "--ivf", "-o", seq, source], check=True)
            print(summary("sequential vpxenc", seq, source, video, time.monotonic() - start))
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except gg.GGError as e:
        fail(str(e))
