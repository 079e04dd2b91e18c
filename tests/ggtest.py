"""Helpers for gg's end-to-end tests: a fresh store per test and the real CLI."""
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import unittest

BUILD = os.environ.get("GG_BUILD_DIR", os.path.join(os.path.dirname(__file__), "..", "build"))
GG = os.path.abspath(os.path.join(BUILD, "src", "cli", "gg"))
FIB = os.path.abspath(os.path.join(BUILD, "examples", "fibonacci", "fib"))
ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
BUSYBOX = "/usr/bin/busybox"


class GGTestCase(unittest.TestCase):
    """Each test gets its own directory with a .gg store and busybox stored."""

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="gg-e2e-")
        self.env = dict(os.environ, GG_DIR=os.path.join(self.dir, ".gg"))
        self.gg("init")
        self.busybox = self.collect(BUSYBOX)

    def tearDown(self):
        subprocess.run(["chmod", "-R", "u+w", self.dir], check=False)
        shutil.rmtree(self.dir, ignore_errors=True)

    def gg(self, *args, check=True, timeout=120, **kw):
        p = subprocess.run([GG, *args], cwd=self.dir, env=self.env, capture_output=True, text=True,
                           timeout=timeout, **kw)
        if check and p.returncode != 0:
            self.fail(f"gg {' '.join(args)} exited {p.returncode}\nstdout: {p.stdout}\nstderr: {p.stderr}")
        return p

    def collect(self, path):
        return self.gg("collect", path).stdout.strip()

    def value(self, content, name="value"):
        path = os.path.join(self.dir, name)
        with open(path, "wb") as f:
            f.write(content if isinstance(content, bytes) else content.encode())
        return self.collect(path)

    def sh_thunk(self, script, inputs=(), thunks=(), outputs=("out",), timeout=None, placeholder=None, env=()):
        """A thunk running `sh -c script` with busybox at /bin/sh."""
        args = ["create-thunk", "-e", f"{self.busybox}=/bin/sh"]
        for name, path in inputs:
            args += ["-v", f"{name}={path}"]
        for name, path in thunks:
            args += ["-t", f"{name}={path}"]
        for o in outputs:
            args += ["-o", o]
        for e in env:
            args += ["-E", e]
        if timeout is not None:
            args += ["-T", str(timeout)]
        if placeholder is not None:
            args += ["-C", placeholder]
        args += [self.busybox, "sh", "-c", script]
        return self.gg(*args).stdout.strip()

    def cat(self, name):
        return self.gg("cat", name).stdout

    def force(self, *targets, check=True, args=(), timeout=120):
        return self.gg("force", *args, *targets, check=check, timeout=timeout)

    def trace(self, path):
        with open(path) as f:
            return json.load(f)["traceEvents"]

    # A small graph with a multi-output thunk, for the engines' tests: its
    # output is SMALL_GRAPH_OUTPUT.
    SMALL_GRAPH_OUTPUT = "3\nONE\nTWO\nTHREE\nside\n"

    def small_graph(self):
        data = self.value("one\ntwo\nthree\n", "data")
        count = self.sh_thunk("wc -l < data > out", inputs=[(data, "data")])
        upper = self.sh_thunk("tr a-z A-Z < data > out; echo side > side", inputs=[(data, "data")],
                              outputs=("out", "side"))
        return self.sh_thunk("cat a b b2 > out; chmod +x out",
                             thunks=[(count, "a"), (upper, "b"), (upper + "#side", "b2")])

    def local_copy(self):
        """The env of a copy of the store as it is now, for a local run to compare with."""
        copy = os.path.join(self.dir, "local.gg")
        shutil.copytree(os.path.join(self.dir, ".gg"), copy, symlinks=True)
        return dict(self.env, GG_DIR=copy)

    def reductions(self):
        return os.listdir(os.path.join(self.dir, ".gg", "reductions"))


def start_worker(workdir, name, addr, secret, env, slots=2):
    """A `gg worker` with its cache at workdir/name, logging to workdir/name.log."""
    env = {k: v for k, v in env.items() if k != "GG_DIR"}
    with open(os.path.join(workdir, name + ".log"), "w") as log:
        return subprocess.Popen([GG, "worker", "--connect", addr, "--secret-file", secret, "--slots", str(slots),
                                 "--cache", os.path.join(workdir, name)], env=env, stdout=log,
                                stderr=subprocess.STDOUT)


def stop_process_group(proc):
    """SIGTERM to the group `proc` leads (started with start_new_session=True),
    SIGKILL if it lingers, then SIGKILL to what is left of the group."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    try:  # the handler processes it started, if any are left
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def stop_all(processes):
    for p in processes:
        if p.poll() is None:
            p.kill()
        p.wait()


def free_port():
    """A TCP port on loopback that nothing listens on right now."""
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def comm(pid):
    try:
        with open(f"/proc/{pid}/comm") as f:
            return f.read().strip()
    except OSError:
        return ""


def sandbox_pids(root):
    """PIDs of the sandbox inits (comm gg-sandbox) below process `root`."""
    return [p for p in descendants(root) if comm(p) == "gg-sandbox"]


def descendants(pid):
    result = []
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            kids = [int(k) for k in f.read().split()]
    except OSError:
        return result
    for k in kids:
        result.append(k)
        result += descendants(k)
    return result


def wait_for(predicate, timeout=20.0, interval=0.02):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    return None
