"""Input views (docs/sandbox.md, "Input views"): a thunk's many file inputs
below its work dir are shown through one overlay layer of hard links made
once per store. It must still see exactly its inputs with their modes, never
change the store through them, and several gg processes must be able to make
the same view at once."""
import os
import re
import subprocess
import time

from ggtest import GG, GGTestCase


class InputViewTest(GGTestCase):
    def files(self, count, prefix="f", seed=""):
        """`count` small files in a few directories; returns [(name, relpath)]."""
        src = os.path.join(self.dir, "src")
        rels = []
        for i in range(count):
            rel = f"d{i % 3}/{prefix}{i}.h" if i % 4 else f"{prefix}{i}.h"
            path = os.path.join(src, rel)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w") as f:
                f.write(f"{seed}content {rel}\n")
            rels.append(rel)
        names = self.gg("collect", *[os.path.join(src, r) for r in rels]).stdout.split()
        return list(zip(names, rels))

    def views(self):
        d = os.path.join(self.dir, ".gg", "views")
        return sorted(os.listdir(d)) if os.path.isdir(d) else []

    def test_a_thunk_sees_exactly_its_inputs_with_their_modes(self):
        inputs = self.files(30)
        script = ("find . | sort > out; ls -l d1/f1.h | cut -c1-10 >> out; "
                  "cat d2/f5.h >> out; echo new > d2/made-here && cat d2/made-here >> out; "
                  # The view's directories are the program's, as mount points' are.
                  "echo owner $(stat -c %u d2 d0)-$(id -u) >> out")
        t = self.sh_thunk(script, inputs=inputs)
        out = self.cat(self.force(t).stdout.strip())
        listed = [line[2:] for line in out.splitlines() if line.startswith("./") and line != "./out"]
        dirs = {"d0", "d1", "d2"}
        self.assertEqual(sorted(listed), sorted([p for _, p in inputs] + list(dirs)))
        self.assertIn("-r--r--r--", out)
        self.assertIn("content d2/f5.h\n", out)
        self.assertIn("new\n", out)
        self.assertIn("owner 1000 1000-1000\n", out)
        self.assertEqual(len(self.views()), 1, "the inputs should have gone through one view")
        # Nothing the program made reached the view or the store.
        view = os.path.join(self.dir, ".gg", "views", self.views()[0])
        self.assertFalse(os.path.exists(os.path.join(view, "d2", "made-here")))
        self.assertFalse(os.path.exists(os.path.join(view, "out")))

    def test_executable_inputs_keep_their_bit(self):
        inputs = self.files(10)
        tool = os.path.join(self.dir, "tool.sh")
        with open(tool, "w") as f:
            f.write("#!/bin/sh\necho ran the tool\n")
        tool_name = self.collect(tool)
        args = ["create-thunk", "-e", f"{self.busybox}=/bin/sh", "-e", f"{tool_name}=tools/tool.sh"]
        for n, p in inputs:
            args += ["-v", f"{n}={p}"]
        args += ["-o", "out", self.busybox, "sh", "-c",
                 "ls -l tools/tool.sh f0.h | cut -c1-10 > out; tools/tool.sh >> out"]
        t = self.gg(*args).stdout.strip()
        out = self.cat(self.force(t).stdout.strip())
        self.assertEqual(out, "-r--r--r--\n-r-xr-xr-x\nran the tool\n")
        self.assertEqual(len(self.views()), 1)

    def test_writes_through_an_input_never_reach_the_store_or_the_next_run(self):
        inputs = self.files(20)
        victim, rel = inputs[1]  # d1/f1.h
        attack = (f"echo changed > {rel}; chmod 666 {rel}; echo changed >> {rel}; "
                  f"ln {rel} hard 2>/dev/null; echo changed > hard; "
                  f"rm -f d0/f4.h; mv d2/f2.h moved; rm -rf d0; "
                  f"echo changed > ../work/{rel}; echo escaped > ../escape; "
                  "echo done > out")
        self.force(self.sh_thunk(attack, inputs=inputs), check=False)
        self.assertEqual(self.cat(victim), f"content {rel}\n")
        blob = os.path.join(self.dir, ".gg", "blobs", victim)
        self.assertEqual(os.stat(blob).st_mode & 0o777, 0o444)
        with open(blob) as f:
            self.assertEqual(f.read(), f"content {rel}\n")
        # Another thunk with the same inputs (the same view) sees them whole.
        check = self.sh_thunk("find . -type f ! -name out | sort > out; cat d1/f1.h >> out", inputs=inputs)
        out = self.cat(self.force(check).stdout.strip())
        self.assertEqual(out, "".join(sorted(f"./{p}\n" for _, p in inputs)) + f"content {rel}\n")
        self.assertEqual(len(self.views()), 1)
        # The gc drops views; the next run makes its view again.
        def hash_cache_files():
            with open(os.path.join(self.dir, ".gg", "hashcache")) as f:
                keys = [tuple(line.split()[:2]) for line in f]
            return len(keys), len(set(keys))
        lines, files = hash_cache_files()
        self.assertGreater(lines, files)  # each link of a blob moved its ctime: a line more
        dropped = re.search(r"(\d+) outdated hash cache lines", self.gg("gc").stdout)
        self.assertIsNotNone(dropped)
        self.assertGreaterEqual(int(dropped.group(1)), lines - files)
        self.assertEqual(self.views(), [])
        lines, files = hash_cache_files()
        self.assertEqual(lines, files)  # one line a file, its last
        again = self.sh_thunk("cat d1/f1.h > out", inputs=inputs)
        self.assertEqual(self.cat(self.force(again).stdout.strip()), f"content {rel}\n")

    def test_gc_never_removes_a_view_under_a_running_thunk(self):
        inputs = self.files(20)
        t = self.sh_thunk("sleep 3; find . -type f ! -name out | wc -l > out; cat d1/f1.h >> out", inputs=inputs)
        force = subprocess.Popen([GG, "force", t], cwd=self.dir, env=self.env, stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True)
        for _ in range(100):
            if self.views():
                break
            time.sleep(0.05)
        time.sleep(0.5)  # the sandbox has mounted it (the gc must keep it: see InputViewTest.GcKeepsAViewARunHolds)
        self.gg("gc")
        out, err = force.communicate(timeout=120)
        self.assertEqual(force.returncode, 0, err)
        self.assertEqual(self.cat(out.strip()), "20\ncontent d1/f1.h\n")
        self.assertIn("1 input views", self.gg("gc").stdout)

    def test_thunks_of_one_force_sharing_inputs_each_see_their_own(self):
        # gg reads the inputs of thunks with the same inputs bytes once and
        # plans their view once: a thunk with one input changed must still
        # see exactly its own.
        inputs = self.files(100)
        changed_file = os.path.join(self.dir, "changed.h")
        with open(changed_file, "w") as f:
            f.write("changed content\n")
        changed = list(inputs)
        changed[1] = (self.collect(changed_file), inputs[1][1])  # d1/f1.h
        script = "cat d1/f1.h > out; ls d2 | wc -l >> out; echo {} >> out"
        thunks = [self.sh_thunk(script.format(1), inputs=inputs),
                  self.sh_thunk(script.format(2), inputs=inputs),
                  self.sh_thunk(script.format(3), inputs=changed),
                  self.sh_thunk(script.format(4), inputs=inputs)]
        outs = [self.cat(o) for o in self.force("-j", "1", *thunks).stdout.split()]
        in_d2 = sum(1 for _, p in inputs if p.startswith("d2/"))
        self.assertEqual(outs[0], f"content d1/f1.h\n{in_d2}\n1\n")
        self.assertEqual(outs[1], f"content d1/f1.h\n{in_d2}\n2\n")
        self.assertEqual(outs[2], f"changed content\n{in_d2}\n3\n")
        self.assertEqual(outs[3], f"content d1/f1.h\n{in_d2}\n4\n")
        self.assertEqual(len(self.views()), 2)

    def test_few_inputs_are_mounted_one_by_one(self):
        inputs = self.files(3)
        t = self.sh_thunk("cat f0.h d1/f1.h > out; rm f0.h 2>/dev/null || echo refused >> out", inputs=inputs)
        out = self.cat(self.force(t).stdout.strip())
        self.assertEqual(out, "content f0.h\ncontent d1/f1.h\nrefused\n")
        self.assertEqual(self.views(), [])

    def test_several_processes_make_the_same_and_overlapping_views_at_once(self):
        shared = self.files(200)
        other = self.files(50, prefix="g")
        targets = []
        for k in range(12):
            # Half the thunks see the shared files, half those plus others.
            inputs = shared + (other if k % 2 else [])
            targets.append(self.sh_thunk(f"find . -type f ! -name out | wc -l > out; echo {k} >> out", inputs=inputs))
        procs = []
        for i in range(4):
            mine = targets[i::2]  # each thunk is forced by two processes at once
            procs.append(subprocess.Popen([GG, "force", "-j", "2", *mine], cwd=self.dir, env=self.env,
                                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
        for p in procs:
            out, err = p.communicate(timeout=300)
            self.assertEqual(p.returncode, 0, err)
        for k, t in enumerate(targets):
            out = self.cat(self.force(t).stdout.strip())
            self.assertEqual(out, f"{200 + (50 if k % 2 else 0)}\n{k}\n")
        self.assertEqual(len(self.views()), 2)
        tmp = os.path.join(self.dir, ".gg", "tmp")
        self.assertEqual([e for e in os.listdir(tmp) if e.startswith("view.")], [])
