#!/usr/bin/env python3
"""gg's shared stores against the usual tools, in one run, on this machine.

    GG_BUILD_DIR=build python3 bench/storage/storage_bench.py [--small-only] [--redis-only|--s3-only]

Starts moto_server (SigV4 checking on) and redis-server on loopback, then
times, each against a fresh prefix or database:
  * 1,000 files of 50 KB up and down: gg vs `aws s3 cp --recursive` vs
    boto3 with 64 threads (moto's own ceiling); gg vs `redis-cli --pipe`
    of the same SETs (Redis's mass-insert path);
  * one 1 GiB object up and down against the same tools.
Prints the times and gg's ratio to each rival (rival / gg: >1 means gg is
faster). moto handles only ~200 PUTs a second here, so on moto the client
that keeps the server busiest wins.
"""
import concurrent.futures
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests"))
import storage_servers  # noqa: E402

BUILD = os.path.abspath(os.environ.get("GG_BUILD_DIR", os.path.join(ROOT, "build")))
GG = os.path.join(BUILD, "src", "cli", "gg")
def transfer_binary():
    return GG


def timed(fn):
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def run(args, env, **kw):
    p = subprocess.run(args, env=env, capture_output=True, text=True, **kw)
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(args[:3])}... exited {p.returncode}: {p.stderr[-2000:]}")
    return p.stdout


class Bench:
    def __init__(self, small_only, redis=True, s3=True):
        self.small_only = small_only
        self.do_redis = redis
        self.do_s3 = s3
        self.dir = tempfile.mkdtemp(prefix="gg-storage-bench-")
        self.results = []
        self.xfer = transfer_binary()

    def store(self, name):
        d = os.path.join(self.dir, name)
        os.makedirs(d)
        run([GG, "init"], dict(os.environ, GG_DIR=os.path.join(d, ".gg")), cwd=d)
        return os.path.join(d, ".gg")

    def make_files(self, subdir, count, size):
        d = os.path.join(self.dir, subdir)
        os.makedirs(d)
        for i in range(count):
            with open(os.path.join(d, f"f{i:04d}"), "wb") as f:
                f.write(os.urandom(size))
        return d

    def collect(self, gg_dir, files_dir):
        paths = (sorted(os.path.join(files_dir, f) for f in os.listdir(files_dir))
                 if os.path.isdir(files_dir) else [files_dir])
        env = dict(os.environ, GG_DIR=gg_dir)
        names = []
        for i in range(0, len(paths), 200):
            names += run([GG, "collect", *paths[i:i + 200]], env).split()
        return names

    def gg(self, verb, gg_dir, uri, names, env):
        run([self.xfer, verb, "--storage", uri, *names], dict(env, GG_DIR=gg_dir))

    def report(self, what, gg_s, rivals):
        self.results.append((what, gg_s, rivals))
        line = f"{what:<34} gg {gg_s:7.2f} s"
        for name, t in rivals:
            line += f" | {name} {t:7.2f} s ({t / gg_s:5.1f}x)"
        print(line, flush=True)

    # -- S3 (moto) ---------------------------------------------------------
    def s3(self, moto, files_dir, label):
        env = dict(os.environ, **moto.env())
        env.pop("AWS_SESSION_TOKEN", None)
        env["AWS_DEFAULT_REGION"] = "us-east-1"
        src = self.store(f"s3-src-{label}")
        names = self.collect(src, files_dir)
        uri = moto.uri(prefix=f"gg-{label}")
        up = timed(lambda: self.gg("push", src, uri, names, env))
        dst = self.store(f"s3-dst-{label}")
        down = timed(lambda: self.gg("pull", dst, uri, names, env))

        import boto3
        import botocore.config
        client = boto3.client("s3", endpoint_url=moto.endpoint, region_name="us-east-1",
                              aws_access_key_id=moto.key, aws_secret_access_key=moto.secret,
                              config=botocore.config.Config(max_pool_connections=64))
        # The AWS CLI gets a bucket of its own and writes at its root: moto
        # 5.2.1 rejects the signature of a listing whose prefix holds a '/'.
        bucket = f"aws-{label.lower()}"
        client.create_bucket(Bucket=bucket)
        aws = ["aws", "--endpoint-url", moto.endpoint, "s3", "cp", "--only-show-errors"]
        is_dir = os.path.isdir(files_dir)
        if is_dir:
            aws_up = timed(lambda: run(aws + ["--recursive", files_dir, f"s3://{bucket}/"], env))
            out = os.path.join(self.dir, f"aws-down-{label}")
            aws_down = timed(lambda: run(aws + ["--recursive", f"s3://{bucket}/", out], env))
        else:
            aws_up = timed(lambda: run(aws + [files_dir, f"s3://{bucket}/big"], env))
            aws_down = timed(lambda: run(aws + [f"s3://{bucket}/big", os.path.join(self.dir, "aws-big")], env))
        if is_dir:
            files = sorted(os.listdir(files_dir))

            def put(f):
                with open(os.path.join(files_dir, f), "rb") as fh:
                    client.put_object(Bucket="gg-test", Key=f"boto-{label}/{f}", Body=fh.read())

            def get(f):
                client.get_object(Bucket="gg-test", Key=f"boto-{label}/{f}")["Body"].read()

            with concurrent.futures.ThreadPoolExecutor(64) as pool:
                boto_up = timed(lambda: list(pool.map(put, files)))
                boto_down = timed(lambda: list(pool.map(get, files)))
        else:
            from boto3.s3.transfer import TransferConfig
            cfg = TransferConfig(max_concurrency=64)
            boto_up = timed(lambda: client.upload_file(files_dir, "gg-test", f"boto-{label}/big", Config=cfg))
            # One streamed GET, as gg and the AWS CLI do here: moto answers
            # each ranged GET by copying the whole object, so boto3's
            # parallel ranged download takes minutes against it.
            def download():
                body = client.get_object(Bucket="gg-test", Key=f"boto-{label}/big")["Body"]
                with open(os.path.join(self.dir, "boto-big"), "wb") as f:
                    for piece in iter(lambda: body.read(8 << 20), b""):
                        f.write(piece)
            boto_down = timed(download)
        self.report(f"S3/moto {label} upload", up, [("aws s3 cp", aws_up), ("boto3 x64", boto_up)])
        self.report(f"S3/moto {label} download", down, [("aws s3 cp", aws_down), ("boto3 x64", boto_down)])

    # -- Redis -------------------------------------------------------------
    def redis(self, server, files_dir, label):
        env = dict(os.environ)
        src = self.store(f"redis-src-{label}")
        names = self.collect(src, files_dir)
        uri = server.uri() + "/1" if label == "small" else server.uri() + "/2"
        up = timed(lambda: self.gg("push", src, uri, names, env))
        dst = self.store(f"redis-dst-{label}")
        down = timed(lambda: self.gg("pull", dst, uri, names, env))
        # The same SETs as RESP for redis-cli --pipe (chunks of 1 MiB for a
        # large object, as gg stores it), written before timing.
        proto = os.path.join(self.dir, f"redis-{label}.resp")
        chunk = 1 << 20
        with open(proto, "wb") as out:
            def cmd(*args):
                out.write(b"*%d\r\n" % len(args))
                for a in args:
                    out.write(b"$%d\r\n%s\r\n" % (len(a), a))
            cmd(b"SELECT", b"3" if label == "small" else b"4")
            paths = ([os.path.join(files_dir, f) for f in sorted(os.listdir(files_dir))]
                     if os.path.isdir(files_dir) else [files_dir])
            for name, path in zip(names, paths):
                with open(path, "rb") as f:
                    data = f.read()
                if len(data) <= chunk:
                    cmd(b"SET", b"blobs/" + name.encode(), data)
                else:
                    for i in range(0, len(data), chunk):
                        cmd(b"SET", b"blobs/%s/%d" % (name.encode(), i // chunk), data[i:i + chunk])
        with open(proto, "rb") as f:
            pipe = timed(lambda: subprocess.run(["redis-cli", "-p", str(server.port), "--pipe"], stdin=f,
                                                capture_output=True, check=True))
        os.unlink(proto)
        self.report(f"Redis {label} upload", up, [("redis-cli --pipe", pipe)])
        self.report(f"Redis {label} download", down, [])

    def main(self):
        try:
            self.run_all()
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)

    def run_all(self):
        print(f"gg storage benchmark ({os.path.basename(self.xfer)} from {BUILD}); ratios are rival/gg\n", flush=True)
        small = self.make_files("small", 1000, 50 * 1000)
        if self.do_s3:
            with storage_servers.MotoServer().start() as moto:
                self.s3(moto, small, "small")
        if self.do_redis:
            with storage_servers.RedisServer().start() as server:
                self.redis(server, small, "small")
        if not self.small_only:
            big = os.path.join(self.dir, "big")
            with open(big, "wb") as f:
                for _ in range(1024):
                    f.write(os.urandom(1 << 20))
            if self.do_redis:
                with storage_servers.RedisServer().start() as server:
                    self.redis(server, big, "1GiB")
            if self.do_s3:
                with storage_servers.MotoServer().start() as moto:
                    self.s3(moto, big, "1GiB")


if __name__ == "__main__":
    Bench("--small-only" in sys.argv, redis="--s3-only" not in sys.argv, s3="--redis-only" not in sys.argv).main()
