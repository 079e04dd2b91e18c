"""End-to-end tests of model substitution: real Debian source packages built
through `gg build`, compared byte for byte with a plain build in the same
directory, and their own test suites run on the result.

Sources come from `apt-get source` (a deb-src line for bookworm is needed),
cached in $GG_TEST_CACHE (default /var/cache/gg-test-sources) so CI downloads
each package once.
"""
import filecmp
import glob
import os
import re
import shutil
import subprocess
import tempfile
import unittest

BUILD = os.environ.get("GG_BUILD_DIR", os.path.join(os.path.dirname(__file__), "..", "build"))
GG = os.path.abspath(os.path.join(BUILD, "src", "cli", "gg"))
CACHE = os.environ.get("GG_TEST_CACHE", "/var/cache/gg-test-sources")


def fetch_source(package):
    """The cached .dsc of `package`, fetched with apt-get source if missing.
    A mirror may lack the newest version's files (a security update's
    tarball): then the other versions apt knows are tried, newest first."""
    dscs = glob.glob(os.path.join(CACHE, package + "_*.dsc"))
    if dscs:
        return sorted(dscs)[-1]
    os.makedirs(CACHE, exist_ok=True)
    p = subprocess.run(["apt-get", "source", "-qq", "--download-only", package], cwd=CACHE, capture_output=True)
    if p.returncode != 0:
        shown = subprocess.run(["apt-cache", "showsrc", package], capture_output=True, text=True).stdout
        versions = sorted(set(re.findall(r"^Version: (\S+)$", shown, re.M)), reverse=True)
        # Each version apt knows, then the release's own (not its security
        # update's), whose files the main archive always has.
        for spec in [f"{package}={v}" for v in versions] + [f"{package}/bookworm"]:
            if subprocess.run(["apt-get", "source", "-qq", "--download-only", spec], cwd=CACHE,
                              capture_output=True).returncode == 0:
                break
    dscs = glob.glob(os.path.join(CACHE, package + "_*.dsc"))
    if not dscs:
        raise RuntimeError(f"apt-get source {package} failed: {p.stderr.decode()[-500:]}")
    return sorted(dscs)[-1]


def source(package, dest, patches=True):
    """Extracts Debian source `package` into `dest` (Debian's patches
    applied unless `patches` is false)."""
    cmd = ["dpkg-source", "-x", "--no-check"] + ([] if patches else ["--skip-patches"])
    subprocess.run(cmd + [fetch_source(package), dest], check=True, capture_output=True)
    return dest


def local_commands(stderr):
    """The commands `gg build` listed as having run locally."""
    out, listing = [], False
    for line in stderr.splitlines():
        if re.match(r"gg: \d+ commands? ran locally:", line):
            listing = True
        elif listing and line.startswith("  "):
            out.append(line.strip())
        else:
            listing = False
    return out


def can_run():
    if os.geteuid() != 0:
        return "needs root (a private mount namespace for the models)"
    if not shutil.which("dpkg-source"):
        return "needs dpkg-dev"
    if not glob.glob(os.path.join(CACHE, "*.dsc")) and subprocess.run(
            ["apt-get", "source", "--print-uris", "-qq", "zlib"], capture_output=True).returncode != 0:
        return "no cached sources and no deb-src line"
    return None


class ProjectBuildCase(unittest.TestCase):
    """Helpers to build a project plainly and through gg in one directory
    (models_large_test.py shares them)."""

    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="gg-models-")
        # One store for the class: the toolchain is captured once.
        cls.env = dict(os.environ, GG_DIR=os.path.join(cls.dir, ".gg"))
        subprocess.run([GG, "init"], env=cls.env, check=True, capture_output=True)

    @classmethod
    def tearDownClass(cls):
        # Materialized trees and the builds' own files may be read-only.
        subprocess.run(["chmod", "-R", "u+w", cls.dir], capture_output=True)
        shutil.rmtree(cls.dir, ignore_errors=True)

    def run_in(self, cwd, *cmd, check=True, env=None, stdin_text=None):
        p = subprocess.run(list(cmd), cwd=cwd, env=env or self.env, capture_output=True, text=True, timeout=1800,
                           input=stdin_text)
        if check and p.returncode != 0:
            self.fail(f"{' '.join(cmd)} exited {p.returncode}\nstdout: {p.stdout[-3000:]}\nstderr: {p.stderr[-3000:]}")
        return p

    def plain_then_gg(self, cwd, build, clean, products, built=False):
        """Builds plainly (unless `built`: the plain build already ran), keeps
        `products`, cleans, builds with gg; returns gg's stderr."""
        if not built:
            self.run_in(cwd, *build)
        saved = self.saved_dir(cwd)
        os.makedirs(saved, exist_ok=True)
        for p in products:
            shutil.copy(os.path.join(cwd, p), os.path.join(saved, p.replace("/", "_")))
        self.run_in(cwd, *clean)
        out = self.run_in(cwd, GG, "build", "-j", "2", "--", *build).stderr
        for p in products:
            with open(os.path.join(cwd, p), "rb") as f:
                self.assertFalse(f.read(40).startswith(b"#!/bin/sh\n# gg-placeholder"), p)
            self.assertTrue(filecmp.cmp(os.path.join(cwd, p), os.path.join(saved, p.replace("/", "_")),
                                        shallow=False), f"{p} differs from the plain build")
        self.assertIn("gg: build done", out)
        return out

    @staticmethod
    def saved_dir(cwd):
        return os.path.join(cwd, "..", os.path.basename(cwd) + ".plain")


@unittest.skipIf(can_run(), can_run())
class ModelBuildTest(ProjectBuildCase):

    def test_zlib_make(self):
        src = source("zlib", os.path.join(self.dir, "zlib"))
        self.run_in(src, "./configure")
        products = ["libz.a", "libz.so.1.2.13", "example", "minigzip", "examplesh", "minigzipsh", "adler32.o"]
        out = self.plain_then_gg(src, ["make", "-j2"], ["make", "clean"], products)
        self.assertIn("0 ran locally", out)
        self.assertIn("*** zlib test OK ***", self.run_in(src, "make", "test").stdout)
        # A second gg build from clean: everything memoized, same bytes.
        self.run_in(src, "make", "clean")
        out = self.run_in(src, GG, "build", "--", "make", "-j2").stderr
        # Compiles are all memoized. A link may run again: its thunk sees the
        # -L directory, where `make test` left new files, as listed when its
        # model ran, which depends on the build's timing (known limitation,
        # docs/models.md): up to the six test programs linked with -L. (a
        # bound of 3 failed under CI load with 6).
        m = re.search(r"\((\d+) ran, (\d+) memoized\)", out)
        self.assertIsNotNone(m, out)
        self.assertLessEqual(int(m.group(1)), 6, out)
        self.assertGreaterEqual(int(m.group(2)), 35, out)

    def test_hello_autotools(self):
        src = source("hello", os.path.join(self.dir, "hello"))
        self.run_in(src, "./configure")  # configure runs for real
        self.plain_then_gg(src, ["make", "-j2"], ["make", "clean"], ["hello", "src/hello.o", "lib/libhello.a"])
        check = self.run_in(src, "make", "check")
        self.assertIn("# FAIL:  0", check.stdout)
        self.assertEqual(self.run_in(src, "./hello").stdout, "Hello, world!\n")

    def test_fmtlib_cmake_ninja(self):
        src = source("fmtlib", os.path.join(self.dir, "fmt"))
        build = os.path.join(src, "build")
        os.makedirs(build)
        self.run_in(build, "cmake", "-G", "Ninja", "-DCMAKE_BUILD_TYPE=Release", "-DFMT_TEST=OFF",
                    "-DFMT_DOC=OFF", "-DBUILD_SHARED_LIBS=ON", "..")
        self.plain_then_gg(build, ["ninja", "-j2"], ["ninja", "clean"],
                           ["libfmt.so.9.1.0", "CMakeFiles/fmt.dir/src/format.cc.o"])

    def test_lua_libtool(self):
        """lua5.4 as Debian builds it: libtool (shared and static, C and C++
        variants), readline from the system (-lreadline resolved outside the
        captured toolchain), and the same archive written twice by one make."""
        src = source("lua5.4", os.path.join(self.dir, "lua"))
        lt = os.path.join(src, "debian", "libtool")
        os.makedirs(lt)
        shutil.copy(os.path.join(src, "debian", "configure.ac"), lt)
        self.run_in(lt, "autoreconf", "-f", "-i", env=dict(self.env, LIBTOOLIZE="libtoolize -i"))
        self.run_in(lt, "./configure")
        with open(os.path.join(src, "src", "lua5.4-deb-multiarch.h"), "w") as f:
            f.write('#define DEB_HOST_MULTIARCH "x86_64-linux-gnu"\n')
        # make -j1: lua's Makefile races under -j2 (two rules write
        # .libs/liblua5.4.a; the plain build failed that way here). gg build
        # still forces with -j 2.
        build = ["make", "-j1", "linux-readline", "LIBTOOL=" + os.path.join(lt, "libtool"), "CC=gcc -std=gnu99",
                 "CXX=g++"]
        products = ["src/lua5.4", "src/luac5.4", "src/.libs/liblua5.4.so.0.0.0", "src/.libs/liblua5.4.a",
                    "src/.libs/liblua5.4-c++.so.0.0.0", "src/.libs/liblua5.4-c++.a", "src/lapi.o",
                    "src/.libs/lvm.o"]
        out = self.plain_then_gg(src, build, ["sh", "-c", "make clean && rm -rf src/.libs src/*.lo src/*.la"],
                                 products)
        self.assertEqual(local_commands(out), [], out)
        self.assertIn("0 ran locally", out)
        self.assertRegex(out, r"compiler queries ran for real .*-dumpmachine")
        # No upstream test suite in Debian's source: `make test` (lua -v)
        # and scripts run by the plain and the gg-built interpreters.
        self.assertIn("Lua 5.4", self.run_in(src, "make", "test", build[3]).stdout)
        plain_lua = os.path.join(self.saved_dir(src), "src_lua5.4")
        scripts = {
            "strings.lua": 'local t = {} for w in ("the quick brown fox"):gmatch("%a+") do t[#t+1] = w:upper() end\n'
                           'print(table.concat(t, ","), ("%5.2f"):format(math.pi), utf8.char(72, 228))',
            "closures.lua": 'local function fib(n) if n < 2 then return n end return fib(n-1) + fib(n-2) end\n'
                            'local co = coroutine.wrap(function() for i = 1, 3 do coroutine.yield(fib(i * 8)) end end)\n'
                            'print(co(), co(), co(), 2^53, 7 // 2, math.type(1), select("#", 1, nil, 3))',
            "errors.lua": 'print(select(2, pcall(error, {code = 1})).code)\nprint(select(2, pcall(function() return nil + 1 end)))\n'
                          'print(string.pack("<i4", 258):byte(1, -1))\nprint(load("return 6 * 7")())',
        }
        for name, text in scripts.items():
            path = os.path.join(self.dir, name)
            with open(path, "w") as f:
                f.write(text)
            got = self.run_in(src, "src/lua5.4", path).stdout
            self.assertEqual(got, self.run_in(src, plain_lua, path).stdout, name)
            self.assertTrue(got.strip(), name)
        # luac's output loads in lua.
        self.run_in(src, "src/luac5.4", "-o", os.path.join(self.dir, "s.luac"), os.path.join(self.dir, "strings.lua"))
        self.assertIn("QUICK", self.run_in(src, "src/lua5.4", os.path.join(self.dir, "s.luac")).stdout)

    def test_jq_autotools_libtool(self):
        """jq: autoreconf + libtool, a shared libjq, -lonig from the system,
        a version script libtool writes into .libs; its own test suite."""
        src = source("jq", os.path.join(self.dir, "jq"))
        self.run_in(src, "autoreconf", "-fi")
        self.run_in(src, "./configure", "--disable-static", "--disable-docs", "--disable-maintainer-mode",
                    "--with-oniguruma=yes")
        products = [".libs/jq", ".libs/libjq.so.1.0.4", "src/main.o", "src/.libs/jv.o", "src/.libs/execute.o"]
        out = self.plain_then_gg(src, ["make", "-j2"], ["make", "clean"], products)
        # libtool exports libjq's symbols with nm, whose output is a pipe.
        ran = local_commands(out)
        self.assertEqual(len(ran), 1, out)
        self.assertRegex(ran[0], r"^/usr/bin/nm -B src/\.libs/builtin\.o .*\[nm: no model for nm\]$")
        # The test suite but shtest (a minute of shell; GG_TEST_LARGE runs it).
        tests = ["tests/mantest", "tests/onigtest", "tests/jqtest"]
        if os.environ.get("GG_TEST_LARGE"):
            tests.append("tests/shtest")
        check = self.run_in(src, "make", "check", "NO_VALGRIND=1", "TESTS=" + " ".join(tests))
        self.assertIn(f"# PASS:  {len(tests)}", check.stdout)
        self.assertIn("# FAIL:  0", check.stdout)
        p = subprocess.run([os.path.join(src, "jq"), "-c", '.a | map(tostring) | join("-") | test("1-2")'],
                           input='{"a":[1,2,"x"]}', capture_output=True, text=True)
        self.assertEqual(p.stdout, "true\n")

    def test_infer_leaves_placeholders_and_counts_local_commands(self):
        d = os.path.join(self.dir, "small")
        os.makedirs(d)
        with open(os.path.join(d, "a.c"), "w") as f:
            f.write('#include <stdio.h>\nint main(void){puts("hi");return 0;}\n')
        with open(os.path.join(d, "Makefile"), "w") as f:
            f.write("all: a\na: a.c\n\tcc -o a a.c\n\tcc -E a.c > a.i\n")
        p = self.run_in(d, GG, "infer", "make")
        self.assertIn("1 command ran locally", p.stderr)
        self.assertIn("cc -E a.c", p.stderr)
        with open(os.path.join(d, "a"), "rb") as f:
            self.assertTrue(f.read().startswith(b"#!/bin/sh\n# gg-placeholder"))
        self.run_in(d, GG, "force", "a")
        self.assertEqual(self.run_in(d, "./a").stdout, "hi\n")


if __name__ == "__main__":
    unittest.main()
