"""What a thunk can and cannot reach: only its inputs, its working directory
and a private /tmp; no network, no other files, no privileges."""
import os
import socket
import threading
import unittest

from ggtest import GGTestCase


class HermeticTest(GGTestCase):
    def run_script(self, script, **kw):
        t = self.sh_thunk(script, **kw)
        return t, self.force(t, check=False)

    def test_undeclared_file_is_invisible(self):
        t, p = self.run_script("cat /etc/passwd > out")
        self.assertEqual(p.returncode, 1)
        self.assertIn("/etc/passwd", p.stderr)

    def test_cannot_write_outside_working_directory(self):
        for target in ("/out-of-bounds", "/bin/evil", "/work/../escape"):
            with self.subTest(target=target):
                t, p = self.run_script(f"echo x > {target} && echo x > out")
                self.assertEqual(p.returncode, 1, p.stderr)
        t, p = self.run_script("echo tmp > /tmp/scratch && cat /tmp/scratch > out")
        self.assertEqual(p.returncode, 0, p.stderr)

    def test_inputs_are_read_only(self):
        v = self.value("original\n", "v")
        t, p = self.run_script("echo changed > v; chmod 666 v; cat v > out", inputs=[(v, "v")])
        self.assertEqual(self.cat(v), "original\n")

    def test_no_network_even_to_loopback(self):
        server = socket.socket()
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        server.settimeout(3)
        port = server.getsockname()[1]
        accepted = []

        def accept():
            try:
                conn, _ = server.accept()
                accepted.append(conn)
            except OSError:
                pass

        thread = threading.Thread(target=accept)
        thread.start()
        t, p = self.run_script(f"echo hi | nc -w 1 127.0.0.1 {port} && echo connected > out")
        thread.join()
        server.close()
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertEqual(accepted, [])

    def test_no_privileges_and_clean_environment(self):
        t = self.sh_thunk("id -u > out; grep -E '^(CapEff|NoNewPrivs)' /proc/self/status >> out; env | sort >> out",
                          env=["ONLY=this"])
        out = self.cat(self.force(t).stdout.strip())
        lines = out.splitlines()
        self.assertEqual(lines[0], "1000")
        self.assertIn("CapEff:\t0000000000000000", lines)
        self.assertIn("NoNewPrivs:\t1", lines)
        env = [l for l in lines if "=" in l]
        self.assertIn("ONLY=this", env)
        self.assertNotIn("HOME", " ".join(env))
        self.assertNotIn("GG_DIR", " ".join(env))

    def test_tree_input_is_mounted_whole(self):
        tree_dir = os.path.join(self.dir, "toolchain")
        os.makedirs(os.path.join(tree_dir, "include", "sys"))
        with open(os.path.join(tree_dir, "include", "sys", "a.h"), "w") as f:
            f.write("int a;\n")
        os.symlink("sys/a.h", os.path.join(tree_dir, "include", "a.h"))
        tree = self.collect(tree_dir)
        self.assertTrue(tree.startswith("D"))
        t = self.sh_thunk("cat /opt/tc/include/a.h > out; touch /opt/tc/x 2>/dev/null && echo writable >> out; true",
                          inputs=[(tree, "/opt/tc")])
        self.assertEqual(self.cat(self.force(t).stdout.strip()), "int a;\n")


if __name__ == "__main__":
    unittest.main()
