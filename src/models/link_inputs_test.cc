#include "models/link_inputs.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>

#include "core/path_util.h"

namespace gg::models {
namespace {

TEST(LinkInputsTest, LinkerScriptInputs) {
  // Debian's libc.so and libncurses.so.
  EXPECT_EQ(LinkerScriptInputs("/* GNU ld script */\nOUTPUT_FORMAT(elf64-x86-64)\n"
                               "GROUP ( /lib/x86_64-linux-gnu/libc.so.6 /usr/lib/x86_64-linux-gnu/libc_nonshared.a "
                               " AS_NEEDED ( /lib64/ld-linux-x86-64.so.2 ) )\n"),
            (std::vector<std::string>{"/lib/x86_64-linux-gnu/libc.so.6", "/usr/lib/x86_64-linux-gnu/libc_nonshared.a",
                                      "/lib64/ld-linux-x86-64.so.2"}));
  EXPECT_EQ(LinkerScriptInputs("INPUT(libncurses.so.6 -ltinfo)"),
            (std::vector<std::string>{"libncurses.so.6", "-ltinfo"}));
  EXPECT_TRUE(LinkerScriptInputs("SECTIONS { .text : { *(.text) } }").empty());
}

TEST(LinkInputsTest, ElfDynamicOfLibm) {
  const std::string libm = "/lib/x86_64-linux-gnu/libm.so.6";
  if (access(libm.c_str(), R_OK) != 0) GTEST_SKIP() << "no " << libm;
  ElfDynamic d;
  ASSERT_TRUE(ReadElfDynamic(libm, &d));
  EXPECT_EQ(d.soname, "libm.so.6");
  EXPECT_NE(std::find(d.needed.begin(), d.needed.end(), "libc.so.6"), d.needed.end());
  EXPECT_FALSE(ReadElfDynamic("/etc/hostname", &d));
}

TEST(LinkInputsTest, ParsesLinkerArguments) {
  auto c = ParseGccCommand({"-shared", "a.o", "-Wl,-soname", "-Wl,libx.so.1", "-Wl,--version-script,x.ver",
                            "-Wl,-rpath-link=/opt/l", "-Xlinker", "-T", "-Xlinker", "s.ld", "-static", "-lz"});
  EXPECT_EQ(c.local_reason, "");
  EXPECT_EQ(c.linker_files, (std::vector<std::string>{"x.ver", "s.ld"}));
  EXPECT_EQ(c.linker_dirs, (std::vector<std::string>{"/opt/l"}));
  EXPECT_TRUE(c.static_link);
}

TEST(LinkInputsTest, QueriesWriteNothing) {
  EXPECT_TRUE(ParseGccCommand({"-dumpmachine"}).query);
  EXPECT_TRUE(ParseGccCommand({"-std=gnu99", "-print-search-dirs"}).query);
  EXPECT_TRUE(ParseGccCommand({"-V"}).query);  // "no input files"
  EXPECT_FALSE(ParseGccCommand({"-E", "x.c"}).query);
  EXPECT_FALSE(ParseGccCommand({"-E", "-", "-o", "x.i"}).query);
  EXPECT_FALSE(ParseGccCommand({"-print-file-name=x", "-o", "y"}).query);
}

TEST(LinkInputsTest, ThinArchiveMembers) {
  // Meson's static libraries: `ar csrDT lib.a members...`; ld opens the
  // members by the paths the archive records, relative to its directory.
  char tmpl[] = "/tmp/gg-thin-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  std::string dir = tmpl;
  std::string cmd = "cd " + dir + " && mkdir -p sub/lib.a.p && echo 'int a(void){return 1;}' > a.c && " +
                    "cc -c a.c -o sub/lib.a.p/a_member_with_a_long_name.c.o && cp sub/lib.a.p/*.o sub/b.o && " +
                    "ar csrDT sub/lib.a sub/lib.a.p/a_member_with_a_long_name.c.o sub/b.o";
  ASSERT_EQ(system(cmd.c_str()), 0);
  auto bytes = ReadFile(dir + "/sub/lib.a");
  ASSERT_TRUE(bytes.ok());
  EXPECT_EQ(ThinArchiveMembers(*bytes), (std::vector<std::string>{"lib.a.p/a_member_with_a_long_name.c.o", "b.o"}));
  EXPECT_TRUE(ThinArchiveMembers("!<arch>\n").empty());
  // binutils wrote this member header in Meson's libpixman-sse2.a: the
  // name-table offset, blanks, and another '/'.
  auto header = [](std::string name, size_t size) {
    name.resize(16, ' ');
    std::string s = std::to_string(size);
    s.resize(10, ' ');
    return name + "0           0     0     644     " + s + "`\n";
  };
  std::string names = "libx.a.p/x.c.o/\n";
  std::string pixman = "!<thin>\n" + header("//", names.size()) + names + header("/0             /", 4621096);
  EXPECT_EQ(ThinArchiveMembers(pixman), (std::vector<std::string>{"libx.a.p/x.c.o"}));
  EXPECT_TRUE(ThinArchiveMembers("!<thin>\n/0  garbage").empty());
  // A link naming the archive reads its members, real objects the view leaves out.
  GccCommand c = ParseGccCommand({"-o", "prog", "main.o", "sub/lib.a"});
  Toolchain tc;
  LinkInputs in = ResolveLinkInputs(nullptr, c, dir, tc, "");
  EXPECT_EQ(in.local_reason, "");
  for (const char* m : {"/sub/lib.a", "/sub/lib.a.p/a_member_with_a_long_name.c.o", "/sub/b.o"}) {
    EXPECT_NE(std::find(in.project_files.begin(), in.project_files.end(), dir + m), in.project_files.end()) << m;
  }
  ASSERT_EQ(system(("rm -rf " + dir).c_str()), 0);
}

}  // namespace
}  // namespace gg::models
