#!/usr/bin/env python3
"""Time from `gg force` to the first thunk running through the Google Cloud
Functions Functions Framework (the source `gg gcf package` writes, served by
@google-cloud/functions-framework@3 from npm, started here as in
tests/gcf_test.py) with a loopback Redis store, and on the local engine, in
one run.

A trivial thunk's program takes milliseconds, so the whole force is an upper
bound on "force -> first thunk running"; the trace gives when the coordinator
handed the thunk to the engine. The first gcf run is cold (the function
downloads busybox from Redis), the rest warm.
Usage: bench/gcf_first_thunk.py [RUNS]"""
import json
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests"))
os.environ.setdefault("GG_BUILD_DIR", os.path.join(HERE, "..", "build"))
import gcf_test  # noqa: E402
from storage_servers import RedisServer  # noqa: E402

GG = gcf_test.GG


def first_running(trace):
    with open(trace) as f:
        events = json.load(f)["traceEvents"]
    return min(e["ts"] for e in events if e["cat"].startswith("running")) / 1e6


def median(xs):
    xs = sorted(xs)
    return xs[len(xs) // 2]


def main():
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    node_modules = gcf_test.ensure_framework()
    redis = RedisServer().start()
    started = time.time()
    fn = gcf_test.Framework(node_modules)
    ready = time.time() - started
    try:
        with tempfile.TemporaryDirectory() as d:
            env = dict(os.environ, GG_DIR=os.path.join(d, ".gg"))
            run = lambda *a: subprocess.run([GG, *a], env=env, check=True, capture_output=True, text=True).stdout
            run("init")
            bb = run("collect", "/usr/bin/busybox").strip()
            engines = {
                "gcf": ["--storage", redis.uri(), "--engine", f"gcf={fn.url}"],
                "local": ["--engine", "local"],
            }
            results = {name: [] for name in engines}
            for i in range(runs + 1):
                for name, args in engines.items():
                    t = run("create-thunk", "-e", f"{bb}=/bin/sh", "-o", "out", bb, "sh", "-c",
                            f"echo {name} {i} > out").strip()
                    trace = os.path.join(d, "trace.json")
                    start = time.time()
                    run("force", *args, "--trace", trace, t)
                    results[name].append((first_running(trace), time.time() - start))
            print(f"functions framework ready {ready:.2f} s after it was started")
            cold = results["gcf"][0]
            print(f"gcf cold: handed to the engine {cold[0]:.3f} s after the force started, whole force {cold[1]:.3f} s")
            summary = {}
            for name, rs in results.items():
                rs = rs[1:]  # the first of each is the cold one
                summary[name] = median(r[1] for r in rs)
                print(f"{name} {'warm' if name == 'gcf' else 'run'}: handed to the engine "
                      f"{median(r[0] for r in rs):.3f} s after the force started, whole force "
                      f"{summary[name]:.3f} s (median of {len(rs)})")
            print(f"ratio gcf warm / local (whole force): {summary['gcf'] / summary['local']:.2f}x")
    finally:
        fn.stop()
        redis.stop()


if __name__ == "__main__":
    main()
