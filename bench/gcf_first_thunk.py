#!/usr/bin/env python3
"""Time from `gg force` to the first thunk running through the Google Cloud
Functions Functions Framework (the source `gg gcf package` writes, served by
@google-cloud/functions-framework@3 from npm, started here as in
tests/gcf_test.py) with a loopback Redis store, and on the local engine, in
one run (bench/first_thunk.py).
Usage: bench/gcf_first_thunk.py [RUNS]"""
import sys
import time

import first_thunk
import gcf_test
from storage_servers import RedisServer


def main():
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    node_modules = gcf_test.ensure_framework()
    redis = RedisServer().start()
    started = time.time()
    fn = gcf_test.Framework(node_modules)
    print(f"functions framework ready {time.time() - started:.2f} s after it was started")
    try:
        first_thunk.compare({"gcf": ["--storage", redis.uri(), "--engine", f"gcf={fn.url}"],
                             "local": ["--engine", "local"]}, runs)
    finally:
        fn.stop()
        redis.stop()


if __name__ == "__main__":
    main()
