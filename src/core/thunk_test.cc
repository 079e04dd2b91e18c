#include "gg/thunk.h"

#include <atomic>
#include <cmath>
#include <limits>
#include <random>
#include <thread>

#include <gtest/gtest.h>

#include "core/gg.pb.h"
#include "core/limits_codec.h"

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
  // In order (no index is made unless one is out of it): a duplicate next
  // to its twin, an earlier place again later, or spelled absolute.
  std::vector<std::string> sorted;
  for (int i = 0; i < 1000; ++i) sorted.push_back("e/" + std::to_string(1000 + i));
  sorted.push_back("/opt/a");
  sorted.push_back("/opt/b");
  EXPECT_TRUE(with("", sorted).ok());
  for (auto [at, twin] : {std::pair{500, "e/1500"}, std::pair{1000, "e/1000"}, std::pair{1002, "e/1999"},
                          std::pair{1002, "/work/e/1007"}, std::pair{1001, "/opt/a"}, std::pair{3, "/opt/b"}}) {
    auto dup = sorted;
    dup.insert(dup.begin() + at, twin);
    s = with("", dup);
    EXPECT_NE(s.message().find(std::string("two inputs share the path")), std::string::npos) << twin << " at " << at;
  }
}

TEST(ThunkTest, ParseKeepsEveryField) {
  // Parse reads the message's bytes straight into the thunk's strings.
  Thunk t = Sample();
  t.workdir = "/src";
  t.env.push_back("B=2");
  for (int i = 0; i < 100; ++i) t.inputs.push_back({Name::ForContent(std::to_string(i)).str(), "i/" + std::to_string(i), i % 2 == 0});
  auto back = Thunk::Parse(t.Serialize());
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(*back, t);
  EXPECT_EQ(back->Serialize(), t.Serialize());
}

/// Thunk::Parse as it was, through protobuf's messages only: the direct
/// reader must accept and reject exactly what this does.
Result<Thunk> ReferenceParse(std::string_view bytes) {
  if (!bytes.starts_with(kThunkMagic)) return Status::Corrupt("no magic");
  bytes.remove_prefix(kThunkMagic.size());
  proto::Thunk p;
  if (!p.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) return Status::Corrupt("does not parse");
  if (p.version() != kThunkFormatVersion) return Status::Corrupt("version");
  Thunk t;
  t.function = p.function();
  t.args.assign(p.args().begin(), p.args().end());
  t.env.assign(p.env().begin(), p.env().end());
  for (const auto& pi : p.inputs()) t.inputs.push_back({pi.name(), pi.path(), pi.executable()});
  t.outputs.assign(p.outputs().begin(), p.outputs().end());
  t.timeout_ms = p.timeout_ms();
  t.workdir = p.workdir().empty() ? std::string(kDefaultWorkdir) : p.workdir();
  if (p.has_limits()) {
    t.limits = LimitsFromProto(p.limits());
    if (!t.limits.any()) return Status::Corrupt("empty limits");
  }
  if (Status s = t.Validate(); !s.ok()) return Status::Corrupt(s.message());
  return t;
}

void ExpectSameAsReference(const std::string& bytes, const std::string& what) {
  auto got = Thunk::Parse(bytes);
  auto want = ReferenceParse(bytes);
  ASSERT_EQ(got.ok(), want.ok()) << what << ": " << (got.ok() ? want.status() : got.status()).message();
  if (got.ok()) {
    EXPECT_EQ(*got, *want) << what;
  }
}

std::string Varint(uint64_t v) {
  std::string out;
  for (; v >= 0x80; v >>= 7) out.push_back(static_cast<char>((v & 0x7f) | 0x80));
  out.push_back(static_cast<char>(v));
  return out;
}
std::string Field(int number, const std::string& bytes) { return Varint(number << 3 | 2) + Varint(bytes.size()) + bytes; }

/// Thunk::Parse reads what gg writes itself and leaves anything else
/// (unknown fields, other wire types, limits, non-ASCII strings) to
/// protobuf: a hostile thunk gets exactly the old answers. With `inputs`
/// of 64 or more, the parse shares the list of an earlier thunk with the
/// same inputs bytes: damage elsewhere meets that path, damage to the
/// inputs must miss it.
void DirectReaderAgreesWithProtobuf(int inputs) {
  Thunk t = Sample();
  for (int i = 0; i < inputs; ++i) t.inputs.push_back({Name::ForContent(std::to_string(i)).str(), "i/" + std::to_string(i), i % 3 == 0});
  std::string good = t.Serialize();
  ExpectSameAsReference(good, "as written");
  Thunk limited = t;
  limited.limits.processes = 7;
  ExpectSameAsReference(limited.Serialize(), "with limits");
  Thunk utf8 = t;
  utf8.args.push_back("caf\xc3\xa9");
  ExpectSameAsReference(utf8.Serialize(), "UTF-8 argument");
  std::string bad_utf8 = good + Field(3, "\xff\xfe");
  ExpectSameAsReference(bad_utf8, "invalid UTF-8 argument");
  ExpectSameAsReference(good + Varint(15 << 3) + Varint(1), "an unknown varint field");
  ExpectSameAsReference(good + Field(2, Name::ForContent("other").str()), "the function given twice");
  ExpectSameAsReference(good + Varint(1 << 3) + Varint(uint64_t{1} << 32 | 1), "version 2^32 + 1");
  ExpectSameAsReference(good + Varint(3 << 3) + Varint(1), "args as a varint");
  ExpectSameAsReference(good + Field(5, Varint(3 << 3) + Varint(300)), "an input with only an executable bit");
  ExpectSameAsReference(std::string(kThunkMagic) + Field(5, Field(1, t.inputs[0].name) + Field(2, "x")) +
                            good.substr(kThunkMagic.size()),
                        "an input before the version");
  // Random damage: flipped bytes, truncations, spliced copies.
  std::mt19937 rng(42);
  for (int round = 0; round < 3000; ++round) {
    std::string b = good;
    switch (round % 3) {
      case 0:
        for (int k = 0; k < 1 + round % 4; ++k) b[kThunkMagic.size() + rng() % (b.size() - kThunkMagic.size())] ^= 1 << (rng() % 8);
        break;
      case 1:
        b.resize(kThunkMagic.size() + rng() % (b.size() - kThunkMagic.size()));
        break;
      case 2: {
        size_t from = kThunkMagic.size() + rng() % (b.size() - kThunkMagic.size());
        b.insert(kThunkMagic.size() + rng() % (b.size() - kThunkMagic.size()), b.substr(from, rng() % 40));
        break;
      }
    }
    ExpectSameAsReference(b, "round " + std::to_string(round));
    if (::testing::Test::HasFatalFailure()) return;
  }
}

TEST(ThunkTest, DirectReaderAgreesWithProtobufOnAnyBytes) { DirectReaderAgreesWithProtobuf(20); }

TEST(ThunkTest, SharedInputListAgreesWithProtobufOnAnyBytes) { DirectReaderAgreesWithProtobuf(100); }

/// `count` inputs under i/, then the function, as gg writes them.
Thunk ManyInputs(int count, const std::string& tag) {
  Thunk t = Sample();
  t.workdir = std::string(kDefaultWorkdir);
  t.args.push_back(tag);
  for (int i = 0; i < count; ++i) t.inputs.push_back({Name::ForContent("in " + std::to_string(i)).str(), "i/" + std::to_string(i), false});
  return t;
}

TEST(ThunkTest, ThunksReadFromTheSameInputsShareOneList) {
  Thunk a = ManyInputs(200, "a"), b = ManyInputs(200, "b");
  auto pa = Thunk::Parse(a.Serialize());
  auto pb = Thunk::Parse(b.Serialize());
  ASSERT_TRUE(pa.ok() && pb.ok());
  EXPECT_EQ(*pa, a);
  EXPECT_EQ(*pb, b);
  EXPECT_EQ(pa->inputs.shared(), pb->inputs.shared());
  // A change to one is its own (copy on write).
  Thunk changed = *pb;
  changed.inputs[5].path = "elsewhere";
  EXPECT_EQ(pb->inputs[5].path, b.inputs[5].path);
  EXPECT_NE(changed.inputs.shared(), pb->inputs.shared());
  auto again = Thunk::Parse(b.Serialize());
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, b);
  // Small lists are read each time.
  auto s1 = Thunk::Parse(Sample().Serialize()), s2 = Thunk::Parse(Sample().Serialize());
  ASSERT_TRUE(s1.ok() && s2.ok());
  EXPECT_NE(s1->inputs.shared(), s2->inputs.shared());
}

TEST(ThunkTest, WhatIsKeptAboutASharedListFollowsEveryChange) {
  // Where the function is and whether any input is a thunk's output are
  // kept per shared list: a copy that changes its inputs, or names another
  // function, must get its own answers, and the others theirs.
  Thunk a = ManyInputs(200, "facts a"), b = ManyInputs(200, "facts b");
  std::string dep = b.inputs[2].name;
  a.inputs[2].name = b.inputs[2].name = Name::ForContent("no dep").str();
  auto pa = Thunk::Parse(a.Serialize());
  auto pb = Thunk::Parse(b.Serialize());
  ASSERT_TRUE(pa.ok() && pb.ok());
  // Read only through const references: a non-const [] takes a private copy.
  const Thunk& ra = *pa;
  const Thunk& rb = *pb;
  ASSERT_EQ(ra.inputs.shared(), rb.inputs.shared());
  for (int round = 0; round < 2; ++round) {
    EXPECT_EQ(rb.FunctionInput(), &rb.inputs[0]);
    EXPECT_EQ(ra.FunctionInput(), &ra.inputs[0]);
    EXPECT_TRUE(rb.ThunkDependencies().empty());
  }
  Thunk not_executable = rb;
  not_executable.inputs[0].executable = false;
  EXPECT_EQ(not_executable.FunctionInput(), nullptr);
  Thunk with_dep = rb;
  with_dep.inputs[5].name = dep;
  ASSERT_EQ(with_dep.ThunkDependencies().size(), 1u);
  EXPECT_EQ(with_dep.ThunkDependencies()[0].str(), dep);
  Thunk other_function = rb;  // the same list, another function
  other_function.function = rb.inputs[7].name;
  const Thunk& ro = other_function;
  EXPECT_EQ(ro.inputs.shared(), rb.inputs.shared());
  EXPECT_EQ(ro.FunctionInput(), nullptr);
  EXPECT_EQ(rb.FunctionInput(), &rb.inputs[0]);
  EXPECT_TRUE(rb.ThunkDependencies().empty());
  EXPECT_EQ(rb.inputs.shared(), ra.inputs.shared());
  EXPECT_EQ(ManyInputs(200, "facts c").ThunkDependencies().size(), 1u);
}

TEST(ThunkTest, ADifferentInputSetIsCheckedAgain) {
  Thunk good = ManyInputs(200, "good");
  ASSERT_TRUE(Thunk::Parse(good.Serialize()).ok());
  // One input differs: it is read and checked, not taken from the list kept.
  Thunk dup = ManyInputs(200, "dup");
  dup.inputs[7].path = "i/8";
  auto d = Thunk::Parse(dup.Serialize());
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.status().message(), "malformed thunk: " + dup.Validate().message());
  Thunk bad_name = ManyInputs(200, "bad name");
  bad_name.inputs[3].name[1] = '!';
  auto n = Thunk::Parse(bad_name.Serialize());
  ASSERT_FALSE(n.ok());
  EXPECT_EQ(n.status().message(), "malformed thunk: " + bad_name.Validate().message());
  // The same inputs bytes under another work dir are checked again: an
  // absolute input there can share a place with a relative one.
  Thunk placed = ManyInputs(200, "placed");
  placed.inputs.push_back({Name::ForContent("x").str(), "/w/i/0", false});
  ASSERT_TRUE(Thunk::Parse(placed.Serialize()).ok());
  placed.workdir = "/w";
  auto p = Thunk::Parse(placed.Serialize());
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.status().message().find("two inputs share the path"), std::string::npos) << p.status().message();
  // And the list kept still serves its own bytes.
  auto g = Thunk::Parse(good.Serialize());
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(*g, good);
}

TEST(ThunkTest, AKeptListIsTakenOnlyForExactlyItsInputs) {
  // A kept list's bytes are compared where a thunk's inputs begin and
  // jumped over: a thunk whose inputs begin with them but go on (one more
  // input right after, or another input field later in the message) must
  // get its own inputs, read and checked.
  Thunk kept = ManyInputs(150, "kept");
  auto k = Thunk::Parse(kept.Serialize());
  ASSERT_TRUE(k.ok());
  Thunk more = ManyInputs(150, "more");
  more.inputs.push_back({Name::ForContent("one more").str(), "i/one-more", false});
  auto m = Thunk::Parse(more.Serialize());
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(*m, more);
  EXPECT_NE(m->inputs.shared(), k->inputs.shared());
  // The same, with a duplicate path: checked, not taken as valid.
  Thunk dup = ManyInputs(150, "dup after");
  dup.inputs.push_back({Name::ForContent("dup").str(), "i/3", false});
  auto d = Thunk::Parse(dup.Serialize());
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.status().message(), "malformed thunk: " + dup.Validate().message());
  // An input field after the outputs (not as gg writes it, but valid):
  // read like any other, and it is the thunk's too.
  Thunk later = ManyInputs(150, "later");
  std::string bytes = later.Serialize() + Field(5, Field(1, Name::ForContent("late").str()) + Field(2, "i/late"));
  auto l = Thunk::Parse(bytes);
  ASSERT_TRUE(l.ok());
  EXPECT_EQ(l->inputs.size(), later.inputs.size() + 1);
  EXPECT_EQ(l->inputs.back().path, "i/late");
  auto ref = ReferenceParse(bytes);
  ASSERT_TRUE(ref.ok());
  EXPECT_EQ(*l, *ref);
  // Fewer inputs than kept: the kept bytes run past this thunk's inputs.
  Thunk fewer = ManyInputs(149, "fewer");
  auto f = Thunk::Parse(fewer.Serialize());
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(*f, fewer);
  // Two kept lists, one the start of the other: each thunk gets its own.
  auto k2 = Thunk::Parse(kept.Serialize());
  ASSERT_TRUE(k2.ok());
  EXPECT_EQ(k2->inputs.shared(), k->inputs.shared());
  auto m2 = Thunk::Parse(more.Serialize());
  ASSERT_TRUE(m2.ok());
  EXPECT_EQ(*m2, more);
  EXPECT_EQ(m2->inputs.shared(), m->inputs.shared());
}

TEST(ThunkTest, ParsesOfOneInputSetAtOnceAgree) {
  // Several threads reading thunks of the same and of different input sets.
  std::vector<std::string> bytes;
  for (int k = 0; k < 6; ++k) bytes.push_back(ManyInputs(100 + k % 3, "t" + std::to_string(k)).Serialize());
  std::vector<std::thread> threads;
  std::atomic<int> wrong{0};
  for (int th = 0; th < 4; ++th) {
    threads.emplace_back([&, th] {
      for (int i = 0; i < 200; ++i) {
        const std::string& b = bytes[(i + th) % bytes.size()];
        auto t = Thunk::Parse(b);
        if (!t.ok() || t->Serialize() != b) wrong++;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(wrong.load(), 0);
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
