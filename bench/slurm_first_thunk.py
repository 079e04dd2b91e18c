#!/usr/bin/env python3
"""Time from `gg force` to the first thunk running, through a real
single-node Slurm cluster (started here, as in the tests) and on the local
engine, in one run. Usage: bench/slurm_first_thunk.py [RUNS]"""
import json
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests"))
from slurm_cluster import SlurmCluster  # noqa: E402

GG = os.environ.get("GG", os.path.join(HERE, "..", "build", "src", "cli", "gg"))


def first_running(trace):
    with open(trace) as f:
        events = json.load(f)["traceEvents"]
    return min(e["ts"] for e in events if e["cat"].startswith("running")) / 1e6


def main():
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    cluster = SlurmCluster()
    try:
        with tempfile.TemporaryDirectory() as d:
            env = dict(os.environ, GG_DIR=os.path.join(d, ".gg"), SLURM_CONF=cluster.conf,
                       GG_COORDINATOR_HOST="127.0.0.1")
            run = lambda *a: subprocess.run([GG, *a], env=env, check=True, capture_output=True, text=True).stdout
            run("init")
            bb = run("collect", "/usr/bin/busybox").strip()
            results = {"slurm": [], "local": []}
            for i in range(runs):
                for engine in ("slurm=1,partition=gg", "local"):
                    t = run("create-thunk", "-e", f"{bb}=/bin/sh", "-o", "out", bb, "sh", "-c",
                            f"echo {engine} {i} > out").strip()
                    trace = os.path.join(d, "trace.json")
                    start = time.time()
                    run("force", "--engine", engine, "--trace", trace, t)
                    total = time.time() - start
                    results[engine.split("=")[0]].append((first_running(trace), total))
            for name, rs in results.items():
                firsts = sorted(r[0] for r in rs)
                totals = sorted(r[1] for r in rs)
                print(f"{name:6s}: first thunk running {firsts[len(firsts)//2]:.3f} s after the force started (median of {runs}), "
                      f"whole force {totals[len(totals)//2]:.3f} s")
            s = sorted(r[0] for r in results["slurm"])[runs // 2]
            l = sorted(r[0] for r in results["local"])[runs // 2]
            print(f"slurm adds {s - l:.3f} s before the first thunk runs (local: {l * 1000:.1f} ms)")
    finally:
        cluster.stop()


if __name__ == "__main__":
    main()
