#include "gg/name.h"

#include <gtest/gtest.h>

#include <cstring>

#include "core/sha256.h"

namespace gg {
namespace {

TEST(NameTest, ValueNameIs52Characters) {
  Name n = Name::ForContent("hello");
  std::string s = n.str();
  EXPECT_EQ(s.size(), 52u);
  EXPECT_EQ(s[0], 'V');
  EXPECT_EQ(s.substr(44), "00000005");
}

TEST(NameTest, RoundTripsThroughText) {
  Name n = Name::ForContent("some content");
  auto parsed = Name::Parse(n.str());
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(*parsed, n);
}

TEST(NameTest, KnownHashEncoding) {
  // SHA-256("") = e3b0c442...; its base64url is 47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU
  Name n = Name::ForContent("");
  EXPECT_EQ(n.str(), "V47DEQpj8HBSa._TImW.5JCeuQeRkm5NMpJWZG3hSuFU00000000");
}

TEST(NameTest, EveryHashRoundTripsAndEachSpellingIsUnique) {
  // Hashes are decoded four characters at a time: every byte position, and
  // the two bits past the last byte, which must be zero.
  for (int i = 0; i < 2000; ++i) {
    Name n = Name::ForContent("content " + std::to_string(i));
    auto parsed = Name::Parse(n.str());
    ASSERT_TRUE(parsed.ok()) << n.str();
    EXPECT_EQ(*parsed, n);
  }
  std::string good = Name::ForContent("x").str();
  for (size_t pos = 1; pos <= 43; ++pos) {
    std::string bad = good;
    bad[pos] = '-';  // not in the alphabet
    EXPECT_FALSE(Name::Parse(bad).ok()) << pos;
  }
  // The last hash character carries 4 bits of the hash and 2 zero bits:
  // of the 64 characters, the 16 with those bits clear are valid there.
  int accepted = 0;
  for (char c : std::string("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._")) {
    std::string other = good;
    other[43] = c;
    accepted += Name::Parse(other).ok();
  }
  EXPECT_EQ(accepted, 16);
}

TEST(NameTest, ThunkContentGetsThunkType) {
  std::string content(kThunkMagic);
  content += "rest";
  EXPECT_EQ(Name::ForContent(content).type(), ObjectType::kThunk);
  std::string tree(kTreeMagic);
  EXPECT_EQ(Name::ForContent(tree).type(), ObjectType::kTree);
}

TEST(NameTest, TagsOnThunksOnly) {
  std::string thunk(kThunkMagic);
  Name t = Name::ForContent(thunk);
  auto tagged = Name::Parse(t.str() + "#out.o");
  ASSERT_TRUE(tagged.ok());
  EXPECT_EQ(tagged->tag(), "out.o");
  EXPECT_EQ(tagged->object(), t);
  EXPECT_FALSE(Name::Parse(Name::ForContent("x").str() + "#tag").ok());
}

TEST(NameTest, ObjectsOver4GiBAreRepresentable) {
  Name big(ObjectType::kValue, HashBytes("x"), (uint64_t{5} << 32) + 7);
  std::string s = big.str();
  EXPECT_EQ(s.size(), 53u);
  auto parsed = Name::Parse(s);
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->size(), (uint64_t{5} << 32) + 7);
}

TEST(NameTest, RejectsMalformedNames) {
  std::string good = Name::ForContent("x").str();
  EXPECT_FALSE(Name::Parse("").ok());
  EXPECT_FALSE(Name::Parse("X" + good.substr(1)).ok());
  EXPECT_FALSE(Name::Parse(good.substr(0, 30)).ok());
  EXPECT_FALSE(Name::Parse(good.substr(0, 44) + "0000000G").ok());
  EXPECT_FALSE(Name::Parse(good.substr(0, 10) + "!" + good.substr(11)).ok());
  auto err = Name::Parse("nonsense");
  EXPECT_NE(err.status().message().find("not an object name"), std::string::npos);
}

TEST(HmacTest, Rfc4231TestCase2) {
  // RFC 4231, test case 2: key "Jefe", data "what do ya want for nothing?".
  Sha256 mac = HmacSha256("Jefe", "what do ya want for nothing?");
  static const uint8_t kExpected[32] = {0x5b, 0xdc, 0xc1, 0x46, 0xbf, 0x60, 0x75, 0x4e, 0x6a, 0x04, 0x24,
                                        0x26, 0x08, 0x95, 0x75, 0xc7, 0x5a, 0x00, 0x3f, 0x08, 0x9d, 0x27,
                                        0x39, 0x83, 0x9d, 0xec, 0x58, 0xb9, 0x64, 0xec, 0x38, 0x43};
  EXPECT_EQ(0, std::memcmp(mac.data(), kExpected, 32));
  // A key longer than the block is hashed first (RFC 4231 test case 6).
  Sha256 long_key = HmacSha256(std::string(131, '\xaa'), "Test Using Larger Than Block-Size Key - Hash Key First");
  EXPECT_EQ(long_key[0], 0x60);
  EXPECT_EQ(long_key[31], 0x54);
}

}  // namespace
}  // namespace gg
