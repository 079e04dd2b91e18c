#include "models/discovery.h"

#include <gtest/gtest.h>

#include <map>

#include "core/tree.h"

namespace gg::models {
namespace {

TEST(ParseDepFile, TargetsLeftOutContinuationsAndEscapes) {
  auto files = ParseDepFile("a.o: a.c /usr/include/stdio.h \\\n  sub/x\\ y.h dollar$$.h a.c\nb.o c.o: b.c \\\n\n");
  ASSERT_TRUE(files.ok()) << files.status().ToString();
  EXPECT_EQ(*files, (std::vector<std::string>{"a.c", "/usr/include/stdio.h", "sub/x y.h", "dollar$.h", "b.c"}));
}

TEST(ParseDepFile, NoPrerequisitesIsCorrupt) {
  EXPECT_FALSE(ParseDepFile("garbage without a rule").ok());
  auto empty = ParseDepFile("");
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->empty());
}

TEST(DependencyArgs, DropsOutputsAndDependencyOptions) {
  std::vector<std::string> args = {"-c", "-O2", "-o",  "x.o", "-MD",        "-MF", "x.d", "-MTx.o",
                                   "-MP", "x.c", "-Ifoo", "-Wp,-MD,y.d", "-ox2.o"};
  EXPECT_EQ(DependencyArgs(args, "/tmp/d"),
            (std::vector<std::string>{"-O2", "x.c", "-Ifoo", "-M", "-MF", "/tmp/d"}));
}

class CompleteCompileTest : public ::testing::Test {
 protected:
  CompleteCompileTest() {
    tmpl_.compile.function = Name::ForContent("gcc").str();
    tmpl_.compile.args = {"/usr/bin/gcc", "-c", "x.c"};
    tmpl_.compile.workdir = "/src/build";
    tmpl_.compile.outputs = {"x.o"};
    tmpl_.compile.inputs = {{Name::ForContent("gcc").str(), "/usr/bin/gcc", true},
                            {Name::ForContent(std::string(kTreeMagic) + "inc").str(), "/usr/include", false}};
    host_.hash = [](const std::string& path) -> Result<Name> { return Name::ForContent("content of " + path); };
    host_.is_directory = [this](const std::string& path) { return dirs_.contains(path); };
  }
  CompileTemplate tmpl_;
  DiscoveryHost host_;
  std::set<std::string> dirs_;
};

TEST_F(CompleteCompileTest, AddsExactlyTheFilesReadOutsideCoveredInputs) {
  auto c = CompleteCompile(tmpl_, {"x.c", "/usr/include/stdio.h", "../include/../src/h.h", "./x.c"}, host_);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  ASSERT_EQ(c->inputs.size(), 4u);
  EXPECT_EQ(c->inputs[2].path, "/src/src/h.h");  // normalized, outside the work dir: absolute
  EXPECT_EQ(c->inputs[2].name, Name::ForContent("content of /src/src/h.h").str());
  EXPECT_EQ(c->inputs[3].path, "x.c");  // under the work dir: relative, once
}

TEST_F(CompleteCompileTest, SearchDirsThatExistBecomeEmptyDirectories) {
  tmpl_.search_dirs = {"/src/include", "/src/missing", "/usr/include/sub", "/src/build", "/src"};
  dirs_ = {"/src/include", "/usr/include/sub", "/src/build", "/src"};
  auto c = CompleteCompile(tmpl_, {"x.c"}, host_);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  ASSERT_EQ(c->inputs.size(), 4u);
  EXPECT_EQ(c->inputs[3].path, "/src/include");
  EXPECT_EQ(c->inputs[3].name, EmptyTreeName().str());
}

TEST_F(CompleteCompileTest, DifferentContentGivesADifferentThunk) {
  auto a = CompleteCompile(tmpl_, {"x.c", "h.h"}, host_);
  host_.hash = [](const std::string& path) -> Result<Name> { return Name::ForContent("edited " + path); };
  auto b = CompleteCompile(tmpl_, {"x.c", "h.h"}, host_);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(a->name(), b->name());
}

TEST_F(CompleteCompileTest, TemplateRoundTrips) {
  tmpl_.search_dirs = {"/a", "/b c"};
  auto back = CompileTemplate::Parse(tmpl_.Serialize());
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->search_dirs, tmpl_.search_dirs);
  EXPECT_EQ(back->compile, tmpl_.compile);
  EXPECT_FALSE(CompileTemplate::Parse(tmpl_.compile.Serialize()).ok());
}

}  // namespace
}  // namespace gg::models

namespace gg::models {
namespace {

TEST(CombinedCompileHazardTest, AssemblerReadsAndHasIncludeAreHazards) {
  EXPECT_EQ(CombinedCompileHazard("#include \"a.h\"\nint f(void) { return 1; }\n", false), "");
  EXPECT_NE(CombinedCompileHazard("asm(\".incbin \\\"blob.bin\\\"\");", true), "");
  EXPECT_NE(CombinedCompileHazard("asm(\".include \\\"macros.s\\\"\");", false), "");
  EXPECT_NE(CombinedCompileHazard("#if __has_include(\"config.h\")\n#endif\n", false), "");
  // In preprocessed text __has_include is already decided.
  EXPECT_EQ(CombinedCompileHazard("int has_include_done;\n", true), "");
}

}  // namespace
}  // namespace gg::models
