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
    host_.read = [this](const std::string& path) -> Result<std::string> {
      auto it = contents_.find(path);
      return it != contents_.end() ? it->second : "content of " + path;
    };
    host_.is_directory = [this](const std::string& path) { return dirs_.contains(path); };
    host_.is_file = [this](const std::string& path) { return files_.contains(path); };
  }
  CompileTemplate tmpl_;
  DiscoveryHost host_;
  std::set<std::string> dirs_, files_;
  std::map<std::string, std::string> contents_;
};

TEST_F(CompleteCompileTest, AddsExactlyTheFilesReadOutsideCoveredInputs) {
  auto c = CompleteCompile(tmpl_, {"x.c", "/usr/include/stdio.h", "../include/../src/h.h", "./x.c"}, host_);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  ASSERT_EQ(c->inputs.size(), 4u);
  EXPECT_EQ(c->inputs[2].path, "/src/src/h.h");  // normalized, outside the work dir: absolute
  EXPECT_EQ(c->inputs[2].name, Name::ForContent("content of /src/src/h.h").str());
  EXPECT_EQ(c->inputs[3].path, "x.c");  // under the work dir: relative, once
}

TEST_F(CompleteCompileTest, APrecompiledHeaderBesideAHeaderReadIsAnInput) {
  files_ = {"/src/build/pch.h.gch"};
  tmpl_.compile.args = {"/usr/bin/gcc", "-include", "pch.h", "-c", "x.c"};
  auto c = CompleteCompile(tmpl_, {"x.c", "pch.h"}, host_);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  ASSERT_EQ(c->inputs.size(), 5u);
  EXPECT_EQ(c->inputs[3].path, "pch.h.gch");
  EXPECT_EQ(c->inputs[3].name, Name::ForContent("content of /src/build/pch.h.gch").str());
  // The compile that makes the .gch does not read its own output.
  tmpl_.compile.args = {"/usr/bin/gcc", "-x", "c-header", "-o", "pch.h.gch", "-c", "pch.h"};
  c = CompleteCompile(tmpl_, {"pch.h"}, host_);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->inputs.size(), 3u);
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
  host_.read = [](const std::string& path) -> Result<std::string> { return "edited " + path; };
  auto b = CompleteCompile(tmpl_, {"x.c", "h.h"}, host_);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(a->name(), b->name());
}

TEST_F(CompleteCompileTest, FilesHasIncludeFindsAreThereEmpty) {
  // x.c asks through a wrapper macro (fmt's FMT_HAS_INCLUDE); opt.h exists in
  // two search dirs, gone.h in none, stdio.h is the toolchain's; "near.h" is
  // looked up beside the includer.
  tmpl_.search_dirs = {"/src/include", "/src/more"};
  dirs_ = {"/src/include", "/src/more"};
  files_ = {"/src/include/opt.h", "/src/more/opt.h", "/usr/include/stdio.h", "/src/build/near.h",
            "/src/include/used.h"};
  contents_["/src/build/x.c"] =
      "#define HAS(x) __has_include(x)\n#if HAS(<opt.h>) && HAS(\"near.h\") && \\\n  HAS(<gone.h>)\n#endif\n"
      "#if HAS(<stdio.h>) && HAS(<used.h>)\n#include <used.h>\n#endif\n";
  auto c = CompleteCompile(tmpl_, {"x.c", "/src/include/used.h"}, host_);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  std::map<std::string, std::string> inputs;
  for (const auto& in : c->inputs) inputs[in.path] = in.name;
  const std::string empty = Name::ForContent("").str();
  EXPECT_EQ(inputs["/src/include/opt.h"], empty);
  EXPECT_EQ(inputs["/src/more/opt.h"], empty);
  EXPECT_EQ(inputs["near.h"], empty);
  // Read by the preprocessor: its content, once.
  EXPECT_EQ(inputs["/src/include/used.h"], Name::ForContent("content of /src/include/used.h").str());
  EXPECT_FALSE(inputs.contains("/src/include/gone.h"));
  EXPECT_FALSE(inputs.contains("/usr/include/stdio.h"));  // the toolchain's tree holds it
  // gcc, /usr/include, x.c, used.h, opt.h twice, near.h, the two search dirs.
  EXPECT_EQ(inputs.size(), 9u);
}

TEST_F(CompleteCompileTest, FilesTheAssemblerReadsAreInputs) {
  // The source is already an input (covered) and still looked at; the header
  // includes a file by `.include`; blob.bin is binary: not looked at.
  tmpl_.compile.inputs.push_back({Name::ForContent("src").str(), "x.c", false});
  files_ = {"/src/build/data/blob.bin", "/src/build/m.s"};
  contents_["/src/build/x.c"] = "__asm__(\".incbin \\\"data/blob.bin\\\"\");\n";
  contents_["/src/build/h.h"] = "__asm__(\".include \\\"m.s\\\"\");\n";
  contents_["/src/build/data/blob.bin"] = "incbin";
  std::string unnamed;
  auto c = CompleteCompile(tmpl_, {"x.c", "h.h"}, host_, &unnamed);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(unnamed, "");
  std::map<std::string, std::string> inputs;
  for (const auto& in : c->inputs) inputs[in.path] = in.name;
  EXPECT_EQ(inputs["data/blob.bin"], Name::ForContent("incbin").str());
  EXPECT_EQ(inputs["m.s"], Name::ForContent("content of /src/build/m.s").str());
  EXPECT_EQ(inputs.size(), 6u);

  // A name that is no file, or none gg can read: the compile may read what
  // its thunk lacks, and the caller is told which file says so.
  contents_["/src/build/x.c"] = "__asm__(\".incbin \\\"gone.bin\\\"\");\n";
  c = CompleteCompile(tmpl_, {"x.c"}, host_, &unnamed);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_NE(unnamed.find("/src/build/x.c has the assembler read 'gone.bin'"), std::string::npos) << unnamed;
  contents_["/src/build/x.c"] = "__asm__(\".incbin \\\"\" BLOB \"\\\"\");\n";
  c = CompleteCompile(tmpl_, {"x.c"}, host_, &unnamed);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_NE(unnamed.find("/src/build/x.c mentions"), std::string::npos) << unnamed;
}

TEST_F(CompleteCompileTest, WithoutHasIncludeNoCandidateIsLookedUp) {
  files_ = {"/src/build/opt.h"};
  contents_["/src/build/x.c"] = "#if defined(X) && X == <opt.h>\n#endif\n";
  auto c = CompleteCompile(tmpl_, {"x.c"}, host_);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->inputs.size(), 3u);
  // A -D macro may use it too.
  tmpl_.compile.args.push_back("-DHAVE_OPT=__has_include(<opt.h>)");
  c = CompleteCompile(tmpl_, {"x.c"}, host_);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  ASSERT_EQ(c->inputs.size(), 4u);
  EXPECT_EQ(c->inputs[2].path, "opt.h");
}

TEST(HasIncludeCandidates, NamesOnConditionalAndDefineLinesOnly) {
  EXPECT_EQ(HasIncludeCandidates("#include <a.h>\n#  if __has_include(<b/c.h>) || A < B && C > D\n"
                                 "#elif FOO(\"d.h\")\n# define S \"e f\"\nint x = \"g.h\";\n#ifdef <h.h>\n"
                                 "#define W(x) \\\n  __has_include(x) && Q(<i.h>)\n"),
            (std::vector<std::string>{"b/c.h", "d.h", "i.h"}));
}

TEST(HasIncludeCandidates, LogicalLinesDecideWhatIsADirective) {
  // Code continued onto a line that looks like a directive is still code; a
  // blank line continued onto a directive is that directive.
  EXPECT_EQ(HasIncludeCandidates("int x = 1; \\\n#if A < <a.h>\n  \\\n #if B(<b.h>)\n# 12 \"c.h\" 2\n"
                                 "#if C(<d.h>) \\\n|| D(\"e.h\")"),
            (std::vector<std::string>{"b.h", "d.h", "e.h"}));
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

TEST(FindAssemblerReadsTest, NamesInAssemblerTextAndInCStrings) {
  EXPECT_TRUE(FindAssemblerReads("#include \"a.h\"\nint f(void) { return 1; }\n").names.empty());
  auto inline_asm = FindAssemblerReads("asm(\".incbin \\\"blob.bin\\\"\\n\");");
  EXPECT_EQ(inline_asm.names, std::vector<std::string>{"blob.bin"});
  EXPECT_FALSE(inline_asm.unnamed);
  auto text = FindAssemblerReads("  .include \"macros.s\"\n  .incbin\t\"../d/x.bin\", 4\n");
  EXPECT_EQ(text.names, (std::vector<std::string>{"../d/x.bin", "macros.s"}));
  EXPECT_FALSE(text.unnamed);
  // Names built by macros, or a comment: no name, and said so.
  EXPECT_TRUE(FindAssemblerReads("asm(\".incbin \\\"\" BLOB \"\\\"\");").unnamed);
  EXPECT_TRUE(FindAssemblerReads("/* no incbin here */").unnamed);
  EXPECT_TRUE(FindAssemblerReads(".incbin \"unterminated\n").unnamed);
  EXPECT_TRUE(FindAssemblerReads("incbin").unnamed);
}

}  // namespace
}  // namespace gg::models
