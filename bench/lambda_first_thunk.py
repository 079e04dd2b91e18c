#!/usr/bin/env python3
"""Time from `gg force` to the first thunk running through serverless-offline
(the handler from `gg lambda deploy`, run by serverless@3 +
serverless-offline@13, started here as in tests/lambda_test.py) with a
loopback Redis store, and on the local engine, in one run
(bench/first_thunk.py).
Usage: bench/lambda_first_thunk.py [RUNS]"""
import sys
import time

import first_thunk
import lambda_test
from storage_servers import RedisServer


def main():
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    node_modules = lambda_test.ensure_serverless()
    redis = RedisServer().start()
    started = time.time()
    offline = lambda_test.Offline(node_modules)
    print(f"serverless offline ready {time.time() - started:.2f} s after it was started")
    try:
        engine = f"lambda={offline.function('gg')},endpoint={offline.endpoint()},region=us-east-1"
        first_thunk.compare({"lambda": ["--storage", redis.uri(), "--engine", engine],
                             "local": ["--engine", "local"]}, runs,
                            env={"AWS_ACCESS_KEY_ID": "offline", "AWS_SECRET_ACCESS_KEY": "offline"})
    finally:
        offline.stop()
        redis.stop()


if __name__ == "__main__":
    main()
