#include "models/session.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <set>
#include <sstream>

#include "core/path_util.h"
#include "core/placeholder.h"

namespace gg::models {
namespace {

void AppendLine(const std::string& path, const std::string& line) {
  int fd = open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return;
  std::string l = line + "\n";
  ssize_t n = write(fd, l.data(), l.size());
  (void)n;
  close(fd);
}

}  // namespace

std::string SessionConfig::Serialize() const {
  std::string out = "store " + store_dir + "\ngg " + gg_exe + "\n";
  for (const auto& r : roots) out += "root " + r + "\n";
  if (canonical_paths) out += "canonical\n";
  for (const auto& [path, kr] : tools) out += "tool " + kr.first + " " + path + " " + kr.second + "\n";
  return out;
}

Result<SessionConfig> SessionConfig::Parse(const std::string& text) {
  SessionConfig c;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    std::istringstream ls(line);
    std::string key;
    ls >> key;
    if (key == "store") ls >> c.store_dir;
    else if (key == "gg") ls >> c.gg_exe;
    else if (key == "canonical") c.canonical_paths = true;
    else if (key == "root") {
      std::string r;
      ls >> r;
      c.roots.push_back(r);
    } else if (key == "tool") {
      std::string kind, path, real;
      ls >> kind >> path >> real;
      c.tools[path] = {kind, real};
    }
  }
  return c;
}

Result<Session> Session::Load(const std::string& dir) {
  Session s;
  s.dir = dir;
  GG_ASSIGN_OR_RETURN(std::string config, ReadFile(dir + "/config"));
  GG_ASSIGN_OR_RETURN(s.config, SessionConfig::Parse(config));
  GG_ASSIGN_OR_RETURN(std::string tc, ReadFile(dir + "/toolchain"));
  GG_ASSIGN_OR_RETURN(s.toolchain, Toolchain::Parse(tc));
  if (s.config.canonical_paths) s.paths = PathMap::ForRoots(s.config.roots);
  return s;
}

void Session::LogThunk(const std::string& name, const std::string& path) const {
  if (!log_thunks) return;
  AppendLine(dir + "/thunks.log", name + "\t" + path);
}

namespace {
std::string LogLine(const std::string& reason, const std::vector<std::string>& argv) {
  std::string line = reason + "\t";
  for (size_t i = 0; i < argv.size(); ++i) line += (i ? " " : "") + argv[i];
  for (auto& ch : line) {
    if (ch == '\n') ch = ' ';
  }
  return line;
}
}  // namespace

void Session::LogLocal(const std::string& reason, const std::vector<std::string>& argv) const {
  AppendLine(dir + "/local.log", LogLine(reason, argv));
}

void Session::LogQuery(const std::string& reason, const std::vector<std::string>& argv) const {
  AppendLine(dir + "/queries.log", LogLine(reason, argv));
}

std::string Session::RealTool(const std::string& kind) const {
  for (const auto& [path, kr] : config.tools) {
    if (kr.first == kind) return kr.second;
  }
  return "";
}

std::vector<std::string> FindPlaceholders(const std::vector<std::string>& candidates) {
  std::vector<std::string> out;
  std::set<std::pair<dev_t, ino_t>> seen;  // a file and a link to it: forced once
  for (const auto& c : candidates) {
    struct stat st {};
    if (c.empty() || stat(c.c_str(), &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > 4096) continue;
    if (!seen.insert({st.st_dev, st.st_ino}).second) continue;
    auto p = ReadPlaceholder(c);
    if (p.ok() && p->has_value()) out.push_back(PlaceholderFileOf(c));
  }
  return out;
}

}  // namespace gg::models
