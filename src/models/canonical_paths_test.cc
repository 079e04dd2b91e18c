#include "models/canonical_paths.h"

#include <gtest/gtest.h>

namespace gg::models {
namespace {

TEST(PathMap, OutermostRootsGetFixedNamesInOrder) {
  PathMap m = PathMap::ForRoots({"/home/u/fmt/build", "/home/u/fmt", "/opt/other"});
  EXPECT_EQ(m.Map("/home/u/fmt/build"), "/gg/root0/build");
  EXPECT_EQ(m.Map("/home/u/fmt"), "/gg/root0");
  EXPECT_EQ(m.Map("/opt/other/x.h"), "/gg/root1/x.h");
}

TEST(PathMap, ReplacesWholePathsInsideArguments) {
  PathMap m = PathMap::ForRoots({"/x/fmt"});
  EXPECT_EQ(m.Map("-I/x/fmt/include"), "-I/gg/root0/include");
  EXPECT_EQ(m.Map("-Wl,-rpath,/x/fmt/build:/x/fmt/lib"), "-Wl,-rpath,/gg/root0/build:/gg/root0/lib");
  EXPECT_EQ(m.Map("-DDIR=\"/x/fmt\""), "-DDIR=\"/gg/root0\"");
  // Not the same directory, or not at the start of a path: untouched.
  EXPECT_EQ(m.Map("/x/fmt2/a.c"), "/x/fmt2/a.c");
  EXPECT_EQ(m.Map("/home/a/x/fmt/a.c"), "/home/a/x/fmt/a.c");
  EXPECT_EQ(m.Map("relative/x.c"), "relative/x.c");
}

TEST(PathMap, TwoCheckoutsMakeTheSameThunk) {
  auto thunk_in = [](const std::string& root) {
    Thunk t;
    t.function = "Vx";
    t.workdir = root + "/build";
    t.args = {"/usr/bin/gcc", "-I" + root + "/include", "-c", root + "/src/a.c", "-o", "a.o"};
    t.inputs = {{"Vx", "/usr/bin/gcc", true}, {"Dy", root + "/include", false}, {"Vz", "rel.h", false}};
    PathMap::ForRoots({root + "/build", root}).Apply(&t);
    return t;
  };
  Thunk a = thunk_in("/home/u/one"), b = thunk_in("/tmp/elsewhere/two");
  EXPECT_EQ(a, b);
  EXPECT_EQ(a.workdir, "/gg/root0/build");
  EXPECT_EQ(a.inputs[1].path, "/gg/root0/include");
  EXPECT_EQ(a.inputs[2].path, "rel.h");
}

TEST(PathMap, RootSlashIsNeverMapped) {
  EXPECT_TRUE(PathMap::ForRoots({"/"}).empty());
}

}  // namespace
}  // namespace gg::models
