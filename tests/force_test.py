"""gg force end to end: graphs, memoization, failures, retries, stragglers."""
import json
import os
import signal
import subprocess
import threading
import time
import unittest

from ggtest import GG, GGTestCase, descendants, sandbox_pids, wait_for


class ForceTest(GGTestCase):
    def test_diamond_graph(self):
        a = self.value("1\n", "a")
        b = self.sh_thunk("cat a a > out", inputs=[(a, "a")])
        c = self.sh_thunk("cat a; echo c > out; cat a >> out", inputs=[(a, "a")])
        d = self.sh_thunk("cat b c > out", thunks=[(b, "b"), (c, "c")], placeholder="d.out")
        self.force("d.out")
        with open(os.path.join(self.dir, "d.out")) as f:
            self.assertEqual(f.read(), "1\n1\nc\n1\n")
        # Forced by name, the output's name is printed.
        out = self.force(d).stdout.strip()
        self.assertEqual(self.cat(out), "1\n1\nc\n1\n")

    def test_memoized_thunks_never_run_again(self):
        t = self.sh_thunk("echo once > out")
        trace = os.path.join(self.dir, "t1.json")
        self.force(t, args=["--trace", trace])
        self.assertEqual(len([e for e in self.trace(trace) if e["cat"].startswith("running")]), 1)
        self.force(t, args=["--trace", trace])
        self.assertEqual([e for e in self.trace(trace) if e["cat"].startswith("running")], [])

    def test_multiple_outputs_and_tags(self):
        t = self.sh_thunk("echo first > out; echo second > sub/extra; chmod +x out", outputs=("out", "sub/extra"))
        u = self.sh_thunk("cat x > out", thunks=[(t + "#sub/extra", "x")], placeholder="u")
        self.force("u")
        with open(os.path.join(self.dir, "u")) as f:
            self.assertEqual(f.read(), "second\n")
        self.assertEqual(self.cat(t + "#sub/extra"), "second\n")
        # An executable output keeps its mode when a placeholder is forced.
        self.gg("create-thunk", "-e", f"{self.busybox}=/bin/sh", "-o", "out", "-C", "exe", self.busybox,
                "sh", "-c", "echo '#!/bin/sh' > out; chmod 755 out")
        self.force("exe")
        self.assertTrue(os.access(os.path.join(self.dir, "exe"), os.X_OK))

    def test_failure_names_thunk_and_shows_stderr(self):
        t = self.sh_thunk("echo something broke >&2; exit 7")
        p = self.force(t, check=False)
        self.assertEqual(p.returncode, 1)
        self.assertIn(t, p.stderr)
        self.assertIn("something broke", p.stderr)
        self.assertIn("exit status: 7", p.stderr)
        self.assertIn("sh -c", p.stderr)

    def test_missing_output_is_a_distinct_error(self):
        t = self.sh_thunk("echo hi > not-the-output")
        p = self.force(t, check=False)
        self.assertEqual(p.returncode, 1)
        self.assertIn("left no regular file for output 'out'", p.stderr)

    def test_timeout_kills_the_thunk(self):
        t = self.sh_thunk("sleep 61.25 & sleep 61.5; echo > out", timeout=1)
        start = time.time()
        p = self.force(t, check=False)
        self.assertLess(time.time() - start, 30)
        self.assertEqual(p.returncode, 1)
        self.assertIn("timeout", p.stderr)
        left = subprocess.run(["pgrep", "-f", "sleep 61.25"], capture_output=True, text=True).stdout
        self.assertEqual(left, "", "the thunk's background process outlived the timeout")

    def test_malformed_thunk_gives_a_clear_error(self):
        bad = self.value(b"\x7fGGTHUNK\xff\xff\xff garbage", "bad")
        self.assertTrue(bad.startswith("T"))
        p = self.force(bad, check=False)
        self.assertEqual(p.returncode, 3)
        self.assertIn("malformed thunk", p.stderr)
        self.assertIn(bad, p.stderr)

    def test_missing_dependency_gives_a_clear_error(self):
        a = self.sh_thunk("echo a > out")
        b = self.sh_thunk("cat a > out", thunks=[(a, "a")])
        os.unlink(os.path.join(self.dir, ".gg", "blobs", a))
        p = self.force(b, check=False)
        self.assertEqual(p.returncode, 3)
        self.assertIn(f"cannot load thunk {a}", p.stderr)
        self.assertIn("not in the store", p.stderr)

    def test_corrupt_input_is_detected(self):
        v = self.value("trustworthy\n", "v")
        t = self.sh_thunk("cat v > out", inputs=[(v, "v")])
        blob = os.path.join(self.dir, ".gg", "blobs", v)
        os.chmod(blob, 0o644)
        with open(blob, "r+b") as f:
            f.write(b"T")
        p = self.force(t, check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("does not match its name", p.stderr)

    def test_lost_output_is_a_miss_not_an_error(self):
        t = self.sh_thunk("echo again > out")
        out = self.force(t).stdout.strip()
        os.unlink(os.path.join(self.dir, ".gg", "blobs", out))
        self.assertEqual(self.force(t).stdout.strip(), out)
        self.assertEqual(self.cat(out), "again\n")

    def test_killed_executor_is_retried(self):
        t = self.sh_thunk("sleep 1; echo survived > out")
        trace = os.path.join(self.dir, "trace.json")
        proc = subprocess.Popen([GG, "force", "--trace", trace, t], cwd=self.dir, env=self.env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        pids = wait_for(lambda: sandbox_pids(proc.pid))
        self.assertTrue(pids, "no sandbox started")
        os.kill(pids[0], signal.SIGKILL)
        out, err = proc.communicate(timeout=60)
        self.assertEqual(proc.returncode, 0, err)
        self.assertEqual(self.cat(out.strip()), "survived\n")
        attempts = {e["args"]["attempt"] for e in self.trace(trace) if e["cat"].startswith("running")}
        self.assertEqual(attempts, {"1", "2"})
        runs = json.loads(self.gg("report", trace, "--json").stdout)["runs"]  # docs/report.md
        self.assertEqual([(r["attempt"], r["result"]) for r in runs], [(1, "executor crashed"), (2, "ok")])

    def test_straggler_duplicate_wins(self):
        t = self.sh_thunk("sleep 0.5; echo fast > out")
        trace = os.path.join(self.dir, "trace.json")
        proc = subprocess.Popen([GG, "force", "--timeout", "1", "--trace", trace, t], cwd=self.dir,
                                env=self.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        pids = wait_for(lambda: sandbox_pids(proc.pid))
        self.assertTrue(pids, "no sandbox started")
        # Freeze the first copy, as a stuck machine would.
        frozen = [pids[0]] + descendants(pids[0])
        for pid in frozen:
            os.kill(pid, signal.SIGSTOP)
        out, err = proc.communicate(timeout=60)
        self.assertEqual(proc.returncode, 0, err)
        self.assertEqual(self.cat(out.strip()), "fast\n")
        events = [e for e in self.trace(trace) if e["cat"].startswith("running")]
        self.assertTrue(any(e["args"]["duplicate"] == "yes" and e["args"]["result"] == "ok" for e in events))
        self.assertTrue(any(e["args"]["duplicate"] == "no" and e["args"]["result"] == "cancelled" for e in events))
        runs = json.loads(self.gg("report", trace, "--json").stdout)["runs"]  # docs/report.md
        self.assertEqual(sorted((r["duplicate"], r["result"]) for r in runs), [(False, "cancelled"), (True, "ok")])
        self.assertTrue(wait_for(lambda: not any(os.path.exists(f"/proc/{p}") for p in frozen), timeout=10))

    def test_killed_force_resumes_without_rerunning(self):
        parts = [self.sh_thunk(f"sleep 0.6; echo {i} > out") for i in range(6)]
        final = self.sh_thunk("cat p0 p1 p2 p3 p4 p5 > out", thunks=[(p, f"p{i}") for i, p in enumerate(parts)])
        proc = subprocess.Popen([GG, "force", "-j", "1", final], cwd=self.dir, env=self.env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.assertTrue(wait_for(lambda: len(self.reductions()) >= 2, timeout=30))
        below = descendants(proc.pid)
        proc.kill()
        proc.wait()
        self.assertTrue(wait_for(lambda: not any(os.path.exists(f"/proc/{p}") for p in below), timeout=10),
                        "sandboxes outlived gg")
        finished = len(self.reductions())
        self.assertLess(finished, 6)
        trace = os.path.join(self.dir, "trace.json")
        out = self.force(final, args=["--trace", trace]).stdout.strip()
        self.assertEqual(self.cat(out), "".join(f"{i}\n" for i in range(6)))
        # First runs only: on a loaded machine a straggler copy may start too.
        ran = [e for e in self.trace(trace) if e["cat"] == "running" and e["args"]["duplicate"] == "no"]
        self.assertEqual(len(ran), 7 - finished)

    def test_many_thunks_in_parallel(self):
        thunks = [self.sh_thunk(f"echo {i} > out") for i in range(40)]
        listing = os.path.join(self.dir, "targets")
        with open(listing, "w") as f:
            f.write("\n".join(thunks) + "\n")
        outs = self.force("@" + listing, args=["-j", "8"]).stdout.split()
        self.assertEqual([self.cat(o) for o in outs], [f"{i}\n" for i in range(40)])

    def test_targets_on_stdin_are_forced_in_order_and_a_bad_line_fails(self):
        thunks = [self.sh_thunk(f"echo {i} > out") for i in range(3)]
        # Given on the command line and on standard input (the last line
        # without its newline): all printed, in that order.
        p = self.gg("force", thunks[0], "@-", input=thunks[1] + "\n\n" + thunks[2])
        self.assertEqual([self.cat(o) for o in p.stdout.split()], ["0\n", "1\n", "2\n"])
        p = self.gg("force", "@-", input=thunks[1] + "\nnot-a-name\n", check=False)
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertIn("@-: 'not-a-name' is neither", p.stderr)

    def test_trace_is_chrome_trace_json(self):
        t = self.sh_thunk("echo > out")
        trace = os.path.join(self.dir, "trace.json")
        self.force(t, args=["--trace", trace])
        events = [e for e in self.trace(trace) if e["ph"] != "M"]  # "M": names of rows
        cats = {e["cat"] for e in events}
        self.assertLessEqual({"queued", "running", "collected"}, cats)
        self.assertLessEqual(cats, {"queued", "fetching inputs", "running", "collected"})
        for e in events:
            self.assertEqual(e["ph"], "X")
            self.assertGreaterEqual(e["dur"], 0)


if __name__ == "__main__":
    unittest.main()
