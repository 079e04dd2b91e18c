"""What bench/lambda_first_thunk.py and bench/gcf_first_thunk.py share: time
from `gg force` to a trivial thunk running on each engine, in one run.

A trivial thunk's program takes milliseconds, so the whole force is an upper
bound on "force -> first thunk running"; the trace gives when the coordinator
handed the thunk to the engine. The first run of each engine is reported
apart (cold: the function starts its handler and fetches busybox)."""
import json
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests"))
os.environ.setdefault("GG_BUILD_DIR", os.path.join(HERE, "..", "build"))
from ggtest import GG  # noqa: E402


def first_running(trace):
    with open(trace) as f:
        events = json.load(f)["traceEvents"]
    return min(e["ts"] for e in events if e["cat"].startswith("running")) / 1e6


def median(xs):
    xs = sorted(xs)
    return xs[len(xs) // 2]


def compare(engines, runs, env=None):
    """engines: {name: gg force arguments}; the first is the function, the
    last the local engine. Forces runs+1 fresh thunks on each and prints the
    cold run, then medians of the rest and the ratio function/local."""
    with tempfile.TemporaryDirectory() as d:
        env = dict(os.environ, **(env or {}), GG_DIR=os.path.join(d, ".gg"))
        run = lambda *a: subprocess.run([GG, *a], env=env, check=True, capture_output=True, text=True).stdout
        run("init")
        bb = run("collect", "/usr/bin/busybox").strip()
        results = {name: [] for name in engines}
        for i in range(runs + 1):
            for name, args in engines.items():
                t = run("create-thunk", "-e", f"{bb}=/bin/sh", "-o", "out", bb, "sh", "-c",
                        f"echo {name} {i} > out").strip()
                trace = os.path.join(d, "trace.json")
                start = time.time()
                run("force", *args, "--trace", trace, t)
                results[name].append((first_running(trace), time.time() - start))
    names = list(engines)
    cold = results[names[0]][0]
    print(f"{names[0]} cold: handed to the engine {cold[0]:.3f} s after the force started, "
          f"whole force {cold[1]:.3f} s")
    whole = {}
    for name, rs in results.items():
        rs = rs[1:]
        whole[name] = median(r[1] for r in rs)
        print(f"{name} {'warm' if name == names[0] else 'run'}: handed to the engine "
              f"{median(r[0] for r in rs):.3f} s after the force started, whole force {whole[name]:.3f} s "
              f"(median of {len(rs)})")
    print(f"ratio {names[0]} warm / {names[-1]} (whole force): {whole[names[0]] / whole[names[-1]]:.2f}x")
