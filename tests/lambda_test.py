"""The lambda engine end to end.

- Through serverless-offline (serverless@3 + serverless-offline@13 from npm,
  installed on first use into $GG_TEST_NPM_DIR, default /var/cache/gg-test-npm),
  which runs the real handler from the zip `gg lambda deploy` writes, with a
  Redis store the test starts: outputs equal a local run's, a failing thunk's
  stderr is shown, a thunk over the /tmp budget is refused clearly, and one
  function runs with GG_SANDBOX=none as in real Lambda.
- The Invoke wire format against moto_server with SigV4 checks on: moto
  accepts the signed request (it cannot run the function without docker, and
  gg must report that clearly), and a wrong secret is a clear 403.
"""
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.request
import zipfile

import npm_packages
from ggtest import GG, GGTestCase, stop_process_group
from storage_servers import MotoServer, RedisServer, free_port, wait_for_port

SERVICE = "gg"
STAGE = "dev"
TMP_BUDGET = 8 << 20  # GG_LAMBDA_TMP_BUDGET in the functions: 8 MiB (busybox is 2)

SERVERLESS_YML = """\
service: {service}
frameworkVersion: "3"
provider:
  name: aws
  runtime: python3.12
  stage: {stage}
  region: us-east-1
  timeout: 120
  environment:
    GG_LAMBDA_TMP_BUDGET: "{budget}"
plugins:
  - serverless-offline
functions:
  gg:
    handler: handler.handler
    environment:
      GG_LAMBDA_DIR: {root}/fn-gg
  nons:
    handler: handler.handler
    environment:
      GG_LAMBDA_DIR: {root}/fn-nons
      GG_SANDBOX: none
"""


def ensure_serverless():
    """serverless and serverless-offline (installed once, ~1 min)."""
    return npm_packages.ensure("serverless", ["serverless@3", "serverless-offline@13"], ["serverless-offline"])


class Offline:
    """`serverless offline start` over the deployed zip, on loopback."""

    def __init__(self, node_modules):
        self.dir = tempfile.mkdtemp(prefix="gg-sls-")
        self.lambda_port = free_port()
        self.http_port = free_port()
        zip_path = os.path.join(self.dir, "gg-lambda.zip")
        p = subprocess.run([GG, "lambda", "deploy", "--output", zip_path], capture_output=True, text=True)
        if p.returncode != 0:
            raise RuntimeError("gg lambda deploy failed: " + p.stderr)
        self.deploy_output = p.stdout
        self.service = os.path.join(self.dir, "service")
        os.makedirs(self.service)
        with zipfile.ZipFile(zip_path) as z:
            for info in z.infolist():
                z.extract(info, self.service)
                os.chmod(os.path.join(self.service, info.filename), (info.external_attr >> 16) & 0o777)
        os.symlink(node_modules, os.path.join(self.service, "node_modules"))
        with open(os.path.join(self.service, "serverless.yml"), "w") as f:
            f.write(SERVERLESS_YML.format(service=SERVICE, stage=STAGE, budget=TMP_BUDGET, root=self.dir))
        env = dict(os.environ, SLS_TELEMETRY_DISABLED="1", SLS_NOTIFICATIONS_MODE="off",
                   SLS_DEPRECATION_DISABLE="*", AWS_ACCESS_KEY_ID="offline", AWS_SECRET_ACCESS_KEY="offline")
        self.log_path = os.path.join(self.dir, "offline.log")
        self.log = open(self.log_path, "w")
        self.started = time.time()
        self.proc = subprocess.Popen(
            [os.path.join(node_modules, ".bin", "serverless"), "offline", "start", "--host", "127.0.0.1",
             "--lambdaPort", str(self.lambda_port), "--httpPort", str(self.http_port), "--noPrependStageInUrl"],
            cwd=self.service, env=env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            wait_for_port(self.lambda_port, self.proc, "serverless offline", timeout=90)
        except BaseException:
            print(self.output(), file=sys.stderr)
            self.stop()
            raise

    def function(self, name):
        return f"{SERVICE}-{STAGE}-{name}"

    def endpoint(self):
        return f"http://127.0.0.1:{self.lambda_port}"

    def output(self):
        with open(self.log_path) as f:
            return f.read()

    def stop(self):
        stop_process_group(self.proc)
        self.log.close()
        subprocess.run(["chmod", "-R", "u+w", self.dir], check=False)
        shutil.rmtree(self.dir, ignore_errors=True)


class LambdaOfflineTest(GGTestCase):
    @classmethod
    def setUpClass(cls):
        node_modules = ensure_serverless()
        cls.redis = RedisServer().start()
        try:
            cls.offline = Offline(node_modules)
        except BaseException:
            cls.redis.stop()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.offline.stop()
        cls.redis.stop()

    def setUp(self):
        super().setUp()
        self.store_uri = self.redis.uri()
        # Signing needs credentials; serverless-offline does not check them.
        self.env.update(AWS_ACCESS_KEY_ID="offline", AWS_SECRET_ACCESS_KEY="offline")

    def lambda_force(self, *targets, function="gg", check=True, args=()):
        engine = f"lambda={self.offline.function(function)},endpoint={self.offline.endpoint()},region=us-east-1"
        return self.force(*targets, check=check, timeout=300,
                          args=("--storage", self.store_uri, "--engine", engine, *args))

    def test_outputs_equal_a_local_run(self):
        final = self.small_graph()
        local_env = self.local_copy()
        local = subprocess.run([GG, "force", "--engine", "local", final], env=local_env, capture_output=True,
                               text=True, timeout=120)
        self.assertEqual(local.returncode, 0, local.stderr)
        p = self.lambda_force(final)
        self.assertEqual(p.stdout.strip(), local.stdout.strip())
        self.assertEqual(self.cat(p.stdout.strip()), self.SMALL_GRAPH_OUTPUT)
        # The thunks ran in the function: its store holds their outputs.
        fn_blobs = os.listdir(os.path.join(self.offline.dir, "fn-gg", "blobs"))
        self.assertIn(p.stdout.strip(), fn_blobs)

    def test_functions_serve_as_workers_for_the_job(self):
        # The long-running mode: two invocations connect back as workers; no
        # shared store, objects travel on the connections.
        final = self.small_graph()
        trace = os.path.join(self.dir, "trace.json")
        engine = (f"lambda={self.offline.function('gg')},endpoint={self.offline.endpoint()},region=us-east-1,"
                  "workers=2,slots=2,host=127.0.0.1")
        p = self.force(final, timeout=300, args=("--engine", engine, "--trace", trace))
        self.assertEqual(self.cat(p.stdout.strip()), self.SMALL_GRAPH_OUTPUT)
        engines = {e["args"]["engine"] for e in self.trace(trace) if e["cat"].startswith("running")}
        self.assertEqual(engines, {"lambda-workers"})

    def test_workers_are_replaced_near_their_budget(self):
        # budget=2: each worker drains after 2 s and a fresh invocation takes
        # its place; the force lasts several budgets and completes.
        budget = 2

        def thunk(script, deps=()):
            # Relative paths only: serverless-offline lets GG_SANDBOX=none of
            # the `nons` function leak into later handler processes.
            args = ["create-thunk", "-e", f"{self.busybox}=busybox", "-o", "out"]
            for name, dep in deps:
                args += ["-t", f"{dep}={name}"]
            return self.gg(*args, self.busybox, "sh", "-c", script).stdout.strip()

        parts = [thunk(f"./busybox sleep 1; echo part{i} > out") for i in range(12)]
        final = thunk("./busybox cat " + " ".join(f"p{i}" for i in range(12)) + " > out",
                      [(f"p{i}", t) for i, t in enumerate(parts)])
        before = self.offline.output().count("budget reached: draining")
        engine = (f"lambda={self.offline.function('gg')},endpoint={self.offline.endpoint()},region=us-east-1,"
                  f"workers=2,slots=1,host=127.0.0.1,budget={budget}")
        start = time.time()
        p = self.force(final, timeout=300, args=("--engine", engine))
        elapsed = time.time() - start
        self.assertEqual(self.cat(p.stdout.strip()), "".join(f"part{i}\n" for i in range(12)))
        self.assertGreater(elapsed, 3 * budget)
        # Each drained worker says so on its way out (the handler relays its
        # stderr to serverless-offline's log): at least two generations drained.
        deadline = time.time() + 30
        while time.time() < deadline:
            drained = self.offline.output().count("budget reached: draining") - before
            if drained >= 4:
                break
            time.sleep(0.2)
        self.assertGreaterEqual(drained, 4, self.offline.output()[-3000:])
        self.assertNotIn("lost worker", p.stderr)

    def test_without_namespaces_as_in_real_lambda(self):
        # Without namespaces, inputs can only live under the working directory.
        t = self.gg("create-thunk", "-e", f"{self.busybox}=busybox", "-o", "out", self.busybox, "sh", "-c",
                    "echo no namespaces > out").stdout.strip()
        p = self.lambda_force(t, function="nons")
        self.assertEqual(self.cat(p.stdout.strip()), "no namespaces\n")
        self.assertIn(p.stdout.strip(), os.listdir(os.path.join(self.offline.dir, "fn-nons", "blobs")))

    def test_large_objects_use_the_chunked_redis_layout(self):
        # Inputs and outputs over 1 MiB are chunked in Redis: the handler
        # reads gg's chunks and writes chunks gg reads back.
        data = os.urandom(3 << 20)
        big = self.value(data, "big")
        t = self.sh_thunk("cat big big > out", inputs=[(big, "big")])
        p = self.lambda_force(t)
        out = subprocess.run([GG, "cat", p.stdout.strip()], env=self.env, capture_output=True, timeout=60).stdout
        self.assertEqual(out, data + data)

    def test_straggler_copy_and_cancel(self):
        # A second copy of a slow thunk is started; the first to finish wins
        # and the other's Invoke request is aborted, without hanging the force.
        t = self.sh_thunk("sleep 2; echo slow > out")
        start = time.time()
        p = self.lambda_force(t, args=("--timeout", "0.5", "--trace", os.path.join(self.dir, "trace.json")))
        self.assertEqual(self.cat(p.stdout.strip()), "slow\n")
        self.assertLess(time.time() - start, 30)
        runs = [e for e in self.trace(os.path.join(self.dir, "trace.json")) if e["cat"].startswith("running")]
        self.assertGreaterEqual(len(runs), 2, runs)

    def test_s3_store(self):
        with MotoServer().start(bucket="gg-lambda-s3", auth=False) as moto:
            self.store_uri = moto.uri(prefix="run1")
            final = self.small_graph()
            p = self.lambda_force(final)
            self.assertEqual(self.cat(p.stdout.strip()), self.SMALL_GRAPH_OUTPUT)
            keys = [o["Key"] for o in moto.boto3().list_objects_v2(Bucket="gg-lambda-s3")["Contents"]]
            self.assertIn("run1/blobs/" + p.stdout.strip(), keys)

    def test_failing_thunk_shows_its_stderr(self):
        t = self.sh_thunk("echo this-went-wrong >&2; exit 3")
        p = self.lambda_force(t, check=False)
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertIn("this-went-wrong", p.stderr)
        self.assertIn("3", p.stderr)

    def test_inputs_over_the_tmp_budget_are_refused(self):
        big = self.value(os.urandom(TMP_BUDGET + 4096), "big")
        t = self.sh_thunk("wc -c < big > out", inputs=[(big, "big")])
        p = self.lambda_force(t, check=False, args=("--max-attempts", "1"))
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("/tmp", p.stderr)
        self.assertIn("room for %d" % TMP_BUDGET, p.stderr)

    def test_needs_a_shared_store(self):
        t = self.sh_thunk("echo x > out")
        env = {k: v for k, v in self.env.items() if k != "GG_STORAGE_URI"}
        p = subprocess.run([GG, "force", "--engine", "lambda=f,endpoint=http://127.0.0.1:1", t], env=env,
                           capture_output=True, text=True, timeout=60)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("--storage", p.stderr)

    def test_deploy_packages_the_handler_and_a_static_executor(self):
        self.assertIn("--runtime python3.12 --handler handler.handler", self.offline.deploy_output)
        with open(os.path.join(self.offline.service, "handler.py"), "rb") as f:
            packaged = f.read()
        with open(os.path.join(os.path.dirname(__file__), "..", "lambda", "handler.py"), "rb") as f:
            self.assertEqual(packaged, f.read())
        executor = os.path.join(self.offline.service, "gg-lambda")
        self.assertTrue(os.access(executor, os.X_OK))
        p = subprocess.run(["file", executor], capture_output=True, text=True)
        self.assertIn("statically linked", p.stdout)


LAMBDA_POLICY = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": ["s3:*", "lambda:*"], "Resource": "*"}]})


class LambdaWireFormatTest(GGTestCase):
    """The Invoke request against moto_server, which checks SigV4."""

    @classmethod
    def setUpClass(cls):
        import boto3
        cls.moto = MotoServer()
        m = cls.moto
        m.port, m.bucket = free_port(), "gg-lambda-test"
        m.log = open(os.path.join(m.logdir, "moto.log"), "w")
        m.proc = subprocess.Popen(["moto_server", "-H", "127.0.0.1", "-p", str(m.port)], stdout=m.log,
                                  stderr=subprocess.STDOUT)
        try:
            wait_for_port(m.port, m.proc, "moto_server")
            kw = dict(endpoint_url=m.endpoint, region_name="us-east-1", aws_access_key_id="setup",
                      aws_secret_access_key="setup")
            iam = boto3.client("iam", **kw)
            role = iam.create_role(RoleName="gg-lambda", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
            iam.create_user(UserName="gg")
            iam.put_user_policy(UserName="gg", PolicyName="gg", PolicyDocument=LAMBDA_POLICY)
            key = iam.create_access_key(UserName="gg")["AccessKey"]
            m.key, m.secret = key["AccessKeyId"], key["SecretAccessKey"]
            boto3.client("s3", **kw).create_bucket(Bucket=m.bucket)
            zip_bytes = io.BytesIO()
            with zipfile.ZipFile(zip_bytes, "w") as z:
                z.writestr("handler.py", "def handler(event, context):\n    return {}\n")
            boto3.client("lambda", **kw).create_function(
                FunctionName="gg-fn", Runtime="python3.12", Role=role, Handler="handler.handler",
                Code={"ZipFile": zip_bytes.getvalue()})
            req = urllib.request.Request(f"{m.endpoint}/moto-api/reset-auth", data=b"0", method="POST",
                                         headers={"Content-Type": "text/plain"})
            urllib.request.urlopen(req, timeout=10).read()
        except BaseException:
            m.stop()
            raise

        cls.redis = RedisServer().start()

    @classmethod
    def tearDownClass(cls):
        cls.redis.stop()
        cls.moto.stop()

    def moto_force(self, secret=None):
        t = self.sh_thunk("echo x > out")
        env = dict(self.env, **self.moto.env(secret))
        engine = f"lambda=gg-fn,endpoint={self.moto.endpoint},region=us-east-1"
        start = time.time()
        # The store is Redis, so that only the Invoke request is signed.
        p = subprocess.run([GG, "force", "--max-attempts", "1", "--storage", self.redis.uri(), "--engine", engine, t],
                           cwd=self.dir, env=env, capture_output=True, text=True, timeout=120)
        return p, time.time() - start

    def moto_log(self):
        with open(os.path.join(self.moto.logdir, "moto.log")) as f:
            return f.read()

    def test_signed_invoke_is_accepted(self):
        p, seconds = self.moto_force()
        self.assertNotEqual(p.returncode, 0)
        # moto checked the signature and ran the Invoke API, which needs docker
        # to run the function: gg says so instead of hanging.
        self.assertIn("lambda function gg-fn", p.stderr)
        self.assertIn("Handled function error", p.stderr)
        self.assertIn("docker", p.stderr)
        self.assertNotIn("HTTP 403", p.stderr)
        self.assertLess(seconds, 60)
        self.assertRegex(self.moto_log(), r'POST /2015-03-31/functions/gg-fn/invocations HTTP/1.1" 200')

    def test_wrong_secret_is_a_clear_403(self):
        p, _ = self.moto_force(secret="wrong" + self.moto.secret[5:])
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("refused the request: HTTP 403", p.stderr)
        self.assertIn("AWS_SECRET_ACCESS_KEY", p.stderr)


class FakeLambda:
    """An Invoke endpoint that answers from a script: (status, headers, body) per request."""

    def __init__(self, answers):
        import http.server
        import threading
        self.answers = list(answers)
        self.requests = []
        fake = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                fake.requests.append((self.path, dict(self.headers), body))
                scripted = fake.answers[min(len(fake.requests), len(fake.answers)) - 1]
                if scripted is None:  # a dropped connection: no answer at all
                    self.close_connection = True
                    self.connection.shutdown(2)
                    return
                status, headers, answer = scripted
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def endpoint(self):
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


class LambdaRetryTest(GGTestCase):
    """Throttling, 5xx and dropped connections are retried with back-off, within a bound."""

    @classmethod
    def setUpClass(cls):
        cls.redis = RedisServer().start()

    @classmethod
    def tearDownClass(cls):
        cls.redis.stop()

    def run_against(self, answers):
        fake = FakeLambda(answers)
        try:
            t = self.sh_thunk("echo x > out")
            env = dict(self.env, AWS_ACCESS_KEY_ID="k", AWS_SECRET_ACCESS_KEY="s")
            start = time.time()
            p = subprocess.run([GG, "force", "--max-attempts", "1", "--storage", self.redis.uri(), "--engine",
                                f"lambda=fn,endpoint={fake.endpoint},region=eu-west-1", t],
                               cwd=self.dir, env=env, capture_output=True, text=True, timeout=120)
            return p, fake.requests, time.time() - start
        finally:
            fake.stop()

    def test_throttling_and_5xx_are_retried(self):
        throttled = (429, {"X-Amzn-ErrorType": "TooManyRequestsException"}, b'{"message":"Rate exceeded"}')
        unavailable = (503, {}, b'{"message":"ServiceUnavailable"}')
        error = (200, {"X-Amz-Function-Error": "Unhandled"},
                 b'{"errorMessage": "fake-boom", "errorType": "RuntimeError"}')
        p, requests, _ = self.run_against([throttled, None, unavailable, error])
        self.assertEqual(len(requests), 4)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("Unhandled function error", p.stderr)
        self.assertIn("fake-boom", p.stderr)
        path, headers, body = requests[0]
        self.assertEqual(path, "/2015-03-31/functions/fn/invocations")
        self.assertIn("AWS4-HMAC-SHA256 Credential=k/", headers["Authorization"])
        self.assertIn("/eu-west-1/lambda/aws4_request", headers["Authorization"])
        event = json.loads(body)
        self.assertEqual(event["storage"], self.redis.uri())
        self.assertIn(self.busybox, event["objects"])

    def test_retries_are_bounded(self):
        p, requests, seconds = self.run_against([(503, {}, b"overloaded")])
        self.assertEqual(len(requests), 6)
        self.assertIn("gave up after 6 attempts; last: HTTP 503", p.stderr)
        self.assertLess(seconds, 60)


if __name__ == "__main__":
    unittest.main()
