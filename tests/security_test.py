"""Attacks on gg from a hostile thunk, tree, peer or input, each through the
real `gg`: every one must fail with a clear error and leave the host as it
was. The threat model and the defence each test covers are in
docs/security.md; the sandbox's own defences are tested in
security_sandbox_test.py."""
import hashlib
import hmac
import os
import socket
import struct
import subprocess
import time
import unittest

from ggtest import GG, GGTestCase, free_port

TREE_MAGIC = b"\x7fGGTREES"
THUNK_MAGIC = b"\x7fGGTHUNK"


def varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


# kProtocolVersion in src/net/connection.h: a worker refuses any other.
PROTOCOL_VERSION = 2


def pb_bytes(field, data):
    data = data.encode() if isinstance(data, str) else data
    return varint(field << 3 | 2) + varint(len(data)) + data


def pb_int(field, n):
    return varint(field << 3) + varint(n)


def tree_object(entries):
    """A tree object as a hostile producer writes it: (path, mode, name-or-target), in the order given."""
    body = pb_int(1, 1)
    for path, mode, extra in entries:
        e = pb_bytes(1, path) + pb_int(2, mode)
        if mode & 0o170000 == 0o120000:
            e += pb_bytes(4, extra)
        elif mode & 0o170000 == 0o100000:
            e += pb_bytes(3, extra)
        body += pb_bytes(2, e)
    return TREE_MAGIC + body


def pb_parse(data):
    """A protobuf message as {field: [values]} (varints as ints, the rest as bytes)."""
    fields, i = {}, 0

    def read_varint():
        nonlocal i
        n = shift = 0
        while True:
            b = data[i]
            i += 1
            n |= (b & 0x7F) << shift
            shift += 7
            if not b & 0x80:
                return n

    while i < len(data):
        key = read_varint()
        wire = key & 7
        if wire == 0:
            v = read_varint()
        elif wire == 2:
            n = read_varint()
            v, i = data[i:i + n], i + n
        elif wire == 1:
            v, i = data[i:i + 8], i + 8
        else:
            v, i = data[i:i + 4], i + 4
        fields.setdefault(key >> 3, []).append(v)
    return fields


def thunk_object(function, args, outputs=("out",), env=(), inputs=(), workdir=None):
    body = pb_int(1, 1) + pb_bytes(2, function)
    body += b"".join(pb_bytes(3, a) for a in args)
    body += b"".join(pb_bytes(4, e) for e in env)
    for name, path, executable in inputs:
        body += pb_bytes(5, pb_bytes(1, name) + pb_bytes(2, path) + (pb_int(3, 1) if executable else b""))
    body += b"".join(pb_bytes(6, o) for o in outputs)
    if workdir is not None:
        body += pb_bytes(8, workdir)
    return THUNK_MAGIC + body


class VictimTestCase(GGTestCase):
    """A GGTestCase with a victim: a host directory and file no thunk declared."""

    def setUp(self):
        super().setUp()
        self.host = os.path.join(self.dir, "host")
        os.mkdir(self.host)
        self.secret_file = os.path.join(self.host, "secret")
        with open(self.secret_file, "w") as f:
            f.write("host secret\n")

    def assertHostUnchanged(self):
        self.assertEqual(sorted(os.listdir(self.host)), ["secret"])
        with open(self.secret_file) as f:
            self.assertEqual(f.read(), "host secret\n")


class SecurityTest(VictimTestCase):
    def blob(self, content):
        """The store path the object with this content would have."""
        path = os.path.join(self.dir, "probe")
        with open(path, "wb") as f:
            f.write(content)
        name = self.gg("hash", path).stdout.strip()
        return os.path.join(self.dir, ".gg", "blobs", name)

    def stored(self, content, name="obj"):
        return self.value(content, name)

    # Finding 1: outputs are collected without following symlinks.
    def test_output_through_a_swapped_directory_is_refused(self):
        t = self.sh_thunk(f"rmdir sub && ln -s {self.host} sub", outputs=["sub/secret"])
        p = self.force(t, check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("symbolic link", p.stderr)
        self.assertIn("sub/secret", p.stderr)
        self.assertHostUnchanged()
        self.assertFalse(os.path.exists(self.blob(b"host secret\n")))

    def test_output_that_is_a_symlink_is_refused(self):
        t = self.sh_thunk(f"ln -s {self.secret_file} out")
        p = self.force(t, check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("symbolic link", p.stderr)
        self.assertHostUnchanged()
        self.assertFalse(os.path.exists(self.blob(b"host secret\n")))

    def test_output_that_is_a_fifo_is_refused(self):
        t = self.sh_thunk("mkfifo out")
        p = self.force(t, check=False, timeout=30)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("not a regular file", p.stderr)

    # Finding 2: trees with entries below a symlink (or otherwise out of
    # shape) are rejected wherever they come from.
    def hostile_tree(self):
        v = self.stored(b"planted\n", "planted")
        return tree_object([("a", 0o120777, self.host), ("a/evil", 0o100644, v)])

    def test_crafted_tree_in_the_store_is_rejected(self):
        d = self.stored(self.hostile_tree(), "tree")
        self.assertTrue(d.startswith("D"), d)
        t = self.sh_thunk("ls dir > out", inputs=[(d, "dir")])
        p = self.force(t, check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("malformed tree", p.stderr)
        self.assertIn("a/evil", p.stderr)
        self.assertHostUnchanged()
        self.assertEqual(os.listdir(os.path.join(self.dir, ".gg", "trees")), [])

    def test_tree_written_by_a_thunk_is_rejected(self):
        payload = self.stored(self.hostile_tree(), "payload")
        maker = self.sh_thunk("cat payload > out", inputs=[(payload, "payload")])
        user = self.sh_thunk("ls dir > out", thunks=[(maker, "dir")])
        p = self.force(user, check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("malformed tree", p.stderr)
        self.assertHostUnchanged()

    def test_other_malformed_trees_are_rejected(self):
        v = self.stored(b"x\n", "x")
        cases = {
            "dotdot": [("..", 0o040755, ""), ("../evil", 0o100644, v)],
            "absolute": [(self.host + "/evil", 0o100644, v)],
            "duplicate": [("a", 0o040755, ""), ("a", 0o120777, self.host), ("a/evil", 0o100644, v)],
            "empty": [("", 0o100644, v)],
            "no parent": [("a/evil", 0o100644, v)],
        }
        for what, entries in cases.items():
            with self.subTest(what=what):
                d = self.stored(tree_object(entries), "tree-" + what.replace(" ", "-"))
                p = self.gg("describe", d, check=False)
                self.assertNotEqual(p.returncode, 0)
                self.assertIn("malformed tree", p.stderr)
                t = self.sh_thunk("ls dir > out; echo " + what.replace(" ", "") + " >> out", inputs=[(d, "dir")])
                p = self.force(t, check=False)
                self.assertNotEqual(p.returncode, 0)
                self.assertIn("malformed tree", p.stderr)
        self.assertHostUnchanged()

    # Item 3 of issue 9: several gg processes materializing the same and
    # overlapping trees of one store at once.
    def test_concurrent_forces_share_trees_safely(self):
        src = os.path.join(self.dir, "src")
        for d in range(3):
            os.makedirs(os.path.join(src, f"d{d}"))
            for i in range(30):
                path = os.path.join(src, f"d{d}", f"f{i}")
                with open(path, "w") as f:
                    f.write(f"{d}/{i}\n")
                if i % 3 == 0:
                    os.chmod(path, 0o755)
        whole = self.collect(src)
        parts = [self.collect(os.path.join(src, f"d{d}")) for d in range(3)]
        expected = "".join(f"{d}/{i}\n" for d in range(3) for i in range(30))
        for round_ in range(2):
            thunks = []
            for k in range(8):
                inputs = [(whole, "all")] + [(parts[(k + j) % 3], f"p{j}") for j in range(2)]
                thunks.append(self.sh_thunk(
                    f"for d in 0 1 2; do for i in $(seq 0 29); do cat all/d$d/f$i; done; done > out; "
                    f"cat p0/f0 p1/f1 > /dev/null; echo {round_} {k} >> out", inputs=inputs))
            subprocess.run(["chmod", "-R", "u+w", os.path.join(self.dir, ".gg", "trees")], check=False)
            subprocess.run(["rm", "-rf", os.path.join(self.dir, ".gg", "trees"), os.path.join(self.dir, ".gg", "blobs-x")],
                           check=True)
            os.makedirs(os.path.join(self.dir, ".gg", "trees"))
            os.makedirs(os.path.join(self.dir, ".gg", "blobs-x"))
            procs = [subprocess.Popen([GG, "force", t], cwd=self.dir, env=self.env, stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE, text=True) for t in thunks]
            for k, p in enumerate(procs):
                out, err = p.communicate(timeout=120)
                self.assertEqual(p.returncode, 0, err)
                self.assertEqual(self.cat(out.strip()), expected + f"{round_} {k}\n")
            self.assertEqual(os.listdir(os.path.join(self.dir, ".gg", "tmp")), [])

    # Finding 8: executable copies are checked before they run.
    def test_patched_executable_copy_is_not_run(self):
        script = os.path.join(self.dir, "prog")
        with open(script, "w") as f:
            f.write("#!/bin/sh\necho good > out\n")
        prog = self.collect(script)

        def thunk(tag):
            return self.gg("create-thunk", "-e", f"{self.busybox}=/bin/sh", "-e", f"{prog}=/bin/prog", "-o", "out",
                           "-E", f"TAG={tag}", prog, "prog").stdout.strip()

        first = self.force(thunk("1")).stdout.strip()
        self.assertEqual(self.cat(first), "good\n")
        copy = os.path.join(self.dir, ".gg", "blobs-x", prog)
        os.chmod(copy, 0o755)
        with open(copy, "w") as f:
            f.write("#!/bin/sh\necho evil > out\n")  # the same size
        os.chmod(copy, 0o555)
        second = self.force(thunk("2")).stdout.strip()
        self.assertEqual(self.cat(second), "good\n")
        with open(copy) as f:
            self.assertEqual(f.read(), "#!/bin/sh\necho good > out\n")

    # Finding 10: inputs gg cannot honour exactly are refused, not bent.
    def test_nul_bytes_in_argv_and_env_are_refused(self):
        for what, kw in {"argument": dict(args=["sh", "-c", "echo hi > out\0; echo evil"]),
                         "environment": dict(args=["sh", "-c", "echo hi > out"], env=["A=b\0c"])}.items():
            with self.subTest(what=what):
                t = self.stored(thunk_object(self.busybox, inputs=[(self.busybox, "/bin/sh", True)], **kw), "t-" + what)
                self.assertTrue(t.startswith("T"), t)
                p = self.force(t, check=False)
                self.assertNotEqual(p.returncode, 0)
                self.assertIn("NUL byte", p.stderr)

    def test_bad_environment_entries_are_refused(self):
        for entry in ("=x", "NOEQUALS"):
            with self.subTest(entry=entry):
                p = self.gg("create-thunk", "-e", f"{self.busybox}=/bin/sh", "-o", "out", "-E", entry,
                            self.busybox, "sh", check=False)
                self.assertNotEqual(p.returncode, 0)
                self.assertIn(entry, p.stderr)

    def test_bad_timeouts_are_refused(self):
        for value in ("0.0004", "1e19", "inf", "nan", "-1"):
            with self.subTest(value=value):
                p = self.gg("create-thunk", "-e", f"{self.busybox}=/bin/sh", "-o", "out", "-T", value,
                            self.busybox, "sh", check=False)
                self.assertNotEqual(p.returncode, 0)
                self.assertIn("timeout", p.stderr)

    def test_collect_refuses_devices_fifos_and_sockets(self):
        fifo = os.path.join(self.dir, "fifo")
        os.mkfifo(fifo)
        sock_path = os.path.join(self.dir, "sock")
        sock = socket.socket(socket.AF_UNIX)
        sock.bind(sock_path)
        try:
            for path, kind in ((fifo, "FIFO"), (sock_path, "socket"), ("/dev/zero", "device"), ("/dev/null", "device")):
                with self.subTest(path=path):
                    p = self.gg("collect", path, check=False, timeout=10)
                    self.assertNotEqual(p.returncode, 0)
                    self.assertIn(kind, p.stderr)
            nested = os.path.join(self.dir, "nested")
            os.mkdir(nested)
            os.mkfifo(os.path.join(nested, "fifo"))
            p = self.gg("collect", nested, check=False, timeout=10)
            self.assertNotEqual(p.returncode, 0)
            self.assertIn("FIFO", p.stderr)
        finally:
            sock.close()

    def test_hash_refuses_what_collect_refuses_and_is_bounded(self):
        fifo = os.path.join(self.dir, "fifo")
        os.mkfifo(fifo)
        big = os.path.join(self.dir, "big")
        with open(big, "wb") as f:
            f.write(b"x" * (2 << 20))
        sparse = os.path.join(self.dir, "sparse")
        with open(sparse, "wb") as f:
            f.truncate(1 << 40)
        cases = [([fifo], "FIFO"), (["/dev/zero"], "device"), ([self.dir], "directory"),
                 (["--max-size", "1M", big], "larger than 1 MiB"), ([sparse], "larger than 16 GiB"),
                 (["--max-size=1M", "/proc/self/pagemap"], "larger than 1 MiB")]
        for args, expected in cases:
            with self.subTest(args=args):
                start = time.time()
                p = self.gg("hash", *args, check=False, timeout=30)
                self.assertEqual(p.returncode, 2, p.stderr)
                self.assertIn(expected, p.stderr)
                self.assertLess(time.time() - start, 10)
        # The name it gives is collect's.
        self.assertEqual(self.gg("hash", "--max-size", "2M", big).stdout, self.gg("collect", big).stdout)

    def test_collect_is_bounded(self):
        big = os.path.join(self.dir, "big")
        with open(big, "wb") as f:
            f.write(b"x" * (2 << 20))
        sparse = os.path.join(self.dir, "sparse")
        with open(sparse, "wb") as f:
            f.truncate(1 << 40)  # 1 TiB of holes: refused by its size, not read
        nested = os.path.join(self.dir, "nested")
        os.mkdir(nested)
        os.link(big, os.path.join(nested, "big"))
        cases = [(["--max-size", "1M", big], {}, "larger than 1 MiB"),
                 (["--max-size=1M", nested], {}, "larger than 1 MiB"),
                 ([big], {"GG_LIMIT_FILE": "1M"}, "larger than 1 MiB"),
                 ([sparse], {}, "larger than 16 GiB"),
                 # Says 0 bytes, yields 8 per page of the address space.
                 (["--max-size", "1M", "/proc/self/pagemap"], {}, "larger than 1 MiB")]
        for args, env, expected in cases:
            with self.subTest(args=args, env=env):
                saved = self.env
                self.env = dict(saved, **env)
                try:
                    start = time.time()
                    p = self.gg("collect", *args, check=False, timeout=30)
                finally:
                    self.env = saved
                self.assertEqual(p.returncode, 2, p.stderr)  # refused, as a FIFO or a device is
                self.assertIn(expected, p.stderr)
                self.assertIn("--max-size", p.stderr)
                self.assertLess(time.time() - start, 10)
        self.assertEqual(self.gg("collect", "--max-size", "2M", big).stdout.strip()[:1], "V")
        p = self.gg("collect", "--max-size", "lots", big, check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("not a size", p.stderr)

    def test_empty_thunk_body_is_named_precisely(self):
        t = self.stored(THUNK_MAGIC, "empty-thunk")
        p = self.gg("describe", t, check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("empty", p.stderr)
        self.assertNotIn("upgrade", p.stderr)

    def test_cat_of_a_reduced_thunk_prints_its_output(self):
        t = self.sh_thunk("echo the output > out")
        self.force(t)
        self.assertEqual(self.cat(t), "the output\n")


class HostilePeerTest(GGTestCase):
    """Finding 7: a peer without the secret cannot hold `gg force` up."""

    def test_unauthenticated_peers_do_not_delay_exit(self):
        secret = os.path.join(self.dir, "secret")
        with open(secret, "w") as f:
            f.write("s3cret\n")
        addr = f"127.0.0.1:{free_port()}"
        t = self.sh_thunk("sleep 1; echo done > out")
        force = subprocess.Popen([GG, "force", "--engine", f"remote={addr}", "--secret-file", secret, t],
                                 cwd=self.dir, env=self.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        socks = []
        try:
            deadline = time.time() + 20
            while True:
                s = socket.socket()
                try:
                    s.connect(("127.0.0.1", int(addr.split(":")[1])))
                    break
                except OSError:
                    s.close()
                    self.assertLess(time.time(), deadline, "gg force never listened")
                    time.sleep(0.05)
            socks.append(s)  # silent
            one = socket.create_connection(("127.0.0.1", int(addr.split(":")[1])))
            one.sendall(b"\x00")  # one byte of a frame header
            socks.append(one)
            for _ in range(500):
                try:
                    socks.append(socket.create_connection(("127.0.0.1", int(addr.split(":")[1])), timeout=2))
                except OSError:
                    break
            joined = time.time()
            worker_env = {k: v for k, v in self.env.items() if k != "GG_DIR"}
            worker = subprocess.Popen([GG, "worker", "--connect", addr, "--secret-file", secret, "--cache",
                                       os.path.join(self.dir, "w")], env=worker_env, stdout=subprocess.DEVNULL,
                                      stderr=subprocess.DEVNULL)
            try:
                out, err = force.communicate(timeout=60)
                ended = time.time()
                self.assertEqual(force.returncode, 0, err)
                self.assertEqual(self.cat(out.strip()), "done\n")
            finally:
                worker.kill()
                worker.wait()
            # The work takes ~1 s once the worker joins; the exit must not
            # wait for the hostile connections (the handshake deadline is 5 s).
            self.assertLess(ended - joined, 4.5)
        finally:
            for s in socks:
                s.close()


class HostileCoordinatorTest(VictimTestCase):
    """Finding 7, second half: a worker checks what a coordinator (which holds
    the secret, but may be compromised) asks of it as strictly as the local
    store does. The coordinator here is this test, speaking
    docs/remote_protocol.md directly."""

    SECRET = b"shared secret"

    def setUp(self):
        super().setUp()
        with open(os.path.join(self.dir, "secret"), "wb") as f:
            f.write(self.SECRET + b"\n")
        listener = socket.socket()
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        listener.settimeout(30)
        env = {k: v for k, v in self.env.items() if k != "GG_DIR"}
        self.worker = subprocess.Popen([GG, "worker", "--connect", f"127.0.0.1:{listener.getsockname()[1]}",
                                        "--secret-file", os.path.join(self.dir, "secret"), "--cache",
                                        os.path.join(self.dir, "wcache")], env=env, stdout=subprocess.DEVNULL,
                                       stderr=subprocess.DEVNULL)
        self.conn, _ = listener.accept()
        listener.close()
        self.conn.settimeout(30)
        nonce = os.urandom(32)
        self.send(pb_bytes(1, pb_int(1, PROTOCOL_VERSION) + pb_bytes(2, nonce)))
        auth = pb_parse(self.receive()[2][0])
        mac = hmac.new(self.SECRET, b"gg-coordinator\0" + auth[2][0] + nonce, hashlib.sha256).digest()
        self.send(pb_bytes(3, pb_bytes(1, mac)))

    def tearDown(self):
        self.conn.close()
        self.worker.kill()
        self.worker.wait()
        super().tearDown()

    def send(self, message):
        self.conn.sendall(struct.pack(">I", len(message)) + message)

    def receive(self):
        def exactly(n):
            buf = b""
            while len(buf) < n:
                chunk = self.conn.recv(n - len(buf))
                self.assertTrue(chunk, "the worker closed the connection")
                buf += chunk
            return buf
        (n,) = struct.unpack(">I", exactly(4))
        return pb_parse(exactly(n))

    def send_object(self, path_or_bytes, name):
        data = path_or_bytes
        if isinstance(path_or_bytes, str):
            with open(path_or_bytes, "rb") as f:
                data = f.read()
        self.send(pb_bytes(5, pb_bytes(1, name) + pb_bytes(2, data) + pb_int(3, 1)))

    def run_job(self, job, thunk):
        """Sends Run and returns the worker's Done for it as (kind, message);
        the kind as the protocol spells it ("ok", "setup_failed", ...)."""
        self.send(pb_bytes(6, pb_int(1, job) + pb_bytes(2, thunk)))
        deadline = time.time() + 30
        while time.time() < deadline:
            m = self.receive()
            if 8 in m:
                done = pb_parse(m[8][0])
                if done.get(1, [0])[0] == job:
                    return done.get(11, [b""])[0].decode(), done.get(5, [b""])[0].decode()
        self.fail("no Done from the worker")

    def test_worker_refuses_hostile_paths(self):
        self.send_object("/usr/bin/busybox", self.busybox)
        sh = (self.busybox, "/bin/sh", True)
        planted = self.value(b"planted\n", "planted")
        tree = tree_object([("a", 0o120777, self.host), ("a/evil", 0o100644, planted)])
        tree_name = self.value(tree, "tree")
        self.send_object(os.path.join(self.dir, "planted"), planted)
        self.send_object(tree, tree_name)
        cases = [
            ("input path", thunk_object(self.busybox, ["sh", "-c", "echo > out"],
                                        inputs=[sh, (planted, "../../../escape", False)])),
            ("input path", thunk_object(self.busybox, ["sh", "-c", "echo > out"],
                                        inputs=[sh, (planted, "/", False)])),
            ("output tag", thunk_object(self.busybox, ["sh", "-c", "echo > out"], outputs=[self.host + "/x"],
                                        inputs=[sh])),
            ("output tag", thunk_object(self.busybox, ["sh", "-c", "echo > out"], outputs=["../x"], inputs=[sh])),
            ("working directory", thunk_object(self.busybox, ["sh", "-c", "echo > out"], inputs=[sh],
                                               workdir="/work/../..")),
            ("malformed tree", thunk_object(self.busybox, ["sh", "-c", "ls dir > out"],
                                            inputs=[sh, (tree_name, "dir", False)])),
            ("symbolic link", thunk_object(self.busybox, ["sh", "-c", f"rmdir sub && ln -s {self.host} sub"],
                                           outputs=["sub/secret"], inputs=[sh])),
        ]
        for job, (expected, thunk) in enumerate(cases, start=1):
            with self.subTest(expected=expected, job=job):
                kind, message = self.run_job(job, thunk)
                self.assertNotEqual(kind, "ok", message)
                self.assertIn(expected, message)
        # The worker is still serving, and the host is as it was.
        kind, message = self.run_job(100, thunk_object(self.busybox, ["sh", "-c", "echo fine > out"], inputs=[sh]))
        self.assertEqual(kind, "ok", message)
        self.assertIsNone(self.worker.poll())
        self.assertHostUnchanged()
        self.assertEqual(os.listdir(os.path.join(self.dir, "wcache", "trees")), [])


if __name__ == "__main__":
    unittest.main()
