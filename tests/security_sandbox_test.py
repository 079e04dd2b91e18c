"""The sandbox against a hostile thunk (issue 10; docs/sandbox.md, "Security").

Each test is an attack through the real `gg`, asserting it fails with a clear
error and leaves the host as it was. The older escape tests sit in
hermetic_test.py (undeclared files, writing outside the work dir, read-only
inputs, loopback network, capabilities and environment); docs/security.md
lists both together with the store's and the protocol's tests.
"""
import ctypes
import os
import shutil
import subprocess
import tempfile
import unittest
import uuid

from ggtest import GGTestCase, ROOT

PROBE_SOURCE = os.path.join(ROOT, "tests", "data", "sandbox_probe.c")
_probe_dir = None


def probe_binary():
    """tests/data/sandbox_probe.c built static (once per run)."""
    global _probe_dir
    if _probe_dir is None:
        _probe_dir = tempfile.mkdtemp(prefix="gg-probe-")
        subprocess.run(["gcc", "-static", "-O2", "-o", os.path.join(_probe_dir, "probe"), PROBE_SOURCE],
                       check=True)
    return os.path.join(_probe_dir, "probe")


def tearDownModule():
    if _probe_dir is not None:
        shutil.rmtree(_probe_dir, ignore_errors=True)


def read(path):
    with open(path) as f:
        return f.read()


class SandboxSecurityTest(GGTestCase):
    def setUp(self):
        super().setUp()
        self.probe = self.collect(probe_binary())

    def probe_thunk(self, script):
        """A busybox script with the probe at /bin/probe (on its PATH)."""
        return self.gg("create-thunk", "-e", f"{self.busybox}=/bin/sh", "-e", f"{self.probe}=/bin/probe",
                       "-E", "PATH=/bin", "-o", "out", self.busybox, "sh", "-c", script).stdout.strip()

    def force_out(self, thunk):
        return self.cat(self.force(thunk).stdout.strip())

    def force_with(self, extra_env, *args):
        """gg force with more environment (the limits' overrides)."""
        saved = self.env
        self.env = dict(saved, **extra_env)
        try:
            return self.gg("force", *args, check=False)
        finally:
            self.env = saved

    def assert_failed_once(self, p):
        """A thunk's own failure: reported, not retried as infrastructure."""
        self.assertNotEqual(p.returncode, 0, p.stderr)
        self.assertNotIn("gave up after", p.stderr)
        self.assertIn("failed", p.stderr)

    # Finding 3: host uid 0 could write /proc/sys.
    @unittest.skipUnless(os.geteuid() == 0, "the dedicated uid is used when gg runs as root")
    def test_program_is_not_host_root_and_proc_sys_is_read_only(self):
        before = {k: read(f"/proc/sys/{k}") for k in ("fs/file-max", "kernel/core_pattern")}
        t = self.sh_thunk("(echo 12345 > /proc/sys/fs/file-max) 2>/dev/null && echo file-max >> out; "
                          "(echo '|/bin/evil' > /proc/sys/kernel/core_pattern) 2>/dev/null && echo core >> out; "
                          "(echo 1 > /proc/sysrq-trigger) 2>/dev/null && echo sysrq >> out; "
                          "cat /proc/kcore 2>/dev/null | head -c 1 | wc -c >> out; id -u >> out")
        try:
            name = self.force(t).stdout.strip()
            self.assertEqual(self.cat(name).split(), ["0", "1000"])
            for k, v in before.items():
                self.assertEqual(read(f"/proc/sys/{k}"), v, k)
        finally:
            # A gg without the defence changes the host: put it back.
            for k, v in before.items():
                if read(f"/proc/sys/{k}") != v:
                    with open(f"/proc/sys/{k}", "w") as f:
                        f.write(v)
        # The output was written by the program: its owner is its host uid.
        owners = {os.stat(os.path.join(d, f)).st_uid
                  for d, _, files in os.walk(os.path.join(self.dir, ".gg", "blobs")) for f in files if f == name}
        self.assertEqual(len(owners), 1)
        self.assertNotEqual(owners.pop(), 0)

    # Finding 4: mount points were created on the host.
    def test_input_path_through_proc_magic_link_is_refused(self):
        victim = f"/tmp/gg-escape-{uuid.uuid4().hex}"
        v = self.value("x\n", "v")
        t = self.sh_thunk("echo ran > out", inputs=[(v, f"/proc/1/root{victim}/created")])
        p = self.force(t, check=False)
        self.assert_failed_once(p)
        self.assertIn(f"/proc/1/root{victim}/created", p.stderr)
        self.assertIn("the thunk cannot run", p.stderr)
        self.assertFalse(os.path.exists(victim))

    def test_input_path_through_tree_symlink_is_refused(self):
        victim = f"/tmp/gg-escape-{uuid.uuid4().hex}"
        tree_dir = os.path.join(self.dir, "t")
        os.makedirs(tree_dir)
        os.symlink(victim, os.path.join(tree_dir, "link"))
        tree = self.collect(tree_dir)
        v = self.value("x\n", "v")
        for where in ("/opt/t", "sub"):  # absolute, and in the work dir
            with self.subTest(where=where):
                t = self.sh_thunk("echo ran > out", inputs=[(tree, where), (v, f"{where}/link/created")])
                p = self.force(t, check=False)
                self.assert_failed_once(p)
                self.assertIn("goes through a symlink", p.stderr)
                self.assertFalse(os.path.exists(victim))

    # Finding 5: the caller's session keyring was readable and writable.
    def test_session_keyring_is_out_of_reach(self):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.syscall.restype = ctypes.c_long
        KEY_SPEC_SESSION_KEYRING = -3
        serial = libc.syscall(248, b"user", b"gg-test-secret", b"hunter2", 7, KEY_SPEC_SESSION_KEYRING)  # add_key
        if serial < 0:
            self.skipTest(f"cannot add a key here: errno {ctypes.get_errno()}")
        try:
            t = self.probe_thunk(f"probe keyread {serial} > out; probe keyadd >> out; "
                                 "wc -c < /proc/keys >> out")
            self.assertEqual(self.force_out(t).split(), ["EPERM", "EPERM", "0"])
        finally:
            libc.syscall(250, 3, serial)  # keyctl(KEYCTL_REVOKE)

    # The seccomp filter; finding 9's AF_VSOCK.
    def test_seccomp_refuses_what_a_build_never_needs(self):
        t = self.probe_thunk("for c in vsock unshare-user clone3 bpf netlink-usersock; do probe $c >> out; done; "
                             "unshare -U true 2>/dev/null && echo unshared >> out; true")
        self.assertEqual(self.force_out(t).split(), ["EPERM", "EPERM", "ENOSYS", "EPERM", "EPERM"])

    # Finding 9: sandboxes shared one network namespace.
    def test_concurrent_sandboxes_cannot_talk(self):
        # Either mechanism: a Landlock domain per program (EPERM), or a
        # network namespace per sandbox (nobody listens there: ECONNREFUSED).
        for mode, refused in (("", "EPERM"), ("each", "ECONNREFUSED")):
            with self.subTest(GG_SANDBOX_NETNS=mode):
                name = f"gg-test-{uuid.uuid4().hex}"
                listener = self.probe_thunk(f"probe listen {name} 4 > out")
                talker = self.probe_thunk(f"probe connect {name} 3 > out")
                p = self.force_with({"GG_SANDBOX_NETNS": mode}, "-j", "2", listener, talker)
                self.assertEqual(p.returncode, 0, p.stderr)
                outs = [self.cat(n).strip() for n in p.stdout.split()]
                self.assertEqual(outs[0], "EINTR")
                self.assertIn(outs[1], ("EPERM", "ECONNREFUSED"))
                if mode == "each":
                    self.assertEqual(outs[1], refused)

    # Finding 6: no limits.
    def test_fork_bomb_fails_cleanly(self):
        t = self.probe_thunk("probe forks 3000 && echo > out")
        p = self.force(t, check=False)
        self.assert_failed_once(p)
        self.assertRegex(p.stderr, r"made \d+ of 3000: EAGAIN")

    def test_tmp_filler_fails_with_a_clear_message_and_gg_survives(self):
        t = self.sh_thunk("dd if=/dev/zero of=/tmp/fill bs=1M count=512 && echo filled > out")
        p = self.force_with({"GG_LIMIT_TMP": "64M"}, t)
        self.assert_failed_once(p)
        self.assertEqual(p.returncode, 1, p.stderr)  # gg itself ended normally
        self.assertIn("No space left on device", p.stderr)

    def test_memory_hog_is_reported_as_exceeding_its_limit_once(self):
        t = self.probe_thunk("probe hog > out")
        trace = os.path.join(self.dir, "trace.json")
        p = self.force_with({"GG_LIMIT_MEMORY": "256M"}, "--trace", trace, t)
        self.assert_failed_once(p)
        self.assertIn("exceeded its 256 MiB memory limit", p.stderr)
        runs = [e for e in self.trace(trace) if e.get("cat") == "running" and e["args"]["thunk"] == t]
        self.assertEqual(len(runs), 1, runs)


if __name__ == "__main__":
    unittest.main()
