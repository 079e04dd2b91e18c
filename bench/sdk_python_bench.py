#!/usr/bin/env python3
"""Creating and storing thunks from Python: the SDK against `gg create-thunk`
in a loop (what a front-end without an SDK does), in one run.

    bench/sdk_python_bench.py [--thunks 10000] [--rival-thunks 1000] [--gg PATH]

Each thunk runs busybox sh with its own argument and consumes a value and the
previous thunk's output (a chain, so every thunk differs and names its input).
The rival runs fewer thunks by default (one process each); both rates are
per thunk, and the ratio compares them. Prints the load average too.
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.join(ROOT, "python"))
import gg  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--thunks", type=int, default=10000)
    ap.add_argument("--rival-thunks", type=int, default=1000)
    ap.add_argument("--gg", default=os.environ.get("GG_BINARY", os.path.join(ROOT, "build", "src", "cli", "gg")))
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="gg-sdk-bench-")
    try:
        store = gg.Store.init(os.path.join(work, ".gg"))
        busybox = store.collect("/usr/bin/busybox")
        value = store.put(b"input\n")

        start = time.perf_counter()
        prev = None
        for i in range(args.thunks):
            t = gg.Thunk(args=["sh", "-c", f"cat v p > out; echo {i} >> out"], outputs=["out"])
            t.set_function(busybox, "/bin/sh").add_input(value, "v")
            if prev:
                t.add_input(prev, "p")
            prev = store.put_thunk(t)
        sdk = time.perf_counter() - start

        env = dict(os.environ, GG_DIR=store.dir)
        start = time.perf_counter()
        prev = None
        for i in range(args.rival_thunks):
            cmd = [args.gg, "create-thunk", "-e", f"{busybox}=/bin/sh", "-v", f"{value}=v", "-o", "out"]
            if prev:
                cmd += ["-t", f"{prev}=p"]
            cmd += [busybox, "sh", "-c", f"cat v p > out; echo {i} >> out"]
            prev = subprocess.run(cmd, env=env, check=True, capture_output=True, text=True).stdout.strip()
        rival = time.perf_counter() - start
    finally:
        shutil.rmtree(work, ignore_errors=True)

    sdk_per = sdk / args.thunks
    rival_per = rival / args.rival_thunks
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"Python SDK:          {args.thunks} thunks in {sdk:.2f} s ({sdk_per * 1e6:.0f} us/thunk)")
    print(f"gg create-thunk loop: {args.rival_thunks} thunks in {rival:.2f} s ({rival_per * 1e6:.0f} us/thunk); "
          f"{args.thunks} would take {rival_per * args.thunks:.1f} s")
    print(f"ratio: the SDK is {rival_per / sdk_per:.1f}x faster per thunk")
    return 0


if __name__ == "__main__":
    sys.exit(main())
