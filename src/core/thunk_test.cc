#include "gg/thunk.h"

#include <gtest/gtest.h>

namespace gg {
namespace {

Thunk Sample() {
  Thunk t;
  std::string fn = Name::ForContent("program").str();
  std::string dep_thunk = Name::ForContent(std::string(kThunkMagic) + "x").str();
  t.function = fn;
  t.args = {"prog", "@{GG:" + fn + "}", "in.txt"};
  t.env = {"LANG=C"};
  t.inputs = {{fn, "bin/prog", true},
              {Name::ForContent("data").str(), "in.txt", false},
              {dep_thunk, "/opt/dep", false}};
  t.outputs = {"out", "log"};
  t.timeout_ms = 5000;
  return t;
}

TEST(ThunkTest, SerializeParseRoundTrip) {
  Thunk t = Sample();
  std::string bytes = t.Serialize();
  EXPECT_TRUE(bytes.starts_with(kThunkMagic));
  auto parsed = Thunk::Parse(bytes);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  Thunk expected = t;
  expected.workdir = "/work";
  EXPECT_EQ(*parsed, expected);
  EXPECT_EQ(parsed->name(), t.name());
  EXPECT_EQ(t.name().type(), ObjectType::kThunk);
}

TEST(ThunkTest, SerializationIsDeterministic) {
  EXPECT_EQ(Sample().Serialize(), Sample().Serialize());
  Thunk other = Sample();
  other.args.push_back("more");
  EXPECT_NE(other.name(), Sample().name());
}

TEST(ThunkTest, PlaceholdersExpandToSandboxPaths) {
  Thunk t = Sample();
  auto s = t.ExpandPlaceholders(t.args[1]);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(*s, "/work/bin/prog");
  EXPECT_FALSE(t.ExpandPlaceholders("@{GG:Vnope}").ok());
}

TEST(ThunkTest, DependenciesAreTheThunkInputs) {
  auto deps = Sample().ThunkDependencies();
  ASSERT_EQ(deps.size(), 1u);
  EXPECT_TRUE(deps[0].is_thunk());
}

TEST(ThunkTest, MalformedBytesGiveClearErrors) {
  EXPECT_NE(Thunk::Parse("garbage").status().message().find("magic"), std::string::npos);
  std::string bad(kThunkMagic);
  bad += "\xff\xff\xff\xff";
  EXPECT_EQ(Thunk::Parse(bad).status().code(), Status::Code::kCorrupt);
}

TEST(ThunkTest, ValidationCatchesBadThunks) {
  Thunk t = Sample();
  t.outputs = {"../escape"};
  EXPECT_FALSE(t.Validate().ok());
  t = Sample();
  t.inputs[0].executable = false;
  EXPECT_NE(t.Validate().message().find("function"), std::string::npos);
  t = Sample();
  t.inputs[1].path = "bin/prog";
  EXPECT_FALSE(t.Validate().ok());
  t = Sample();
  t.outputs.clear();
  EXPECT_FALSE(t.Validate().ok());
}

}  // namespace
}  // namespace gg
