#!/usr/bin/env python3
"""Time from `gg force` to the first thunk running through serverless-offline
(the handler from `gg lambda deploy`, run by serverless@3 +
serverless-offline@13, started here as in tests/lambda_test.py) with a
loopback Redis store, and on the local engine, in one run.

A trivial thunk's program takes milliseconds, so the whole force is an upper
bound on "force -> first thunk running"; the trace gives when the coordinator
handed the thunk to the engine. The first lambda run is cold (serverless-offline
starts the Python handler; the function downloads busybox), the rest warm.
Usage: bench/lambda_first_thunk.py [RUNS]"""
import json
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests"))
os.environ.setdefault("GG_BUILD_DIR", os.path.join(HERE, "..", "build"))
import lambda_test  # noqa: E402
from storage_servers import RedisServer  # noqa: E402

GG = lambda_test.GG


def first_running(trace):
    with open(trace) as f:
        events = json.load(f)["traceEvents"]
    return min(e["ts"] for e in events if e["cat"].startswith("running")) / 1e6


def main():
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    node_modules = lambda_test.ensure_serverless()
    redis = RedisServer().start()
    started = time.time()
    offline = lambda_test.Offline(node_modules)
    ready = time.time() - started
    try:
        with tempfile.TemporaryDirectory() as d:
            env = dict(os.environ, GG_DIR=os.path.join(d, ".gg"), AWS_ACCESS_KEY_ID="offline",
                       AWS_SECRET_ACCESS_KEY="offline")
            run = lambda *a: subprocess.run([GG, *a], env=env, check=True, capture_output=True, text=True).stdout
            run("init")
            bb = run("collect", "/usr/bin/busybox").strip()
            engines = {
                "lambda": ["--storage", redis.uri(), "--engine",
                           f"lambda={offline.function('gg')},endpoint={offline.endpoint()},region=us-east-1"],
                "local": ["--engine", "local"],
            }
            results = {name: [] for name in engines}
            for i in range(runs):
                for name, args in engines.items():
                    t = run("create-thunk", "-e", f"{bb}=/bin/sh", "-o", "out", bb, "sh", "-c",
                            f"echo {name} {i} > out").strip()
                    trace = os.path.join(d, "trace.json")
                    start = time.time()
                    run("force", *args, "--trace", trace, t)
                    results[name].append((first_running(trace), time.time() - start))
            print(f"serverless offline ready {ready:.2f} s after it was started")
            cold = results["lambda"][0]
            print(f"lambda cold: handed to the engine {cold[0]:.3f} s after the force started, whole force {cold[1]:.3f} s")
            for name, rs in results.items():
                rs = rs[1:] if name == "lambda" and len(rs) > 1 else rs
                firsts = sorted(r[0] for r in rs)
                totals = sorted(r[1] for r in rs)
                print(f"{name} {'warm' if name == 'lambda' else 'run'}: handed to the engine "
                      f"{firsts[len(firsts) // 2]:.3f} s after the force started, whole force "
                      f"{totals[len(totals) // 2]:.3f} s (median of {len(rs)})")
    finally:
        offline.stop()
        redis.stop()


if __name__ == "__main__":
    main()
