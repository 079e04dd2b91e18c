// Object names: content addresses of everything gg stores.
//
// A name is a type letter, the SHA-256 of the content in unpadded base64url
// (with '-' written as '.', so names are safe file names and shell words),
// and the content's size in lower-case hex: at least 8 digits, more for
// objects of 4 GiB or larger. `T...#tag` names a thunk's output other than
// its first. See docs/names.md.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "gg/status.h"

namespace gg {

enum class ObjectType : char {
  kValue = 'V',  ///< any bytes
  kThunk = 'T',  ///< a serialized thunk (starts with the thunk magic)
  kTree = 'D',   ///< a serialized directory listing (starts with the tree magic)
};

using Sha256 = std::array<uint8_t, 32>;

class Name {
 public:
  Name() = default;
  Name(ObjectType type, const Sha256& hash, uint64_t size, std::string tag = {})
      : type_(type), hash_(hash), size_(size), tag_(std::move(tag)) {}

  /// Parses "V<hash><size>" or "T<hash><size>#tag"; explains what is wrong.
  static Result<Name> Parse(std::string_view text);
  /// Whether Parse(text) would succeed, without making the name (every
  /// input of every thunk read is checked).
  static bool Valid(std::string_view text);
  /// The name of `content`, typed by its magic header.
  static Name ForContent(std::string_view content);
  /// The type a content's header implies.
  static ObjectType TypeOf(std::string_view content_prefix);

  ObjectType type() const { return type_; }
  bool is_thunk() const { return type_ == ObjectType::kThunk; }
  const Sha256& hash() const { return hash_; }
  uint64_t size() const { return size_; }
  const std::string& tag() const { return tag_; }
  bool has_tag() const { return !tag_.empty(); }

  /// The full text, with "#tag" when there is one.
  std::string str() const;
  /// The object this names, without the tag.
  Name object() const { return Name(type_, hash_, size_); }
  Name WithTag(std::string tag) const { return Name(type_, hash_, size_, std::move(tag)); }

  bool operator==(const Name&) const = default;
  auto operator<=>(const Name&) const = default;

 private:
  ObjectType type_ = ObjectType::kValue;
  Sha256 hash_{};
  uint64_t size_ = 0;
  std::string tag_;
};

/// Magic headers that make content a thunk or a tree (8 bytes each).
inline constexpr std::string_view kThunkMagic{"\x7fGGTHUNK", 8};
inline constexpr std::string_view kTreeMagic{"\x7fGGTREES", 8};

}  // namespace gg
