#include "gg/name.h"

#include <array>
#include <cstdint>
#include <cstdio>

#include "core/sha256.h"

namespace gg {
namespace {

// base64url, with '-' replaced by '.' as in the original gg.
constexpr char kAlphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._";
constexpr size_t kHashChars = 43;  // 256 bits / 6, rounded up
constexpr size_t kMinSizeDigits = 8;

// A table: names are parsed for every input of every thunk read, and a
// branch per character was most of a large thunk's parse.
constexpr auto kDecode = [] {
  std::array<int8_t, 256> t{};
  t.fill(-1);
  for (int i = 0; i < 64; ++i) t[static_cast<uint8_t>(kAlphabet[i])] = static_cast<int8_t>(i);
  return t;
}();

std::string EncodeHash(const Sha256& h) {
  std::string out;
  out.reserve(kHashChars);
  uint32_t acc = 0;
  int bits = 0;
  for (uint8_t b : h) {
    acc = (acc << 8) | b;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out.push_back(kAlphabet[(acc >> bits) & 63]);
    }
  }
  if (bits > 0) out.push_back(kAlphabet[(acc << (6 - bits)) & 63]);
  return out;
}

bool DecodeHash(std::string_view text, Sha256* h) {
  // 43 characters: ten groups of four (three bytes each), then three for
  // the last two bytes and two bits that must be zero, so that each hash
  // has one spelling. A group at a time: every input name of every thunk
  // read is decoded here.
  static_assert(kHashChars == 43 && sizeof(Sha256) == 32);
  if (text.size() != kHashChars) return false;
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  for (int g = 0; g < 10; ++g, p += 4) {
    int a = kDecode[p[0]], b = kDecode[p[1]], c = kDecode[p[2]], d = kDecode[p[3]];
    if ((a | b | c | d) < 0) return false;
    uint32_t v = static_cast<uint32_t>(a) << 18 | static_cast<uint32_t>(b) << 12 | static_cast<uint32_t>(c) << 6 |
                 static_cast<uint32_t>(d);
    (*h)[3 * g] = static_cast<uint8_t>(v >> 16);
    (*h)[3 * g + 1] = static_cast<uint8_t>(v >> 8);
    (*h)[3 * g + 2] = static_cast<uint8_t>(v);
  }
  int a = kDecode[p[0]], b = kDecode[p[1]], c = kDecode[p[2]];
  if ((a | b | c) < 0) return false;
  uint32_t v = static_cast<uint32_t>(a) << 12 | static_cast<uint32_t>(b) << 6 | static_cast<uint32_t>(c);
  if ((v & 3) != 0) return false;
  (*h)[30] = static_cast<uint8_t>(v >> 10);
  (*h)[31] = static_cast<uint8_t>(v >> 2);
  return true;
}

}  // namespace

ObjectType Name::TypeOf(std::string_view prefix) {
  if (prefix.starts_with(kThunkMagic)) return ObjectType::kThunk;
  if (prefix.starts_with(kTreeMagic)) return ObjectType::kTree;
  return ObjectType::kValue;
}

Name Name::ForContent(std::string_view content) {
  return Name(TypeOf(content), HashBytes(content), content.size());
}

std::string Name::str() const {
  char size_hex[24];
  std::snprintf(size_hex, sizeof size_hex, "%08llx", static_cast<unsigned long long>(size_));
  std::string out;
  out.reserve(1 + kHashChars + 16 + tag_.size() + 1);
  out.push_back(static_cast<char>(type_));
  out += EncodeHash(hash_);
  out += size_hex;
  if (!tag_.empty()) {
    out.push_back('#');
    out += tag_;
  }
  return out;
}

namespace {

/// What is wrong with `text` as a name, or nullptr; fills in its parts.
const char* Problem(std::string_view text, char* type, Sha256* h, uint64_t* size, std::string_view* tag) {
  *tag = {};
  if (auto hash_pos = text.find('#'); hash_pos != std::string_view::npos) {
    *tag = text.substr(hash_pos + 1);
    text = text.substr(0, hash_pos);
    if (tag->empty()) return "empty tag after '#'";
  }
  if (text.size() < 1 + kHashChars + kMinSizeDigits) return "too short";
  char t = text[0];
  if (t != 'V' && t != 'T' && t != 'D') return "type letter must be V, T or D";
  if (!tag->empty() && t != 'T') return "only thunk names take a #tag";
  if (!DecodeHash(text.substr(1, kHashChars), h)) return "bad hash characters";
  std::string_view size_hex = text.substr(1 + kHashChars);
  if (size_hex.size() > 16) return "size has more than 16 hex digits";
  if (size_hex.size() > kMinSizeDigits && size_hex[0] == '0') return "size has leading zeros beyond 8 digits";
  uint64_t v = 0;
  for (char c : size_hex) {
    int d = (c >= '0' && c <= '9') ? c - '0' : (c >= 'a' && c <= 'f') ? c - 'a' + 10 : -1;
    if (d < 0) return "size must be lower-case hex";
    v = (v << 4) | static_cast<uint64_t>(d);
  }
  *type = t;
  *size = v;
  return nullptr;
}

}  // namespace

Result<Name> Name::Parse(std::string_view text) {
  char type;
  Sha256 h{};
  uint64_t size = 0;
  std::string_view tag;
  if (const char* why = Problem(text, &type, &h, &size, &tag)) {
    return Status::Invalid("'" + std::string(text) + "' is not an object name: " + why);
  }
  return Name(static_cast<ObjectType>(type), h, size, std::string(tag));
}

bool Name::Valid(std::string_view text) {
  char type;
  Sha256 h;
  uint64_t size;
  std::string_view tag;
  return Problem(text, &type, &h, &size, &tag) == nullptr;
}

}  // namespace gg
