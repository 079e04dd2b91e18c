// Placeholders: small files that stand where a thunk's output will be. A
// placeholder is a shell script that explains itself if run, with the
// target's name on its second line. See docs/store_format.md.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "gg/name.h"
#include "gg/status.h"

namespace gg {

std::string PlaceholderContent(const Name& target);
/// The target a placeholder's content names, or nullopt if it is not one.
std::optional<Name> ParsePlaceholder(std::string_view content);
/// Reads `path` and returns its target, or nullopt if it is not a placeholder.
Result<std::optional<Name>> ReadPlaceholder(const std::string& path);
/// Where the output `path` names is to be written: `path` itself, or if it
/// is a symlink the placeholder file it leads to (libtool's `libx.so ->
/// libx.so.1.2.3`: replacing the link with the output's bytes would leave a
/// copy where the plain build has a link).
std::string PlaceholderFileOf(const std::string& path);
/// Writes a placeholder atomically, with `mode` (the output's future mode)
/// plus the sticky bit, which marks placeholders to stat().
Status WritePlaceholder(const std::string& path, const Name& target, int mode = 0644);

}  // namespace gg
