"""The sandbox against a hostile thunk (issue 10; docs/sandbox.md, "Security").

Each test is an attack through the real `gg`, asserting it fails with a clear
error and leaves the host as it was. The older escape tests sit in
hermetic_test.py (undeclared files, writing outside the work dir, read-only
inputs, loopback network, capabilities and environment); docs/security.md
lists both together with the store's and the protocol's tests.
"""
import ctypes
import json
import os
import shutil
import subprocess
import tempfile
import unittest
import uuid

from ggtest import GGTestCase, ROOT, free_port, start_worker, stop_all

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

    # Limits per thunk and per force (issue 10): the thunk's own, then
    # gg force --limit-*, then GG_LIMIT_*, then the default.
    def df_thunk(self, tag, *limit_args):
        """Prints the sizes (KiB) of its /tmp and its work dir, as df sees them."""
        return self.gg("create-thunk", *limit_args, "-e", f"{self.busybox}=/bin/sh", "-E", "PATH=/bin",
                       "-o", "out", self.busybox, "sh", "-c",
                       f": {tag}; df -k /tmp . | tail -n 2 | tr -s ' ' | cut -d' ' -f2 | tr '\\n' ' ' > out"
                       ).stdout.strip()

    def test_limits_take_the_thunks_own_then_the_forces_then_the_environment(self):
        env = {"GG_LIMIT_TMP": "32M", "GG_LIMIT_WORKDIR": "48M"}
        cases = [
            ("own", ["--limit-tmp", "8M", "--limit-workdir", "12M"], "8192 12288"),
            ("force", [], "16384 20480"),
        ]
        for tag, own, expected in cases:
            with self.subTest(tag):
                t = self.df_thunk(tag, *own)
                p = self.force_with(env, "--limit-tmp", "16M", "--limit-workdir=20M", t)
                self.assertEqual(p.returncode, 0, p.stderr)
                self.assertEqual(self.cat(p.stdout.strip()).split(), expected.split())
        t = self.df_thunk("env")
        p = self.force_with(env, t)
        self.assertEqual(self.cat(p.stdout.strip()).split(), ["32768", "49152"])
        t = self.df_thunk("default")
        self.assertEqual(self.force_out(t).split(), [str(1 << 20), str(16 << 20)])

    def test_thunk_limits_are_shown_and_older_thunks_keep_their_names(self):
        plain = self.df_thunk("x")
        limited = self.df_thunk("x", "--limit-memory", "256M", "--limit-procs", "50")
        self.assertNotEqual(plain, limited)
        self.assertEqual(self.df_thunk("x"), plain)
        text = self.gg("describe", limited).stdout
        self.assertIn("limit: memory 256 MiB", text)
        self.assertIn("limit: 50 processes", text)
        self.assertNotIn("limit:", self.gg("describe", plain).stdout)
        described = json.loads(self.gg("describe", "--json", limited).stdout)
        self.assertEqual(described["limits"]["memory_bytes"], 256 << 20)
        self.assertEqual(described["limits"]["processes"], 50)
        self.assertNotIn("limits", json.loads(self.gg("describe", "--json", plain).stdout))
        for bad, why in ((["--limit-memory", "1M"], "too small"), (["--limit-tmp", "lots"], "not a size"),
                         (["--limit-file", "0"], "not a size")):
            with self.subTest(bad=bad):
                p = self.gg("create-thunk", *bad, "-o", "out", self.busybox, "sh", check=False)
                self.assertEqual(p.returncode, 2, p.stderr)
                self.assertIn(why, p.stderr)
        p = self.gg("force", "--limit-memory", "2X", plain, check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("--limit-memory", p.stderr)

    def test_thunk_memory_limit_is_its_own_whatever_the_force_says(self):
        t = self.gg("create-thunk", "--limit-memory", "256M", "-e", f"{self.busybox}=/bin/sh", "-e",
                    f"{self.probe}=/bin/probe", "-E", "PATH=/bin", "-o", "out", self.busybox, "sh", "-c",
                    "probe hog > out").stdout.strip()
        p = self.force_with({"GG_LIMIT_MEMORY": "4G"}, "--limit-memory", "2G", t)
        self.assert_failed_once(p)
        self.assertIn("exceeded its 256 MiB memory limit", p.stderr)

    # The work dir's total size (issue 10): a tmpfs of that size.
    def test_work_dir_filler_fails_with_its_own_message_once_and_gg_survives(self):
        t = self.gg("create-thunk", "--limit-workdir", "8M", "-e", f"{self.busybox}=/bin/sh", "-E", "PATH=/bin",
                    "-o", "out", self.busybox, "sh", "-c",
                    "for i in 1 2 3 4; do dd if=/dev/zero of=f$i bs=1M count=3 || exit 1; done; echo > out"
                    ).stdout.strip()
        trace = os.path.join(self.dir, "trace.json")
        p = self.force(t, args=("--trace", trace), check=False)
        self.assert_failed_once(p)
        self.assertEqual(p.returncode, 1, p.stderr)  # gg itself ended normally
        self.assertIn(t, p.stderr)
        self.assertIn("exceeded its 8 MiB work-dir limit", p.stderr)
        runs = [e for e in self.trace(trace) if e.get("cat") == "running" and e["args"]["thunk"] == t]
        self.assertEqual(len(runs), 1, runs)
        # Many small files count too, not only each file's size.
        many = self.sh_thunk("i=0; while [ $i -lt 64 ]; do dd if=/dev/zero of=f$i bs=64k count=1 2>/dev/null "
                             "|| exit 1; i=$((i+1)); done; echo > out")
        p = self.force_with({"GG_LIMIT_WORKDIR": "2M"}, many)
        self.assert_failed_once(p)
        self.assertIn("exceeded its 2 MiB work-dir limit", p.stderr)

    def test_empty_files_are_bounded_too(self):
        # An empty file takes no byte of size=, but an inode of kernel memory:
        # 4,096 files at most under an 8 MiB limit (one per 16 KiB, at least
        # 4,096). `: > f` is a shell builtin: no process per file.
        fill = "i=0; while [ $i -lt 6000 ]; do : > D/$i || exit 1; i=$((i+1)); done; echo > out"
        for where, env, message in (("f", {"GG_LIMIT_WORKDIR": "8M"}, "exceeded its 8 MiB work-dir limit"),
                                    ("/tmp/f", {"GG_LIMIT_TMP": "8M"}, "exceeded its 8 MiB /tmp limit")):
            with self.subTest(where=where):
                t = self.sh_thunk(f"mkdir -p {where} && " + fill.replace("D/", where + "/"))
                p = self.force_with(env, t)
                self.assert_failed_once(p)
                self.assertIn(message, p.stderr)
                self.assertIn("of files (4096, one per 16 KiB of the limit)", p.stderr)
        # Under the default 16 GiB, 6,000 files are nothing.
        self.force(self.sh_thunk(fill.replace("D/", "")))

    def test_a_reused_run_directory_shows_nothing_of_the_last_run(self):
        # The executor keeps a run's host directory for the next run: the
        # second thunk (which needs the first's output, so runs after it in
        # the same force) must see none of the first's files, stdout or stderr.
        first = self.sh_thunk("echo secret > out; echo left > extra; echo printed-by-the-first; "
                              "echo said-by-the-first >&2")
        second = self.sh_thunk("ls -a; cat in; exit 3", thunks=[(first, "in")])
        p = self.force(second, check=False)
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertIn("exited with status 3", p.stderr)
        self.assertIn("secret", p.stderr)  # its input, printed by it
        for leftover in ("printed-by-the-first", "said-by-the-first", "extra"):
            self.assertNotIn(leftover, p.stderr)
        self.assertEqual(self.cat(first).strip(), "secret")

    def test_outputs_come_out_of_the_capped_work_dir_whole(self):
        t = self.gg("create-thunk", "-e", f"{self.busybox}=/bin/sh", "-E", "PATH=/bin", "-o", "sub/out",
                    "-o", "tool", self.busybox, "sh", "-c",
                    "dd if=/dev/urandom of=sub/out bs=64k count=40 2>/dev/null; printf '#!/bin/sh\\n' > tool; "
                    "chmod 755 tool; sleep 100 & true").stdout.strip()
        self.force(t)
        reduction = json.loads(self.gg("describe", "--json", t).stdout)["reduction"]
        self.assertEqual(os.path.getsize(os.path.join(self.dir, ".gg", "blobs", reduction["sub/out"])), 40 * 65536)
        tool = os.path.join(self.dir, ".gg", "blobs-x", reduction["tool"])
        self.gg("cat", reduction["tool"])


class RemoteLimitsTest(GGTestCase):
    """Limits and set-up failures through a `gg worker` on loopback: the
    thunk's limits travel in the thunk, the force's in the Run message, and
    a set-up failure that is the thunk's own comes back as such (once)."""

    def setUp(self):
        super().setUp()
        self.secret = os.path.join(self.dir, "secret")
        with open(self.secret, "w") as f:
            f.write("correct horse battery staple\n")
        self.workers = []

    def tearDown(self):
        stop_all(self.workers)
        super().tearDown()

    def remote_force(self, *args):
        """Forces on a fresh `gg worker --connect` (which ends with the force)."""
        addr = f"127.0.0.1:{free_port()}"
        self.workers.append(start_worker(self.dir, f"w{len(self.workers)}", addr, self.secret, self.env, slots=2))
        trace = os.path.join(self.dir, f"trace-{uuid.uuid4().hex}.json")
        p = self.gg("force", "--engine", f"remote={addr}", "--secret-file", self.secret, "--trace", trace,
                    *args, check=False, timeout=120)
        return p, self.trace(trace)

    def runs(self, trace, thunk):
        return [e for e in trace if e.get("cat") == "running" and e["args"]["thunk"] == thunk]

    def test_limits_reach_the_worker(self):
        own = self.gg("create-thunk", "--limit-workdir", "12M", "-e", f"{self.busybox}=/bin/sh", "-E", "PATH=/bin",
                      "-o", "out", self.busybox, "sh", "-c",
                      "df -k /tmp . | tail -n 2 | tr -s ' ' | cut -d' ' -f2 | tr '\\n' ' ' > out").stdout.strip()
        p, _ = self.remote_force("--limit-tmp", "16M", "--limit-workdir", "20M", own)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(self.cat(p.stdout.strip()).split(), ["16384", "12288"])
        filler = self.gg("create-thunk", "--limit-workdir", "4M", "-e", f"{self.busybox}=/bin/sh", "-E",
                         "PATH=/bin", "-o", "out", self.busybox, "sh", "-c",
                         "dd if=/dev/zero of=f bs=1M count=8 && echo > out").stdout.strip()
        p, trace = self.remote_force(filler)
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertIn("exceeded its 4 MiB work-dir limit", p.stderr)
        self.assertNotIn("gave up after", p.stderr)
        self.assertEqual(len(self.runs(trace, filler)), 1)

    def test_a_set_up_failure_of_the_thunks_own_is_reported_once(self):
        v = self.value("x\n", "v")
        t = self.sh_thunk("echo ran > out", inputs=[(v, "/proc/1/root/tmp/gg-escape/created")])
        p, trace = self.remote_force(t)
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertIn("the thunk cannot run", p.stderr)
        self.assertNotIn("gave up after", p.stderr)
        self.assertEqual(len(self.runs(trace, t)), 1, p.stderr)
        self.assertFalse(os.path.exists("/tmp/gg-escape/created"))


if __name__ == "__main__":
    unittest.main()
