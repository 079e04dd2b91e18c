"""gg's AWS Lambda function: runs one thunk per invocation.

The event (JSON, names only; see docs/lambda.md):
  {"version": 1, "thunk": BASE64, "objects": [NAME, ...], "storage": URI}
The handler downloads the objects the function's store lacks from the shared
store URI into $GG_LAMBDA_DIR (default /tmp/gg), checking each against its
name; runs ./gg-lambda (the statically linked executor packaged beside this
file); uploads the outputs to the store; and returns gg-lambda's JSON result.

Runtimes: python3.12 / python3.13. Storage: Redis (redis://, a small RESP
client over a socket, no packages) and S3-compatible stores (s3://, gs://)
through boto3, which the Lambda runtime includes.
"""

import base64
import hashlib
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import urllib.parse

THUNK_MAGIC = b"\x7fGGTHUNK"
TREE_MAGIC = b"\x7fGGTREES"
REDIS_CHUNK = 1 << 20
EXECUTOR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "gg-lambda")


class Refused(Exception):
    """The invocation cannot run here (too large, bad event): not retried in vain."""


class StorageError(Exception):
    pass


def name_of(data):
    """The gg name of `data` (docs/names.md)."""
    if data.startswith(THUNK_MAGIC):
        kind = "T"
    elif data.startswith(TREE_MAGIC):
        kind = "D"
    else:
        kind = "V"
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return "%s%s%08x" % (kind, digest.replace("-", "."), len(data))


def object_of(name):
    """The object a (maybe tagged) name stands for."""
    return name.split("#", 1)[0]


def size_of(name):
    return int(object_of(name)[44:], 16)


# ---------------------------------------------------------------- Redis


class Redis:
    """GET/SET/EXISTS over RESP, pipelined; gg's chunked large objects."""

    def __init__(self, uri):
        u = urllib.parse.urlsplit(uri)
        self.sock = socket.create_connection((u.hostname or "127.0.0.1", u.port or 6379), timeout=60)
        self.buf = bytearray()
        self.pos = 0
        if u.password is not None:
            auth = ["AUTH", urllib.parse.unquote(u.password)]
            if u.username:
                auth.insert(1, urllib.parse.unquote(u.username))
            self.call(*auth)
        db = u.path.strip("/")
        if db:
            self.call("SELECT", db)

    def close(self):
        self.sock.close()

    @staticmethod
    def encode(args):
        out = [b"*%d\r\n" % len(args)]
        for a in args:
            a = a if isinstance(a, bytes) else str(a).encode()
            out += [b"$%d\r\n" % len(a), a, b"\r\n"]
        return b"".join(out)

    def _line(self):
        while True:
            i = self.buf.find(b"\r\n", self.pos)
            if i >= 0:
                line = bytes(self.buf[self.pos:i])
                self.pos = i + 2
                return line
            self._fill()

    def _fill(self):
        if self.pos:
            del self.buf[:self.pos]
            self.pos = 0
        chunk = self.sock.recv(1 << 20)
        if not chunk:
            raise StorageError("redis closed the connection")
        self.buf += chunk

    def _bulk(self, n):
        """n bytes and the CRLF after them, copied once even when large."""
        avail = len(self.buf) - self.pos
        if avail >= n + 2:
            data = bytes(self.buf[self.pos:self.pos + n])
            self.pos += n + 2
            return data
        out = bytearray(n + 2)
        out[:avail] = self.buf[self.pos:]
        self.buf, self.pos = bytearray(), 0
        view, got = memoryview(out), avail
        while got < n + 2:
            k = self.sock.recv_into(view[got:])
            if not k:
                raise StorageError("redis closed the connection")
            got += k
        view.release()
        del out[n:]
        return bytes(out)

    def _reply(self):
        line = self._line()
        kind, rest = line[:1], line[1:]
        if kind == b"+":
            return rest
        if kind == b"-":
            raise StorageError("redis: " + rest.decode(errors="replace"))
        if kind == b":":
            return int(rest)
        if kind == b"$":
            n = int(rest)
            return None if n < 0 else self._bulk(n)
        if kind == b"*":
            n = int(rest)
            return None if n < 0 else [self._reply() for _ in range(n)]
        raise StorageError("redis: unexpected reply %r" % line[:40])

    def pipeline(self, commands):
        self.sock.sendall(b"".join(self.encode(c) for c in commands))
        return [self._reply() for _ in commands]

    def call(self, *args):
        return self.pipeline([args])[0]

    def get_many(self, names):
        values = self.pipeline([("GET", "blobs/" + n) for n in names])
        out = {}
        for n, v in zip(names, values):
            if v is None:
                raise StorageError("object %s is not in the store" % n)
            if v.startswith(b"gg-chunked "):
                count, _ = v.split()[1:3]
                parts = self.pipeline([("GET", "blobs/%s/%d" % (n, i)) for i in range(int(count))])
                if any(p is None for p in parts):
                    raise StorageError("object %s is missing chunks in the store" % n)
                v = b"".join(parts)
            out[n] = v
        return out

    def put(self, name, data):
        if self.call("EXISTS", "blobs/" + name):
            return
        if len(data) <= REDIS_CHUNK:
            self.call("SET", "blobs/" + name, data)
            return
        count = (len(data) + REDIS_CHUNK - 1) // REDIS_CHUNK
        self.pipeline([("SET", "blobs/%s/%d" % (name, i), data[i * REDIS_CHUNK:(i + 1) * REDIS_CHUNK])
                       for i in range(count)])
        self.call("SET", "blobs/" + name, "gg-chunked %d %d\n" % (count, REDIS_CHUNK))


# ---------------------------------------------------------------- S3


class S3:
    """s3://bucket[/prefix][?region=R&endpoint=URL] (and gs://, GCS's XML API)."""

    def __init__(self, uri):
        import boto3
        import botocore.config
        u = urllib.parse.urlsplit(uri)
        q = dict(urllib.parse.parse_qsl(u.query))
        self.bucket = u.hostname
        prefix = u.path.strip("/")
        self.prefix = prefix + "/" if prefix else ""
        endpoint = q.get("endpoint") or ("https://storage.googleapis.com" if u.scheme == "gs" else None)
        self.client = boto3.client(
            "s3", endpoint_url=endpoint, region_name=q.get("region") or os.environ.get("AWS_REGION", "us-east-1"),
            config=botocore.config.Config(s3={"addressing_style": "path"}, retries={"max_attempts": 8, "mode": "standard"}))

    def close(self):
        pass

    def get_many(self, names):
        out = {}
        for n in names:
            try:
                out[n] = self.client.get_object(Bucket=self.bucket, Key=self.prefix + "blobs/" + n)["Body"].read()
            except self.client.exceptions.NoSuchKey:
                raise StorageError("object %s is not in the store" % n)
            except Exception as e:  # noqa: BLE001 - botocore's errors, in words
                raise StorageError("getting %s: %s" % (n, e))
        return out

    def put(self, name, data):
        key = self.prefix + "blobs/" + name
        try:
            self.client.head_object(Bucket=self.bucket, Key=key)
            return
        except Exception:  # noqa: BLE001 - 404 (or anything else): just upload
            pass
        try:
            self.client.put_object(Bucket=self.bucket, Key=key, Body=data)
        except Exception as e:  # noqa: BLE001 - botocore's errors, in words
            raise StorageError("putting %s: %s" % (name, e))


def open_storage(uri):
    scheme = urllib.parse.urlsplit(uri).scheme
    try:
        if scheme == "redis":
            return Redis(uri)
        if scheme in ("s3", "gs"):
            return S3(uri)
    except OSError as e:
        raise StorageError("cannot reach %s: %s" % (safe_uri(uri), e))
    raise Refused("unsupported storage URI scheme '%s' (redis://, s3://, gs://)" % scheme)


def safe_uri(uri):
    u = urllib.parse.urlsplit(uri)
    if u.password is None:
        return uri
    host = u.hostname + (":%d" % u.port if u.port else "")
    return urllib.parse.urlunsplit((u.scheme, (u.username + "@" if u.username else "") + host, u.path, u.query, ""))


# ---------------------------------------------------------------- the handler


def failure(kind, message):
    return {"kind": kind, "exit_code": -1, "signal": 0, "message": message, "stdout_tail": "",
            "stderr_tail": "", "seconds": 0, "outputs": [], "hermetic": False}


def fetch_inputs(store, blobs, names):
    """Downloads the objects `blobs` lacks, within the /tmp budget."""
    missing = [n for n in dict.fromkeys(object_of(n) for n in names)
               if not os.path.exists(os.path.join(blobs, n))]
    need = sum(size_of(n) for n in missing)
    budget = os.environ.get("GG_LAMBDA_TMP_BUDGET")
    room = int(budget) if budget else shutil.disk_usage(blobs).free
    if need > room and not budget:
        # A warm function's cache has filled /tmp: keep only this thunk's inputs.
        keep = set(object_of(n) for n in names)
        for f in os.listdir(blobs):
            if f not in keep:
                try:
                    os.unlink(os.path.join(blobs, f))
                except OSError:
                    pass
        room = shutil.disk_usage(blobs).free
    if need > room:
        raise Refused("the thunk's inputs need %d bytes in /tmp but the function has room for %d "
                      "(GG_LAMBDA_TMP_BUDGET or the function's ephemeral storage): run it on another engine "
                      "or give the function more ephemeral storage" % (need, room))
    batch, batch_bytes = [], 0
    for n in missing + [None]:
        if n is not None:
            batch.append(n)
            batch_bytes += size_of(n)
        if batch and (n is None or batch_bytes >= 32 << 20):
            for name, data in store.get_many(batch).items():
                actual = name_of(data)
                if actual != name:
                    raise StorageError("object %s in the store does not match its name (its content hashes "
                                       "to %s): the stored copy is damaged" % (name, actual))
                fd, tmp = tempfile.mkstemp(dir=blobs, prefix=".in.")
                with os.fdopen(fd, "wb") as f:
                    f.write(data)
                os.chmod(tmp, 0o444)
                os.replace(tmp, os.path.join(blobs, name))
            batch, batch_bytes = [], 0
    return need


def worker_budget(event, context):
    """Seconds the worker may take thunks: the event's budget, capped by the
    invocation's time left less a margin for the thunks it still runs (a
    tenth, at most 60 s); None when neither is known."""
    budget = event.get("budget")
    budget = float(budget) if budget else None
    if context is not None and hasattr(context, "get_remaining_time_in_millis"):
        left = context.get_remaining_time_in_millis() / 1000.0
        room = max(1.0, left - min(60.0, left * 0.1))
        budget = room if budget is None else min(budget, room)
    return budget


def serve_as_worker(event, root, context=None):
    """The long-running mode: connect back to the coordinator as a gg worker
    and run its thunks until the job ends, or drain near the invocation's
    time budget (the coordinator then starts a replacement); objects travel
    on the connection."""
    try:
        connect, secret, slots = event["connect"], event["secret"], int(event.get("slots", 1))
        budget = worker_budget(event, context)
    except (KeyError, TypeError, ValueError) as e:
        return {"mode": "worker", "exit": 2, "error": "handler: malformed worker event (%s)" % e}
    os.makedirs(root, exist_ok=True)
    fd, secret_path = tempfile.mkstemp(dir=root, prefix="secret.")
    with os.fdopen(fd, "w") as f:
        f.write(secret + "\n")
    try:
        argv = [EXECUTOR, "worker", "--connect", connect, "--secret-file", secret_path,
                "--slots", str(slots), "--cache", os.path.join(root, "worker")]
        if budget is not None:
            argv += ["--budget", "%.3f" % budget]
        run = subprocess.run(argv, capture_output=True)
    finally:
        os.unlink(secret_path)
    err = run.stderr.decode(errors="replace")
    if err:
        sys.stderr.write(err)
    return {"mode": "worker", "exit": run.returncode, "error": err[-2000:]}


def handler(event, context=None):
    if isinstance(event, (str, bytes)):
        event = json.loads(event)
    root = os.environ.get("GG_LAMBDA_DIR", "/tmp/gg")
    if isinstance(event, dict) and event.get("mode") == "worker":
        return serve_as_worker(event, root, context)
    blobs = os.path.join(root, "blobs")
    os.makedirs(blobs, exist_ok=True)
    try:
        thunk = base64.b64decode(event["thunk"])
        names = list(event.get("objects", []))
        uri = event["storage"]
    except (KeyError, TypeError, ValueError) as e:
        return failure("setup_failed", "handler: malformed event (%s): expected thunk, objects, storage" % e)
    store = None
    try:
        store = open_storage(uri)
        fetch_inputs(store, blobs, names)
        fd, thunk_path = tempfile.mkstemp(dir=root, prefix="thunk.")
        with os.fdopen(fd, "wb") as f:
            f.write(thunk)
        timeout = None
        if context is not None and hasattr(context, "get_remaining_time_in_millis"):
            left = context.get_remaining_time_in_millis() / 1000.0
            timeout = max(0.5, left - min(5.0, left * 0.1))  # time to report and upload
        try:
            run = subprocess.run([EXECUTOR, "run", root, thunk_path], capture_output=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            return failure("crashed", "on lambda: the function's time limit (%.0f s left when the thunk started) "
                           "ran out while the thunk ran: raise the function's timeout" % timeout)
        finally:
            os.unlink(thunk_path)
        if run.stderr:
            sys.stderr.write(run.stderr.decode(errors="replace"))
        lines = run.stdout.decode(errors="replace").strip().splitlines()
        if not lines:
            return failure("crashed", "handler: gg-lambda exited with %d and no result; its stderr: %s"
                           % (run.returncode, run.stderr.decode(errors="replace")[-2000:]))
        result = json.loads(lines[-1])
        if result.get("kind") == "ok":
            for out in result.get("outputs", []):
                name = object_of(out["name"])
                with open(os.path.join(blobs, name), "rb") as f:
                    store.put(name, f.read())
        return result
    except Refused as e:
        return failure("setup_failed", "on lambda: " + str(e))
    except (StorageError, OSError) as e:
        return failure("setup_failed", "on lambda: shared store %s: %s" % (safe_uri(uri), e))
    finally:
        if store is not None:
            store.close()
