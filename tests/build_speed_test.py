"""End-to-end tests of what makes `gg build` cost about what the plain build
costs (docs/models.md): thunks forced while the build still runs, a rebuild
with nothing changed that runs nothing, the per-user store used when there
is no .gg, and `gg gc --max-size`."""
import os
import re
import shutil
import subprocess
import tempfile
import unittest

from ggtest import GG, GGTestCase

FILES = {
    "inc/a.h": "#define A 1\n",
    "src/a.c": '#include "a.h"\nint a(void) { return A; }\n',
    "src/b.c": "int b(void) { return 2; }\n",
    "src/main.c": '#include <stdio.h>\nint a(void); int b(void);\n'
                  'int main(void) { printf("%d\\n", a() + b()); return 0; }\n',
    # The link waits until some thunk has been forced (a reduction exists):
    # it proves thunks run while the build does, and never waits long when
    # they do.
    "Makefile": "prog: src/a.o src/b.o src/main.o\n"
                "\tfor i in $$(seq 1200); do [ -n \"$$(ls $$GG_DIR/reductions)\" ] && break; sleep 0.1; done\n"
                "\t$(CC) -o $@ $^\n"
                "src/%.o: src/%.c inc/a.h\n\t$(CC) -O2 -Iinc -c -o $@ $<\n"
                "clean:\n\trm -f prog src/*.o\n",
}
SUMMARY = re.compile(r"build done: (\d+) outputs, (\d+) thunks \((\d+) ran, (\d+) memoized\), 0 ran locally; "
                     r"infer [\d.]+ s \(forcing (\d+) meanwhile\)")


def can_run():
    if os.geteuid() != 0:
        return "needs root (a private mount namespace for the models)"
    return None


@unittest.skipIf(can_run(), can_run())
class BuildSpeedTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        # No GG_DIR and no .gg above the projects: the per-user store, here
        # under a temporary XDG_CACHE_HOME, shared by the class's tests.
        cls.cache = tempfile.mkdtemp(prefix="gg-xdg-cache-")
        cls.env = dict(os.environ, XDG_CACHE_HOME=cls.cache)
        cls.env.pop("GG_DIR", None)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.cache, ignore_errors=True)

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="gg-buildspeed-")
        parent = self.dir
        while parent != "/":
            parent = os.path.dirname(parent)
            if os.path.isdir(os.path.join(parent, ".gg")):
                self.skipTest(f"{parent}/.gg exists: it would be used instead of the per-user store")
        for path, text in FILES.items():
            self.write(path, text)

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def write(self, path, text):
        full = os.path.join(self.dir, path)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "w") as f:
            f.write(text)

    def run_in(self, *cmd):
        p = subprocess.run(list(cmd), cwd=self.dir, env=self.env, capture_output=True, text=True, timeout=600)
        if p.returncode != 0:
            self.fail(f"{' '.join(cmd)} exited {p.returncode}\nstdout: {p.stdout}\nstderr: {p.stderr}")
        return p

    def gg_build(self):
        """Returns (outputs, thunks, ran, memoized, forced during the build), and make's stdout."""
        p = self.run_in(GG, "build", "-j", "2", "--", "make")
        m = SUMMARY.search(p.stderr)
        self.assertIsNotNone(m, p.stderr)
        return tuple(int(g) for g in m.groups()), p.stdout

    def test_per_user_store_when_there_is_no_gg_dir(self):
        self.gg_build()
        self.assertTrue(os.path.isdir(os.path.join(self.cache, "gg", "blobs")))
        self.assertFalse(os.path.exists(os.path.join(self.dir, ".gg")))
        self.assertEqual(self.run_in("./prog").stdout, "3\n")
        # An explicit GG_DIR still wins (here one that is no store: an error
        # naming it, not the per-user store).
        own = os.path.join(self.dir, "not-a-store")
        p = subprocess.run([GG, "build", "--", "make"], cwd=self.dir, env=dict(self.env, GG_DIR=own),
                           capture_output=True, text=True, timeout=600)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn(own, p.stderr)

    def test_thunks_run_while_the_build_runs(self):
        (outputs, thunks, ran, _, meanwhile), _ = self.gg_build()
        self.assertEqual(outputs, 4)
        self.assertGreaterEqual(meanwhile, 1)
        self.assertLessEqual(meanwhile, ran)
        self.assertEqual(self.run_in("./prog").stdout, "3\n")

    def test_rebuild_with_nothing_changed_runs_nothing_and_an_edit_still_recompiles(self):
        self.gg_build()
        # The outputs carry the times make saw, so make finds nothing to do:
        # no model runs, no thunk is made or forced.
        (outputs, thunks, _, _, _), make_out = self.gg_build()
        self.assertEqual((outputs, thunks), (0, 0), make_out)
        self.assertIn("up to date", make_out)
        self.write("inc/a.h", "#define A 40\n")
        (outputs, thunks, ran, _, _), _ = self.gg_build()
        self.assertEqual(outputs, 4)  # make rebuilds every object (they all depend on a.h) and the link
        self.assertGreaterEqual(ran, 2)  # at least a.c's compile and the link
        self.assertEqual(self.run_in("./prog").stdout, "42\n")


class GcMaxSizeTest(GGTestCase):
    def test_evicts_least_recently_used_down_to_the_cap(self):
        # Three values of 100 KB, each an input of a stored thunk (so plain gc
        # keeps them), used long ago, a while ago and now.
        names = []
        for i, age in enumerate([3000, 2000, 0]):
            path = os.path.join(self.dir, f"v{i}")
            with open(path, "wb") as f:
                f.write(bytes([i]) * 100_000)
            v = self.collect(path)
            names.append(v)
            self.gg("create-thunk", "-v", f"{v}=in", "-o", "out", self.busybox, "sh")
        blobs = os.path.join(self.dir, ".gg", "blobs")
        now = os.stat(blobs).st_mtime
        for name in os.listdir(blobs):
            os.utime(os.path.join(blobs, name), (now, now))
        for v, age in zip(names, [3000, 2000, 0]):
            os.utime(os.path.join(blobs, v), (now - age, now - age))

        def store_bytes():
            return sum(os.path.getsize(os.path.join(self.dir, ".gg", d, n))
                       for d in ("blobs", "blobs-x") for n in os.listdir(os.path.join(self.dir, ".gg", d)))

        total = store_bytes()
        cap = total - 150_000
        out = self.gg("gc", "--max-size", str(cap)).stdout
        self.assertIn("2 of them least recently used", out)
        left = os.listdir(blobs)
        self.assertNotIn(names[0], left)
        self.assertNotIn(names[1], left)
        self.assertIn(names[2], left)
        self.assertLessEqual(store_bytes(), cap)
        # Under the cap already: nothing more goes.
        self.assertIn("removed 0 objects", self.gg("gc", "--max-size", str(cap)).stdout)

    def test_bad_size_is_a_usage_error(self):
        p = self.gg("gc", "--max-size", "lots", check=False)
        self.assertEqual(p.returncode, 2)
        self.assertIn("bad size", p.stderr)


if __name__ == "__main__":
    unittest.main()
