"""The gcf engine end to end, through the real Google Cloud Functions
Functions Framework (@google-cloud/functions-framework from npm, installed on
first use into $GG_TEST_NPM_DIR) running the source `gg gcf package` writes,
with a Redis store the test starts; all on loopback, stopped by PID.

- a thunk graph forced through gcf gives the same outputs as a local run;
- a failing thunk's stderr is shown;
- 429 and 5xx answers are retried (a proxy in front of the framework fails the
  first requests over real HTTP), and the retries are bounded;
- `--engine local --engine gcf=...` shares the work between them;
- budget routing: a thunk over the function's memory budget goes to the local
  engine, or, with no other engine, fails naming the budget;
- an S3 store (moto, checking the handler's SigV4 signatures).
"""
import http.server
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.error
import urllib.request

import npm_packages
from ggtest import BUSYBOX, GG, ROOT, GGTestCase, stop_process_group
from storage_servers import MotoServer, RedisServer, free_port, wait_for_port


def ensure_framework():
    return npm_packages.ensure("functions-framework", ["@google-cloud/functions-framework@3"],
                               ["@google-cloud/functions-framework"])


class Framework:
    """`functions-framework --target gg` over the packaged source, on loopback."""

    def __init__(self, node_modules, env=None):
        self.dir = tempfile.mkdtemp(prefix="gg-gcf-")
        self.source = os.path.join(self.dir, "source")
        p = subprocess.run([GG, "gcf", "package", "--output", self.source], capture_output=True, text=True)
        if p.returncode != 0:
            raise RuntimeError("gg gcf package failed: " + p.stderr)
        self.package_output = p.stdout
        self.port = free_port()
        self.log_path = os.path.join(self.dir, "framework.log")
        self.log = open(self.log_path, "w")
        env = dict(os.environ, **(env or {}), GG_GCF_DIR=os.path.join(self.dir, "fn"), NODE_ENV="production")
        self.proc = subprocess.Popen(
            [os.path.join(node_modules, ".bin", "functions-framework"), "--target", "gg", "--signature-type",
             "http", "--source", self.source, "--port", str(self.port)],
            cwd=self.dir, env=env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            wait_for_port(self.port, self.proc, "functions-framework", timeout=60)
        except BaseException:
            print(self.output(), file=sys.stderr)
            self.stop()
            raise

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}/"

    def blobs(self):
        path = os.path.join(self.dir, "fn", "blobs")
        return os.listdir(path) if os.path.isdir(path) else []

    def output(self):
        with open(self.log_path) as f:
            return f.read()

    def stop(self):
        stop_process_group(self.proc)
        self.log.close()
        subprocess.run(["chmod", "-R", "u+w", self.dir], check=False)
        shutil.rmtree(self.dir, ignore_errors=True)


class FlakyProxy:
    """Answers the first requests with the given HTTP statuses (429, 503...),
    then forwards each request to `target` and relays its answer."""

    def __init__(self, target, failures):
        self.failures = list(failures)
        self.requests = 0
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with lock:
                    proxy.requests += 1
                    status = proxy.failures.pop(0) if proxy.failures else None
                if status is not None:
                    answer = b'{"error": "injected by the test proxy"}'
                else:
                    req = urllib.request.Request(target, data=body, method="POST",
                                                 headers={"Content-Type": "application/json"})
                    try:
                        with urllib.request.urlopen(req, timeout=120) as r:
                            status, answer = r.status, r.read()
                    except urllib.error.HTTPError as e:
                        status, answer = e.code, e.read()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args):
                pass

        lock = threading.Lock()
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self):
        return f"http://127.0.0.1:{self.server.server_address[1]}/"

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


class GcfTest(GGTestCase):
    @classmethod
    def setUpClass(cls):
        node_modules = ensure_framework()
        cls.redis = RedisServer().start()
        try:
            cls.fn = Framework(node_modules)
        except BaseException:
            cls.redis.stop()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.fn.stop()
        cls.redis.stop()

    def gcf_force(self, *targets, engines=None, check=True, args=()):
        engines = engines or [f"gcf={self.fn.url}"]
        engine_args = [a for e in engines for a in ("--engine", e)]
        return self.force(*targets, check=check, timeout=300,
                          args=("--storage", self.redis.uri(), *engine_args, *args))

    def engines_that_ran(self, trace):
        return {e["args"]["engine"] for e in self.trace(trace) if e["cat"].startswith("running")}

    def test_outputs_equal_a_local_run(self):
        final = self.small_graph()
        local = subprocess.run([GG, "force", "--engine", "local", final], env=self.local_copy(),
                               capture_output=True, text=True, timeout=120)
        self.assertEqual(local.returncode, 0, local.stderr)
        trace = os.path.join(self.dir, "trace.json")
        p = self.gcf_force(final, args=("--trace", trace))
        self.assertEqual(p.stdout.strip(), local.stdout.strip())
        self.assertEqual(self.cat(p.stdout.strip()), self.SMALL_GRAPH_OUTPUT)
        # The thunks ran in the function: its store holds their outputs.
        self.assertIn(p.stdout.strip(), self.fn.blobs())
        self.assertEqual(self.engines_that_ran(trace), {f"gcf={self.fn.url}"})

    def test_large_objects_use_the_chunked_redis_layout(self):
        data = os.urandom(3 << 20)
        big = self.value(data, "big")
        t = self.sh_thunk("cat big big > out", inputs=[(big, "big")])
        p = self.gcf_force(t)
        out = subprocess.run([GG, "cat", p.stdout.strip()], env=self.env, capture_output=True, timeout=60).stdout
        self.assertEqual(out, data + data)

    def test_failing_thunk_shows_its_stderr(self):
        t = self.sh_thunk("echo this-went-wrong >&2; exit 3")
        p = self.gcf_force(t, check=False)
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertIn("this-went-wrong", p.stderr)
        self.assertIn(t, p.stderr)

    def test_throttling_and_5xx_are_retried(self):
        proxy = FlakyProxy(self.fn.url, [429, 503, 500])
        try:
            t = self.sh_thunk("echo through-the-proxy > out")
            p = self.gcf_force(t, engines=[f"gcf={proxy.url}"])
            self.assertEqual(self.cat(p.stdout.strip()), "through-the-proxy\n")
            self.assertEqual(proxy.requests, 4)
        finally:
            proxy.stop()

    def test_retries_are_bounded(self):
        proxy = FlakyProxy(self.fn.url, [503] * 100)
        try:
            t = self.sh_thunk("echo never > out")
            start = time.time()
            p = self.gcf_force(t, engines=[f"gcf={proxy.url}"], check=False, args=("--max-attempts", "1"))
            self.assertNotEqual(p.returncode, 0)
            self.assertIn("gave up after 6 attempts; last: HTTP 503", p.stderr)
            self.assertEqual(proxy.requests, 6)
            self.assertLess(time.time() - start, 60)
        finally:
            proxy.stop()

    def test_local_and_gcf_in_one_force(self):
        # local=1 is full with one thunk: the others go to the function.
        parts = [self.sh_thunk(f"sleep 1; echo part{i} > out") for i in range(4)]
        final = self.sh_thunk("cat p0 p1 p2 p3 > out", thunks=[(t, f"p{i}") for i, t in enumerate(parts)])
        trace = os.path.join(self.dir, "trace.json")
        p = self.gcf_force(final, engines=["local=1", f"gcf={self.fn.url}"], args=("--trace", trace))
        self.assertEqual(self.cat(p.stdout.strip()), "part0\npart1\npart2\npart3\n")
        self.assertEqual(self.engines_that_ran(trace), {"local", f"gcf={self.fn.url}"})

    def memory_budget(self):
        """memory= for the gcf engine: room for busybox (every thunk's
        program) and 1 MiB more."""
        return os.path.getsize(BUSYBOX) + (1 << 20)

    def test_thunk_over_the_memory_budget_goes_to_another_engine(self):
        big = self.value(os.urandom(2 << 20), "big")
        large = self.sh_thunk("wc -c < big > out", inputs=[(big, "big")])
        small = self.sh_thunk("echo small > out")
        final = self.sh_thunk("cat a b > out", thunks=[(large, "a"), (small, "b")])
        trace = os.path.join(self.dir, "trace.json")
        p = self.gcf_force(final, engines=[f"gcf={self.fn.url},memory={self.memory_budget()}", "local"],
                           args=("--trace", trace))
        self.assertEqual(self.cat(p.stdout.strip()), "%d\nsmall\n" % (2 << 20))
        ran = {e["args"]["thunk"]: e["args"]["engine"] for e in self.trace(trace) if e["cat"].startswith("running")}
        self.assertEqual(ran[large], "local")
        self.assertEqual(ran[small], f"gcf={self.fn.url}")

    def test_thunk_over_the_budget_with_no_other_engine_fails_naming_it(self):
        big = self.value(os.urandom(2 << 20), "big")
        t = self.sh_thunk("wc -c < big > out", inputs=[(big, "big")])
        p = self.gcf_force(t, engines=[f"gcf={self.fn.url},memory={self.memory_budget()}"], check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("do not fit the function's memory budget (memory=", p.stderr)
        self.assertIn(t, p.stderr)
        self.assertNotIn(big, self.fn.blobs())  # never sent to the function

    def test_s3_store_with_signed_requests(self):
        # moto checks SigV4: the handler signs its GET/HEAD/PUT with the
        # function's AWS_* environment, as on Cloud Functions with HMAC keys.
        with MotoServer().start(bucket="gg-gcf-s3") as moto:
            fn = Framework(ensure_framework(), env=moto.env())
            try:
                self.env.update(moto.env())
                final = self.small_graph()
                p = self.force(final, timeout=300, args=("--storage", moto.uri(prefix="run1"), "--engine",
                                                         f"gcf={fn.url}"))
                self.assertEqual(self.cat(p.stdout.strip()), self.SMALL_GRAPH_OUTPUT)
                self.assertIn(p.stdout.strip(), fn.blobs())
                keys = [o["Key"] for o in moto.boto3().list_objects_v2(Bucket="gg-gcf-s3")["Contents"]]
                self.assertIn("run1/blobs/" + p.stdout.strip(), keys)
            finally:
                fn.stop()
            # A function with a wrong secret is refused by moto: the check is real.
            fn = Framework(ensure_framework(), env=moto.env(secret="wrong" + moto.secret[5:]))
            try:
                t = self.sh_thunk("echo unsigned > out")
                p = self.force(t, check=False, args=("--max-attempts", "1", "--storage", moto.uri(prefix="run2"),
                                                     "--engine", f"gcf={fn.url}"))
                self.assertNotEqual(p.returncode, 0)
                self.assertIn("HTTP 403", p.stderr)
            finally:
                fn.stop()

    def test_package_holds_the_handler_and_a_static_executor(self):
        self.assertIn("--runtime nodejs20 --trigger-http --entry-point gg", self.fn.package_output)
        for name in ("index.js", "package.json"):
            with open(os.path.join(self.fn.source, name), "rb") as f, open(os.path.join(ROOT, "gcf", name), "rb") as g:
                self.assertEqual(f.read(), g.read(), name)
        with open(os.path.join(self.fn.source, "package.json")) as f:
            self.assertIn("@google-cloud/functions-framework", json.load(f)["dependencies"])
        executor = os.path.join(self.fn.source, "gg-lambda")
        self.assertTrue(os.access(executor, os.X_OK))
        self.assertIn("statically linked", subprocess.run(["file", executor], capture_output=True, text=True).stdout)
        zip_path = os.path.join(self.dir, "gg-gcf.zip")
        self.gg("gcf", "package", "--output", zip_path)
        import zipfile
        with zipfile.ZipFile(zip_path) as z:
            self.assertEqual(sorted(z.namelist()), ["gg-lambda", "index.js", "package.json"])
            self.assertEqual((z.getinfo("gg-lambda").external_attr >> 16) & 0o777, 0o755)


if __name__ == "__main__":
    unittest.main()
