// Sizes as people write and read them: "512M", "4G" in, "4 GiB" out. Used by
// limits (GG_LIMIT_*, --limit-*) and their messages.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "gg/status.h"

namespace gg {

/// "4G", "4GiB", "512M", "64k", "1000": bytes, binary units (k, M, G, T; an
/// optional "i" and "B"). An error for anything else, 0 or an overflow.
Result<uint64_t> ParseByteSize(std::string_view text);
/// "4 GiB", "1.5 MiB", "1000 bytes".
std::string FormatBytes(uint64_t bytes);

}  // namespace gg
