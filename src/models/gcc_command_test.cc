#include "models/gcc_command.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>

#include "models/project_view.h"

namespace gg::models {
namespace {

TEST(GccCommandTest, CompileWithDepFile) {
  auto c = ParseGccCommand({"-DX=1", "-I.", "-Ilib", "-MT", "x.o", "-MD", "-MP", "-MF", ".deps/x.Tpo", "-c",
                            "-o", "x.o", "x.c"});
  EXPECT_EQ(c.local_reason, "");
  EXPECT_EQ(c.mode, GccCommand::Mode::kCompile);
  EXPECT_EQ(c.outputs, (std::vector<std::string>{"x.o", ".deps/x.Tpo"}));
  EXPECT_EQ(c.include_dirs, (std::vector<std::string>{".", "lib"}));
  EXPECT_EQ(c.inputs, (std::vector<std::string>{"x.c"}));
  EXPECT_TRUE(c.dep_file_named);
}

TEST(GccCommandTest, DependencyFileNamedOnlyByMfWithExplicitTargets) {
  // The list's targets come from -o unless -MT/-MQ name them; its name
  // from -o unless -MF names it (-Wp,-MD,f is the preprocessor's own).
  EXPECT_TRUE(ParseGccCommand({"-MQ", "x.o", "-MMD", "-MFx.d", "-c", "x.c", "-o", "../o/x.o"}).dep_file_named);
  EXPECT_FALSE(ParseGccCommand({"-MD", "-MF", "x.d", "-c", "x.c", "-o", "../o/x.o"}).dep_file_named);
  EXPECT_FALSE(ParseGccCommand({"-MT", "x.o", "-MD", "-c", "x.c", "-o", "../o/x.o"}).dep_file_named);
  EXPECT_FALSE(ParseGccCommand({"-MT", "x.o", "-MF", "a.d", "-Wp,-MD,x.d", "-c", "x.c", "-o", "x.o"}).dep_file_named);
  EXPECT_FALSE(ParseGccCommand({"-c", "x.c", "-o", "x.o"}).dep_file_named);
}

TEST(GccCommandTest, DependencyFileByEveryName) {
  // What a compile ninja runs waits for: the file gcc writes, however named.
  EXPECT_EQ(ParseGccCommand({"-MD", "-MF", "x.o.d", "-c", "x.c", "-o", "x.o"}).dep_file, "x.o.d");
  EXPECT_EQ(ParseGccCommand({"-MMD", "-c", "src/x.c", "-o", "obj/x.o"}).dep_file, "obj/x.d");
  EXPECT_EQ(ParseGccCommand({"-MD", "-c", "src/x.c"}).dep_file, "x.d");
  EXPECT_EQ(ParseGccCommand({"-Wp,-MD,.x.o.d", "-c", "x.c", "-o", "x.o"}).dep_file, ".x.o.d");
  EXPECT_EQ(ParseGccCommand({"-c", "x.c", "-o", "x.o"}).dep_file, "");
  EXPECT_EQ(ParseGccCommand({"-MD", "-c", "x.s", "-o", "x.o"}).dep_file, "");  // gcc writes none for it
}

TEST(GccCommandTest, DefaultOutputs) {
  auto c = ParseGccCommand({"-c", "src/a.c", "b.cc", "-MMD"});
  EXPECT_EQ(c.local_reason, "-MD with several sources");
  c = ParseGccCommand({"-c", "src/a.c", "-MMD"});
  EXPECT_EQ(c.outputs, (std::vector<std::string>{"a.o", "a.d"}));
  c = ParseGccCommand({"-c", "src/a.c", "-o", "obj/a.o", "-MD"});
  EXPECT_EQ(c.outputs, (std::vector<std::string>{"obj/a.o", "obj/a.d"}));
  c = ParseGccCommand({"a.o", "b.o", "-lz", "-L", "lib"});
  EXPECT_EQ(c.mode, GccCommand::Mode::kLink);
  EXPECT_EQ(c.outputs, (std::vector<std::string>{"a.out"}));
  EXPECT_EQ(c.libs, (std::vector<std::string>{"z"}));
  EXPECT_EQ(c.lib_dirs, (std::vector<std::string>{"lib"}));
}

TEST(GccCommandTest, DefaultOutputNames) {
  EXPECT_EQ(DefaultOutputName('c', "x.c"), "x.o");
  EXPECT_EQ(DefaultOutputName('c', "dir/sub/x.c"), "x.o");  // in the cwd, not beside the source
  EXPECT_EQ(DefaultOutputName('c', "x.o.gg.i"), "x.o.gg.o");  // why a rewritten compile names its output
  EXPECT_EQ(DefaultOutputName('c', "lib.d/x"), "x.o");
  EXPECT_EQ(DefaultOutputName('S', "dir/x.cc"), "x.s");
  EXPECT_EQ(DefaultOutputName('E', "x.c"), "");
  EXPECT_EQ(DefaultOutputName('l', ""), "a.out");

  auto c = ParseGccCommand({"-O2", "-c", "dir/x.c"});
  EXPECT_EQ(c.outputs, (std::vector<std::string>{"x.o"}));
  EXPECT_TRUE(c.default_output);
  c = ParseGccCommand({"-c", "p.c", "sub/q.cc", "r.s"});
  EXPECT_EQ(c.local_reason, "");
  EXPECT_EQ(c.outputs, (std::vector<std::string>{"p.o", "q.o", "r.o"}));
  c = ParseGccCommand({"-c", "x.c", "-o", "x.o"});
  EXPECT_FALSE(c.default_output);
  c = ParseGccCommand({"main.c", "x.o"});
  EXPECT_EQ(c.outputs, (std::vector<std::string>{"a.out"}));
  EXPECT_TRUE(c.default_output);
  // -S and -E run for real, so they write exactly what gcc writes.
  EXPECT_EQ(ParseGccCommand({"-S", "x.c"}).local_reason, "-S");
  EXPECT_EQ(ParseGccCommand({"-E", "x.c"}).local_reason, "-E");
}

TEST(GccCommandTest, KernelStyleDepsAndLanguage) {
  auto c = ParseGccCommand({"-Wp,-MD,.x.o.d", "-x", "c", "foo.inc", "-c", "-o", "x.o"});
  EXPECT_EQ(c.local_reason, "");
  EXPECT_EQ(c.outputs, (std::vector<std::string>{"x.o", ".x.o.d"}));
}

TEST(GccCommandTest, RunsLocally) {
  EXPECT_EQ(ParseGccCommand({"-E", "x.c"}).local_reason, "-E");
  EXPECT_EQ(ParseGccCommand({"--version"}).local_reason, "--version");
  EXPECT_EQ(ParseGccCommand({"-print-prog-name=cc1"}).local_reason, "-print-prog-name=cc1");
  EXPECT_EQ(ParseGccCommand({"-O2"}).local_reason, "no input files");
  EXPECT_EQ(ParseGccCommand({"-c", "a.c", "b.c", "-o", "x.o"}).local_reason, "-o with several sources");
  EXPECT_EQ(ParseGccCommand({"-", "-c"}).local_reason, "-");
}

TEST(GccCommandTest, ResponseFiles) {
  char path[] = "/tmp/gg-rsp-XXXXXX";
  int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  std::string text = "-c 'a b.c' -o\n\"x.o\" -DQ=\\\"s\\\"\n";
  ASSERT_EQ(write(fd, text.data(), text.size()), static_cast<ssize_t>(text.size()));
  close(fd);
  auto args = ExpandResponseFiles({"-O2", std::string("@") + path});
  unlink(path);
  ASSERT_TRUE(args.ok());
  EXPECT_EQ(*args, (std::vector<std::string>{"-O2", "-c", "a b.c", "-o", "x.o", "-DQ=\"s\""}));
}

TEST(ProjectViewTest, BuildProducts) {
  EXPECT_TRUE(IsBuildProduct("x.o", false));
  EXPECT_TRUE(IsBuildProduct("libz.so.1.2.13", false));
  EXPECT_TRUE(IsBuildProduct(".git", true));
  EXPECT_TRUE(IsBuildProduct("__pycache__", true));
  EXPECT_TRUE(IsBuildProduct("x.cpython-311.pyc", false));
  EXPECT_FALSE(IsBuildProduct("zlib.h", false));
  EXPECT_TRUE(IsUnder("/a/b", "/a"));
  EXPECT_FALSE(IsUnder("/ab", "/a"));
}

TEST(GccCommandTest, AssemblerSourcesAreListedNowhere) {
  // gcc runs no preprocessor on x.s: -M and -MD write nothing for it.
  auto c = ParseGccCommand({"-c", "x.s", "-o", "x.o", "-MD"});
  EXPECT_EQ(c.local_reason, "");
  EXPECT_EQ(c.assembler_sources, (std::vector<std::string>{"x.s"}));
  EXPECT_EQ(c.outputs, (std::vector<std::string>{"x.o"}));
  c = ParseGccCommand({"-c", "x.S", "-MD"});  // preprocessed: listed
  EXPECT_TRUE(c.assembler_sources.empty());
  EXPECT_EQ(c.outputs, (std::vector<std::string>{"x.o", "x.d"}));
  c = ParseGccCommand({"-x", "assembler", "-c", "gen.asm", "-x", "none", "y.c"});
  EXPECT_EQ(c.assembler_sources, (std::vector<std::string>{"gen.asm"}));
  EXPECT_EQ(c.outputs, (std::vector<std::string>{"gen.o", "y.o"}));
}

TEST(GccCommandTest, FilesTheAssemblerOrLinkerWritesBesideTheOutputRunForReal) {
  // A listing, a map or a dependency list the thunk would not declare.
  EXPECT_NE(ParseGccCommand({"-c", "f.s", "-o", "f.o", "-Wa,-adhln=f.lst"}).local_reason, "");
  EXPECT_NE(ParseGccCommand({"-c", "f.c", "-Xassembler", "--MD=f.dep"}).local_reason, "");
  EXPECT_NE(ParseGccCommand({"-o", "prog", "a.o", "-Wl,-Map,prog.map"}).local_reason, "");
  EXPECT_NE(ParseGccCommand({"-o", "prog", "a.o", "-Wl,-Map=prog.map"}).local_reason, "");
  EXPECT_NE(ParseGccCommand({"-o", "prog", "a.o", "-Xlinker", "--dependency-file=prog.d"}).local_reason, "");
  EXPECT_EQ(ParseGccCommand({"-c", "x.c", "-aux-info", "x.aux"}).local_reason, "-aux-info");
  EXPECT_EQ(ParseGccCommand({"-c", "x.c", "-fopt-info-vec=x.opt"}).local_reason, "-fopt-info-vec=x.opt");
  EXPECT_EQ(ParseGccCommand({"-std=c++20", "-fmodules-ts", "-c", "m.cc"}).local_reason, "-fmodules-ts");
  EXPECT_EQ(ParseGccCommand({"-c", "x.c", "-fopt-info-vec"}).local_reason, "");  // to stderr
  // Listings to stdout and other options stay thunks.
  EXPECT_EQ(ParseGccCommand({"-c", "f.c", "-Wa,--noexecstack,-adhln"}).local_reason, "");
  EXPECT_EQ(ParseGccCommand({"-o", "prog", "a.o", "-Wl,--as-needed,-O1"}).local_reason, "");
}

}  // namespace
}  // namespace gg::models
