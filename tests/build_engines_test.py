"""`gg build` with `gg force`'s options: a small project built through two
`gg worker`s on loopback gives the same bytes as a local build, and the
engine options are checked before anything runs."""
import filecmp
import json
import os
import re
import shutil
import subprocess
import tempfile
import unittest

from ggtest import GG, free_port, start_worker, stop_all

FILES = {
    "inc/k.h": "#define K 7\n",
    "a.c": '#include "k.h"\nint a(void) { return K * 2; }\n',
    "b.c": '#include "k.h"\nint b(void) { return K + 1; }\n',
    "c.c": "int c(void) { return 3; }\n",
    "main.c": '#include <stdio.h>\nint a(void); int b(void); int c(void);\n'
              'int main(void) { printf("%d\\n", a() + b() + c()); return 0; }\n',
    "Makefile": "CFLAGS = -g -O2 -Iinc\n"
                "prog: main.o libabc.a\n\t$(CC) -o $@ main.o libabc.a\n"
                "libabc.a: a.o b.o c.o\n\t$(AR) rcs $@ $^\n"
                "%.o: %.c\n\t$(CC) $(CFLAGS) -c -o $@ $<\n"
                "clean:\n\trm -f prog libabc.a *.o\n",
}
PRODUCTS = ["prog", "libabc.a", "a.o", "b.o", "c.o", "main.o"]


def can_run():
    if os.geteuid() != 0:
        return "needs root (a private mount namespace for the models)"
    return None


@unittest.skipIf(can_run(), can_run())
class BuildEnginesTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="gg-build-engines-")
        self.src = os.path.join(self.dir, "proj")
        for path, text in FILES.items():
            full = os.path.join(self.src, path)
            os.makedirs(os.path.dirname(full), exist_ok=True)
            with open(full, "w") as f:
                f.write(text)
        self.workers = []

    def tearDown(self):
        stop_all(self.workers)
        subprocess.run(["chmod", "-R", "u+w", self.dir], check=False)
        shutil.rmtree(self.dir, ignore_errors=True)

    def env(self, store):
        return dict(os.environ, GG_DIR=os.path.join(self.dir, store, ".gg"))

    def run_in(self, cmd, env, timeout=480):
        p = subprocess.run(cmd, cwd=self.src, env=env, capture_output=True, text=True, timeout=timeout)
        if p.returncode != 0:
            self.fail(f"{' '.join(cmd)} exited {p.returncode}\nstdout: {p.stdout}\nstderr: {p.stderr}")
        return p

    def gg_build(self, store, *args):
        env = self.env(store)
        os.makedirs(os.path.dirname(env["GG_DIR"]), exist_ok=True)
        subprocess.run([GG, "init"], env=env, check=True, capture_output=True)
        subprocess.run(["make", "clean"], cwd=self.src, check=True, capture_output=True)
        p = self.run_in([GG, "build", *args, "--", "make"], env)
        m = re.search(r"(\d+) thunks \((\d+) ran, (\d+) memoized\), 0 ran locally", p.stderr)
        self.assertIsNotNone(m, p.stderr)
        products = {}
        for name in PRODUCTS:
            with open(os.path.join(self.src, name), "rb") as f:
                products[name] = f.read()
        return products, m.groups()

    def test_two_loopback_workers_give_the_local_build_bytes(self):
        local, local_counts = self.gg_build("local-store", "-j", "2")
        self.assertEqual(self.run_in(["./prog"], os.environ).stdout, "25\n")

        secret = os.path.join(self.dir, "secret")
        with open(secret, "w") as f:
            f.write("a build secret\n")
        addr = f"127.0.0.1:{free_port()}"
        for name in ("w1", "w2"):
            self.workers.append(start_worker(self.dir, name, addr, secret, os.environ, slots=1))
        trace = os.path.join(self.dir, "trace.json")
        remote, remote_counts = self.gg_build("remote-store", "--engine", f"remote={addr}", "--secret-file", secret,
                                              "--trace", trace, "--max-attempts", "2", "--timeout", "60")
        self.assertEqual(remote_counts, local_counts)
        self.assertEqual(remote_counts[2], "0", "a fresh store memoizes nothing")
        for name in PRODUCTS:
            self.assertEqual(remote[name], local[name], f"{name} differs from the local build's")
        self.assertEqual(self.run_in(["./prog"], os.environ).stdout, "25\n")
        # Every thunk ran on the workers: the trace names the engine of each run.
        with open(trace) as f:
            events = json.load(f)
        events = events["traceEvents"] if isinstance(events, dict) else events
        engines = {e["args"]["engine"] for e in events if e.get("args", {}).get("engine")}
        self.assertEqual(engines, {f"remote={addr}"})
        runs = [e for e in events if e.get("name", "").startswith("running") or e.get("cat", "").startswith("running")]
        # A sandbox run per thunk that ran, except that a compile run together
        # with its discovery (nothing memoized) is one run for two thunks.
        rows = len({e["args"]["thunk"] for e in runs})
        self.assertLessEqual(rows, int(remote_counts[1]))
        self.assertGreaterEqual(2 * rows, int(remote_counts[1]))

    def test_engine_options_are_checked_before_the_build_runs(self):
        env = self.env("store")
        os.makedirs(os.path.dirname(env["GG_DIR"]))
        subprocess.run([GG, "init"], env=env, check=True, capture_output=True)
        p = subprocess.run([GG, "build", "--engine", "nonesuch", "--", "make"], cwd=self.src, env=env,
                           capture_output=True, text=True, timeout=60)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("engine 'nonesuch': unknown engine", p.stderr)
        self.assertFalse(os.path.exists(os.path.join(self.src, "prog")))
        p = subprocess.run([GG, "build", "--max-attempts", "zero", "--", "make"], cwd=self.src, env=env,
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertIn("--max-attempts takes a positive number", p.stderr)

    def test_a_root_outside_the_project_is_shown_to_compiles_and_named_when_missing(self):
        # A header named by an absolute path outside the project: no -I names
        # its directory, so only --root shows it to the compile.
        ext = os.path.join(self.dir, "ext")
        os.makedirs(ext)
        with open(os.path.join(ext, "extv.h"), "w") as f:
            f.write("#define EXTV 40\n")
        with open(os.path.join(self.src, "c.c"), "w") as f:
            f.write(f'#include "{ext}/extv.h"\nint c(void) {{ return EXTV; }}\n')
        env = self.env("store")
        os.makedirs(os.path.dirname(env["GG_DIR"]))
        subprocess.run([GG, "init"], env=env, check=True, capture_output=True)
        p = subprocess.run([GG, "build", "-j", "2", "--", "make"], cwd=self.src, env=env, capture_output=True,
                           text=True, timeout=480)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn(f"{ext}/extv.h exists on this machine, but the build's compiles see only the project roots",
                      p.stderr)
        self.assertIn(f"run gg build with --root {ext}", p.stderr)
        self.assertFalse(os.path.exists(os.path.join(self.src, "c.o")), "no placeholder is left behind")
        products, _ = self.gg_build("store", "-j", "2", "--root", ext)
        self.assertEqual(self.run_in(["./prog"], os.environ).stdout, "62\n")
        subprocess.run(["make", "clean"], cwd=self.src, check=True, capture_output=True)
        subprocess.run(["make"], cwd=self.src, check=True, capture_output=True)
        for name in PRODUCTS:
            with open(os.path.join(self.src, name), "rb") as f:
                self.assertEqual(f.read(), products[name], f"{name} differs from the plain build's")

    def test_help_lists_the_force_options_and_every_engine(self):
        for cmd in ("build", "force"):
            out = subprocess.run([GG, cmd, "--help"], capture_output=True, text=True, check=True).stdout
            for word in ("--engine", "--storage", "--trace", "--timeout", "--max-attempts", "--secret-file",
                         "local[=N]", "remote=HOST:PORT", "slurm=N", "lambda=FUNCTION"):
                self.assertIn(word, out, f"gg {cmd} --help")


if __name__ == "__main__":
    unittest.main()
