// Splitting storage URIs: scheme://authority/path?query.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "gg/status.h"

namespace gg {

struct ParsedUri {
  std::string scheme;     ///< "redis", "s3", "gs"
  std::string userinfo;   ///< before '@' in the authority, still encoded
  std::string host;       ///< the authority after '@' (may include ":port")
  std::string path;       ///< after the authority, without the leading '/'
  std::map<std::string, std::string> query;  ///< decoded
};

Result<ParsedUri> ParseUri(const std::string& uri);
std::string PercentDecode(std::string_view s);
/// Encodes everything but unreserved characters (and '/' if `keep_slash`).
std::string PercentEncode(std::string_view s, bool keep_slash);

}  // namespace gg
