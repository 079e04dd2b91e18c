"""`gg test`: GoogleTest binaries as one memoized thunk per test.

The fixture suite (tests/fixtures/gtest_suite) has data files, a failing, a
disabled, a skipped, a crashing and a hanging test, parameterized and typed
tests and one writing temporary files. GoogleTest's own samples (Debian's
googletest package) are built and compared with running them directly.
fmt's test suite (~540 tests) runs with GG_TEST_LARGE=1.
"""
import glob
import os
import re
import shutil
import subprocess
import unittest
import xml.etree.ElementTree as ET

from ggtest import GG, GGTestCase, ROOT

FIXTURE = os.path.join(ROOT, "tests", "fixtures", "gtest_suite")
SAMPLES = "/usr/src/googletest/googletest/samples"
LARGE = os.environ.get("GG_TEST_LARGE")


def report_lines(stdout):
    """{full test name: status word} from gg test's per-test lines."""
    out = {}
    for m in re.finditer(r"^\[ *(OK|FAILED|SKIPPED|DISABLED) *\] (\S+)(?: \((?!\d+ ms\)).*\))?", stdout, re.M):
        out.setdefault(m.group(2), m.group(1))
    return out


def summary(stdout):
    return stdout.rstrip("\n").splitlines()[-1]


def thunk_counts(stdout):
    m = re.search(r"in (\d+) thunks?: (\d+) run, (\d+) memoized", stdout)
    return tuple(int(x) for x in m.groups())


class GGTestBase(GGTestCase):
    def build(self, out, sources, extra=(), main=True):
        libs = ["-lgtest_main"] if main else []
        subprocess.run(["g++", "-std=c++17", "-O1", *extra, "-o", out, *sources, *libs, "-lgtest", "-pthread"],
                       check=True, capture_output=True, timeout=600)

    def direct(self, binary, cwd):
        """Per-test results of running `binary` directly, from its XML report."""
        xml = os.path.join(self.dir, "direct.xml")
        subprocess.run([binary, f"--gtest_output=xml:{xml}"], cwd=cwd, capture_output=True, timeout=300)
        results = {}
        for case in ET.parse(xml).getroot().iter("testcase"):
            name = case.get("classname") + "." + case.get("name")
            if case.get("status") == "notrun":
                results[name] = "DISABLED"
            elif case.find("failure") is not None:
                results[name] = "FAILED"
            elif case.get("result") == "skipped":
                results[name] = "SKIPPED"
            else:
                results[name] = "OK"
        return results

    def listed(self, binary):
        """Full names from --gtest_list_tests, comments dropped."""
        text = subprocess.run([binary, "--gtest_list_tests"], capture_output=True, text=True, check=True).stdout
        return self.listed_text(text)

    @staticmethod
    def listed_text(text):
        names, suite = [], None
        for line in text.splitlines():
            line = line.split("  #")[0].rstrip()
            if line and not line.startswith(" ") and line.endswith("."):
                suite = line[:-1]
            elif line.startswith("  ") and suite:
                names.append(suite + "." + line.strip())
        return names


class FixtureSuiteTest(GGTestBase):
    def setUp(self):
        super().setUp()
        self.src = os.path.join(self.dir, "src")
        shutil.copytree(FIXTURE, self.src)
        self.binary = os.path.join(self.src, "fixture_test")
        self.build(self.binary, [os.path.join(self.src, "fixture_test.cc")])

    def test(self, *args, check_rc=None, timeout=300):
        p = self.gg("test", "-j", "2", "--data-root", self.src, "--timeout", "3", *args, check=False, timeout=timeout)
        if check_rc is not None:
            self.assertEqual(p.returncode, check_rc, p.stdout + p.stderr)
        return p

    def test_results_memoization_and_junit(self):
        junit = os.path.join(self.dir, "junit.xml")
        p = self.test("--junit", junit, self.binary, check_rc=1)
        got = report_lines(p.stdout)
        want = {
            "Data.ReadsGreeting": "OK", "Data.ReadsUndeclaredFile": "FAILED", "Plain.Passes": "OK",
            "Plain.Fails": "FAILED", "Plain.DISABLED_NeverRuns": "DISABLED", "Plain.Skips": "SKIPPED",
            "Plain.WritesTempFiles": "OK", "Crash.Segfaults": "FAILED", "Hang.Forever": "FAILED",
            "Small/Squares.MatchFile/0": "OK", "Small/Squares.MatchFile/1": "OK", "Small/Squares.MatchFile/2": "OK",
            "Sizes/0.Positive": "OK", "Sizes/1.Positive": "OK", "Sizes/2.Positive": "OK",
        }
        self.assertEqual(got, want, p.stdout)
        self.assertEqual(list(got), self.listed(self.binary))  # in the binary's order
        self.assertEqual(summary(p.stdout), "9 passed, 4 failed, 1 skipped, 1 disabled")
        self.assertEqual(thunk_counts(p.stdout), (14, 14, 0))
        # Failures carry the assertion message and the test's output.
        self.assertIn("the answer is not 43", p.stdout)
        self.assertIn("about to compare", p.stdout)
        self.assertRegex(p.stdout, r"crashed: Segmentation fault \(signal 11\)")
        self.assertIn("crashing now", p.stdout)
        self.assertIn("timed out after 3 s", p.stdout)
        # The undeclared file is named with the line that declares it.
        self.assertIn("it opens testdata/secret.txt (under a --data-root), which was not declared", p.stdout)
        self.assertIn("'    @testdata/secret.txt' under '  ReadsUndeclaredFile' of 'Data.'", p.stdout)
        root = ET.parse(junit).getroot()
        self.assertEqual((root.get("tests"), root.get("failures"), root.get("skipped"), root.get("disabled")),
                         ("15", "4", "1", "1"))
        fails = {c.get("classname") + "." + c.get("name") for c in root.iter("testcase") if c.find("failure") is not None}
        self.assertEqual(fails, {n for n, s in want.items() if s == "FAILED"})

        # Nothing changed: nothing runs, the report is the same.
        again = self.test("--junit", junit, self.binary, check_rc=1)
        self.assertEqual(thunk_counts(again.stdout), (14, 0, 14))
        strip = lambda s: re.sub(r"^\[==========\].*$", "", s, flags=re.M)
        self.assertEqual(strip(again.stdout), strip(p.stdout))

        # One data file changes: only the test that reads it runs (and fails).
        with open(os.path.join(self.src, "testdata", "numbers", "2.txt"), "w") as f:
            f.write("5\n")
        changed = self.test(self.binary, check_rc=1)
        self.assertEqual(thunk_counts(changed.stdout), (14, 1, 13))
        self.assertEqual(report_lines(changed.stdout)["Small/Squares.MatchFile/1"], "FAILED")
        self.assertEqual(summary(changed.stdout), "8 passed, 5 failed, 1 skipped, 1 disabled")

        # A rebuilt binary: every test runs again.
        self.build(self.binary, [os.path.join(self.src, "fixture_test.cc")], ["-DREBUILT=1", "-O0"])
        rebuilt = self.test("--filter", "-Hang.*", self.binary, check_rc=1)
        self.assertEqual(thunk_counts(rebuilt.stdout), (13, 13, 0))

    def test_filter_with_negative_patterns(self):
        for flt in ("Small/*:Sizes/*-*/1", "*-*.*/1:Sizes/*:Hang.*:Crash.*", "*Greeting:Plain.P?sses", "-*"):
            p = self.test("--filter", flt, self.binary)
            want = subprocess.run([self.binary, "--gtest_list_tests", "--gtest_filter=" + flt], capture_output=True,
                                  text=True).stdout
            self.assertEqual(list(report_lines(p.stdout)), self.listed_text(want), flt)
        p = self.test("--filter", "Small/*:Sizes/*-*/1", self.binary, check_rc=0)
        self.assertEqual(summary(p.stdout), "5 passed, 0 failed")

    def test_learn_writes_annotations_beside_the_binary(self):
        os.remove(os.path.join(self.src, "fixture_test.gg-test"))
        p = self.test("--filter", "Data.*", self.binary, check_rc=1)
        self.assertEqual(summary(p.stdout), "0 passed, 2 failed")
        p = self.test("--learn", "--filter", "Data.*:Small/*:Plain.WritesTempFiles", self.binary, check_rc=0)
        self.assertEqual(summary(p.stdout), "6 passed, 0 failed")
        with open(os.path.join(self.src, "fixture_test.gg-test")) as f:
            learned = f.read()
        self.assertIn("Data.\n  ReadsGreeting\n    @testdata/greeting.txt\n"
                      "  ReadsUndeclaredFile\n    @testdata/secret.txt\n", learned)
        self.assertIn("  MatchFile/1\n    @testdata/numbers/2.txt\n", learned)
        self.assertNotIn("scratch", learned)  # written by the test: not data
        # The next run reads it without --learn.
        p = self.test("--filter", "Data.*", self.binary, check_rc=0)
        self.assertEqual(thunk_counts(p.stdout), (2, 0, 2))

    def test_shards_and_suites(self):
        flt = "Plain.*:Small/*:Sizes/*:Data.ReadsGreeting"
        per_test = report_lines(self.test("--filter", flt, self.binary, check_rc=1).stdout)
        for mode, thunks in (("suite", 6), ("3", 3)):
            p = self.test("--shard-by", mode, "--filter", flt, self.binary, check_rc=1)
            self.assertEqual(report_lines(p.stdout), per_test, mode)
            self.assertEqual(thunk_counts(p.stdout)[0], thunks, p.stdout)
            self.assertEqual(summary(p.stdout), "9 passed, 1 failed, 1 skipped, 1 disabled")
        # A crash inside a shard: the tests that passed before it keep their
        # result, the running one fails with its output, later ones never ran.
        p = self.test("--shard-by", "1", "--filter", "Plain.Passes:Crash.*:Sizes/0.*", self.binary, check_rc=1)
        self.assertEqual(report_lines(p.stdout), {"Plain.Passes": "OK", "Crash.Segfaults": "FAILED",
                                                  "Sizes/0.Positive": "FAILED"})
        self.assertIn("crashing now", p.stdout)
        self.assertIn("never started: the binary crashed: Segmentation fault (signal 11) before it", p.stdout)

    def test_help_and_usage(self):
        p = self.gg("test", "--help")
        self.assertIn("--shard-by", p.stdout)
        self.assertEqual(self.gg("test", "--shard-by", "x", self.binary, check=False).returncode, 2)
        self.assertEqual(self.gg("test", check=False).returncode, 2)
        bad = os.path.join(self.dir, "bad.gg-test")
        with open(bad, "w") as f:
            f.write("Data.\n  ReadsGreeting\n    @testdata/nope.txt\n")
        p = self.gg("test", "--data-root", self.src, "--annotations", bad, self.binary, check=False)
        self.assertEqual(p.returncode, 3)
        self.assertIn("data file 'testdata/nope.txt'", p.stderr)


class SamplesTest(GGTestBase):
    def test_googletest_samples_match_a_direct_run(self):
        build = os.path.join(self.dir, "samples")
        os.makedirs(build)
        objs = []
        for lib in ("sample1", "sample2", "sample4"):
            obj = os.path.join(build, lib + ".o")
            subprocess.run(["g++", "-std=c++17", "-c", "-o", obj, os.path.join(SAMPLES, lib + ".cc")], check=True,
                           timeout=300)
            objs.append(obj)
        binaries = []
        for src in sorted(glob.glob(os.path.join(SAMPLES, "sample*_unittest.cc"))):
            out = os.path.join(build, os.path.basename(src)[:-3])
            with open(src) as f:
                has_main = "int main(" in f.read()
            self.build(out, [src, *objs], ["-I", SAMPLES], main=not has_main)
            binaries.append(out)
        self.assertEqual(len(binaries), 10)
        want, listed = {}, []
        for b in binaries:
            want.update(self.direct(b, build))
            listed += self.listed(b)
        p = self.gg("test", "-j", "2", "--data-root", build, *binaries, check=False, timeout=600)
        got = report_lines(p.stdout)
        self.assertEqual(got, want, p.stdout + p.stderr)
        self.assertEqual(list(got), listed)
        failed = sum(1 for s in want.values() if s == "FAILED")
        self.assertEqual(p.returncode, 1 if failed else 0, p.stdout + p.stderr)
        passed = sum(1 for s in want.values() if s == "OK")
        self.assertTrue(summary(p.stdout).startswith(f"{passed} passed, {failed} failed"), p.stdout)


@unittest.skipIf(not LARGE, "set GG_TEST_LARGE=1 to build fmt's test suite and run it through gg test")
class FmtSuiteTest(GGTestBase):
    def test_fmt_suite_passes_then_is_memoized(self):
        from models_test import source
        src = source("fmtlib", os.path.join(self.dir, "fmt"))
        build = os.path.join(src, "build")
        os.makedirs(build)
        run = lambda *a: subprocess.run(a, cwd=build, check=True, capture_output=True, text=True, timeout=3600)
        run("cmake", "-G", "Ninja", "-DCMAKE_BUILD_TYPE=Release", "-DFMT_TEST=ON", "-DFMT_DOC=OFF",
            "-DBUILD_SHARED_LIBS=ON", "..")
        run("nice", "-n", "10", "ninja", "-j2")
        binaries = sorted(b for b in glob.glob(os.path.join(build, "bin", "*-test")) if os.access(b, os.X_OK))
        listed = [n for b in binaries for n in self.listed(b)]
        self.assertGreater(len(listed), 400)  # Debian's fmt 9.1.0 lists 458
        # fmt's tests run from the build dir (ctest's WORKING_DIRECTORY). One
        # thunk per suite: file_test.read_error and write_error read a file an
        # earlier test of their suite writes (they fail alone in a plain run
        # too: os-test --gtest_filter=file_test.read_error).
        shard = ("--shard-by", "suite")
        p = self.gg("test", "-j", "2", *shard, "--data-root", build, *binaries, check=False, timeout=3600)
        self.assertEqual(p.returncode, 0, p.stdout[-5000:] + p.stderr[-3000:])
        disabled = sum(1 for n in listed if re.search(r"(^|[./])DISABLED_", n))
        self.assertRegex(summary(p.stdout), rf"^{len(listed) - disabled} passed, 0 failed")
        again = self.gg("test", "-j", "2", *shard, "--data-root", build, *binaries, check=False, timeout=3600)
        self.assertEqual(again.returncode, 0)
        total = thunk_counts(again.stdout)[0]
        self.assertEqual(thunk_counts(again.stdout), (total, 0, total))
        print(f"\nfmt: {summary(p.stdout)}; first run {thunk_counts(p.stdout)}, second {thunk_counts(again.stdout)}")


if __name__ == "__main__":
    unittest.main()
