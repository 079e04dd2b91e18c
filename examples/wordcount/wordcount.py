#!/usr/bin/env python3
"""Word counts over many files with gg's Python SDK: a map-reduce.

    examples/wordcount/wordcount.py FILE|DIR... [-j JOBS]

One thunk counts the words of one file; merge thunks add counts pairwise, a
tree reduction, up to one root. The result is checked against a sequential
count here and the most frequent words are printed. Running it again forces
nothing: every thunk is already reduced (it says so).

A word is what str.split() returns from the UTF-8 text (bad bytes replaced).
Uses $GG_DIR (default: a .gg beside this script) and gg on $PATH or $GG_BINARY.
"""
from __future__ import annotations

import collections
import os
import sys

import gg


def count_text(data: bytes) -> collections.Counter[str]:
    return collections.Counter(data.decode("utf-8", errors="replace").split())


def dump(counts: collections.Counter[str]) -> bytes:
    return "".join(f"{w}\t{c}\n" for w, c in sorted(counts.items())).encode()


def load(data: bytes) -> collections.Counter[str]:
    counts: collections.Counter[str] = collections.Counter()
    for line in data.decode().splitlines():
        word, _, n = line.rpartition("\t")
        counts[word] = int(n)
    return counts


def in_thunk(args: list[str]) -> None:
    """count IN: the counts of one file; merge A B: the sum of two counts."""
    if args[0] == "count":
        result = count_text(open(args[1], "rb").read())
    else:
        result = load(open(args[1], "rb").read()) + load(open(args[2], "rb").read())
    with open("out", "wb") as f:
        f.write(dump(result))


def files_of(paths: list[str]) -> list[str]:
    out = []
    for p in paths:
        if os.path.isdir(p):
            for root, _, names in os.walk(p):
                out += [os.path.join(root, n) for n in sorted(names)]
        else:
            out.append(p)
    return sorted(out)


def main() -> int:
    if len(sys.argv) >= 3 and sys.argv[1] in ("count", "merge"):
        in_thunk(sys.argv[1:])
        return 0
    args = sys.argv[1:]
    jobs = None
    if "-j" in args:
        i = args.index("-j")
        jobs = int(args[i + 1])
        del args[i:i + 2]
    files = files_of(args)
    if not files:
        print("usage: wordcount.py FILE|DIR... [-j JOBS]", file=sys.stderr)
        return 2
    store_dir = os.environ.get("GG_DIR") or os.path.join(os.path.dirname(os.path.abspath(__file__)), ".gg")
    store = gg.Store.init(store_dir)
    fn = gg.PythonFunction.create(store, os.path.abspath(__file__))

    # Map: one thunk per file. Reduce: merge pairs until one is left.
    thunks = []
    level = []
    for path in files:
        t = fn.thunk(["count", "in.txt"], outputs=["out"], inputs=[gg.Input(store.put_file(path), "in.txt")])
        thunks.append(store.put_thunk(t))
        level.append(thunks[-1])
    while len(level) > 1:
        nxt = []
        for i in range(0, len(level) - 1, 2):
            t = fn.thunk(["merge", "a", "b"], outputs=["out"],
                         inputs=[gg.Input(level[i], "a"), gg.Input(level[i + 1], "b")])
            thunks.append(store.put_thunk(t))
            nxt.append(thunks[-1])
        if len(level) % 2:
            nxt.append(level[-1])
        level = nxt
    pending = sum(store.reduced_to(t) is None for t in thunks)
    print(f"{len(files)} files, {len(thunks)} thunks, {pending} not yet reduced")
    counts = load(gg.force_output(store, level[0], jobs=jobs))

    sequential: collections.Counter[str] = collections.Counter()
    for path in files:
        sequential += count_text(open(path, "rb").read())
    if counts != sequential:
        print("error: gg's counts differ from the sequential count", file=sys.stderr)
        return 1
    print(f"{sum(counts.values())} words, {len(counts)} distinct; identical to the sequential count")
    for word, n in counts.most_common(5):
        print(f"{n:8d} {word}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
