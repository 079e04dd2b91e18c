"""End-to-end tests of staged compiles (docs/models.md): a discovery thunk
runs the preprocessor in the sandbox and outputs the compile thunk, so an
edit that a compile does not see recompiles nothing, and the bytes match a
plain build."""
import filecmp
import json
import os
import re
import shutil
import subprocess
import tempfile
import unittest

from ggtest import GG

FILES = {
    "inc/a.h": "#define A 1\n",
    "inc/b.h": "#define B 2\n",
    "inc/unused.h": "#define UNUSED 1\n",
    "other/x.h": "#define X 40\n",
    "other/inc2/README": "no headers read from here\n",
    "src/a.c": '#include <stdio.h>\n#include "a.h"\nint a(void) { return A; }\n',
    # "../x.h" is found through -Iother/inc2 only: that directory must exist
    # in the compile's sandbox although no file in it is read.
    "src/b.c": '#include "b.h"\n#include "../x.h"\nint b(void) { return B + X; }\n',
    "src/main.c": '#include <stdio.h>\nint a(void); int b(void);\n'
                  'int main(void) { printf("%d\\n", a() + b()); return 0; }\n',
    "Makefile": "CFLAGS ?= -g -O2\n"
                "ALL_CFLAGS = $(CFLAGS) -Iinc -Iother/inc2\n"
                "prog: src/a.o src/b.o src/main.o\n\t$(CC) -o $@ $^\n"
                "src/%.o: src/%.c\n\t$(CC) $(ALL_CFLAGS) -c -o $@ $<\n"
                "clean:\n\trm -f prog src/*.o src/*.d\n",
}
PRODUCTS = ["prog", "src/a.o", "src/b.o", "src/main.o"]


def can_run():
    if os.geteuid() != 0:
        return "needs root (a private mount namespace for the models)"
    return None


@unittest.skipIf(can_run(), can_run())
class StagedCompileTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        # One store for the class: the toolchain is captured once.
        cls.store = tempfile.mkdtemp(prefix="gg-staged-store-")
        cls.env = dict(os.environ, GG_DIR=os.path.join(cls.store, ".gg"))
        subprocess.run([GG, "init"], env=cls.env, check=True, capture_output=True)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.store, ignore_errors=True)

    def setUp(self):
        # Each test its own project directory, so no result is shared.
        self.dir = tempfile.mkdtemp(prefix="gg-staged-")
        self.src = os.path.join(self.dir, "proj")
        for path, text in FILES.items():
            self.write(path, text)

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def write(self, path, text):
        full = os.path.join(self.src, path)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "w") as f:
            f.write(text)

    def run_in(self, *cmd):
        p = subprocess.run(list(cmd), cwd=self.src, env=self.env, capture_output=True, text=True, timeout=300)
        if p.returncode != 0:
            self.fail(f"{' '.join(cmd)} exited {p.returncode}\nstdout: {p.stdout}\nstderr: {p.stderr}")
        return p

    def read_files(self, paths):
        """{path: bytes} of files in the project."""
        out = {}
        for p in paths:
            with open(os.path.join(self.src, p), "rb") as f:
                out[p] = f.read()
        return out

    @staticmethod
    def run_results(trace):
        """The result of every sandbox run in a --trace file, in order."""
        with open(trace) as f:
            events = json.load(f)
        events = events["traceEvents"] if isinstance(events, dict) else events
        return [e["args"]["result"] for e in events if e.get("cat") == "running"]

    def gg_build(self, cflags):
        """A clean gg build; returns (ran, memoized)."""
        self.run_in("make", "clean")
        out = self.run_in(GG, "build", "-j", "2", "--", "make", "CFLAGS=" + cflags).stderr
        m = re.search(r"(\d+) thunks \((\d+) ran, (\d+) memoized\), 0 ran locally", out)
        self.assertIsNotNone(m, out)
        # Three compiles, each a discovery and a compile thunk, and the link.
        self.assertEqual(int(m.group(1)), 7, out)
        return int(m.group(2)), int(m.group(3))

    def gg_build_runs(self, cflags):
        """A clean gg build; the sandbox runs as (compiles, text checks,
        discoveries, others), each a list of commands. A text check is a
        preprocessor run over what a cold compile read (docs/models.md)."""
        self.run_in("make", "clean")
        trace = os.path.join(self.dir, "runs-trace.json")
        self.run_in(GG, "build", "-j", "2", "--trace", trace, "--", "make", "CFLAGS=" + cflags)
        with open(trace) as f:
            events = json.load(f)
        events = events["traceEvents"] if isinstance(events, dict) else events
        compiles, checks, discoveries, others = [], [], [], []
        for e in events:
            if e.get("cat") != "running":
                continue
            cmd = e["args"]["command"]
            if cmd.startswith("/gg/discover --text-only"):
                checks.append(cmd)
            elif cmd.startswith("/gg/discover"):
                discoveries.append(cmd)
            elif " -c " in cmd:
                compiles.append(cmd)
            else:
                others.append(cmd)
        return compiles, checks, discoveries, others

    def output(self):
        return self.run_in("./prog").stdout

    def assert_same_as_plain(self, cflags):
        self.run_in("make", "clean")
        self.run_in("make", "CFLAGS=" + cflags)
        plain = os.path.join(self.dir, "plain")
        shutil.rmtree(plain, ignore_errors=True)
        os.makedirs(plain)
        for p in PRODUCTS:
            shutil.copy(os.path.join(self.src, p), os.path.join(plain, p.replace("/", "_")))
        self.gg_build(cflags)
        for p in PRODUCTS:
            self.assertTrue(filecmp.cmp(os.path.join(self.src, p), os.path.join(plain, p.replace("/", "_")),
                                        shallow=False), f"{p} differs from the plain build ({cflags})")

    def test_debug_build_recompiles_only_what_reads_an_edit(self):
        flags = "-g -O2"
        self.assert_same_as_plain(flags)
        self.assertEqual(self.output(), "43\n")
        # A header nobody includes: every discovery runs again, no compile.
        self.write("inc/unused.h", "#define UNUSED 2\n")
        ran, _ = self.gg_build(flags)
        self.assertLessEqual(ran, 4)  # 3 discoveries (+ the link, which sees inc/)
        # b.h changes: b.c alone is recompiled, and the result is right.
        self.write("inc/b.h", "#define B 5\n")
        ran, memoized = self.gg_build(flags)
        self.assertEqual(ran, 5)  # 3 discoveries, b's compile, the link
        self.assertEqual(memoized, 2)
        self.assertEqual(self.output(), "46\n")
        self.assert_same_as_plain(flags)

    def test_without_debug_info_an_edit_that_leaves_the_preprocessed_text_compiles_nothing(self):
        flags = "-O2"
        self.assert_same_as_plain(flags)
        # A comment: b.c's preprocessed text is unchanged (same line count).
        # The cold build compiled in the files form, without the text: each
        # discovery that runs again also gets the text the cold compile saw
        # (a preprocessor run each), finds it the same, and so the compile.
        self.write("inc/b.h", "#define B 2 /* two */\n")
        compiles, checks, discoveries, _ = self.gg_build_runs(flags)
        self.assertEqual(compiles, [])
        self.assertEqual((len(checks), len(discoveries)), (3, 3))
        self.assertEqual(self.output(), "43\n")
        # A real change: b alone compiles; the checks are memoized.
        self.write("inc/b.h", "#define B 7\n")
        compiles, checks, discoveries, _ = self.gg_build_runs(flags)
        self.assertEqual(len(compiles), 1, compiles)
        self.assertIn("src/b.o", compiles[0])
        self.assertEqual((len(checks), len(discoveries)), (0, 3))
        self.assertEqual(self.output(), "48\n")
        # Back to the cold build's files: its discoveries, memoized, again.
        self.write("inc/b.h", "#define B 2\n")
        self.assertEqual(self.gg_build_runs(flags), ([], [], [], []))
        self.assertEqual(self.output(), "43\n")
        self.assert_same_as_plain(flags)

    def test_cold_build_discovers_and_compiles_in_one_sandbox_and_keeps_the_cut_off(self):
        # Nothing memoized: each compile is one sandbox (the discovery
        # thunk's substitute), which also records the compile thunk's result;
        # after an edit no compile reads, the split discovery finds that
        # compile memoized. -MD: the command's own list; -g: gcc's
        # $SUNPRO_DEPENDENCIES list; -O2: the preprocessed text.
        # -MD -MT -MF: CMake's Ninja generator's form of the command's own list.
        # -MMD -MP (git's, many Makefiles'): its list leaves out system
        # headers, so the discovery's preprocessor runs first, same sandbox.
        for plain_flags, dep in (("-g -O2", "-MD"), ("-g -O2", "-MD -MT $@ -MF $@.d"), ("-g -O2", ""), ("-O2", ""),
                                 ("-g -O2", "-MMD -MP -MF $@.d")):
            flags = (plain_flags + " " + dep).strip()
            with self.subTest(flags=flags):
                self.write("Makefile", FILES["Makefile"].replace("-Iother/inc2", "-Iother/inc2 " + dep))
                self.write("inc/unused.h", "#define UNUSED 1 /* %s */\n" % flags)
                self.assert_same_as_plain(plain_flags)
                # assert_same_as_plain's gg build was cold (a new store entry per flags)
                self.write("inc/unused.h", "#define UNUSED 3 /* %s */\n" % flags)
                if plain_flags == "-O2" and not dep:
                    # The preprocessed-text form: the cold run compiled in the
                    # files form, and each discovery gets the text it saw.
                    compiles, checks, discoveries, _ = self.gg_build_runs(plain_flags)
                    self.assertEqual(compiles, [], "the compiles recorded by the combined runs")
                    self.assertEqual((len(checks), len(discoveries)), (3, 3))
                    self.assertEqual(self.output(), "43\n")
                    continue
                ran, memoized = self.gg_build(plain_flags)
                self.assertEqual(memoized, 3, "the compiles recorded by the combined runs")
                self.assertLessEqual(ran, 4)
                self.assertEqual(self.output(), "43\n")

    def test_cold_build_without_debug_info_runs_no_preprocessor(self):
        # The preprocessed-text form's cold run compiles once, in the files
        # form ($SUNPRO_DEPENDENCIES lists what it read), not `gcc -E` first.
        compiles, checks, discoveries, _ = self.gg_build_runs("-O2")
        self.assertEqual((compiles, checks), ([], []))
        self.assertEqual(len(discoveries), 3)
        for d in discoveries:
            self.assertIn("--files-template", d)
        self.assertEqual(self.output(), "43\n")
        # Nothing changed: every discovery memoized, no check needed.
        self.assertEqual(self.gg_build_runs("-O2"), ([], [], [], []))

    def test_cold_build_runs_one_sandbox_per_compile(self):
        # -MMD (git's form) and -MM lists leave out system headers: there
        # the discovery's preprocessor runs first, in the same sandbox.
        for flags in ("-g -O2", "-g -O2 -MMD -MP", "-g -O2 -Wp,-MMD,$@.d", "-O2 -MMD"):
            with self.subTest(flags=flags):
                self.run_in("make", "clean")
                trace = os.path.join(self.dir, "cold-trace.json")
                out = self.run_in(GG, "build", "-j", "2", "--trace", trace, "--", "make", "CFLAGS=" + flags).stderr
                # 3 discoveries reduced to 3 compiles, and the link: the 6 of
                # the compiles ran (the link may be memoized: -MMD leaves the
                # objects alone), but in 3 sandboxes, the combined runs.
                m = re.search(r"7 thunks \((\d) ran, (\d) memoized\)", out)
                self.assertIsNotNone(m, out)
                self.assertEqual(int(m.group(1)), 7 - int(m.group(2)), out)
                self.assertGreaterEqual(int(m.group(1)), 6, out)
                with open(trace) as f:
                    events = json.load(f)
                events = events["traceEvents"] if isinstance(events, dict) else events
                self.assertEqual(len({e["args"]["thunk"] for e in events if e.get("cat") == "running"}),
                                 int(m.group(1)) - 3)
                self.assertEqual(self.output(), "43\n")

    def test_dependency_file_in_a_directory_of_dependency_files(self):
        # automake's `-MD -MP -MF $(DEPDIR)/x.Tpo`: .deps/ holds only
        # dependency files (config.status's `# dummy` ones at first), which
        # the view leaves out, so the directory is not in the view. The
        # compile thunk's sandbox makes its outputs' directories; the
        # combined run must too (libpng, xz: "opening dependency file
        # .deps/x.Tpo: No such file or directory", then a split rerun of
        # every compile). -MMD: the preprocessor runs first, then the compile.
        for dep in ("-MD", "-MMD"):
            with self.subTest(dep=dep):
                self.write("Makefile", FILES["Makefile"].replace(
                    "-c -o $@ $<", "-MT $@ %s -MP -MF src/.deps/$*.Tpo -c -o $@ $<\n"
                    "\tmv -f src/.deps/$*.Tpo src/.deps/$*.Po" % dep).replace(
                    "rm -f prog src/*.o src/*.d", "rm -f prog src/*.o") +
                    "include src/.deps/a.Po src/.deps/b.Po src/.deps/main.Po\n")
                for name in ("a", "b", "main"):
                    self.write("src/.deps/%s.Po" % name, "# dummy\n")
                self.write("inc/unused.h", "#define UNUSED 1 /* %s */\n" % dep)
                self.run_in("make", "clean")
                self.run_in("make", "CFLAGS=-g -O2")
                plain = self.read_files(PRODUCTS)
                self.run_in("make", "clean")
                trace = os.path.join(self.dir, "deps-trace.json")
                out = self.run_in(GG, "build", "-j", "2", "--trace", trace, "--", "make", "CFLAGS=-g -O2").stderr
                self.assertIsNotNone(re.search(r"7 thunks \(7 ran, 0 memoized\), 0 ran locally", out), out)
                self.assertEqual(self.read_files(PRODUCTS), plain, dep)
                # 3 combined runs and the link: no failed run, no split rerun.
                self.assertEqual(self.run_results(trace), ["ok"] * 4, out)
                self.assertEqual(self.output(), "43\n")

    def test_has_include_of_a_file_that_comes_and_goes(self):
        # __has_include finds inc/opt.h without reading it (gcc does not list
        # it), through a wrapper macro defined in another header as fmt does:
        # the compile thunk must see it exist (empty) exactly when the plain
        # compile does. -MD: the combined run (the command's own list); -g:
        # $SUNPRO_DEPENDENCIES; -MMD: the preprocessor, then the compile.
        self.write("inc/b.h", "#define B 2\n#define HAS(x) __has_include(x)\n")
        self.write("src/b.c", '#include "b.h"\n#include "../x.h"\n'
                              '#if HAS(<opt.h>)\nint has_opt = 1;\n#else\nint has_opt = 0;\n#endif\n'
                              'int b(void) { return B + X + has_opt; }\n')
        for i, dep in enumerate(("-MD", "", "-MMD")):
            with self.subTest(dep=dep):
                self.write("Makefile", FILES["Makefile"].replace("-Iother/inc2", "-Iother/inc2 " + dep))
                flags = "-g -O2 -DCASE%d" % i  # a new command per subtest: a cold build
                opt = os.path.join(self.src, "inc", "opt.h")
                self.assert_same_as_plain(flags)
                self.assertEqual(self.output(), "43\n")
                self.write("inc/opt.h", "/* found, never included */\n")
                self.assert_same_as_plain(flags)
                self.assertEqual(self.output(), "44\n")
                # Its content is never read: an edit recompiles nothing.
                self.write("inc/opt.h", "/* edited */\n")
                ran, _ = self.gg_build(flags)
                self.assertLessEqual(ran, 4, "the three discoveries and the link (it sees inc/)")
                self.assertEqual(self.output(), "44\n")
                os.remove(opt)
                self.assert_same_as_plain(flags)
                self.assertEqual(self.output(), "43\n")

    def test_objects_outside_the_compile_dir_and_files_the_assembler_reads(self):
        # ncurses' layout (make -C src, objects in ../obj), and inline asm
        # that `.incbin`s a data file the preprocessor does not list.
        self.write("Makefile", "all:\n\t$(MAKE) -C src\nclean:\n\trm -rf obj prog\n")
        self.write("src/Makefile", "CFLAGS ?= -g -O2\n../prog: ../obj/a.o ../obj/b.o\n\t$(CC) -o $@ $^\n"
                                   "../obj/b.o: blob.bin\n"
                                   "../obj/%.o: %.c\n\tmkdir -p ../obj\n\t$(CC) $(CFLAGS) -I../inc -c $< -o $@\n")
        self.write("src/a.c", '#include <stdio.h>\n#include "a.h"\nextern const char blob[];\n'
                              'int main(void) { printf("%d %s\\n", A, blob); return 0; }\n')
        self.write("src/b.c", '__asm__(".section .rodata\\n.global blob\\nblob:\\n'
                              '.incbin \\"blob.bin\\"\\n.byte 0\\n.previous\\n");\n')
        products = ["prog", "obj/a.o", "obj/b.o"]
        for text in ("one", "two"):
            self.write("src/blob.bin", text)
            self.run_in("make", "clean")
            self.run_in("make")
            plain = {}
            for p in products:
                with open(os.path.join(self.src, p), "rb") as f:
                    plain[p] = f.read()
            self.run_in("make", "clean")
            err = self.run_in(GG, "build", "-j", "2", "--", "make").stderr
            self.assertNotIn("is outside the working directory", err.replace("../prog is outside", ""))
            # The link reads the objects: they are forced while the models run.
            self.assertRegex(err, r"forcing [1-9]|[1-9]\d* thunks", err)
            for p in products:
                with open(os.path.join(self.src, p), "rb") as f:
                    self.assertEqual(f.read(), plain[p], f"{p} differs from the plain build ({text})")
            self.assertEqual(self.run_in("./prog").stdout, f"1 {text}\n")
            self.assertFalse(os.path.exists(os.path.join(self.src, "src", ".gg-out.a.o")))

    def test_objects_and_dependency_files_outside_the_compile_dir(self):
        # automake's subdir-objects from another directory (c-ares' and
        # curl's tools: `-MT ../lib/x.o -MD -MP -MF ../lib/.deps/x.Tpo -c -o
        # ../lib/x.o ../lib/x.c`): -MT names the targets, so neither file
        # holds the -o name and both move into the work dir with the same
        # bytes. Without -MT the list's target is the -o name: still local.
        # -MD: the command's own list in the combined run; -MMD: the
        # discovery's preprocessor first.
        for flags, target, dep, local in (("-g -O2", "-MT $@", "-MD", False), ("-O2", "-MQ $@", "-MMD", False),
                                          ("-g -O2", "", "-MD", True)):
            with self.subTest(flags=flags, target=target, dep=dep):
                self.write("Makefile", "all:\n\t$(MAKE) -C src\nclean:\n\trm -rf obj prog\n")
                self.write("src/Makefile",
                           "../prog: ../obj/a.o ../obj/b.o\n\t$(CC) -o $@ $^\n"
                           "../obj/%%.o: %%.c\n\tmkdir -p ../obj/.deps\n"
                           "\t$(CC) $(CFLAGS) -I../inc %s %s -MP -MF ../obj/.deps/$*.Tpo -c $< -o $@\n"
                           "\tmv -f ../obj/.deps/$*.Tpo ../obj/.deps/$*.Po\n" % (target, dep))
                self.write("src/a.c", '#include <stdio.h>\n#include "a.h"\nint b(void);\n'
                                      'int main(void) { printf("%d\\n", A + b()); return 0; }\n')
                self.write("src/b.c", '#include "b.h"\nint b(void) { return B; }\n')
                products = ["prog", "obj/a.o", "obj/b.o", "obj/.deps/a.Po", "obj/.deps/b.Po"]
                self.run_in("make", "clean")
                self.run_in("make", "CFLAGS=" + flags)
                plain = self.read_files(products)
                self.run_in("make", "clean")
                trace = os.path.join(self.dir, "outside-trace.json")
                err = self.run_in(GG, "build", "-j", "2", "--trace", trace, "--", "make", "CFLAGS=" + flags).stderr
                # Each compile ran once, in the combined run: none failed and ran again split.
                results = self.run_results(trace)
                self.assertEqual(results, ["ok"] * len(results), err)
                if not local:
                    self.assertEqual(len(results), 2, err)
                outside = "output ../obj/a.o is outside the working directory"
                # (the link's `-o ../prog` runs locally either way)
                if local:
                    self.assertIn(outside, err)
                else:
                    self.assertNotIn("output ../obj/", err)
                    self.assertRegex(err, r"\d+ thunks \(\d+ ran, \d+ memoized\), 1 ran locally", err)
                self.assertEqual(self.read_files(products), plain, f"{flags} {target} {dep}")
                self.assertEqual(self.run_in("./prog").stdout, "3\n")
                self.assertEqual([n for n in os.listdir(os.path.join(self.src, "src")) if n.startswith(".gg-")], [])

    def test_assembler_sources_and_files_the_assembler_or_linker_writes(self):
        # gmp and nettle compile m4's output, `x.s`, which gcc hands to the
        # assembler unpreprocessed: no dependency list names it (-M, -MD and
        # $SUNPRO_DEPENDENCIES write nothing), and `.include` reads another
        # file. A listing (-Wa,-adhln=) or a map (-Wl,-Map) is a file the
        # thunk would not declare: those commands run for real.
        self.write("f.s", '\t.include "val.inc"\n\t.text\n\t.globl f\n\t.type f, @function\n'
                          'f:\n\tmovl $VAL, %eax\n\tret\n\t.section .note.GNU-stack,"",@progbits\n')
        self.write("h.asm", '\t.text\n\t.globl h\nh:\n\tmovl $2, %eax\n\tret\n'
                            '\t.section .note.GNU-stack,"",@progbits\n')
        self.write("main.c", '#include <stdio.h>\nint f(void), g(void), h(void);\n'
                             'int main(void) { printf("%d %d %d\\n", f(), g(), h()); return 0; }\n')
        self.write("g.c", "int g(void) { return 1; }\n")
        self.write("Makefile", "CFLAGS ?= -O2\nasm: f.o g.o h.o main.o l.o\n\t$(CC) -o $@ f.o g.o h.o main.o\n"
                               "\t$(CC) -o asm2 f.o g.o h.o main.o -Wl,-Map,asm2.map\n"
                               "f.o: f.s val.inc\n\t$(CC) $(CFLAGS) -c f.s -o f.o -MD\n"
                               "h.o: h.asm\n\t$(CC) $(CFLAGS) -x assembler -c h.asm\n"
                               "l.o: f.s val.inc\n\t$(CC) -c f.s -o l.o -Wa,-adhln=l.lst\n"
                               "clean:\n\trm -f asm asm2 *.o *.d *.lst *.map\n")
        products = ["asm", "asm2", "f.o", "g.o", "h.o", "main.o", "l.o", "l.lst"]
        for flags, val in (("-O2", "5"), ("-g -O2", "6")):
            with self.subTest(flags=flags):
                self.write("val.inc", "\t.set VAL, %s\n" % val)
                self.run_in("make", "clean")
                self.run_in("make", "CFLAGS=" + flags)
                plain = {}
                for p in products:
                    with open(os.path.join(self.src, p), "rb") as f:
                        plain[p] = f.read()
                self.run_in("make", "clean")
                err = self.run_in(GG, "build", "-j", "2", "--", "make", "CFLAGS=" + flags).stderr
                self.assertIn("2 commands ran locally", err)
                self.assertIn("-Wa,-adhln=l.lst", err)
                self.assertIn("-Wl,-Map", err)
                for p in products:
                    with open(os.path.join(self.src, p), "rb") as f:
                        self.assertEqual(f.read(), plain[p], f"{p} differs from the plain build ({flags})")
                self.assertTrue(os.path.exists(os.path.join(self.src, "asm2.map")))
                self.assertFalse(os.path.exists(os.path.join(self.src, "f.d")))  # gcc writes none for x.s
                self.assertEqual(self.run_in("./asm").stdout, f"{val} 1 2\n")

    def test_link_of_a_thin_archive_reads_its_members(self):
        # Meson makes every internal static library a thin archive (`ar
        # csrDT`), which holds only its members' paths: ld opens them.
        self.write("Makefile", "prog: main.o lib/libab.a\n\t$(CC) -o $@ main.o lib/libab.a\n"
                               "lib/libab.a: lib/libab.a.p/a.o lib/libab.a.p/b.o\n\tar csrDT $@ $^\n"
                               "lib/libab.a.p/%.o: src/%.c\n\tmkdir -p lib/libab.a.p\n"
                               "\t$(CC) -O2 -Iinc -Iother/inc2 -c $< -o $@\n"
                               "main.o: src/main.c\n\t$(CC) -O2 -c $< -o $@\n"
                               "clean:\n\trm -rf prog main.o lib\n")
        self.run_in("make")
        with open(os.path.join(self.src, "prog"), "rb") as f:
            plain = f.read()
        self.run_in("make", "clean")
        err = self.run_in(GG, "build", "-j", "2", "--", "make").stderr
        self.assertIn("1 command ran locally", err)  # the thin archive's ar
        self.assertRegex(err, r"ar csrDT .*\[ar: ar csrDT\]")
        with open(os.path.join(self.src, "prog"), "rb") as f:
            self.assertEqual(f.read(), plain)
        self.assertEqual(self.output(), "43\n")

    def test_libraries_the_driver_adds_link_as_in_a_plain_build(self):
        # -fopenmp makes gcc add -lgomp (libgomp.spec); gcc's dir holds
        # libgomp.so -> ../../../x86_64-linux-gnu/libgomp.so.1 and libgomp.a.
        # With the link's target missing from the sandbox, ld took libgomp.a:
        # exit 0, a bigger program without DT_NEEDED libgomp.so.1 (pixman).
        self.write("omp.c", '#include <stdio.h>\n#include <omp.h>\n'
                            'int main(void) { int n = 0;\n#pragma omp parallel reduction(+:n)\n n = 1;\n'
                            ' printf("%d\\n", n > 0); return 0; }\n')
        self.write("Makefile", "omp: omp.c\n\t$(CC) -O2 -fopenmp -o $@ omp.c\nclean:\n\trm -f omp\n")
        self.run_in("make")
        with open(os.path.join(self.src, "omp"), "rb") as f:
            plain = f.read()
        self.run_in("make", "clean")
        err = self.run_in(GG, "build", "--", "make").stderr
        self.assertIn("0 ran locally", err)
        with open(os.path.join(self.src, "omp"), "rb") as f:
            self.assertEqual(f.read(), plain, "omp differs from the plain build")
        self.assertEqual(self.run_in("./omp").stdout, "1\n")

    def test_preprocessor_error_names_the_thunk_and_shows_the_message(self):
        self.write("src/b.c", '#include "missing.h"\nint b(void) { return 0; }\n')
        self.run_in("make", "clean")
        p = subprocess.run([GG, "build", "--", "make"], cwd=self.src, env=self.env, capture_output=True,
                           text=True, timeout=300)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("missing.h: No such file or directory", p.stderr)
        self.assertRegex(p.stderr, r"thunk T\S+ failed")


    def test_canonical_paths_share_results_between_checkouts(self):
        flags = "-g -O2"
        self.write("src/where.c", '#include <stdio.h>\nint main(void) { puts(__FILE__); return 0; }\n')
        self.write("Makefile", FILES["Makefile"] + "where: $(CURDIR)/src/where.c\n\t$(CC) $(CFLAGS) -o $@ $<\n")
        other = os.path.join(self.dir, "checkouts", "second")
        shutil.copytree(self.src, other)
        counts = []
        for where in (self.src, other):
            p = subprocess.run([GG, "build", "--canonical-paths", "--", "make", "CFLAGS=" + flags, "prog", "where"],
                               cwd=where, env=self.env, capture_output=True, text=True, timeout=300)
            self.assertEqual(p.returncode, 0, p.stderr)
            counts.append(re.search(r"\((\d+) ran, (\d+) memoized\)", p.stderr).groups())
        self.assertEqual(counts[1][0], "0", counts)  # the second checkout ran nothing
        for product in ("prog", "src/b.o", "where"):
            self.assertTrue(filecmp.cmp(os.path.join(self.src, product), os.path.join(other, product), shallow=False))
        out = subprocess.run(["./where"], cwd=other, capture_output=True, text=True).stdout
        self.assertEqual(out, "/gg/root0/src/where.c\n")
        # Without the option the second checkout's thunks are its own.
        subprocess.run(["make", "clean"], cwd=other, check=True, capture_output=True)
        p = subprocess.run([GG, "build", "--", "make", "CFLAGS=" + flags, "prog"], cwd=other, env=self.env,
                           capture_output=True, text=True, timeout=300)
        self.assertNotIn("(0 ran", p.stderr)


    def test_program_built_and_run_during_the_build_generates_a_header(self):
        # gen is a placeholder when make runs it: the shell model forces it
        # and runs the real program, whose output (gen.h) the next compile
        # includes through the view.
        self.write("gen.c", '#include <stdio.h>\nint main(void) { puts("#define GENERATED 42"); return 0; }\n')
        self.write("use.c", '#include <stdio.h>\n#include "gen.h"\n'
                            'int main(void) { printf("%d\\n", GENERATED); return 0; }\n')
        self.write("Makefile", "all: use\ngen: gen.c\n\t$(CC) -O2 -o $@ $<\n"
                               "gen.h: gen\n\t./gen > $@\n"
                               "use: use.c gen.h\n\t$(CC) -O2 -o $@ use.c\n")
        p = self.run_in(GG, "build", "--", "make")
        self.assertIn("0 ran locally", p.stderr)
        self.assertEqual(self.run_in("./use").stdout, "42\n")
        with open(os.path.join(self.src, "gen.h")) as f:
            self.assertEqual(f.read(), "#define GENERATED 42\n")


    def test_cmake_unix_makefiles_generator(self):
        # CMake writes absolute compiler paths (/usr/bin/cc) into its
        # Makefiles, and builds out of tree: the source dir is a root too.
        self.write("CMakeLists.txt", "cmake_minimum_required(VERSION 3.13)\nproject(p C)\n"
                                     "include_directories(inc other/inc2)\n"
                                     "add_library(ab STATIC src/a.c src/b.c)\n"
                                     "add_executable(prog src/main.c)\ntarget_link_libraries(prog ab)\n")
        build = os.path.join(self.src, "build")
        os.makedirs(build)
        subprocess.run(["cmake", "-G", "Unix Makefiles", "-DCMAKE_BUILD_TYPE=RelWithDebInfo", ".."], cwd=build,
                       check=True, capture_output=True)
        products = ["prog", "libab.a", "CMakeFiles/ab.dir/src/b.c.o"]
        subprocess.run(["make", "-j2"], cwd=build, check=True, capture_output=True)
        plain = {}
        for product in products:
            with open(os.path.join(build, product), "rb") as f:
                plain[product] = f.read()
        subprocess.run(["make", "clean"], cwd=build, check=True, capture_output=True)
        p = subprocess.run([GG, "build", "--", "make", "-j2"], cwd=build, env=self.env, capture_output=True,
                           text=True, timeout=300)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("0 ran locally", p.stderr)
        for product in products:
            with open(os.path.join(build, product), "rb") as f:
                self.assertEqual(f.read(), plain[product], f"{product} differs from the plain build")
        self.assertEqual(subprocess.run(["./prog"], cwd=build, capture_output=True, text=True).stdout, "43\n")


    @unittest.skipIf(not shutil.which("clang"), "clang is not installed")
    def test_clang_and_clang_plus_plus(self):
        self.write("y.cc", '#include <iostream>\n#include "a.h"\nint main() { std::cout << A + 41 << "\\n"; }\n')
        self.write("Makefile", FILES["Makefile"] + "y: y.cc\n\t$(CXX) $(CFLAGS) -Iinc -o $@ $<\n")
        for flags in ("-g -O2", "-O2"):
            make = ["make", "CC=clang", "CXX=clang++", "CFLAGS=" + flags, "prog", "y"]
            self.run_in("make", "clean")
            self.run_in("rm", "-f", "y")
            self.run_in(*make)
            plain = {}
            for product in PRODUCTS + ["y"]:
                with open(os.path.join(self.src, product), "rb") as f:
                    plain[product] = f.read()
            self.run_in("make", "clean")
            self.run_in("rm", "-f", "y")
            out = self.run_in(GG, "build", "--", *make).stderr
            self.assertIn("0 ran locally", out)
            for product, content in plain.items():
                with open(os.path.join(self.src, product), "rb") as f:
                    self.assertEqual(f.read(), content, f"{product} ({flags}) differs from the plain build")
            self.assertEqual(self.run_in("./y").stdout, "42\n")
        # A clang command the model leaves alone runs for real, from the
        # bind-mounted copy, and still finds its own headers (stddef.h).
        self.write("s.c", "#include <stddef.h>\nsize_t n;\n")
        p = self.run_in(GG, "infer", "--", "sh", "-c", "clang -E s.c > s.i")
        self.assertIn("1 command ran locally", p.stderr)
        with open(os.path.join(self.src, "s.i")) as f:
            self.assertIn("size_t n;", f.read())


if __name__ == "__main__":
    unittest.main()
