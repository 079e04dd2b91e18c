#include "gg/thunk.h"

#include <cmath>
#include <limits>

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

TEST(ThunkTest, TwoInputsAtOnePlaceAreRefusedHoweverSpelled) {
  std::string v = Name::ForContent("v").str();
  auto with = [&](std::string workdir, std::vector<std::string> paths) {
    Thunk t = Sample();
    t.workdir = std::move(workdir);
    for (auto& p : paths) t.inputs.push_back({v, std::move(p), false});
    return t.Validate();
  };
  // A relative path and the absolute one under the work dir are one place.
  Status s = with("", {"a/b.h", "/work/a/b.h"});
  EXPECT_NE(s.message().find("two inputs share the path '/work/a/b.h'"), std::string::npos) << s.message();
  EXPECT_FALSE(with("/src", {"/src/x", "x"}).ok());
  EXPECT_FALSE(with("", {"/opt/x", "/opt/x"}).ok());
  // Not the same place: outside the work dir, or a sibling sharing its prefix.
  EXPECT_TRUE(with("", {"x", "/x", "/workx", "/work2/x", "/work", "w/x", "w"}).ok()) << with("", {"x"}).message();
  EXPECT_TRUE(with("/src", {"/work/x", "x"}).ok());
  // Many inputs, out of order, with the duplicate last.
  std::vector<std::string> many;
  for (int i = 999; i >= 0; --i) many.push_back("d" + std::to_string(i % 10) + "/f" + std::to_string(i) + ".h");
  EXPECT_TRUE(with("", many).ok());
  many.push_back("/work/d3/f503.h");
  s = with("", many);
  EXPECT_NE(s.message().find("'/work/d3/f503.h'"), std::string::npos) << s.message();
}

TEST(ThunkTest, ParseKeepsEveryField) {
  // Parse reads the message on an arena and copies each string out.
  Thunk t = Sample();
  t.workdir = "/src";
  t.env.push_back("B=2");
  for (int i = 0; i < 100; ++i) t.inputs.push_back({Name::ForContent(std::to_string(i)).str(), "i/" + std::to_string(i), i % 2 == 0});
  auto back = Thunk::Parse(t.Serialize());
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(*back, t);
  EXPECT_EQ(back->Serialize(), t.Serialize());
}

TEST(ThunkTest, ValidationRefusesWhatTheKernelWouldBend) {
  Thunk t = Sample();
  t.args.push_back(std::string("a\0b", 3));
  EXPECT_NE(t.Validate().message().find("NUL byte"), std::string::npos);
  for (const char* e : {"=x", "NOEQUALS"}) {
    t = Sample();
    t.env = {e};
    EXPECT_FALSE(t.Validate().ok()) << e;
  }
  t = Sample();
  t.env = {std::string("A=b\0c", 5)};
  EXPECT_NE(t.Validate().message().find("NUL byte"), std::string::npos);
  t = Sample();
  t.outputs = {std::string("o\0ut", 4)};
  EXPECT_FALSE(t.Validate().ok());
  t = Sample();
  t.timeout_ms = kMaxTimeoutMs + 1;
  EXPECT_FALSE(t.Validate().ok());
  for (double s : {0.0004, 1e19, -1.0, std::numeric_limits<double>::infinity(), std::nan("")}) {
    EXPECT_FALSE(TimeoutMsFromSeconds(s).ok()) << s;
  }
  EXPECT_EQ(*TimeoutMsFromSeconds(0), 0u);
  EXPECT_EQ(*TimeoutMsFromSeconds(0.001), 1u);
  EXPECT_EQ(*TimeoutMsFromSeconds(2.5), 2500u);
}

TEST(ThunkTest, EmptyBodyIsNamedPrecisely) {
  auto t = Thunk::Parse(kThunkMagic);
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.status().message().find("empty"), std::string::npos) << t.status().message();
  EXPECT_EQ(t.status().message().find("upgrade"), std::string::npos);
}

}  // namespace
}  // namespace gg

namespace gg {
namespace {

TEST(ThunkTest, LimitsRoundTripAndLeaveOlderNamesAlone) {
  Thunk t = Sample();
  std::string without = t.Serialize();
  t.limits.memory_bytes = 4ull << 30;
  t.limits.workdir_bytes = 1ull << 20;
  std::string with = t.Serialize();
  EXPECT_NE(with, without);
  auto parsed = Thunk::Parse(with);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->limits, t.limits);
  EXPECT_EQ(parsed->name(), t.name());
  // No limit set: not even an empty message, so the bytes (and the name) are
  // those of a thunk written before limits existed.
  t.limits = {};
  EXPECT_EQ(t.Serialize(), without);
}

TEST(ThunkTest, BadLimitsAreRefused) {
  Thunk t = Sample();
  t.limits.memory_bytes = 1 << 20;
  EXPECT_NE(t.Validate().message().find("too small"), std::string::npos) << t.Validate().message();
  t.limits = {};
  t.limits.tmp_bytes = ~0ull;
  EXPECT_NE(t.Validate().message().find("1 PiB"), std::string::npos) << t.Validate().message();
  t.limits = {};
  t.limits.processes = 1ull << 40;
  EXPECT_FALSE(t.Validate().ok());
  t.limits = {};
  t.limits.processes = 1;
  EXPECT_TRUE(t.Validate().ok());
}

}  // namespace
}  // namespace gg
