"""End-to-end tests of `gg report` and `gg explain` (docs/report.md) on a real
recorded `gg build` of a tiny C project: the page renders in headless
Chromium with one row per slot, a bar per run and the critical path marked,
without script errors; `gg explain` names the header that made a compile run
again."""
import json
import os
import re
import shutil
import subprocess
import tempfile
import unittest

from ggtest import GG, ROOT

FILES = {
    "inc/a.h": "#define A 1\n",
    "inc/b.h": "#define B 2\n",
    "src/a.c": '#include "a.h"\nint a(void) { return A; }\n',
    "src/b.c": '#include "b.h"\nint b(void) { return B; }\n',
    "src/main.c": '#include <stdio.h>\nint a(void); int b(void);\n'
                  'int main(void) { printf("%d\\n", a() + b()); return 0; }\n',
    "Makefile": "CFLAGS ?= -g -O2\n"
                "prog: src/a.o src/b.o src/main.o\n\t$(CC) -o $@ $^\n"
                "src/%.o: src/%.c\n\t$(CC) $(CFLAGS) -Iinc -c -o $@ $<\n"
                "clean:\n\trm -f prog src/*.o\n",
}
CHROMIUM = shutil.which("chromium")


def can_run():
    if os.geteuid() != 0:
        return "needs root (a private mount namespace for the models)"
    return None


@unittest.skipIf(can_run(), can_run())
class ReportTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="gg-report-")
        cls.src = os.path.join(cls.dir, "proj")
        cls.env = dict(os.environ, GG_DIR=os.path.join(cls.dir, ".gg"))
        subprocess.run([GG, "init"], cwd=cls.dir, env=cls.env, check=True, capture_output=True)
        for path, text in FILES.items():
            cls.write(path, text)
        cls.build()
        # The first build's trace (7 thunks run), kept from the later tests' builds.
        cls.first_trace = os.path.join(cls.dir, "first-trace.json")
        shutil.copy(os.path.join(cls.dir, ".gg", "last-trace.json"), cls.first_trace)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir, ignore_errors=True)

    @classmethod
    def write(cls, path, text):
        full = os.path.join(cls.src, path)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "w") as f:
            f.write(text)

    @classmethod
    def run_in(cls, *cmd, check=True):
        p = subprocess.run(list(cmd), cwd=cls.src, env=cls.env, capture_output=True, text=True, timeout=300)
        if check and p.returncode != 0:
            raise AssertionError(f"{' '.join(cmd)} exited {p.returncode}\nstdout: {p.stdout}\nstderr: {p.stderr}")
        return p

    @classmethod
    def build(cls):
        cls.run_in("make", "clean")
        return cls.run_in(GG, "build", "-j", "2", "--", "make").stderr

    def report_json(self):
        return json.loads(self.run_in(GG, "report", self.first_trace, "--json").stdout)

    def test_report_renders_in_chromium(self):
        if CHROMIUM is None:
            self.skipTest("chromium is not installed (scripts/setup installs it)")
        data = self.report_json()
        runs = data["runs"]
        # Three compiles and the link. Nothing was memoized, so each compile
        # discovered its inputs and compiled in one sandbox (docs/models.md).
        self.assertEqual(len({r["thunk"] for r in runs}), 4, data["info"])
        self.assertTrue(data["critical_path"]["runs"])
        path = [runs[i]["kind"] for i in data["critical_path"]["runs"]]
        self.assertEqual(path[-2:], ["compile", "link"], path)
        self.assertLessEqual(data["critical_path"]["span_seconds"], data["wall_seconds"] + 1e-3)
        kinds = {r["kind"] for r in runs}
        self.assertEqual({"compile", "link"}, kinds)
        self.assertTrue(all(r["command"] for r in runs))

        page = os.path.join(self.dir, "report.html")
        self.run_in(GG, "report", self.first_trace, "-o", page)
        with open(page) as f:
            html = f.read()
        self.assertNotRegex(html, r"<(script|link|img)[^>]+(src|href)=")  # self-contained
        profile = os.path.join(self.dir, "chromium-profile")
        common = [CHROMIUM, "--headless", "--disable-gpu", "--no-sandbox", "--user-data-dir=" + profile,
                  "--enable-logging=stderr", "--v=0", "--window-size=1300,1500"]
        p = subprocess.run(common + ["--dump-dom", "file://" + page], capture_output=True, text=True, timeout=120)
        self.assertEqual(p.returncode, 0, p.stderr[-3000:])
        dom = p.stdout
        self.assertFalse([line for line in p.stderr.splitlines() if "CONSOLE" in line or "Uncaught" in line],
                         p.stderr[-3000:])
        # The script ran to its end (it marks the body).
        self.assertIn(f'data-ready="{len(runs)} runs"', dom)
        self.assertEqual(dom.count('<g class="slot"'), len(data["rows"]))
        self.assertEqual(len(re.findall(r'<g class="run[ "]', dom)), len(runs))
        self.assertEqual(len(re.findall(r'<g class="run crit', dom)), len(data["critical_path"]["runs"]))
        shot = os.path.join(self.dir, "report.png")
        p = subprocess.run(common + ["--screenshot=" + shot, "file://" + page], capture_output=True, text=True,
                           timeout=120)
        self.assertEqual(p.returncode, 0, p.stderr[-3000:])
        self.assertGreater(os.path.getsize(shot), 10000)
        if os.environ.get("GG_UPDATE_DOCS") == "1":
            shutil.copy(shot, os.path.join(ROOT, "docs", "report.png"))

    def test_report_reads_a_trace_file_and_refuses_what_is_not_one(self):
        trace = os.path.join(self.dir, "not-a-trace.json")
        with open(trace, "w") as f:
            f.write('{"traceEvents": 3}')
        p = self.run_in(GG, "report", trace, "-o", os.path.join(self.dir, "x.html"), check=False)
        self.assertEqual(p.returncode, 3, p.stderr)
        self.assertIn("not a gg trace", p.stderr)
        p = self.run_in(GG, "report", "--json")  # the store's last trace
        self.assertIn("critical_path", json.loads(p.stdout))

    def test_help(self):
        for cmd in ("report", "explain"):
            p = self.run_in(GG, cmd, "--help")
            self.assertIn("usage: gg " + cmd, p.stdout)

    def test_explain_names_the_header_that_changed(self):
        self.write("inc/b.h", "#define B 5\n")
        try:
            self.build()
            self.assertEqual(self.run_in("./prog").stdout, "6\n")
            out = self.run_in(GG, "explain", "src/b.o").stdout
            self.assertIn("ran in the last force", out)
            self.assertIn("not memoized: the last earlier run of the same job", out)
            self.assertRegex(out, r"input (\S+/)?inc/b\.h: V")
            # a.c's discovery ran again (its view holds inc/b.h) but gave the
            # same compile thunk, which did not run again.
            out = self.run_in(GG, "explain", "src/a.o").stdout
            self.assertIn("it gave the same output as that run", out)
            self.assertTrue(out.rstrip().endswith("did not run in the last force (memoized, or not part of it)"), out)
        finally:
            self.write("inc/b.h", FILES["inc/b.h"])
            self.build()

    def test_explain_a_thunk_that_failed(self):
        self.write("src/b.c", "int b(void) { return undeclared; }\n")
        try:
            p = self.run_in("make", "clean")
            p = self.run_in(GG, "build", "-j", "2", "--", "make", check=False)
            self.assertNotEqual(p.returncode, 0)
            failed = re.search(r"thunk (T\S+) failed", p.stderr).group(1)
            out = self.run_in(GG, "explain", failed).stdout
            self.assertIn("exit status: 1", out)
            self.assertIn("undeclared", out)
            self.assertRegex(out, r"to reproduce by hand: gg execute T\S+")
        finally:
            self.write("src/b.c", FILES["src/b.c"])
            self.build()


if __name__ == "__main__":
    unittest.main()
