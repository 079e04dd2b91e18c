"""npm packages the end-to-end tests run (serverless-offline, the Functions
Framework): installed on first use into $GG_TEST_NPM_DIR (default
/var/cache/gg-test-npm), one node_modules shared by the tests."""
import os
import shutil
import subprocess
import unittest

NPM_DIR = os.environ.get("GG_TEST_NPM_DIR", "/var/cache/gg-test-npm")


def ensure(binary, packages, modules):
    """NPM_DIR/node_modules once `binary` (in .bin) and `modules` are there,
    installing `packages` if not (about a minute); skips the test without npm."""
    node_modules = os.path.join(NPM_DIR, "node_modules")
    if os.path.exists(os.path.join(node_modules, ".bin", binary)) and all(
            os.path.isdir(os.path.join(node_modules, m)) for m in modules):
        return node_modules
    if shutil.which("npm") is None:
        raise unittest.SkipTest("npm is not installed")
    os.makedirs(NPM_DIR, exist_ok=True)
    p = subprocess.run(["npm", "install", "--no-audit", "--no-fund", *packages],
                       cwd=NPM_DIR, capture_output=True, text=True, timeout=600)
    if p.returncode != 0:
        raise RuntimeError("npm install failed:\n" + p.stdout[-2000:] + p.stderr[-2000:])
    return node_modules
