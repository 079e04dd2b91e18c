#include "models/canonical_paths.h"

#include <algorithm>

namespace gg::models {
namespace {

bool Inside(const std::string& path, const std::string& dir) {
  return path.size() > dir.size() && path.starts_with(dir) && path[dir.size()] == '/';
}

// A character that may continue a path component: a root followed by one of
// these is a different name ("/src/proj2" is not "/src/proj").
bool ContinuesName(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
         c == '-' || c == '+' || c == '~';
}

// Whether a path starting at text[i] is a whole path, not the tail of a
// longer one ("/home/a/x/fmt" holds "/x/fmt" but is not under it): walking
// back to the start of the word ("-I", "-Wl,-rpath,", "DIR=\"") finds no '/'.
bool StartsPath(const std::string& text, size_t i) {
  while (i > 0) {
    char c = text[--i];
    if (c == '/') return false;
    if (c == ' ' || c == '=' || c == ',' || c == ':' || c == ';' || c == '"' || c == '\'' || c == '(' || c == '\t') {
      return true;
    }
  }
  return true;
}

}  // namespace

PathMap PathMap::ForRoots(const std::vector<std::string>& roots) {
  PathMap m;
  int n = 0;
  for (const auto& r : roots) {
    if (r.size() < 2 || r[0] != '/') continue;  // never "/" itself
    bool nested = std::any_of(roots.begin(), roots.end(), [&](const std::string& o) { return Inside(r, o); });
    bool seen = std::any_of(m.map_.begin(), m.map_.end(), [&](const auto& e) { return e.first == r; });
    if (nested || seen) continue;
    m.map_.emplace_back(r, "/gg/root" + std::to_string(n++));
  }
  // Longest first, so that a root that is a string prefix of another (not a
  // path prefix: /a/x and /a/xy) cannot take the other's occurrences.
  std::sort(m.map_.begin(), m.map_.end(), [](const auto& a, const auto& b) { return a.first.size() > b.first.size(); });
  return m;
}

std::string PathMap::Map(const std::string& text) const {
  if (map_.empty() || text.find('/') == std::string::npos) return text;
  std::string out;
  size_t i = 0;
  while (i < text.size()) {
    bool replaced = false;
    for (const auto& [real, canonical] : map_) {
      if (text.compare(i, real.size(), real) != 0) continue;
      size_t end = i + real.size();
      if (!StartsPath(text, i) || (end < text.size() && ContinuesName(text[end]))) continue;
      out += canonical;
      i = end;
      replaced = true;
      break;
    }
    if (!replaced) out += text[i++];
  }
  return out;
}

void PathMap::Apply(Thunk* t) const {
  if (map_.empty()) return;
  t->workdir = Map(t->effective_workdir());
  for (auto& a : t->args) a = Map(a);
  for (auto& e : t->env) e = Map(e);
  for (auto& in : t->inputs) {
    if (in.path.starts_with("/")) in.path = Map(in.path);
  }
}

}  // namespace gg::models
