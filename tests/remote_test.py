"""Remote workers on loopback: `gg worker` + `gg force --engine remote=...`,
with workers killed, frozen, refused and holding corrupt objects."""
import os
import shutil
import signal
import socket
import subprocess
import time
import unittest

from ggtest import GG, GGTestCase, descendants, free_port, sandbox_pids, start_worker, stop_all, wait_for


class RemoteTest(GGTestCase):
    def setUp(self):
        super().setUp()
        self.secret = os.path.join(self.dir, "secret")
        with open(self.secret, "w") as f:
            f.write("correct horse battery staple\n")
        self.port = free_port()
        self.addr = f"127.0.0.1:{self.port}"
        self.workers = []

    def tearDown(self):
        stop_all(self.workers)
        super().tearDown()

    def start_worker(self, name, slots=2, secret=None):
        w = start_worker(self.dir, name, self.addr, secret or self.secret, self.env, slots)
        self.workers.append(w)
        return w

    def log(self, name):
        with open(os.path.join(self.dir, name + ".log")) as f:
            return f.read()

    def start_force(self, *targets, args=()):
        return subprocess.Popen([GG, "force", "--engine", f"remote={self.addr}", "--secret-file", self.secret,
                                 *args, *targets], cwd=self.dir, env=self.env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)

    def sleepers(self, n, secs):
        return [self.sh_thunk(f"sleep {secs}; echo job {i} > out") for i in range(n)]

    def test_outputs_equal_a_local_run(self):
        a = self.value("abc\n", "a")
        parts = [self.sh_thunk(f"cat a a > out; echo {i} >> out", inputs=[(a, "a")]) for i in range(8)]
        final = self.sh_thunk("cat p* > out", thunks=[(p, f"p{i}") for i, p in enumerate(parts)])
        self.start_worker("w1")
        self.start_worker("w2")
        proc = self.start_force(final)
        out, err = proc.communicate(timeout=120)
        self.assertEqual(proc.returncode, 0, err)
        remote = self.cat(out.strip())
        # The same job on the local engine, in a fresh store.
        local_env = dict(self.env, GG_DIR=os.path.join(self.dir, "local-gg"))
        subprocess.run([GG, "init"], env=local_env, check=True, capture_output=True)
        for path in ("/usr/bin/busybox", os.path.join(self.dir, "a")):
            subprocess.run([GG, "collect", path], env=local_env, check=True, capture_output=True)
        for t in parts + [final]:
            blob = os.path.join(self.dir, ".gg", "blobs", t)
            subprocess.run([GG, "collect", blob], env=local_env, check=True, capture_output=True)
        p = subprocess.run([GG, "force", final], env=local_env, capture_output=True, text=True)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stdout.strip(), out.strip())
        self.assertEqual(remote, "".join(f"abc\nabc\n{i}\n" for i in range(8)))

    def test_wrong_secret_is_refused_and_runs_nothing(self):
        bad = os.path.join(self.dir, "bad-secret")
        with open(bad, "w") as f:
            f.write("guess\n")
        t = self.sh_thunk("echo > out")
        proc = self.start_force(t)
        w = self.start_worker("intruder", secret=bad)
        self.assertEqual(w.wait(timeout=30), 2)
        self.assertIn("wrong secret", self.log("intruder"))
        self.assertFalse(os.path.exists(os.path.join(self.dir, "intruder", "blobs", self.busybox)))
        self.start_worker("honest")
        out, err = proc.communicate(timeout=60)
        self.assertEqual(proc.returncode, 0, err)

    def test_worker_killed_mid_thunk(self):
        targets = self.sleepers(6, 1)
        doomed = self.start_worker("doomed", slots=3)
        proc = self.start_force(*targets)
        self.assertTrue(wait_for(lambda: sandbox_pids(doomed.pid), timeout=30))
        self.start_worker("survivor", slots=3)
        doomed.kill()
        out, err = proc.communicate(timeout=120)
        self.assertEqual(proc.returncode, 0, err)
        outs = out.split()
        self.assertEqual([self.cat(o) for o in outs], [f"job {i}\n" for i in range(6)])
        self.assertEqual(len(set(outs)), 6)

    def test_hanging_worker_loses_to_a_straggler_copy(self):
        t = self.sh_thunk("sleep 0.5; echo done > out")
        stuck = self.start_worker("stuck", slots=1)
        proc = self.start_force(t, args=["--timeout", "1"])
        self.assertTrue(wait_for(lambda: sandbox_pids(stuck.pid), timeout=30))
        for pid in [stuck.pid] + descendants(stuck.pid):
            os.kill(pid, signal.SIGSTOP)
        self.start_worker("healthy", slots=1)
        out, err = proc.communicate(timeout=60)
        self.assertEqual(proc.returncode, 0, err)
        self.assertEqual(self.cat(out.strip()), "done\n")
        os.kill(stuck.pid, signal.SIGCONT)

    def test_corrupt_object_in_a_worker_cache(self):
        v = self.value("the real input\n", "v")
        t1 = self.sh_thunk("cat v > out; echo 1 >> out", inputs=[(v, "v")])
        t2 = self.sh_thunk("cat v > out; echo 2 >> out", inputs=[(v, "v")])
        w = self.start_worker("w", slots=1)
        proc = self.start_force(t1)
        out, err = proc.communicate(timeout=60)
        self.assertEqual(proc.returncode, 0, err)
        w.wait(timeout=30)
        # Damage the worker's cached copy, then reuse the worker's cache.
        cached = os.path.join(self.dir, "w", "blobs", v)
        os.chmod(cached, 0o644)
        with open(cached, "r+b") as f:
            f.write(b"X")
        self.start_worker("w", slots=1)
        proc = self.start_force(t2)
        out, err = proc.communicate(timeout=60)
        self.assertEqual(proc.returncode, 0, err)
        self.assertEqual(self.cat(out.strip()), "the real input\n2\n")

    @unittest.skipUnless(os.geteuid() == 0 and shutil.which("ip"), "needs root and iproute2")
    def test_network_cut_to_one_worker(self):
        # A worker in its own network namespace, reached over a veth pair
        # that the test then takes down.
        ns = f"gg-test-{os.getpid()}-{self.port}"
        host_if, ns_if = f"ggh{self.port}", f"ggn{self.port}"
        net = f"10.231.{self.port % 250}"
        sh = lambda *a: subprocess.run(a, check=True, capture_output=True)
        sh("ip", "netns", "add", ns)
        try:
            sh("ip", "link", "add", host_if, "type", "veth", "peer", "name", ns_if)
            sh("ip", "link", "set", ns_if, "netns", ns)
            sh("ip", "addr", "add", f"{net}.1/30", "dev", host_if)
            sh("ip", "link", "set", host_if, "up")
            sh("ip", "netns", "exec", ns, "ip", "addr", "add", f"{net}.2/30", "dev", ns_if)
            sh("ip", "netns", "exec", ns, "ip", "link", "set", ns_if, "up")
            sh("ip", "netns", "exec", ns, "ip", "link", "set", "lo", "up")
            targets = self.sleepers(4, 2)
            self.addr = f"0.0.0.0:{self.port}"
            proc = self.start_force(*targets)
            env = {k: v for k, v in self.env.items() if k != "GG_DIR"}
            far = subprocess.Popen(["ip", "netns", "exec", ns, GG, "worker", "--connect", f"{net}.1:{self.port}",
                                    "--secret-file", self.secret, "--slots", "4",
                                    "--cache", os.path.join(self.dir, "far")],
                                   env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            self.workers.append(far)
            self.assertTrue(wait_for(lambda: sandbox_pids(far.pid), timeout=30), "the far worker never ran")
            sh("ip", "link", "set", host_if, "down")
            self.addr = f"127.0.0.1:{self.port}"
            self.start_worker("near", slots=4)
            out, err = proc.communicate(timeout=120)
            self.assertEqual(proc.returncode, 0, err)
            self.assertIn("lost worker", err)
            self.assertEqual([self.cat(o) for o in out.split()], [f"job {i}\n" for i in range(4)])
        finally:
            for w in self.workers:
                if w.poll() is None:
                    w.kill()
            subprocess.run(["ip", "link", "del", host_if], capture_output=True)
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)

    def test_workers_share_a_store_that_restarts_mid_run(self):
        from storage_servers import RedisServer
        durable = ("--appendonly", "yes", "--appendfsync", "always")
        redis = RedisServer().start(extra=durable)
        try:
            self.env["GG_STORAGE_URI"] = redis.uri()
            a = self.value("input via the store\n", "a")
            parts = [self.sh_thunk(f"sleep 1; cat a > out; echo {i} >> out", inputs=[(a, "a")]) for i in range(6)]
            final = self.sh_thunk("cat p* > out", thunks=[(p, f"p{i}") for i, p in enumerate(parts)])
            w1 = self.start_worker("w1", slots=2)
            self.start_worker("w2", slots=2)
            proc = self.start_force(final)
            self.assertTrue(wait_for(lambda: sandbox_pids(w1.pid), timeout=30))
            redis.kill()
            time.sleep(1)
            redis.start(port=redis.port, extra=durable)
            out, err = proc.communicate(timeout=120)
            self.assertEqual(proc.returncode, 0, err)
            self.assertEqual(self.cat(out.strip()), "".join(f"input via the store\n{i}\n" for i in range(6)))
            keys = subprocess.run(["redis-cli", "-p", str(redis.port), "--scan"], capture_output=True,
                                  text=True).stdout.split()
            # The workers' outputs went through the store, and so did the input.
            self.assertIn("blobs/" + a, keys)
            self.assertIn("blobs/" + out.strip(), keys)
            self.assertIn("reductions/" + final, keys)
        finally:
            redis.stop()

    def test_local_and_remote_engines_together(self):
        targets = self.sleepers(8, 0.3)
        self.start_worker("w", slots=2)
        trace = os.path.join(self.dir, "trace.json")
        proc = self.start_force(*targets, args=["--engine", "local=2", "--trace", trace])
        out, err = proc.communicate(timeout=60)
        self.assertEqual(proc.returncode, 0, err)
        engines = {e["args"]["engine"] for e in self.trace(trace) if e["cat"].startswith("running")}
        self.assertEqual(engines, {"local", f"remote={self.addr}"})


if __name__ == "__main__":
    unittest.main()
