#!/usr/bin/env python3
"""How `gg report` copes with a large trace: writes a synthetic trace in the
coordinator's format (docs/coordinator.md) of N thunks (default 100,000) on S
slots — compiles in waves, a few archives and a serial tail of links, 1% of
runs retried and 0.5% duplicated as stragglers — then times `gg report`
(HTML and --json) and headless Chromium laying the page out.

  python3 bench/report_large_trace.py [--thunks N] [--slots S] [--keep DIR]
"""
import argparse
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
BUILD = os.environ.get("GG_BUILD_DIR", os.path.join(ROOT, "build"))
GG = os.path.join(BUILD, "src", "cli", "gg")


def make_trace(n, slots, path):
    rnd = random.Random(1)
    events = [{"name": "thread_name", "ph": "M", "pid": 1, "tid": 100001 + s, "args": {"name": f"local slot {s + 1}"}}
              for s in range(slots)]
    free_at = [0] * slots
    compiles = n - n // 200 - 20
    names = []

    def run(i, kind, deps, dur, attempt=1, duplicate=False, result="ok"):
        slot = min(range(slots), key=lambda s: free_at[s])
        ready = max([ends.get(d, 0) for d in deps] + [0])
        start = max(free_at[slot], ready)
        fetch, collect = 2000, 1500
        end = start + fetch + dur + collect
        free_at[slot] = end
        name = f"T{i:051d}"
        cmd = {"compile": f"/usr/bin/gcc -g -O2 -Iinclude -c -o obj/f{i}.o src/f{i}.c",
               "archive": f"/usr/bin/ar rcs lib/l{i}.a",
               "link": f"/usr/bin/gcc -o bin/prog{i} main.o lib/all.a"}[kind]
        common = {"thunk": name, "engine": "local", "attempt": str(attempt), "duplicate": "yes" if duplicate else "no",
                  "result": result}
        tid = 100001 + slot
        label = cmd.split()[0].rsplit("/", 1)[1] + " " + name[:12]
        if not duplicate:
            events.append({"name": label, "cat": "queued", "ph": "X", "pid": 1, "tid": tid, "ts": ready,
                           "dur": start - ready, "args": common})
        events.append({"name": label, "cat": "fetching inputs", "ph": "X", "pid": 1, "tid": tid, "ts": start,
                       "dur": fetch, "args": common})
        main = dict(common, function=cmd.split()[0].rsplit("/", 1)[1], command=cmd, deps=" ".join(deps))
        if result == "ok":
            main["outputs"] = "V" + name[1:]
        else:
            main["message"] = result
        cat = "running (duplicate)" if duplicate else "running (retry)" if attempt > 1 else "running"
        events.append({"name": label, "cat": cat, "ph": "X", "pid": 1, "tid": tid, "ts": start + fetch, "dur": dur,
                       "args": main})
        events.append({"name": label, "cat": "collected", "ph": "X", "pid": 1, "tid": tid,
                       "ts": start + fetch + dur, "dur": collect, "args": common})
        return name, end

    ends = {}
    for i in range(compiles):
        dur = int(rnd.lognormvariate(11.9, 0.5))  # ~150 ms
        if rnd.random() < 0.01:
            run(i, "compile", [], dur // 3, result="executor crashed")
            name, end = run(i, "compile", [], dur, attempt=2)
        else:
            name, end = run(i, "compile", [], dur)
        if rnd.random() < 0.005:
            run(i, "compile", [], dur // 2, attempt=2, duplicate=True, result="cancelled")
        ends[name] = end
        names.append(name)
    archives = []
    per = max(1, compiles // (n // 200))
    for a in range(n // 200):
        deps = names[a * per:(a + 1) * per]
        name, end = run(compiles + a, "archive", deps, 300000)
        ends[name] = end
        archives.append(name)
    prev = archives
    for k in range(20):
        name, end = run(compiles + n // 200 + k, "link", prev[-50:], 800000)
        ends[name] = end
        prev = [name]
    wall = max(ends.values()) / 1e6
    with open(path, "w") as f:
        json.dump({"displayTimeUnit": "ms",
                   "otherData": {"gg_trace": "1", "wall_seconds": str(wall), "slots": str(slots),
                                 "engines": f"local={slots}", "thunks": str(n), "ran": str(n), "memoized": "0",
                                 "status": "ok"},
                   "traceEvents": events}, f)


def timed(cmd):
    """Wall seconds, and prints the CPU seconds too (the machine is shared)."""
    t = time.monotonic()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit(f"{cmd[0]} failed: {p.stderr[-2000:]}")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    print(f"  ({os.path.basename(cmd[0])}: {cpu:.2f} s CPU)")
    return time.monotonic() - t, p


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--thunks", type=int, default=100000)
    ap.add_argument("--slots", type=int, default=64)
    ap.add_argument("--keep", help="leave the trace, page and screenshot in this directory")
    args = ap.parse_args()
    d = args.keep or tempfile.mkdtemp(prefix="gg-report-bench-")
    os.makedirs(d, exist_ok=True)
    trace, page = os.path.join(d, "trace.json"), os.path.join(d, "report.html")
    make_trace(args.thunks, args.slots, trace)
    print(f"trace: {args.thunks} thunks on {args.slots} slots, {os.path.getsize(trace) / 1e6:.1f} MB")
    print(f"load average: {os.getloadavg()[0]:.1f}")
    t, _ = timed([GG, "report", trace, "-o", page])
    print(f"gg report: {t:.2f} s, page {os.path.getsize(page) / 1e6:.1f} MB")
    t, p = timed([GG, "report", trace, "--json"])
    print(f"gg report --json: {t:.2f} s, {len(p.stdout) / 1e6:.1f} MB")
    chromium = shutil.which("chromium")
    if chromium:
        common = [chromium, "--headless", "--disable-gpu", "--no-sandbox", "--user-data-dir=" + os.path.join(d, "prof"),
                  "--window-size=1300,1500"]
        t, p = timed(common + ["--dump-dom", "file://" + page])
        print(f"chromium --dump-dom (load, lay out, run the script): {t:.2f} s, "
              f"{p.stdout.count('<rect')} rects, ready: {'data-ready' in p.stdout}")
        t, _ = timed(common + ["--screenshot=" + os.path.join(d, "report.png"), "file://" + page])
        print(f"chromium --screenshot: {t:.2f} s")
    if not args.keep:
        shutil.rmtree(d)


if __name__ == "__main__":
    main()
