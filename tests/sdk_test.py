"""The SDKs end to end: Python thunks are byte-identical to gg's own (C++),
forcing through the real gg, clear errors, the Python examples, and an
outside C++ project built against an installed SDK (CMake and pkg-config)."""
import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

from ggtest import BUILD, BUSYBOX, GG, GGTestCase, ROOT

sys.path.insert(0, os.path.join(ROOT, "python"))
import gg  # noqa: E402  (the SDK under test, from this checkout)

PY_ENV = {"GG_BINARY": GG, "PYTHONPATH": os.path.join(ROOT, "python")}


class PythonMatchesCppTest(GGTestCase):
    """A thunk built with the Python SDK has the name `gg create-thunk` gives it."""

    def setUp(self):
        super().setUp()
        self.store = gg.Store.open(os.path.join(self.dir, ".gg"))

    def test_every_kind_of_input(self):
        value = self.store.put(b"some input\n")
        d = os.path.join(self.dir, "tree")
        os.makedirs(os.path.join(d, "sub"))
        with open(os.path.join(d, "sub", "f"), "w") as f:
            f.write("f")
        os.chmod(os.path.join(d, "sub", "f"), 0o755)
        os.symlink("sub/f", os.path.join(d, "link"))
        tree = self.store.collect(d)
        self.assertEqual(tree, self.collect(d), "Python and gg collect name the same directory differently")
        dep = self.store.put_thunk(gg.Thunk(args=["sh", "-c", "echo > out; echo > log"], outputs=["out", "log"])
                                   .set_function(self.busybox, "/bin/sh"))
        t = (gg.Thunk().set_function(self.busybox, "/bin/sh").add_input(value, "in/v.txt")
             .add_input(tree, "/opt/tree").add_input(dep, "dep").add_input(gg.with_tag(dep, "log"), "dep.log"))
        t.args = ["sh", "-c", "cat " + gg.placeholder(value) + " > out", "", "caf\u00e9"]
        t.env = ["A=1", "P=" + gg.placeholder(tree)]
        t.outputs = ["out", "more/x"]
        t.timeout_ms = 2500
        cpp = self.gg("create-thunk", "-e", f"{self.busybox}=/bin/sh", "-v", f"{value}=in/v.txt",
                      "-v", f"{tree}=/opt/tree", "-t", f"{dep}=dep", "-t", f"{dep}#log=dep.log",
                      "-o", "out", "-o", "more/x", "-E", "A=1", "-E", "P=" + gg.placeholder(tree), "-T", "2.5",
                      self.busybox, *t.args).stdout.strip()
        self.assertEqual(self.store.put_thunk(t), cpp)
        self.assertEqual(self.store.get_thunk(cpp), gg.Thunk.parse(t.serialize()))

    def test_many_thunks_match(self):
        for i in range(20):
            t = gg.Thunk(args=["sh", "-c", f"echo {i} > out"] + ["x"] * i, outputs=["out"], timeout_ms=i * 1000)
            t.set_function(self.busybox, "/bin/sh")
            cpp = self.gg("create-thunk", "-e", f"{self.busybox}=/bin/sh", "-o", "out", "-T", str(i), self.busybox,
                          *t.args).stdout.strip()
            self.assertEqual(t.name, cpp)

    def test_limits_match_and_round_trip(self):
        t = gg.Thunk(args=["sh", "-c", "echo > out"], outputs=["out"]).set_function(self.busybox, "/bin/sh")
        t.limits = gg.Limits(memory_bytes=256 << 20, processes=32, tmp_bytes=8 << 20, file_bytes=1 << 20,
                             workdir_bytes=2 << 20)
        cpp = self.gg("create-thunk", "-e", f"{self.busybox}=/bin/sh", "-o", "out", "--limit-memory", "256M",
                      "--limit-procs", "32", "--limit-tmp", "8M", "--limit-file", "1M", "--limit-workdir", "2M",
                      self.busybox, *t.args).stdout.strip()
        self.assertEqual(self.store.put_thunk(t), cpp)
        self.assertEqual(self.store.get_thunk(cpp).limits, t.limits)


class PythonForceTest(GGTestCase):
    def setUp(self):
        super().setUp()
        os.environ["GG_BINARY"] = GG
        self.store = gg.Store.open(os.path.join(self.dir, ".gg"))

    def sh(self, script, outputs=("out",)):
        return gg.Thunk(args=["sh", "-c", script], outputs=list(outputs)).set_function(self.busybox, "/bin/sh")

    def test_chain_force_and_read(self):
        a = self.store.put_thunk(self.sh("echo one > out; echo two > side", ["out", "side"]))
        b = self.store.put_thunk(self.sh("cat a s > out").add_input(a, "a").add_input(gg.with_tag(a, "side"), "s"))
        out = gg.force(self.store, [b, gg.with_tag(a, "side")], jobs=2)
        self.assertEqual(self.store.get(out[0]), b"one\ntwo\n")
        self.assertEqual(self.store.get(out[1]), b"two\n")
        self.assertEqual(self.store.output(b), b"one\ntwo\n")
        self.assertEqual(self.store.reduced_to(gg.with_tag(a, "side")), out[1])

    def test_streamed_targets_start_before_the_rest_are_stored(self):
        # A generator's first thunk must be done before it yields the second
        # (which depends on it): possible only if gg starts each target as
        # it arrives. Then a value, a tagged output, and the order kept.
        a = self.store.put_thunk(self.sh("echo one > out; echo two > side", ["out", "side"]))

        def targets():
            yield a
            deadline = time.monotonic() + 60
            while self.store.reduced_to(a) is None:
                self.assertLess(time.monotonic(), deadline, "gg did not start the first target while streaming")
                time.sleep(0.01)
            yield self.store.put_thunk(self.sh("cat a > out; echo three >> out").add_input(a, "a"))
            yield self.store.put(b"a value")
            yield gg.with_tag(a, "side")

        out = gg.force(self.store, targets(), jobs=2)
        self.assertEqual([self.store.get(n) for n in out], [b"one\n", b"one\nthree\n", b"a value", b"two\n"])
        self.assertEqual(gg.force(self.store, iter([])), [])

    def test_streamed_force_fails_with_the_thunks_stderr_and_stops_on_a_raising_generator(self):
        bad = self.store.put_thunk(self.sh("echo 'chunk 3 is damaged' >&2; exit 4"))
        with self.assertRaises(gg.ForceError) as e:
            gg.force(self.store, iter([bad]))
        self.assertIn("chunk 3 is damaged", str(e.exception))

        slow = self.store.put_thunk(self.sh("sleep 30; echo > out"))

        def targets():
            yield slow
            raise RuntimeError("the input is truncated")

        start = time.monotonic()
        with self.assertRaises(RuntimeError):
            gg.force(self.store, targets())
        self.assertLess(time.monotonic() - start, 20, "gg was not stopped when the generator failed")
        self.assertIsNone(self.store.reduced_to(slow))

    def test_failed_force_carries_the_thunks_stderr(self):
        t = self.store.put_thunk(self.sh("echo 'frame 7 is damaged' >&2; exit 4"))
        with self.assertRaises(gg.ForceError) as e:
            gg.force(self.store, t)
        self.assertIn("frame 7 is damaged", str(e.exception))
        self.assertIn(t, str(e.exception))
        self.assertIn("frame 7 is damaged", e.exception.stderr)

    def test_the_thunks_own_limit_holds(self):
        t = self.sh("head -c 3000000 /dev/zero > big; echo > out")
        t.limits = gg.Limits(workdir_bytes=1 << 20)
        with self.assertRaises(gg.ForceError) as e:
            gg.force(self.store, self.store.put_thunk(t))
        self.assertIn("exceeded its 1 MiB", str(e.exception))

    def test_large_blob_put_by_the_sdk_is_verified_by_its_hash_cache_line(self):
        # Hashed once as the SDK wrote it: gg takes it by its stat. Changed
        # afterwards (the stat differs), gg hashes it and refuses it.
        big = self.store.put_parts([b"x" * (2 << 20)])
        t = self.store.put_thunk(self.sh("wc -c < big > out").add_input(big, "big"))
        self.assertEqual(gg.force_output(self.store, t).strip(), str(2 << 20).encode())
        path = os.path.join(self.store.dir, "blobs", big)
        os.chmod(path, 0o644)
        with open(path, "r+b") as f:
            f.write(b"y")
        t2 = self.store.put_thunk(self.sh("wc -c < big > out; echo again >> out").add_input(big, "big"))
        with self.assertRaises(gg.ForceError) as e:
            gg.force(self.store, t2)
        self.assertIn("does not match its name", str(e.exception))
        # Hashed and written in one pass: the same hash-cache line.
        one = self.store.put_parts([b"z" * (2 << 20)], one_pass=True)
        t3 = self.store.put_thunk(self.sh("wc -c < big > out").add_input(one, "big"))
        self.assertEqual(gg.force_output(self.store, t3).strip(), str(2 << 20).encode())
        with open(os.path.join(self.store.dir, "hashcache")) as f:
            self.assertIn(one, f.read())

    def test_missing_input_is_named(self):
        missing = gg.name_of(b"never stored")
        t = self.store.put_thunk(self.sh("cat x > out").add_input(missing, "x"))
        with self.assertRaises(gg.ForceError) as e:
            gg.force(self.store, t)
        self.assertIn(missing, str(e.exception))

    def test_python_function_runs_in_the_sandbox(self):
        script = os.path.join(self.dir, "upper.py")
        with open(script, "w") as f:
            f.write("import sys, gg\n"
                    "data = open(sys.argv[1]).read()\n"
                    "open('out', 'w').write(data.upper() + gg.PythonFunction.current().script)\n")
        fn = gg.PythonFunction.create(self.store, script)
        text = self.store.put(b"hello")
        t = self.store.put_thunk(fn.thunk(["in.txt"], outputs=["out"], inputs=[gg.Input(text, "in.txt")]))
        self.assertEqual(gg.force_output(self.store, t), b"HELLO/gg-py/upper.py")


class NativeProgramTest(GGTestCase):
    def test_a_dynamically_linked_program_runs_with_its_libraries(self):
        store = gg.Store.open(os.path.join(self.dir, ".gg"))
        inputs = gg.program_inputs(store, "/usr/bin/sort")
        text = store.put(b"b\na\n")
        t = gg.Thunk(args=["sort", "-o", "out", "in"], outputs=["out"], function=inputs[0].name,
                     inputs=[*inputs, gg.Input(text, "in")])
        os.environ["GG_BINARY"] = GG
        self.assertEqual(gg.force_output(store, store.put_thunk(t)), b"a\nb\n")


class PythonExamplesTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="gg-sdk-ex-")
        self.env = dict(os.environ, GG_DIR=os.path.join(self.dir, ".gg"), **PY_ENV)

    def tearDown(self):
        subprocess.run(["chmod", "-R", "u+w", self.dir], check=False)
        shutil.rmtree(self.dir, ignore_errors=True)

    def run_example(self, *args, timeout=600):
        p = subprocess.run([sys.executable, *args], env=self.env, capture_output=True, text=True, timeout=timeout)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        return p.stdout

    def reduction_times(self):
        d = os.path.join(self.dir, ".gg", "reductions")
        return {n: os.stat(os.path.join(d, n)).st_mtime_ns for n in os.listdir(d)}

    def test_fib_90(self):
        fib = os.path.join(ROOT, "examples", "fibonacci", "fib.py")
        out = self.run_example(fib, "90")
        self.assertEqual(out.strip().splitlines()[-1], "fib(90) = 2880067194370816120")
        before = self.reduction_times()
        self.assertLess(len(before), 4 * 91)  # O(N) thunks: each fib(k) and add(k) once
        out = self.run_example(fib, "90")
        self.assertEqual(out.strip().splitlines()[-1], "fib(90) = 2880067194370816120")
        self.assertEqual(self.reduction_times(), before)

    def test_wordcount(self):
        data = os.path.join(self.dir, "data")
        os.makedirs(data)
        words = ["gg", "thunk", "force", "tree", "lambda", "caf\u00e9"]
        for i in range(13):
            with open(os.path.join(data, f"f{i:02d}.txt"), "w") as f:
                f.write(" ".join(words[(i * j) % len(words)] for j in range(50 + i)) + "\n")
        wc = os.path.join(ROOT, "examples", "wordcount", "wordcount.py")
        out = self.run_example(wc, data)
        self.assertIn("13 files, 25 thunks, 25 not yet reduced", out)
        self.assertIn("identical to the sequential count", out)
        before = self.reduction_times()
        out = self.run_example(wc, data)
        self.assertIn("25 thunks, 0 not yet reduced", out)
        self.assertEqual(self.reduction_times(), before, "the second run ran thunks again")


class InstalledCppSdkTest(unittest.TestCase):
    """cmake --install to a temporary prefix; outside projects build against it."""

    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="gg-sdk-install-")
        cls.prefix = os.path.join(cls.dir, "prefix")
        subprocess.run(["cmake", "--install", BUILD, "--prefix", cls.prefix], check=True, capture_output=True)

    @classmethod
    def tearDownClass(cls):
        subprocess.run(["chmod", "-R", "u+w", cls.dir], check=False)
        shutil.rmtree(cls.dir, ignore_errors=True)

    def check(self, args, cwd=None, env=None, timeout=600):
        p = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
        self.assertEqual(p.returncode, 0, f"{' '.join(args)}\n{p.stdout}\n{p.stderr}")
        return p.stdout

    def test_public_headers_are_self_contained(self):
        inc = os.path.join(self.prefix, "include", "gg")
        for h in os.listdir(inc):
            with open(os.path.join(inc, h)) as f:
                for line in f:
                    if line.startswith("#include \""):
                        self.assertTrue(line.startswith("#include \"gg/"), f"{h}: {line}")

    def outside_project(self):
        src = os.path.join(self.dir, "app")
        os.makedirs(src, exist_ok=True)
        shutil.copy(os.path.join(ROOT, "docs", "sdk_cpp_example.cc"), os.path.join(src, "main.cc"))
        with open(os.path.join(src, "CMakeLists.txt"), "w") as f:
            f.write("cmake_minimum_required(VERSION 3.20)\nproject(app CXX)\n"
                    "find_package(gg 0.1 REQUIRED)\nadd_executable(app main.cc)\n"
                    "target_link_libraries(app PRIVATE gg::gg)\n")
        return src

    def run_app(self, exe):
        store = os.path.join(self.dir, "store-" + os.path.basename(os.path.dirname(exe)))
        env = dict(os.environ, GG_DIR=store, PATH=os.path.join(self.prefix, "bin") + ":" + os.environ["PATH"])
        out = self.check([exe, BUSYBOX], env=env)
        self.assertIn("HELLO FROM A THUNK", out)

    def test_cmake_find_package(self):
        src = self.outside_project()
        build = os.path.join(self.dir, "app-cmake")
        self.check(["cmake", "-S", src, "-B", build, "-G", "Ninja", f"-DCMAKE_PREFIX_PATH={self.prefix}"])
        self.check(["cmake", "--build", build, "-v"])
        with open(os.path.join(build, "compile_commands.json") if os.path.exists(
                os.path.join(build, "compile_commands.json")) else os.path.join(build, "build.ninja")) as f:
            commands = f.read()
        for leak in (ROOT + "/src", BUILD, "google/protobuf"):
            self.assertNotIn(leak, commands)
        self.run_app(os.path.join(build, "app"))

    def test_pkg_config(self):
        src = self.outside_project()
        out_dir = os.path.join(self.dir, "app-pc")
        os.makedirs(out_dir, exist_ok=True)
        env = dict(os.environ, PKG_CONFIG_PATH=os.path.join(self.prefix, "lib", "pkgconfig"))
        flags = self.check(["pkg-config", "--cflags", "--libs", "gg"], env=env).split()
        self.assertNotIn(ROOT, " ".join(flags))
        exe = os.path.join(out_dir, "app")
        self.check(["c++", os.path.join(src, "main.cc"), "-o", exe, *flags])
        self.run_app(exe)

    def test_fibonacci_against_the_installed_sdk(self):
        build = os.path.join(self.dir, "fib")
        self.check(["cmake", "-S", os.path.join(ROOT, "examples", "fibonacci"), "-B", build, "-G", "Ninja",
                    f"-DCMAKE_PREFIX_PATH={self.prefix}"])
        self.check(["cmake", "--build", build])
        env = dict(os.environ, GG=os.path.join(self.prefix, "bin", "gg"), FIB=os.path.join(build, "fib"),
                   GG_DIR=os.path.join(self.dir, "fib-store"))
        out = self.check([os.path.join(ROOT, "examples", "fibonacci", "run"), "90"], env=env)
        self.assertEqual(out.splitlines()[-1], "2880067194370816120")


if __name__ == "__main__":
    unittest.main()
