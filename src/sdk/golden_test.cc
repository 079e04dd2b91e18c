// Pins the exact bytes and names of a few thunks and trees: a thunk's name
// must not change with the protobuf library's version (or anything else).
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "sdk/golden_cases.h"

namespace gg {
namespace {

std::string Hex(const std::string& bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 15]);
  }
  return out;
}

struct Golden {
  std::string name, hex;
};

// testdata/golden.txt: "ID NAME HEX" lines; '#' starts a comment.
std::map<std::string, Golden> LoadGolden() {
  std::ifstream in(std::string(GG_SDK_TESTDATA) + "/golden.txt");
  std::map<std::string, Golden> out;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream fields(line);
    std::string id;
    Golden g;
    fields >> id >> g.name >> g.hex;
    out[id] = g;
  }
  return out;
}

TEST(GoldenTest, BytesAndNamesArePinned) {
  auto golden = LoadGolden();
  auto cases = golden::Cases();
  ASSERT_EQ(golden.size(), cases.size()) << "testdata/golden.txt and golden_cases.h list different cases";
  for (const auto& [id, bytes] : cases) {
    SCOPED_TRACE(id);
    ASSERT_TRUE(golden.count(id)) << "no golden line for " << id << "; it would be: " << id << " "
                                  << Name::ForContent(bytes).str() << " " << Hex(bytes);
    EXPECT_EQ(Hex(bytes), golden[id].hex);
    EXPECT_EQ(Name::ForContent(bytes).str(), golden[id].name);
  }
}

TEST(GoldenTest, ParseGivesBackTheSameBytes) {
  for (const auto& [id, bytes] : golden::Cases()) {
    SCOPED_TRACE(id);
    if (id.starts_with("thunk")) {
      auto t = Thunk::Parse(bytes);
      ASSERT_TRUE(t.ok()) << t.status().ToString();
      EXPECT_EQ(t->Serialize(), bytes);
    } else {
      auto t = Tree::Parse(bytes);
      ASSERT_TRUE(t.ok()) << t.status().ToString();
      EXPECT_EQ(t->Serialize(), bytes);
    }
  }
}

TEST(GoldenTest, NamesAreTyped) {
  EXPECT_EQ(golden::FullThunk().name().type(), ObjectType::kThunk);
  EXPECT_EQ(golden::SampleTree().name().type(), ObjectType::kTree);
  EXPECT_EQ(golden::FullThunk().Validate().ToString(), Status::Ok().ToString());
}

}  // namespace
}  // namespace gg
