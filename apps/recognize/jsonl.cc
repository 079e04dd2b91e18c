#include "jsonl.h"

#include <cstdio>
#include <cstdlib>

namespace rec {

std::string JsonString(const std::string& s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '\r': out += "\\r"; break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out + "\"";
}

long FrameOf(const std::string& line) {
  const std::string key = "{\"frame\":";
  if (line.compare(0, key.size(), key) != 0) return -1;
  char* end = nullptr;
  long v = std::strtol(line.c_str() + key.size(), &end, 10);
  return end && (*end == ',' || *end == '}') ? v : -1;
}

std::string TextOf(const std::string& line) {
  const std::string key = ",\"text\":\"";
  size_t pos = line.find(key);
  if (pos == std::string::npos) return "";
  std::string out;
  for (size_t i = pos + key.size(); i < line.size(); ++i) {
    char c = line[i];
    if (c == '"') break;
    if (c != '\\' || i + 1 >= line.size()) {
      out += c;
      continue;
    }
    char e = line[++i];
    switch (e) {
      case 'n': out += '\n'; break;
      case 't': out += '\t'; break;
      case 'r': out += '\r'; break;
      case 'u':
        if (i + 4 < line.size()) {
          out += static_cast<char>(std::strtol(line.substr(i + 1, 4).c_str(), nullptr, 16));
          i += 4;
        }
        break;
      default: out += e;
    }
  }
  return out;
}

}  // namespace rec
