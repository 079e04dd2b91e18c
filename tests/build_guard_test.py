"""End-to-end tests of `gg build` never being silently wrong (docs/models.md):
the placeholder guard (programs of the build that read a just-built file see
its real content), compiles whose output is the compiler's default name, and
a failed build that leaves no placeholder behind. Each project is built
plainly, cleaned, built with gg and compared byte for byte."""
import collections
import os
import re
import signal
import subprocess
import tempfile
import time
import unittest

from models_test import GG, ProjectBuildCase
from staged_compile_test import can_run

PLACEHOLDER = b"#!/bin/sh\n# gg-placeholder "

# Each step reads a file a model only left a placeholder for: cp, a program
# that dlopens a just-built library (the library in plugins/, so the shell
# model, which forces *.so beside a program it runs, does not force it
# first), and Python reading an object.
GUARD = {
    "foo.c": "int foo(int x) { return 3 * x + 1; }\n",
    "bar.c": "int foo(int x) { return 5 * x; }\n",
    "loader.c": '#include <dlfcn.h>\n#include <stdio.h>\n'
                'int main(int argc, char** argv) {\n'
                '  void* h = dlopen(argv[1], RTLD_NOW);\n'
                '  if (!h) { fprintf(stderr, "dlopen: %s\\n", dlerror()); return 1; }\n'
                '  int (*f)(int) = (int (*)(int))dlsym(h, "foo");\n'
                '  FILE* out = fopen(argv[2], "w");\n'
                '  fprintf(out, "foo(4) = %d\\n", f(4));\n'
                '  return fclose(out);\n}\n',
    "Makefile": "CFLAGS = -O2\n"
                "all: copy.so dlopen.out foo.o.sha\n"
                "foo.o: foo.c\n\t$(CC) $(CFLAGS) -fPIC -c -o $@ $<\n"
                "plugins/libfoo.so: foo.o\n\tmkdir -p plugins\n\t$(CC) -shared -o $@ $<\n"
                "plugins/libbar.so: bar.c\n\tmkdir -p plugins\n\t$(CC) $(CFLAGS) -fPIC -shared -o $@ $<\n"
                "loader: loader.c\n\t$(CC) $(CFLAGS) -o $@ $< -ldl\n"
                "copy.so: plugins/libfoo.so\n\tcp plugins/libfoo.so copy.so\n"
                # No shell metacharacters: make execs the (placeholder) loader itself.
                "dlopen.out: loader plugins/libbar.so\n\t./loader ./plugins/libbar.so dlopen.out\n"
                "foo.o.sha: foo.o\n\tpython3 -c \"import hashlib,sys; "
                "print(hashlib.sha256(open('foo.o','rb').read()).hexdigest())\" > $@\n"
                "clean:\n\trm -rf *.o plugins loader copy.so dlopen.out foo.o.sha\n",
}
GUARD_PRODUCTS = ["foo.o", "plugins/libfoo.so", "plugins/libbar.so", "loader", "copy.so", "dlopen.out", "foo.o.sha"]

# readelf takes a file's size from stat() before it opens the file, which
# the guard (acting at open) cannot change: it must get the real library.
STAT_FIRST = {
    "foo.c": "int foo(int x) { return 3 * x + 1; }\n",
    "Makefile": "all: dynamic.txt\n"
                "libfoo.so: foo.c\n\t$(CC) -O2 -fPIC -shared -Wl,-soname,libfoo.so.1 -o $@ foo.c\n"
                "dynamic.txt: libfoo.so\n\treadelf -d libfoo.so > $@\n"
                "clean:\n\trm -f libfoo.so dynamic.txt\n",
}

# Compiles that name no output: the file is the compiler's default.
DEFAULT_OUTPUT = {
    "x.c": "int x(void) { return 1; }\n",
    "sub/y.c": '#include "y.h"\nint y(void) { return Y; }\n',
    "sub/y.h": "#define Y 2\n",
    "p.c": "int p(void) { return 3; }\n",
    "q.c": "int q(void) { return 4; }\n",
    "s.c": "int s(void) { return 5; }\n",
    "main.c": '#include <stdio.h>\nint x(void), y(void), p(void), q(void);\n'
              'int main(void) { printf("%d\\n", x() + y() + p() + q()); return 0; }\n',
    "Makefile": "CFLAGS = -O2\n"
                "all: a.out s.s main.i\n"
                "x.o: x.c\n\t$(CC) $(CFLAGS) -c x.c\n"              # preprocessed-text form
                "y.o: sub/y.c\n\t$(CC) $(CFLAGS) -Isub -c sub/y.c\n"  # -> ./y.o
                "p.o q.o: p.c q.c\n\t$(CC) $(CFLAGS) -c p.c q.c\n"   # several sources
                "s.s: s.c\n\t$(CC) $(CFLAGS) -S s.c\n"
                "main.i: main.c\n\t$(CC) -E main.c > main.i\n"
                "a.out: x.o y.o p.o q.o main.c\n\t$(CC) $(CFLAGS) main.c x.o y.o p.o q.o\n"
                "clean:\n\trm -f *.o a.out s.s main.i\n",
}
DEFAULT_PRODUCTS = ["x.o", "y.o", "p.o", "q.o", "s.s", "main.i", "a.out"]

# An automake-style project: make includes .deps/*.Po, written by -MD.
FAILING = {
    "a.c": "int a(void) { return 1; }\n",
    "b.c": "#ifdef BREAK\n#error broken on purpose\n#endif\nint b(void) { return 2; }\n",
    "main.c": '#include <stdio.h>\nint a(void), b(void);\nint main(void) { printf("%d\\n", a() + b()); return 0; }\n',
    ".deps/a.Po": "# dummy\n", ".deps/b.Po": "# dummy\n", ".deps/main.Po": "# dummy\n",
    "Makefile": "CFLAGS = -O2\n"
                "prog: a.o b.o main.o\n\t$(CC) -o $@ $^\n"
                "%.o: %.c\n\t$(CC) $(CFLAGS) -MT $@ -MD -MP -MF .deps/$*.Po -c -o $@ $<\n"
                "include .deps/a.Po\ninclude .deps/b.Po\ninclude .deps/main.Po\n"
                "clean:\n\trm -f *.o prog\n",
}

# A hand-written build.ninja whose compiles name their dependency files
# other than by -MF: -MD alone (gcc names it after -o) and -Wp,-MD,f (as
# Kbuild does). Ninja reads each the moment its command exits.
NINJA_DEPFILES = {
    "a.h": "#define A 7\n",
    "a.c": '#include "a.h"\nint a(void) { return A; }\n',
    "b.c": '#include <stdio.h>\n#include "a.h"\nint a(void);\n'
           'int main(void) { printf("%d\\n", a() + A); return 0; }\n',
    "build.ninja": "rule cc\n  command = gcc -O2 -MD -c $in -o $out\n  depfile = $dep\n  deps = gcc\n"
                   "rule kb\n  command = gcc -O2 -Wp,-MD,$dep -c $in -o $out\n  depfile = $dep\n  deps = gcc\n"
                   "rule link\n  command = gcc -o $out $in\n"
                   "build obj/a.o: cc a.c\n  dep = obj/a.d\n"
                   "build obj/b.o: kb b.c\n  dep = obj/.b.o.d\n"
                   "build app: link obj/a.o obj/b.o\n",
}
NINJA_DEPFILES_PRODUCTS = ["obj/a.o", "obj/b.o", "app"]

# CMake + Ninja: a code generator built and run during the build, its
# output compiled afterwards.
CODEGEN = {
    "gen.c": '#include <stdio.h>\n'
             'int main(int argc, char** argv) {\n'
             '  FILE* h = fopen(argv[1], "w"); FILE* c = fopen(argv[2], "w");\n'
             '  fprintf(h, "#define TABLE_SIZE 16\\nextern const int squares[TABLE_SIZE];\\n");\n'
             '  fprintf(c, "#include \\"table.h\\"\\nconst int squares[TABLE_SIZE] = {");\n'
             '  for (int i = 0; i < 16; ++i) fprintf(c, "%d, ", i * i);\n'
             '  fprintf(c, "};\\n");\n'
             '  return fclose(h) | fclose(c);\n}\n',
    "main.c": '#include <stdio.h>\n#include "table.h"\n'
              'int main(void) { int s = 0; for (int i = 0; i < TABLE_SIZE; ++i) s += squares[i];\n'
              '  printf("%d\\n", s); return 0; }\n',
    "CMakeLists.txt": "cmake_minimum_required(VERSION 3.16)\nproject(codegen C)\n"
                      "add_executable(gen gen.c)\n"
                      "add_custom_command(OUTPUT ${CMAKE_BINARY_DIR}/table.h ${CMAKE_BINARY_DIR}/table.c\n"
                      "  COMMAND gen ${CMAKE_BINARY_DIR}/table.h ${CMAKE_BINARY_DIR}/table.c DEPENDS gen)\n"
                      "add_library(table STATIC ${CMAKE_BINARY_DIR}/table.c)\n"
                      "target_include_directories(table PUBLIC ${CMAKE_BINARY_DIR})\n"
                      "add_executable(app main.c)\ntarget_link_libraries(app table)\n",
}
CODEGEN_PRODUCTS = ["gen", "table.h", "table.c", "libtable.a", "app"]

# CMake's precompiled headers: every compile gets `-include cmake_pch.hxx`,
# and gcc reads cmake_pch.hxx.gch beside it instead (a compile without it
# gives other bytes). The .gch itself differs between two plain builds.
PCH = {
    "CMakeLists.txt": "cmake_minimum_required(VERSION 3.16)\nproject(pch CXX)\n"
                      "add_executable(app a.cc main.cc)\n"
                      "target_precompile_headers(app PRIVATE <map> <string> common.h)\n"
                      "target_compile_options(app PRIVATE -g -O2)\n",
    "common.h": "#pragma once\n#include <string>\n"
                "inline std::string greet(const std::string& n) { return \"hi \" + n; }\n",
    "a.cc": '#include "common.h"\n'
            'std::string a() { std::map<int, std::string> m{{1, "x"}}; return greet(m[1]); }\n',
    "main.cc": "#include <iostream>\n#include <string>\nstd::string a();\n"
               "int main() { std::cout << a() << std::endl; }\n",
}
PCH_PRODUCTS = ["CMakeFiles/app.dir/a.cc.o", "CMakeFiles/app.dir/main.cc.o", "app"]

# Checks a Makefile makes with $(shell ...) while it is read: each compiles
# and links a test program, deletes it unread and branches on the exit status
# alone, which a model answering "exit 0" at once would get wrong.
PROBE = ("$(shell printf '\\043include <%s>\\nint main(void) { return 0; }\\n' > %s.c && "
         "$(CC) -o %s %s.c %s %s && rm -f %s %s.c && echo 1 || echo 0)")


def probe(name, header, libs="", redirect="2>/dev/null"):
    return PROBE % (header, name, name, name, libs, redirect, name, name)


CHECKS = {
    "main.c": '#include <stdio.h>\n#include "config.h"\n'
              'int main(void) { printf("%d %d %d\\n", HAVE_STDIO, HAVE_NOPE, HAVE_NOLIB); return 0; }\n',
    "Makefile": "HAVE_STDIO := " + probe("c_stdio", "stdio.h", "-lm") + "\n"
                "HAVE_NOPE := " + probe("c_nope", "gg_no_such_header.h") + "\n"
                # stderr shown: the missing library alone makes it run for real.
                "HAVE_NOLIB := " + probe("c_nolib", "stdio.h", "-lgg_no_such_lib", "") + "\n"
                # configure's way: what the compiler says goes to a file.
                "HAVE_CONF := " + probe("c_conf", "gg_no_such_header.h", "", "2>c_conf.err") + "\n"
                "all: prog\n"
                "config.h:\n\tprintf '#define HAVE_STDIO %s\\n#define HAVE_NOPE %s\\n#define HAVE_NOLIB %s\\n"
                "#define HAVE_CONF %s\\n' $(HAVE_STDIO) $(HAVE_NOPE) $(HAVE_NOLIB) $(HAVE_CONF) > $@\n"
                # An intermediate object deleted after the link: its command succeeds.
                "prog: main.c config.h\n\t$(CC) -O2 -c main.c -o main.o\n\t$(CC) -o $@ main.o\n\trm -f main.o\n"
                "clean:\n\trm -f prog config.h c_conf.err\n",
}

# The same kind of check with nothing that gives it away (stderr shown, no
# library): only verifying it after the build can tell.
LATE_CHECK = {
    "Makefile": "HAVE_LATE := " + probe("c_late", "gg_no_such_header_either.h", "", "") + "\n"
                "late.h:\n\techo '#define HAVE_LATE $(HAVE_LATE)' > $@\n"
                "clean:\n\trm -f late.h\n",
}

# CMake's configure checks run under gg build: try_compile builds each check
# in a scratch directory through ninja, whose pipe to cmake carries the
# compiler's stderr, and cmake reads only the exit status.
CMAKE_CHECKS = {
    "CMakeLists.txt": "cmake_minimum_required(VERSION 3.16)\nproject(checks C)\n"
                      "include(CheckIncludeFile)\ninclude(CheckCSourceCompiles)\n"
                      "check_include_file(stdio.h HAVE_STDIO)\n"
                      "check_include_file(gg_no_such_header.h HAVE_NOPE)\n"
                      "check_c_source_compiles(\"int main(void) { return gg_undeclared(); }\" HAVE_UNDECLARED)\n"
                      "configure_file(config.h.in config.h)\n"
                      "add_executable(prog main.c)\ntarget_include_directories(prog PRIVATE ${CMAKE_BINARY_DIR})\n",
    "config.h.in": "#cmakedefine01 HAVE_STDIO\n#cmakedefine01 HAVE_NOPE\n#cmakedefine01 HAVE_UNDECLARED\n",
    "main.c": '#include <stdio.h>\n#include "config.h"\n'
              'int main(void) { printf("%d %d %d\\n", HAVE_STDIO, HAVE_NOPE, HAVE_UNDECLARED); return 0; }\n',
}


# Autoconf's and libtool's checks compile conftest.c in the build directory
# with stderr piped into a file they read (libtool's boilerplate and
# "-c -o" checks): the answer is in the compiler's messages, not its exit
# status, and an early "exit 0" with no message would be silently wrong.
CONFTEST_CHECK = {
    "Makefile": "config.h:\n"
                "\tprintf 'int main(void) { int gg_unused; return 0; }\\n' > conftest.c\n"
                "\t$(CC) -Wall -c conftest.c -o conftest.o 2>&1 >/dev/null | grep -c gg_unused > conftest.n || true\n"
                "\techo \"#define WARNED $$(cat conftest.n)\" > config.h\n"
                "\trm -f conftest*\n"
                "clean:\n\trm -f config.h\n",
}


# Programs that take a file's size from stat() without opening it, each on
# an object of its own still being computed (the guard acts at open; the
# stat guard preloaded into the build's programs opens a placeholder it
# stats). Each object differs (-DN), so none is forced by another's reader.
STAT_READERS = {
    "s.c": "int gg_stat_readers(void) { return N * 3; }\n",
    "Makefile": "".join(f"o/{n}.o: s.c\n\t@mkdir -p $(@D)\n\t$(CC) -O2 -DN={i} -c s.c -o o/{n}.o\n"
                        for i, n in enumerate(["du", "stat", "ls", "test", "py", "tar/t"]))
                + "sizes.txt: o/du.o o/stat.o o/ls.o o/test.o o/py.o\n"
                  "\tdu -b o/du.o | cut -f1 > $@\n"
                  "\tstat -c %s o/stat.o >> $@\n"
                  "\tls -l o/ls.o | awk '{print $$5}' >> $@\n"
                  "\tif [ $$(stat -c %s s.c) -lt 200 ] && find o/test.o -size -200c | grep -q .; then echo small; else echo big; fi >> $@\n"
                  "\tpython3 -c 'import os; print(os.path.getsize(\"o/py.o\"))' >> $@\n"
                  "o.tar: o/tar/t.o\n\ttar --mtime=@0 --owner=0 --group=0 --sort=name -cf $@ o/tar\n"
                  "clean:\n\trm -rf o sizes.txt o.tar\n",
}


# Readers of one large placeholder started every 2 ms while its thunk runs
# and finishes: the ones that opened it while gg wrote the real bytes into
# it saw it empty or half written, with exit 0 (libjpeg-turbo's tests:
# "libturbojpeg.so.0: file too short"; here `wc -c` gave 8 sizes of 500).
MANY_READERS = {
    "big.c": "char gg_big[48 << 20] = {1};\n",
    "Makefile": "big.o: big.c\n\t$(CC) -O2 -c big.c -o big.o\n"
                "sizes.txt: big.o\n"
                "\tfor i in $$(seq 1 500); do (wc -c < big.o >> sizes.raw) & sleep 0.002; done; wait\n"
                "\tsort sizes.raw | uniq -c | sed 's/^ *//' > $@\n"
                "clean:\n\trm -f big.o sizes.raw sizes.txt\n",
}

# One build that changes what its later compiles see, in the middle of the
# build: the model servers keep directory listings between calls
# (docs/models.md, "The model server"), so each compile must still see what
# the steps before it did. a1..a4 find cfg.h in inc2; then a header appears
# in inc1, earlier in the search path, and shadows it (b.o, b1..b3); it is
# edited in place, same size, and left to age past the views' 2 s window, so
# only its stat key tells (c.o); a compile with another macro (d.o) and one
# with another $SOURCE_DATE_EPOCH (e.o, which embeds __DATE__) follow.
CHANGES = {
    "inc1/README": "inc1 holds a cfg.h only once the build made it\n",
    "inc2/cfg.h": "#define V 1\n",
    "v.c": '#include "cfg.h"\n#ifndef W\n#define W 0\n#endif\n'
           'int v(void) { return V * 10 + W; }\nconst char* when(void) { return __DATE__; }\n',
    "Makefile": "CFLAGS = -O2 -Iinc1 -Iinc2\n"
                "all: e.o\n"
                "a1.o a2.o a3.o a4.o: v.c\n\t$(CC) $(CFLAGS) -c -o $@ v.c\n"
                "inc1/cfg.h: a1.o a2.o a3.o a4.o\n\techo '#define V 2' > $@\n\tsleep 3\n"
                "b.o b1.o b2.o b3.o: inc1/cfg.h\n\t$(CC) $(CFLAGS) -c -o $@ v.c\n"
                "c.o: b.o b1.o b2.o b3.o\n\tprintf '#define V 3\\n' 1<> inc1/cfg.h\n\tsleep 3\n"
                "\t$(CC) $(CFLAGS) -c -o $@ v.c\n"
                "d.o: c.o\n\t$(CC) $(CFLAGS) -DW=7 -c -o $@ v.c\n"
                "e.o: d.o\n\tSOURCE_DATE_EPOCH=0 $(CC) $(CFLAGS) -c -o $@ v.c\n"
                "clean:\n\trm -f *.o inc1/cfg.h\n",
}
CHANGES_PRODUCTS = ["a1.o", "b.o", "c.o", "d.o", "e.o"]


# Commands of the build that wait for their thunks while gg build's own force
# runs the same ones: zlib's `ranlib libz.a >/dev/null 2>&1` (a discarded
# stderr: the real exit status is waited for) and nm, which runs for real on
# the archive. Each compile takes a while, so they are still running when
# the waits start.
def _heavy_source(n):
    return "".join(f"int f{n}_{i}(int x) {{ int s = 0; for (int k = 0; k < x; ++k) s += (k * {i}) ^ (s >> 3); "
                   f"return s; }}\n" for i in range(150))


WAITS = {
    **{f"w{n}.c": _heavy_source(n) for n in range(4)},
    "Makefile": "OBJS = w0.o w1.o w2.o w3.o\n"
                "all: syms.txt\n"
                "%.o: %.c\n\t$(CC) -O2 -c -o $@ $<\n"
                "libw.a: $(OBJS)\n\tar rc $@ $(OBJS)\n\t-@(ranlib $@ || true) >/dev/null 2>&1\n"
                "syms.txt: libw.a\n\tnm libw.a | grep -c ' T f' > $@\n"
                "clean:\n\trm -f *.o libw.a syms.txt\n",
}


def placeholders_under(root):
    found = []
    for d, dirs, files in os.walk(root):
        dirs[:] = [x for x in dirs if x != ".gg"]
        for f in files:
            p = os.path.join(d, f)
            if os.path.islink(p) or not os.path.isfile(p):
                continue
            with open(p, "rb") as fh:
                if fh.read(len(PLACEHOLDER)) == PLACEHOLDER:
                    found.append(p)
    return found


@unittest.skipIf(can_run(), can_run())
class BuildGuardTest(ProjectBuildCase):
    def setUp(self):
        self.src = tempfile.mkdtemp(prefix="proj-", dir=self.dir)

    def write_project(self, files):
        for path, text in files.items():
            full = os.path.join(self.src, path)
            os.makedirs(os.path.dirname(full), exist_ok=True)
            with open(full, "w") as f:
                f.write(text)

    def build_and_compare(self, products, build, clean, cwd=None):
        """plain_then_gg, and no placeholder left anywhere in the project."""
        out = self.plain_then_gg(cwd or self.src, build, clean, products)
        self.assertEqual(placeholders_under(self.src), [], out)
        return out

    def test_each_compile_sees_what_the_build_changed_before_it(self):
        self.write_project(CHANGES)
        self.build_and_compare(CHANGES_PRODUCTS, ["make"], ["make", "clean"])
        # The plain build's objects differ from each other: each change mattered.
        objects = {}
        for p in CHANGES_PRODUCTS:
            with open(os.path.join(self.src, p), "rb") as f:
                objects[p] = f.read()
        self.assertEqual(len(set(objects.values())), len(objects))
        # And again from clean, in the same store: the same bytes (memoized).
        self.run_in(self.src, "make", "clean")
        self.run_in(self.src, GG, "build", "-j", "2", "--", "make")
        for p in CHANGES_PRODUCTS:
            with open(os.path.join(self.src, p), "rb") as f:
                self.assertEqual(f.read(), objects[p], p)

    def test_programs_of_the_build_read_real_content(self):
        self.write_project(GUARD)
        out = self.build_and_compare(GUARD_PRODUCTS, ["make"], ["make", "clean"])
        self.assertIn("0 ran locally", out)
        # cp, the exec of the loader (by make's child, before the exec),
        # its dlopen and Python each read a placeholder.
        m = re.search(r"gg: (\d+) placeholders? read by the build forced first", out)
        self.assertIsNotNone(m, out)
        self.assertEqual(int(m.group(1)), 4, out)
        for path, reader in [("plugins/libfoo.so", "cp plugins/libfoo.so copy.so"), ("loader", "make"),
                             ("plugins/libbar.so", "./loader ./plugins/libbar.so dlopen.out"),
                             ("foo.o", "python3 -c import hashlib")]:
            self.assertRegex(out, re.escape(os.path.join(self.src, path)) + r"   \[read by " + re.escape(reader))
        with open(os.path.join(self.src, "dlopen.out")) as f:
            self.assertEqual(f.read(), "foo(4) = 20\n")

    def test_a_program_that_stats_before_it_opens_sees_the_real_file(self):
        self.write_project(STAT_FIRST)
        out = self.build_and_compare(["libfoo.so", "dynamic.txt"], ["make"], ["make", "clean"])
        with open(os.path.join(self.src, "dynamic.txt")) as f:
            self.assertIn("Library soname: [libfoo.so.1]", f.read(), out)
        self.assertRegex(out, r"readelf -d libfoo.so +\[readelf: no model for readelf\]")

    def test_without_the_guard_python_reads_the_placeholder(self):
        # The check above can fail: unguarded, Python hashes the placeholder.
        self.write_project(GUARD)
        self.run_in(self.src, "make", "foo.o.sha")
        with open(os.path.join(self.src, "foo.o.sha")) as f:
            plain = f.read()
        self.run_in(self.src, "make", "clean")
        self.run_in(self.src, GG, "build", "--unguarded", "--", "make", "foo.o.sha")
        with open(os.path.join(self.src, "foo.o.sha")) as f:
            self.assertNotEqual(f.read(), plain)

    def test_compiles_without_o_give_the_default_output(self):
        self.write_project(DEFAULT_OUTPUT)
        out = self.build_and_compare(DEFAULT_PRODUCTS, ["make"], ["make", "clean"])
        self.assertEqual(self.run_in(self.src, "./a.out").stdout, "10\n")
        # -S and -E run for real (they are listed); the compiles and the link are thunks.
        m = re.search(r"(\d+) outputs, (\d+) thunks", out)
        self.assertIsNotNone(m, out)
        self.assertRegex(out, r"gg: 2 commands ran locally")

    def test_cmake_ninja_code_generator(self):
        self.write_project(CODEGEN)
        build = os.path.join(self.src, "build")
        self.run_in(self.src, "cmake", "-G", "Ninja", "-DCMAKE_BUILD_TYPE=Release", "-S", ".", "-B", "build")
        identities = os.path.join(self.env["GG_DIR"], "identities")
        before = os.path.getsize(identities) if os.path.exists(identities) else 0
        out = self.build_and_compare(CODEGEN_PRODUCTS, ["ninja"], ["ninja", "clean"], cwd=build)
        self.assertIn("0 ran locally", out)
        self.assertEqual(self.run_in(build, "./app").stdout, "1240\n")
        # Ninja reads each compile's dependency file as soon as the command
        # exits: a compile ninja runs waits for its depfile (gg-model), so
        # ninja never reads a placeholder one (the guard would make ninja's
        # one loop wait in that read, and commands it could start with it).
        self.assertNotRegex(out, r"\.o\.d +\[read by ninja", out)
        # Nor does anything run twice: a wait is for the run gg build has
        # started (every run is logged for gg explain; the class shares one
        # store, so only this build's runs count).
        with open(identities) as f:
            f.seek(before)
            runs = collections.Counter(line.split()[2] for line in f)
        self.assertEqual([t for t, n in runs.items() if n > 1], [], out)

    def test_ninja_never_reads_a_placeholder_depfile_by_any_name(self):
        self.write_project(NINJA_DEPFILES)
        out = self.build_and_compare(NINJA_DEPFILES_PRODUCTS, ["ninja"], ["ninja", "-t", "clean"])
        self.assertIn("0 ran locally", out)
        self.assertEqual(self.run_in(self.src, "./app").stdout, "14\n")
        # The model says which file the compile writes its list to (the
        # server parsed the command), so gg-model waits for it however named.
        self.assertNotRegex(out, r"\.d +\[read by ninja", out)
        deps = self.run_in(self.src, "ninja", "-t", "deps").stdout
        self.assertRegex(deps, r"obj/a\.o: #deps [1-9]")
        self.assertRegex(deps, r"obj/b\.o: #deps [1-9]")
        self.assertIn("a.h", deps)

    def test_commands_that_wait_for_their_thunks_run_none_twice(self):
        # gg-model's forces go through gg build's own force (force_service.h):
        # a thunk it runs already is waited for. A `gg force` of their own ran
        # the compiles a second time beside it.
        self.write_project(WAITS)
        identities = os.path.join(self.env["GG_DIR"], "identities")
        before = os.path.getsize(identities) if os.path.exists(identities) else 0
        out = self.build_and_compare(["w0.o", "w3.o", "libw.a", "syms.txt"], ["make", "-j2"], ["make", "clean"])
        with open(os.path.join(self.src, "syms.txt")) as f:
            self.assertEqual(f.read(), "600\n")
        self.assertRegex(out, r"nm libw.a +\[nm: no model for nm\]")
        with open(identities) as f:
            f.seek(before)
            runs = collections.Counter(line.split()[2] for line in f)
        self.assertEqual([t for t, n in runs.items() if n > 1], [], out)

    def test_a_ccache_launcher_is_no_reason_to_run_compiles_for_real(self):
        # ccache runs the compiler with stderr in a file of its own; under
        # gg build it is disabled and execs the compiler (the models) as called.
        self.write_project(CODEGEN)
        build = os.path.join(self.src, "build")
        self.run_in(self.src, "cmake", "-G", "Ninja", "-DCMAKE_C_COMPILER_LAUNCHER=ccache", "-S", ".", "-B", "build")
        self.env = dict(self.env, CCACHE_DIR=os.path.join(self.dir, "ccache"))
        out = self.build_and_compare(CODEGEN_PRODUCTS, ["ninja"], ["ninja", "clean"], cwd=build)
        self.assertIn("0 ran locally", out)
        self.assertEqual(self.run_in(build, "./app").stdout, "1240\n")

    def test_cmake_precompiled_headers(self):
        self.write_project(PCH)
        build = os.path.join(self.src, "build")
        self.run_in(self.src, "cmake", "-G", "Ninja", "-S", ".", "-B", "build")
        out = self.build_and_compare(PCH_PRODUCTS, ["ninja"], ["ninja", "clean"], cwd=build)
        self.assertIn("0 ran locally", out)
        self.assertEqual(self.run_in(build, "./app").stdout, "hi x\n")

    def test_failed_build_leaves_no_placeholder(self):
        self.write_project(FAILING)
        p = self.run_in(self.src, GG, "build", "-j", "2", "--", "make", "-j2", "CFLAGS=-O2 -DBREAK", check=False)
        self.assertNotEqual(p.returncode, 0, p.stderr)
        self.assertIn("broken on purpose", p.stderr)
        self.assertIn("so a plain build works again", p.stderr)
        self.assertEqual(placeholders_under(self.src), [], p.stderr)
        for po in ["a.Po", "b.Po", "main.Po"]:
            self.assertTrue(os.path.exists(os.path.join(self.src, ".deps", po)), po)
        self.run_in(self.src, "make")
        self.assertEqual(self.run_in(self.src, "./prog").stdout, "3\n")

    def test_checks_the_build_branches_on_run_for_real(self):
        self.write_project(CHECKS)
        out = self.build_and_compare(["config.h", "prog"], ["make"], ["make", "clean"])
        with open(os.path.join(self.src, "config.h")) as f:
            self.assertEqual(f.read(), "#define HAVE_STDIO 1\n#define HAVE_NOPE 0\n#define HAVE_NOLIB 0\n"
                                       "#define HAVE_CONF 0\n")
        self.assertEqual(self.run_in(self.src, "./prog").stdout, "1 0 0\n")
        # With stderr discarded, each check's thunk was forced while make
        # waited (it is no placeholder now); the missing library ran for real.
        for name in ["c_stdio", "c_nope", "c_nolib"]:
            self.assertFalse(os.path.exists(os.path.join(self.src, name)), name)
        self.assertRegex(out, r"cc -o c_nolib c_nolib.c -lgg_no_such_lib +\[cc: -lgg_no_such_lib is not in the "
                              r"library search path")
        self.assertRegex(out, r"cc -o c_conf c_conf.c +\[cc: its stderr goes to a file the build may read")
        self.assertIn("gg_no_such_header.h", self.run_in(self.src, "cat", "c_conf.err").stdout)
        self.assertIn("gg: 2 commands ran locally", out)

    def test_cmake_configure_checks_get_the_real_answer(self):
        self.write_project(CMAKE_CHECKS)
        configure_and_build = ["sh", "-c", "cmake -G Ninja -S . -B build >/dev/null && ninja -C build"]
        out = self.build_and_compare(["build/config.h", "build/prog"], configure_and_build, ["rm", "-rf", "build"])
        with open(os.path.join(self.src, "build", "config.h")) as f:
            self.assertEqual(f.read(), "#define HAVE_STDIO 1\n#define HAVE_NOPE 0\n#define HAVE_UNDECLARED 0\n")
        self.assertEqual(self.run_in(self.src, "build/prog").stdout, "1 0 0\n")

    def test_autoconf_checks_see_the_compilers_messages(self):
        self.write_project(CONFTEST_CHECK)
        out = self.build_and_compare(["config.h"], ["make"], ["make", "clean"])
        with open(os.path.join(self.src, "config.h")) as f:
            self.assertEqual(f.read(), "#define WARNED 2\n")
        self.assertIn("a configure check (conftest)", out)

    def test_programs_that_stat_before_they_read_see_the_real_size(self):
        self.write_project(STAT_READERS)
        out = self.build_and_compare(["sizes.txt", "o.tar"], ["make", "-j2", "sizes.txt", "o.tar"],
                                     ["make", "clean"])
        with open(os.path.join(self.src, "sizes.txt")) as f:
            sizes = f.read().split()
        self.assertEqual(sizes[3], "big", sizes)
        self.assertGreater(min(int(n) for i, n in enumerate(sizes) if i != 3), 500, sizes)
        self.assertIn("placeholders read by the build forced first", out)

    def test_readers_that_open_a_placeholder_while_it_is_written_wait(self):
        self.write_project(MANY_READERS)
        self.build_and_compare(["big.o", "sizes.txt"], ["make", "sizes.txt"], ["make", "clean"])
        with open(os.path.join(self.src, "sizes.txt")) as f:
            self.assertRegex(f.read(), r"^500 5\d{7}\n$")

    def test_a_sigterm_to_gg_build_stops_the_build(self):
        # A script or a CI timeout signals gg alone, not the build's processes.
        self.write_project({"Makefile": "all:\n\tsh -c 'touch started; sleep 313; touch finished'\n"})
        p = subprocess.Popen([GG, "build", "--", "make"], cwd=self.src, env=self.env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        started = os.path.join(self.src, "started")
        deadline = time.monotonic() + 120
        while not os.path.exists(started) and time.monotonic() < deadline and p.poll() is None:
            time.sleep(0.1)
        self.assertTrue(os.path.exists(started), p.stderr.read() if p.poll() is not None else "")
        p.send_signal(signal.SIGTERM)
        try:
            err = p.communicate(timeout=60)[1]
        except subprocess.TimeoutExpired:
            p.kill()
            self.fail("gg build still ran 60 s after SIGTERM")
        self.assertEqual(p.returncode, 130, err)
        sleeping = [d for d in os.listdir("/proc") if d.isdigit() and self.cmdline(d) == b"sleep\x00313\x00"]
        self.assertEqual(sleeping, [], "the build's sleep outlived gg build")
        self.assertFalse(os.path.exists(os.path.join(self.src, "finished")))

    @staticmethod
    def cmdline(pid):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                return f.read()
        except OSError:
            return b""

    def test_a_failing_check_found_late_stops_the_build_then_runs_for_real(self):
        self.write_project(LATE_CHECK)
        self.run_in(self.src, "make", "late.h")
        with open(os.path.join(self.src, "late.h")) as f:
            self.assertEqual(f.read(), "#define HAVE_LATE 0\n")
        self.run_in(self.src, "make", "clean")
        p = self.run_in(self.src, GG, "build", "--", "make", "late.h", check=False)
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertIn("answered at once as succeeding", p.stderr)
        self.assertIn("-o c_late c_late.c", p.stderr)
        self.assertIn("gg_no_such_header_either.h: No such file or directory", p.stderr)
        self.assertIn("remove this build's outputs (e.g. `make clean`) and run gg build again", p.stderr)
        self.run_in(self.src, "make", "clean")
        p = self.run_in(self.src, GG, "build", "--", "make", "late.h")
        self.assertIn("an earlier gg build found that this command fails, so it runs for real", p.stderr)
        with open(os.path.join(self.src, "late.h")) as f:
            self.assertEqual(f.read(), "#define HAVE_LATE 0\n")

    def test_warnings_are_shown_as_a_plain_build_shows_them(self):
        self.write_project({"w.c": "int f(int x) { int gg_unused_here; return x; }\n",
                            "Makefile": "w.o: w.c\n\t$(CC) -Wall -O2 -c w.c -o w.o\nclean:\n\trm -f w.o\n"})
        self.assertIn("unused variable", self.run_in(self.src, "make").stderr)
        self.run_in(self.src, "make", "clean")
        for run in ["ran", "memoized"]:
            out = self.run_in(self.src, GG, "build", "--", "make").stderr
            self.assertRegex(out, r"gg: what the build's compiles and links said \(1 thunks\):\n"
                                  r"(.*\n)*.*w\.c:1:20: warning: unused variable .gg_unused_here.", run)
            self.assertIn(" 0 memoized)" if run == "ran" else "(0 ran, ", out)
            self.run_in(self.src, "make", "clean")

    def test_forcing_through_a_symlink_keeps_the_link(self):
        # libtool links libx.so to libx.so.1.2.3 with ln -s while the library
        # is still a placeholder; a program without a model (nm) then names
        # the link, and forcing it must write the library, not replace the
        # link with a copy.
        self.write_project({
            "foo.c": "int foo(int x) { return 3 * x + 1; }\n",
            "Makefile": "all: syms.txt\n"
                        "libfoo.so.1.0: foo.c\n\t$(CC) -O2 -fPIC -shared -Wl,-soname,libfoo.so.1 -o $@ foo.c\n"
                        "libfoo.so: libfoo.so.1.0\n\tln -sf libfoo.so.1.0 libfoo.so\n"
                        "syms.txt: libfoo.so\n\tnm -D libfoo.so > $@\n"
                        "clean:\n\trm -f libfoo.so* syms.txt\n"})
        out = self.build_and_compare(["libfoo.so.1.0", "syms.txt"], ["make"], ["make", "clean"])
        self.assertRegex(out, r"nm -D libfoo.so +\[nm: no model for nm\]")
        link = os.path.join(self.src, "libfoo.so")
        self.assertTrue(os.path.islink(link), out)
        self.assertEqual(os.readlink(link), "libfoo.so.1.0")
        with open(os.path.join(self.src, "syms.txt")) as f:
            self.assertIn(" T foo", f.read())
        # `gg force` given the link: the same.
        self.run_in(self.src, "make", "clean")
        self.run_in(self.src, GG, "infer", "make", "libfoo.so")
        with open(link, "rb") as f:
            self.assertTrue(f.read().startswith(PLACEHOLDER))
        self.run_in(self.src, GG, "force", "libfoo.so")
        self.assertTrue(os.path.islink(link))
        with open(link, "rb") as f:
            self.assertTrue(f.read().startswith(b"\x7fELF"))

    def test_symlinked_sources(self):
        # pcre2 links src/pcre2_chartables.c to an absolute .dist path; others
        # link sources and include dirs relatively.
        self.write_project({"src/tables.c.dist": '#include "inc/v.h"\nint v = V;\n',
                            "common/inc/v.h": "#define V 3\n",
                            "Makefile": "all: src/abs.o src/rel.o\n"
                                        "src/abs.o: src/abs.c\n\t$(CC) -O2 -g -Isrc -c src/abs.c -o $@\n"
                                        "src/rel.o: src/rel.c\n\t$(CC) -O2 -Isrc -c src/rel.c -o $@\n"
                                        "clean:\n\trm -f src/*.o\n"})
        os.symlink(os.path.join(self.src, "src", "tables.c.dist"), os.path.join(self.src, "src", "abs.c"))
        os.symlink("tables.c.dist", os.path.join(self.src, "src", "rel.c"))
        os.symlink("../common/inc", os.path.join(self.src, "src", "inc"))
        self.build_and_compare(["src/abs.o", "src/rel.o"], ["make"], ["make", "clean"])
        # What the links lead to changes; the links do not.
        with open(os.path.join(self.src, "common", "inc", "v.h"), "w") as f:
            f.write("#define V 4\n")
        self.run_in(self.src, "make", "clean")  # the Makefile does not know the header
        self.build_and_compare(["src/abs.o", "src/rel.o"], ["make"], ["make", "clean"])


if __name__ == "__main__":
    unittest.main()
