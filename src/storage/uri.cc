#include "storage/uri.h"

#include <cctype>

namespace gg {

std::string PercentDecode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
      out += static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

std::string PercentEncode(std::string_view s, bool keep_slash) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || (keep_slash && c == '/')) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

Result<ParsedUri> ParseUri(const std::string& uri) {
  ParsedUri u;
  size_t colon = uri.find("://");
  if (colon == std::string::npos || colon == 0) {
    // Echo the URI only when it cannot hold a password.
    std::string shown = uri.find('@') == std::string::npos ? " '" + uri + "'" : "";
    return Status::Invalid("storage URI" + shown +
                           " has no scheme: use redis://host[:port][/db], s3://bucket[/prefix] or gs://bucket[/prefix]");
  }
  u.scheme = uri.substr(0, colon);
  std::string rest = uri.substr(colon + 3);
  if (size_t q = rest.find('?'); q != std::string::npos) {
    std::string query = rest.substr(q + 1);
    rest.resize(q);
    size_t start = 0;
    while (start <= query.size()) {
      size_t amp = query.find('&', start);
      if (amp == std::string::npos) amp = query.size();
      std::string kv = query.substr(start, amp - start);
      if (!kv.empty()) {
        size_t eq = kv.find('=');
        std::string k = PercentDecode(kv.substr(0, eq));
        u.query[k] = eq == std::string::npos ? "" : PercentDecode(kv.substr(eq + 1));
      }
      start = amp + 1;
    }
  }
  size_t slash = rest.find('/');
  std::string authority = rest.substr(0, slash);
  u.path = slash == std::string::npos ? "" : rest.substr(slash + 1);
  if (size_t at = authority.rfind('@'); at != std::string::npos) {
    u.userinfo = authority.substr(0, at);
    authority = authority.substr(at + 1);
  }
  u.host = authority;
  return u;
}

}  // namespace gg
