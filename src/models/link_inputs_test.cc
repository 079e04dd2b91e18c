#include "models/link_inputs.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>

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

}  // namespace
}  // namespace gg::models
