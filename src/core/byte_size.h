// Byte sizes as people write them on command lines: "512M", "10G", "1.5GiB".
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace gg {

/// Bytes, in binary units: a number (fractions allowed), then optionally K, M,
/// G or T, optionally followed by "i" and/or "B". nullopt if malformed.
std::optional<uint64_t> ParseByteSize(std::string_view text);

}  // namespace gg
