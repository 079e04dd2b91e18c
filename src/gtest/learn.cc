#include "gtest/learn.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <filesystem>
#include <map>

#include "core/path_util.h"
#include "gtest/lines.h"
#include "models/toolchain.h"

namespace gg::gtest {
namespace {

std::string Normal(const std::string& p) { return std::filesystem::path(p).lexically_normal().string(); }

// The quoted string starting at `q` (strace escapes '"' and '\\').
std::string Quoted(std::string_view s, size_t q, size_t* end) {
  std::string out;
  size_t i = q + 1;
  for (; i < s.size() && s[i] != '"'; ++i) {
    if (s[i] == '\\' && i + 1 < s.size()) ++i;
    out += s[i];
  }
  *end = i;
  return out;
}

struct Call {
  std::string path;  // absolute
  bool writes = false;
};

// The path and mode of an open call's arguments, as strace -y prints them.
bool ParseCall(std::string_view line, const std::string& cwd, Call* call) {
  size_t paren = line.find('(');
  if (paren == std::string_view::npos) return false;
  std::string_view fn = line.substr(0, paren);
  size_t sp = fn.rfind(' ');
  if (sp != std::string_view::npos) fn = fn.substr(sp + 1);
  if (fn != "open" && fn != "openat" && fn != "openat2" && fn != "creat") return false;
  std::string base = cwd;
  size_t q = line.find('"', paren);
  if (q == std::string_view::npos) return false;
  if (fn == "openat" || fn == "openat2") {
    // openat(AT_FDCWD, "p", ...) or openat(3</dir>, "p", ...)
    std::string_view dirfd = line.substr(paren + 1, q - paren - 1);
    size_t lt = dirfd.find('<');
    if (lt != std::string_view::npos) base = std::string(dirfd.substr(lt + 1, dirfd.rfind('>') - lt - 1));
  }
  size_t end = 0;
  std::string path = Quoted(line, q, &end);
  std::string_view rest = line.substr(end);
  call->writes = fn == "creat" || rest.find("O_WRONLY") != std::string_view::npos ||
                 rest.find("O_RDWR") != std::string_view::npos || rest.find("O_CREAT") != std::string_view::npos ||
                 rest.find("O_TRUNC") != std::string_view::npos;
  call->path = Normal(path.starts_with("/") ? path : base + "/" + path);
  return true;
}

// The result of a call line: true when it returned a descriptor.
bool Succeeded(std::string_view line) {
  size_t eq = line.rfind(") = ");
  if (eq == std::string_view::npos) return false;
  return line.size() > eq + 4 && line[eq + 4] != '-' && line[eq + 4] != '?';
}

}  // namespace

OpenedFiles ParseStraceOpens(std::string_view trace, const std::string& cwd) {
  OpenedFiles out;
  std::map<std::string, Call> pending;  // pid -> a call interrupted by another thread's
  for (std::string_view line : Lines(trace)) {
    // With -f, lines start with the pid.
    std::string pid;
    size_t digits = 0;
    while (digits < line.size() && std::isdigit(static_cast<unsigned char>(line[digits]))) ++digits;
    if (digits > 0 && digits < line.size() && line[digits] == ' ') {
      pid = std::string(line.substr(0, digits));
      line = line.substr(digits + 1);
      while (line.starts_with(" ")) line.remove_prefix(1);
    }
    Call call;
    bool done;
    if (line.starts_with("<... ")) {
      auto it = pending.find(pid);
      if (it == pending.end()) continue;
      call = it->second;
      pending.erase(it);
      done = Succeeded(line);
    } else {
      if (!ParseCall(line, cwd, &call)) continue;
      if (line.find("<unfinished ...>") != std::string_view::npos) {
        pending[pid] = call;
        continue;
      }
      done = Succeeded(line);
    }
    if (!done) continue;
    (call.writes ? out.written : out.read).insert(call.path);
  }
  for (const auto& w : out.written) out.read.erase(w);
  return out;
}

Result<OpenedFiles> TraceRun(const LocalRun& run, const std::string& scratch_dir) {
  if (models::FindInPath("strace").empty()) {
    return Status::NotFound("strace is not installed (Debian: apt-get install strace); it finds the files tests read");
  }
  std::string trace = scratch_dir + "/trace." + UniqueSuffix();
  std::vector<std::string> argv;
  if (run.timeout_seconds > 0) {
    argv = {"timeout", "-s", "KILL", std::to_string(static_cast<long>(run.timeout_seconds + 0.999))};
  }
  argv.insert(argv.end(), {"env", "-C", run.cwd});
  argv.insert(argv.end(), run.env.begin(), run.env.end());
  argv.insert(argv.end(), {"strace", "-f", "-y", "-qq", "-e", "trace=open,openat,openat2,creat", "-o", trace,
                           run.binary, "--gtest_filter=" + run.filter});
  auto out = models::RunCapture(argv, true);
  if (!out.ok()) return out.status();
  auto text = ReadFile(trace);
  unlink(trace.c_str());
  if (!text.ok()) return Status::Failed("strace of " + run.binary + " wrote no trace: " + *out);
  return ParseStraceOpens(*text, run.cwd);
}

std::set<std::string> DataFilesUnder(const OpenedFiles& opened, const std::vector<std::string>& roots) {
  std::set<std::string> out;
  for (const auto& path : opened.read) {
    struct stat st {};
    if (stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
    for (const auto& root : roots) {
      if (path.starts_with(root + "/")) {
        out.insert(path.substr(root.size() + 1));
        break;
      }
    }
  }
  return out;
}

}  // namespace gg::gtest
