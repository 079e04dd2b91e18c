"""The gg command's interface, as scripts use it."""
import base64
import hashlib
import json
import os
import subprocess
import unittest

from ggtest import GG, GGTestCase


def expected_name(content, letter="V"):
    digest = base64.urlsafe_b64encode(hashlib.sha256(content).digest()).decode().rstrip("=").replace("-", ".")
    return f"{letter}{digest}{len(content):08x}"


class CliTest(GGTestCase):
    def test_every_command_has_help(self):
        for cmd in ("init", "hash", "collect", "create-thunk", "force", "execute", "describe", "cat", "gc"):
            with self.subTest(cmd=cmd):
                p = self.gg(cmd, "--help")
                self.assertIn("usage: gg " + cmd, p.stdout)
        self.assertIn("commands:", self.gg("--help").stdout)
        self.assertEqual(self.gg("no-such-command", check=False).returncode, 2)

    def test_hash_matches_the_naming_scheme(self):
        path = os.path.join(self.dir, "f")
        content = os.urandom(100000)
        with open(path, "wb") as f:
            f.write(content)
        self.assertEqual(self.gg("hash", path).stdout.strip(), expected_name(content))
        self.assertEqual(self.collect(path), expected_name(content))
        with open(os.path.join(self.dir, ".gg", "blobs", expected_name(content)), "rb") as f:
            self.assertEqual(f.read(), content)

    def test_hash_works_without_a_store(self):
        path = os.path.join(self.dir, "f")
        with open(path, "wb") as f:
            f.write(b"abc")
        env = dict(self.env)
        env.pop("GG_DIR")
        p = subprocess.run([GG, "hash", path], cwd="/", env=env, capture_output=True, text=True)
        self.assertEqual(p.stdout.strip(), expected_name(b"abc"))

    def test_collect_prints_one_name_per_file(self):
        names = self.gg("collect", BUSYBOX_PATH, BUSYBOX_PATH).stdout.split()
        self.assertEqual(names, [self.busybox, self.busybox])

    def test_store_is_found_from_subdirectories(self):
        env = dict(self.env)
        env.pop("GG_DIR")
        sub = os.path.join(self.dir, "a", "b")
        os.makedirs(sub)
        p = subprocess.run([GG, "cat", self.busybox], cwd=sub, env=env, capture_output=True)
        self.assertEqual(p.returncode, 0, p.stderr)
        p = subprocess.run([GG, "cat", self.busybox], cwd="/", env=env, capture_output=True, text=True)
        self.assertEqual(p.returncode, 3)
        self.assertIn("gg init", p.stderr)

    def test_create_thunk_and_describe(self):
        v = self.value("data\n", "v")
        t = self.gg("create-thunk", "-v", f"{v}=input.txt", "-e", f"{self.busybox}=/bin/sh", "-o", "out",
                    "-o", "log", "-E", "LANG=C", "-T", "2.5", "-C", "ph", self.busybox,
                    "sh", "-c", "cat @{GG:" + v + "} > out; echo > log").stdout.strip()
        self.assertTrue(t.startswith("T") and len(t) == 52)
        d = json.loads(self.gg("describe", "--json", t).stdout)
        self.assertEqual(d["function"], self.busybox)
        self.assertEqual(d["args"], ["sh", "-c", "cat @{GG:" + v + "} > out; echo > log"])
        self.assertEqual(d["env"], ["LANG=C"])
        self.assertEqual(d["outputs"], ["out", "log"])
        self.assertEqual(d["timeout_ms"], 2500)
        paths = {i["name"]: i["sandbox_path"] for i in d["inputs"]}
        self.assertEqual(paths, {v: "/work/input.txt", self.busybox: "/bin/sh"})
        text = self.gg("describe", t).stdout
        self.assertIn("input: " + v + " at /work/input.txt", text)
        with open(os.path.join(self.dir, "ph")) as f:
            self.assertIn(t, f.read())
        self.force("ph")
        with open(os.path.join(self.dir, "ph")) as f:
            self.assertEqual(f.read(), "data\n")

    def test_create_thunk_rejects_what_is_not_stored(self):
        missing = expected_name(b"never collected")
        p = self.gg("create-thunk", "-v", missing, "-o", "out", self.busybox, "sh", check=False)
        self.assertEqual(p.returncode, 3)
        self.assertIn("gg collect", p.stderr)
        p = self.gg("create-thunk", "-t", self.busybox, "-o", "out", self.busybox, "sh", check=False)
        self.assertEqual(p.returncode, 2)
        p = self.gg("create-thunk", "-o", "../out", self.busybox, "sh", check=False)
        self.assertEqual(p.returncode, 2)

    def test_execute_runs_one_thunk(self):
        t = self.sh_thunk("echo executed > out")
        lines = self.gg("execute", t).stdout.split()
        self.assertEqual(lines[0], "out")
        self.assertEqual(self.cat(lines[1]), "executed\n")
        self.assertEqual(self.cat(t + "#out"), "executed\n")

    def test_cat_detects_a_flipped_byte(self):
        v = self.value("precious\n", "v")
        blob = os.path.join(self.dir, ".gg", "blobs", v)
        os.chmod(blob, 0o644)
        with open(blob, "r+b") as f:
            f.write(b"P")
        p = self.gg("cat", v, check=False)
        self.assertEqual(p.returncode, 3)
        self.assertIn("does not match its name", p.stderr)

    def test_gc_drops_only_unreferenced_objects(self):
        keep = self.value("used\n", "keep")
        drop = self.value("unused\n", "drop")
        t = self.sh_thunk("cat k > out", inputs=[(keep, "k")])
        out = self.force(t).stdout.strip()
        self.assertIn("removed 1 objects", self.gg("gc").stdout)
        blobs = os.listdir(os.path.join(self.dir, ".gg", "blobs"))
        self.assertNotIn(drop, blobs)
        for name in (keep, t, out, self.busybox):
            self.assertIn(name, blobs)
        self.assertEqual(self.force(t).stdout.strip(), out)


    @unittest.skipUnless(os.geteuid() == 0, "mounting a small tmpfs needs root")
    def test_full_disk_is_reported_and_leaves_no_object(self):
        small = os.path.join(self.dir, "small")
        os.makedirs(small)
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", small], check=True)
        try:
            env = dict(self.env, GG_DIR=os.path.join(small, ".gg"))
            subprocess.run([GG, "init"], env=env, check=True, capture_output=True)
            big = os.path.join(self.dir, "big")
            with open(big, "wb") as f:
                f.write(os.urandom(3 << 20))
            p = subprocess.run([GG, "collect", big], env=env, capture_output=True, text=True)
            self.assertEqual(p.returncode, 3)
            self.assertIn("disk is full", p.stderr)
            self.assertEqual(os.listdir(os.path.join(small, ".gg", "blobs")), [])
            self.assertEqual(os.listdir(os.path.join(small, ".gg", "tmp")), [])
        finally:
            subprocess.run(["umount", small], check=False)


BUSYBOX_PATH = "/usr/bin/busybox"

if __name__ == "__main__":
    unittest.main()
