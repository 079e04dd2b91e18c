"""End-to-end tests of gg's shared stores through `gg push` / `gg pull`,
against a real redis-server and a real moto_server (checking SigV4
signatures) that the tests start on loopback and stop by PID.
"""
import hashlib
import json
import os
import subprocess
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import ggtest  # noqa: E402
import storage_servers  # noqa: E402

def transfer_command():
    return ggtest.GG


TRANSFER = transfer_command()


class StorageTestCase(ggtest.GGTestCase):
    """A .gg store (from GGTestCase) plus helpers for a second one."""

    def transfer(self, verb, *args, env=None, check=True, timeout=120, cwd=None):
        p = subprocess.run([TRANSFER, verb, *args], cwd=cwd or self.dir, env=env or self.env,
                           capture_output=True, text=True, timeout=timeout)
        if check and p.returncode != 0:
            self.fail(f"{verb} {' '.join(args)} exited {p.returncode}\nstdout: {p.stdout}\nstderr: {p.stderr}")
        return p

    def other_store(self, name="machine-b"):
        d = os.path.join(self.dir, name)
        os.makedirs(d)
        env = dict(self.env, GG_DIR=os.path.join(d, ".gg"))
        subprocess.run([ggtest.GG, "init"], cwd=d, env=env, check=True, capture_output=True)
        return d, env

    def gg_in(self, env, *args, check=True):
        p = subprocess.run([ggtest.GG, *args], cwd=self.dir, env=env, capture_output=True, text=True, timeout=120)
        if check and p.returncode != 0:
            self.fail(f"gg {' '.join(args)} exited {p.returncode}\nstderr: {p.stderr}")
        return p

    def make_files(self, n, size, tag="f"):
        names = []
        d = os.path.join(self.dir, f"files-{tag}")
        os.makedirs(d, exist_ok=True)
        for i in range(n):
            path = os.path.join(d, f"{i}")
            with open(path, "wb") as f:
                f.write(hashlib.sha256(f"{tag}{i}".encode()).digest() * (size // 32) + str(i).encode())
        out = self.gg("collect", *[os.path.join(d, str(i)) for i in range(n)]).stdout.split()
        names += out
        return names


class RedisStorageTest(StorageTestCase):
    def setUp(self):
        super().setUp()
        self.redis = storage_servers.RedisServer().start()
        self.addCleanup(self.redis.stop)
        self.env["GG_STORAGE_URI"] = self.redis.uri()

    def test_push_then_pull_into_another_store(self):
        names = self.make_files(30, 10_000)
        out = self.transfer("push", *names).stdout
        self.assertIn("pushed 30 objects", out)
        d, env_b = self.other_store()
        out = self.transfer("pull", *names, env=env_b).stdout
        self.assertIn("pulled 30 objects", out)
        for n in names:
            with open(os.path.join(d, ".gg", "blobs", n), "rb") as b, \
                    open(os.path.join(self.dir, ".gg", "blobs", n), "rb") as a:
                self.assertEqual(a.read(), b.read())

    def test_an_unchanged_push_sends_nothing(self):
        names = self.make_files(20, 1000)
        self.transfer("push", *names)
        out = self.transfer("push", *names).stdout
        self.assertIn("pushed 0 objects", out)
        self.assertIn("20 objects were already there", out)
        # After the store is wiped, --recheck sends everything again.
        subprocess.run(["redis-cli", "-p", str(self.redis.port), "FLUSHALL"], check=True, capture_output=True)
        self.assertIn("pushed 0 objects", self.transfer("push", *names).stdout)
        self.assertIn("pushed 20 objects", self.transfer("push", "--recheck", *names).stdout)

    def test_a_forced_thunk_is_found_reduced_by_another_machine(self):
        src = self.value("hello from machine a\n", "input.txt")
        thunk = self.sh_thunk("cat input.txt input.txt > out", inputs=[(src, "input.txt")])
        forced = self.force(thunk).stdout
        out = self.transfer("push", thunk).stdout
        self.assertIn("and 1 reduction", out)
        d, env_b = self.other_store()
        out = self.transfer("pull", thunk, env=env_b).stdout
        self.assertIn("1 reduction", out)
        reductions = os.listdir(os.path.join(d, ".gg", "reductions"))
        self.assertIn(thunk, reductions)
        again = self.gg_in(env_b, "force", thunk).stdout
        self.assertEqual(again, forced)

    def test_force_shares_results_without_push_or_pull(self):
        # GG_STORAGE_URI is set: every force checks and publishes to Redis.
        a = self.value("shared input\n", "a")
        first = self.sh_thunk("cat a > out; echo first >> out", inputs=[(a, "a")])
        second = self.sh_thunk("cat f > out; echo second >> out", thunks=[(first, "f")])
        out = self.force(second).stdout.strip()

        def running(env, *targets):
            trace = os.path.join(self.dir, "trace.json")
            p = self.gg_in(env, "force", "--trace", trace, *targets)
            with open(trace) as f:
                ran = [e for e in json.load(f)["traceEvents"] if e["cat"].startswith("running")]
            return p.stdout.strip(), len(ran)

        # Machine b has an empty store: nothing runs, the output comes down.
        d, env_b = self.other_store()
        self.assertEqual(running(env_b, second), (out, 0))
        self.assertEqual(self.gg_in(env_b, "cat", out).stdout, "shared input\nfirst\nsecond\n")
        # An output gone from the store makes its reduction a miss: with its
        # local records gone too, machine a runs that thunk again (and only
        # it: the first thunk's result is still in the store).
        subprocess.run(["redis-cli", "-p", str(self.redis.port), "DEL", f"blobs/{out}"], check=True,
                       capture_output=True)
        gg_dir = os.path.join(self.dir, ".gg")
        for r in os.listdir(os.path.join(gg_dir, "reductions")):
            os.unlink(os.path.join(gg_dir, "reductions", r))
        os.unlink(os.path.join(gg_dir, "blobs", out))
        self.assertEqual(running(self.env, second), (out, 1))
        self.assertEqual(self.cat(out), "shared input\nfirst\nsecond\n")
        # That run published the output again, so machine b finds it once more.
        d, env_c = self.other_store("machine-c")
        self.assertEqual(running(env_c, second), (out, 0))

    def test_an_unforced_thunk_travels_with_its_inputs(self):
        src = self.value("input for b\n", "in2.txt")
        thunk = self.sh_thunk("cat in2.txt > out", inputs=[(src, "in2.txt")])
        self.transfer("push", thunk)
        d, env_b = self.other_store()
        out = self.transfer("pull", thunk, env=env_b).stdout
        self.assertIn("0 reductions", out)
        # Machine b can now force it itself: busybox and the input came along.
        forced = self.gg_in(env_b, "force", thunk)
        self.assertEqual(forced.returncode, 0)

    def test_corrupt_object_is_detected(self):
        [n] = self.make_files(1, 5000, "c")
        self.transfer("push", n)
        subprocess.run(["redis-cli", "-p", str(self.redis.port), "SET", f"blobs/{n}", "not the content"],
                       check=True, capture_output=True)
        d, env_b = self.other_store()
        p = self.transfer("pull", n, env=env_b, check=False)
        self.assertEqual(p.returncode, 3, p.stderr)
        self.assertIn("does not match its name", p.stderr)
        self.assertIn(self.redis.uri(), p.stderr)
        self.assertFalse(os.path.exists(os.path.join(d, ".gg", "blobs", n)))

    def test_missing_object_is_named(self):
        [n] = self.make_files(1, 100, "m")
        d, env_b = self.other_store()
        p = self.transfer("pull", n, env=env_b, check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn(f"object {n} is not in {self.redis.uri()}", p.stderr)

    def test_server_restarted_mid_upload(self):
        """The server is killed during a push and a new one takes its port:
        the push retries (or fails clearly), and every object the store then
        holds matches its name."""
        names = self.make_files(200, 200_000, "k")
        port = self.redis.port
        holder = {}

        def restart():
            time.sleep(0.05)
            self.redis.kill()
            holder["server"] = storage_servers.RedisServer().start(port=port)

        t = threading.Thread(target=restart)
        t.start()
        p = self.transfer("push", *names, check=False, env=dict(self.env, GG_STORAGE_TIMEOUT="10"))
        t.join()
        self.addCleanup(holder["server"].stop)
        if p.returncode != 0:
            self.assertIn(f"127.0.0.1:{port}", p.stderr)
        # Everything the new server holds must be intact: pulling verifies.
        keys = subprocess.run(["redis-cli", "-p", str(port), "--scan", "--pattern", "blobs/*"],
                              capture_output=True, text=True, check=True).stdout.split()
        there = [k.split("/", 1)[1] for k in keys if k.count("/") == 1]
        d, env_b = self.other_store()
        if there:
            self.transfer("pull", *there, env=env_b)

    def test_unreachable_server(self):
        port = storage_servers.free_port()
        env = dict(self.env, GG_STORAGE_URI=f"redis://127.0.0.1:{port}", GG_STORAGE_TIMEOUT="2")
        [n] = self.make_files(1, 10, "u")
        start = time.time()
        p = self.transfer("push", n, env=env, check=False)
        self.assertLess(time.time() - start, 15)
        self.assertEqual(p.returncode, 3)
        self.assertIn(f"cannot reach redis://127.0.0.1:{port}", p.stderr)

    def test_usage(self):
        p = self.transfer("push", check=False)
        self.assertEqual(p.returncode, 2)
        p = self.transfer("push", "not-a-name", check=False)
        self.assertEqual(p.returncode, 2)
        env = dict(self.env)
        env.pop("GG_STORAGE_URI")
        p = self.transfer("push", "--storage", "ftp://x", self.busybox, env=env, check=False)
        self.assertEqual(p.returncode, 2)
        self.assertIn("unknown storage scheme", p.stderr)
        p = self.transfer("pull", self.busybox, env=env, check=False)
        self.assertIn("GG_STORAGE_URI", p.stderr)
        self.assertIn("usage: gg push", self.transfer("push", "--help").stdout)


class S3StorageTest(StorageTestCase):
    @classmethod
    def setUpClass(cls):
        cls.moto = storage_servers.MotoServer().start()

    @classmethod
    def tearDownClass(cls):
        cls.moto.stop()

    def setUp(self):
        super().setUp()
        self.env.update(self.moto.env())
        self.env.pop("AWS_SESSION_TOKEN", None)
        self.env.pop("AWS_PROFILE", None)
        self.env["GG_STORAGE_URI"] = self.moto.uri(prefix=self.id().rsplit(".", 1)[1])

    def test_push_pull(self):
        names = self.make_files(50, 20_000)
        self.assertIn("pushed 50 objects", self.transfer("push", *names).stdout)
        # (No Prefix= here: moto 5.2.1 rejects the signature of a ListObjectsV2
        # whose prefix holds a '/'.)
        keys = [o["Key"] for o in self.moto.boto3().list_objects_v2(Bucket="gg-test", MaxKeys=1000)["Contents"]]
        self.assertEqual(sorted(k for k in keys if k.startswith("test_push_pull/blobs/")),
                         sorted(f"test_push_pull/blobs/{n}" for n in names))
        d, env_b = self.other_store()
        self.assertIn("pulled 50 objects", self.transfer("pull", *names, env=env_b).stdout)

    def test_shared_reductions(self):
        thunk = self.sh_thunk("echo computed once > out")
        forced = self.force(thunk).stdout
        self.transfer("push", thunk)
        d, env_b = self.other_store()
        self.transfer("pull", thunk, env=env_b)
        self.assertEqual(self.gg_in(env_b, "force", thunk).stdout, forced)

    def test_wrong_secret_is_refused(self):
        names = self.make_files(2, 100, "w")
        env = dict(self.env, AWS_SECRET_ACCESS_KEY="wrong-secret-value")
        p = self.transfer("push", *names, env=env, check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("access denied by s3://gg-test", p.stderr)
        self.assertIn("AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY", p.stderr)
        self.assertNotIn("wrong-secret-value", p.stderr + p.stdout)
        self.assertNotIn(self.moto.secret, p.stderr + p.stdout)

    def test_credentials_from_a_profile(self):
        creds = os.path.join(self.dir, "credentials")
        with open(creds, "w") as f:
            f.write(f"[ci]\naws_access_key_id = {self.moto.key}\naws_secret_access_key = {self.moto.secret}\n")
        env = dict(self.env, AWS_SHARED_CREDENTIALS_FILE=creds, AWS_PROFILE="ci")
        env.pop("AWS_ACCESS_KEY_ID")
        env.pop("AWS_SECRET_ACCESS_KEY")
        names = self.make_files(2, 100, "p")
        self.assertIn("pushed 2 objects", self.transfer("push", *names, env=env).stdout)

    def test_missing_bucket(self):
        names = self.make_files(1, 100, "b")
        env = dict(self.env, GG_STORAGE_URI=self.moto.uri(bucket="no-such-bucket"))
        p = self.transfer("push", *names, env=env, check=False)
        self.assertEqual(p.returncode, 3)
        self.assertIn("bucket 'no-such-bucket' does not exist", p.stderr)

    def test_corrupt_object_is_detected(self):
        [n] = self.make_files(1, 5000, "c")
        self.transfer("push", n)
        self.moto.boto3().put_object(Bucket="gg-test", Key=f"test_corrupt_object_is_detected/blobs/{n}",
                                     Body=b"x" * 5000)
        d, env_b = self.other_store()
        p = self.transfer("pull", n, env=env_b, check=False)
        self.assertEqual(p.returncode, 3)
        self.assertIn("does not match its name", p.stderr)
        self.assertFalse(os.path.exists(os.path.join(d, ".gg", "blobs", n)))

    def test_unreachable_endpoint(self):
        port = storage_servers.free_port()
        env = dict(self.env, GG_STORAGE_URI=f"s3://b?endpoint=http://127.0.0.1:{port}", GG_STORAGE_TIMEOUT="2")
        [n] = self.make_files(1, 10, "u")
        start = time.time()
        p = self.transfer("push", n, env=env, check=False)
        self.assertLess(time.time() - start, 15)
        self.assertEqual(p.returncode, 3)
        self.assertIn("cannot reach s3://b", p.stderr)


class S3KilledTest(StorageTestCase):
    def test_server_killed_mid_upload(self):
        """moto dies during a push: a clear error naming the store, in
        bounded time, and never a success."""
        moto = storage_servers.MotoServer().start()
        self.addCleanup(moto.stop)
        self.env.update(moto.env())
        self.env["GG_STORAGE_URI"] = moto.uri()
        self.env["GG_STORAGE_TIMEOUT"] = "3"
        names = self.make_files(300, 30_000)
        threading.Timer(0.3, moto.kill).start()
        start = time.time()
        p = self.transfer("push", *names, check=False)
        self.assertLess(time.time() - start, 60)
        if p.returncode == 0:
            self.skipTest("the push finished before the server was killed")
        self.assertEqual(p.returncode, 3, p.stderr)
        self.assertIn(f"s3://gg-test?region=us-east-1&endpoint={moto.endpoint}", p.stderr)


if __name__ == "__main__":
    unittest.main()
