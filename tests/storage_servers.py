"""Real Redis and S3 (moto) servers for gg's storage tests and benchmarks.

Each server runs on loopback on a free port, is waited for until it answers,
and is stopped by its PID. moto is set up to check SigV4 signatures: an IAM
user with an access key and an s3:* policy is created through moto's IAM API
while moto still accepts unsigned requests, then /moto-api/reset-auth turns
authentication on for every later request.

Also a command line, used by the C++ unit tests:
    python3 storage_servers.py moto-setup PORT BUCKET
prints {"key": ..., "secret": ...} after setting up a running moto_server.
"""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

S3_POLICY = json.dumps({
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": ["s3:*"], "Resource": "*"}],
})


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port, proc, what, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode} before it was ready")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"{what} did not start listening on port {port} within {timeout} s")


class Server:
    def __init__(self):
        self.proc = None
        self.port = None
        self.logdir = tempfile.mkdtemp(prefix="gg-server-")

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.proc = None
        if getattr(self, "log", None) is not None:
            self.log.close()
            self.log = None
        shutil.rmtree(self.logdir, ignore_errors=True)

    def kill(self):
        """SIGKILL: a crash, not a shutdown."""
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


class RedisServer(Server):
    def start(self, port=None, password=None, extra=()):
        self.port = port or free_port()
        args = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                "--appendonly", "no", "--dir", self.logdir, *extra]
        if password:
            args += ["--requirepass", password]
        self.log = open(os.path.join(self.logdir, "redis.log"), "w")
        self.proc = subprocess.Popen(args, stdout=self.log, stderr=subprocess.STDOUT)
        wait_for_port(self.port, self.proc, "redis-server")
        # Listening is not ready: wait for a PING answer.
        deadline = time.time() + 10
        while time.time() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
                    s.sendall(b"PING\r\n")
                    answer = s.recv(64)
                    if answer.startswith(b"+PONG") or answer.startswith(b"-NOAUTH"):
                        return self
            except OSError:
                pass
            time.sleep(0.05)
        raise RuntimeError("redis-server does not answer PING")

    def uri(self, password=None):
        auth = f":{password}@" if password else ""
        return f"redis://{auth}127.0.0.1:{self.port}"


def setup_moto_auth(port, bucket=None):
    """Creates an IAM user with an s3:* key (and `bucket`), then turns moto's
    authentication on. Returns (key id, secret)."""
    import boto3  # imported here: the module is also used without boto3
    endpoint = f"http://127.0.0.1:{port}"
    kw = dict(endpoint_url=endpoint, region_name="us-east-1",
              aws_access_key_id="setup", aws_secret_access_key="setup")
    iam = boto3.client("iam", **kw)
    iam.create_user(UserName="gg")
    iam.put_user_policy(UserName="gg", PolicyName="s3", PolicyDocument=S3_POLICY)
    key = iam.create_access_key(UserName="gg")["AccessKey"]
    if bucket:
        boto3.client("s3", **kw).create_bucket(Bucket=bucket)
    # A form content type (urllib's default) leaves moto with an empty body.
    req = urllib.request.Request(f"{endpoint}/moto-api/reset-auth", data=b"0", method="POST",
                                 headers={"Content-Type": "text/plain"})
    urllib.request.urlopen(req, timeout=10).read()
    return key["AccessKeyId"], key["SecretAccessKey"]


class MotoServer(Server):
    def start(self, bucket="gg-test", auth=True, port=None):
        self.port = port or free_port()
        self.bucket = bucket
        self.log = open(os.path.join(self.logdir, "moto.log"), "w")
        self.proc = subprocess.Popen(["moto_server", "-H", "127.0.0.1", "-p", str(self.port)],
                                     stdout=self.log, stderr=subprocess.STDOUT)
        try:
            self._setup(bucket, auth)
        except BaseException:
            self.stop()
            raise
        return self

    def _setup(self, bucket, auth):
        wait_for_port(self.port, self.proc, "moto_server")
        if auth:
            self.key, self.secret = setup_moto_auth(self.port, bucket)
        else:
            import boto3
            self.key, self.secret = "test", "test"
            boto3.client("s3", endpoint_url=self.endpoint, region_name="us-east-1",
                         aws_access_key_id="test", aws_secret_access_key="test").create_bucket(Bucket=bucket)

    @property
    def endpoint(self):
        return f"http://127.0.0.1:{self.port}"

    def uri(self, bucket=None, prefix=""):
        p = f"/{prefix}" if prefix else ""
        return f"s3://{bucket or self.bucket}{p}?region=us-east-1&endpoint={self.endpoint}"

    def env(self, secret=None):
        return {"AWS_ACCESS_KEY_ID": self.key, "AWS_SECRET_ACCESS_KEY": secret or self.secret}

    def boto3(self):
        import boto3
        return boto3.client("s3", endpoint_url=self.endpoint, region_name="us-east-1",
                            aws_access_key_id=self.key, aws_secret_access_key=self.secret)


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "moto-setup":
        k, s = setup_moto_auth(int(sys.argv[2]), sys.argv[3])
        print(json.dumps({"key": k, "secret": s}))
    else:
        sys.exit("usage: storage_servers.py moto-setup PORT BUCKET")
