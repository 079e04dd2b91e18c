"""The golden cases of src/sdk/golden_cases.h, built with the Python SDK."""
from __future__ import annotations

import os

import gg

GOLDEN_FILE = os.path.join(os.path.dirname(__file__), "..", "..", "src", "sdk", "testdata", "golden.txt")

EXE = gg.name_of(b"#!/bin/sh\necho hi\n")
VAL = gg.name_of(b"hello")


def sample_tree() -> gg.Tree:
    # Deliberately unsorted: serialize() sorts by path.
    return (gg.Tree().add_file("d/run", EXE, executable=True).add_file("a.txt", VAL)
            .add_dir("d").add_symlink("d/link", "../a.txt"))


def minimal_thunk() -> gg.Thunk:
    return gg.Thunk(args=["sh"], outputs=["out", "log"]).set_function(EXE, "sh")


def full_thunk() -> gg.Thunk:
    dep = minimal_thunk().name
    tree = sample_tree().name
    t = (gg.Thunk().set_function(EXE, "bin/prog").add_input(VAL, "in/hello.txt").add_input(tree, "/opt/tree")
         .add_input(dep, "dep.out").add_input(gg.with_tag(dep, "log"), "dep.log"))
    t.args = ["prog", "--in=" + gg.placeholder(VAL), "", "caf\u00e9"]
    t.env = ["LANG=C", "TREE=" + gg.placeholder(tree)]
    t.outputs = ["out", "logs/err"]
    t.timeout_ms = 5000
    t.workdir = "/src"
    return t


def limited_thunk() -> gg.Thunk:
    t = minimal_thunk()
    t.limits = gg.Limits(memory_bytes=4 << 30, processes=64, workdir_bytes=1 << 20)
    return t


def cases() -> dict[str, bytes]:
    return {"tree-empty": gg.Tree().serialize(), "tree-sample": sample_tree().serialize(),
            "thunk-minimal": minimal_thunk().serialize(), "thunk-full": full_thunk().serialize(),
            "thunk-limits": limited_thunk().serialize()}


def load_golden() -> dict[str, tuple[str, str]]:
    """id -> (name, hex) from src/sdk/testdata/golden.txt."""
    out = {}
    with open(GOLDEN_FILE) as f:
        for line in f:
            if line.strip() and not line.startswith("#"):
                ident, name, hexbytes = line.split()
                out[ident] = (name, hexbytes)
    return out
