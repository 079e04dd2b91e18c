"""The fibonacci example: tail recursion plus memoization gives O(N) thunks."""
import os
import subprocess
import tempfile
import unittest

from ggtest import GG, FIB, ROOT


class FibonacciTest(unittest.TestCase):
    def test_fib_90(self):
        with tempfile.TemporaryDirectory() as d:
            env = dict(os.environ, GG=GG, FIB=FIB, GG_DIR=os.path.join(d, ".gg"))
            run = os.path.join(ROOT, "examples", "fibonacci", "run")
            p = subprocess.run([run, "90"], env=env, capture_output=True, text=True, timeout=300)
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertEqual(p.stdout.splitlines()[-1], "2880067194370816120")
            # Each fib(k) and each add(k) runs once; reductions are also kept
            # under the resolved add thunks' names.
            reductions = os.listdir(os.path.join(d, ".gg", "reductions"))
            self.assertLess(len(reductions), 4 * 91)
            # Again: everything is memoized, the answer is the same.
            p = subprocess.run([run, "90"], env=env, capture_output=True, text=True, timeout=60)
            self.assertEqual(p.stdout.splitlines()[-1], "2880067194370816120")
            self.assertEqual(len(os.listdir(os.path.join(d, ".gg", "reductions"))), len(reductions))


if __name__ == "__main__":
    unittest.main()
