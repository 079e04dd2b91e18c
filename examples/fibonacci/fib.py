#!/usr/bin/env python3
"""fib(N) with gg's Python SDK: tail recursion plus memoization.

    examples/fibonacci/fib.py N      prints fib(N) = ..., computed by gg

The thunk fib(k) runs this script inside gg's sandbox. For k < 2 its output
is k; otherwise its output is a new thunk, add(fib(k-1), fib(k-2)), which gg
forces in its place (tail recursion). fib(k) is always the same thunk, so gg
computes each once: fib(N) takes O(N) thunks, not O(fib(N)).

Uses the store in $GG_DIR (default: a .gg beside this script, created) and
the gg program on $PATH (or $GG_BINARY).
"""
from __future__ import annotations

import os
import sys

import gg


def fib_thunk(fn: gg.PythonFunction, n: int) -> gg.Thunk:
    return fn.thunk(["fib", str(n)], outputs=["out", "left", "right"])


def write(path: str, data: bytes) -> None:
    with open(path, "wb") as f:
        f.write(data)


def in_thunk(args: list[str]) -> None:
    """The two functions, run by gg in a sandbox (working directory /work)."""
    if args[0] == "fib":
        n = int(args[1])
        if n < 2:
            write("out", str(n).encode())
            write("left", b"")
            write("right", b"")
            return
        fn = gg.PythonFunction.current()
        left, right = fib_thunk(fn, n - 1), fib_thunk(fn, n - 2)
        add = fn.thunk(["add", "a", "b"], outputs=["out"],
                       inputs=[gg.Input(left.name, "a"), gg.Input(right.name, "b")])
        # The other outputs store the two thunks the add refers to.
        write("out", add.serialize())
        write("left", left.serialize())
        write("right", right.serialize())
    elif args[0] == "add":
        a, b = (int(open(p).read()) for p in args[1:3])
        write("out", str(a + b).encode())


def main() -> int:
    if len(sys.argv) >= 3 and sys.argv[1] in ("fib", "add"):
        in_thunk(sys.argv[1:])
        return 0
    if len(sys.argv) < 2 or not sys.argv[1].isdigit():
        print("usage: fib.py N [JOBS]", file=sys.stderr)
        return 2
    n = int(sys.argv[1])
    jobs = int(sys.argv[2]) if len(sys.argv) > 2 else None
    store_dir = os.environ.get("GG_DIR") or os.path.join(os.path.dirname(os.path.abspath(__file__)), ".gg")
    store = gg.Store.init(store_dir)
    fn = gg.PythonFunction.create(store, os.path.abspath(__file__))
    target = store.put_thunk(fib_thunk(fn, n))
    print(f"fib({n}) = {gg.force_output(store, target, jobs=jobs).decode()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
