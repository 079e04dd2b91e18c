#include "coordinator/identity_log.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "core/path_util.h"
#include "core/sha256.h"

namespace gg {

std::string ThunkIdentity(const Thunk& thunk) {
  Sha256Hasher h;
  // Length-prefixed parts, so no two different lists hash alike.
  auto part = [&h](const std::string& s) {
    h.Update(std::to_string(s.size()) + ":");
    h.Update(s);
  };
  part(thunk.args.empty() ? thunk.function : thunk.args[0]);
  part(thunk.effective_workdir());
  for (const auto& tag : thunk.outputs) part(tag);
  for (size_t i = 0; i + 1 < thunk.args.size(); ++i) {
    if (thunk.args[i] == "-o") part("-o " + thunk.args[i + 1]);
  }
  return HexOf(h.Finish());
}

Status IdentityLog::Append(const IdentityEntry& e) const {
  std::string line = e.identity + " " + std::to_string(e.unix_time) + " " + e.thunk.str() + " " + e.output.str() + "\n";
  int fd = open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) return Status::Io("cannot open " + path_ + ": " + std::strerror(errno));
  ssize_t n = write(fd, line.data(), line.size());
  int err = errno;
  close(fd);
  if (n != static_cast<ssize_t>(line.size())) return Status::Io("cannot append to " + path_ + ": " + std::strerror(err));
  return Status::Ok();
}

Result<std::vector<IdentityEntry>> IdentityLog::ReadAll() const {
  std::vector<IdentityEntry> out;
  if (access(path_.c_str(), F_OK) != 0) return out;
  GG_ASSIGN_OR_RETURN(std::string text, ReadFile(path_));
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string::npos) break;  // torn last line
    std::string line = text.substr(pos, nl - pos);
    pos = nl + 1;
    size_t a = line.find(' '), b = line.find(' ', a + 1), c = line.find(' ', b + 1);
    if (a == std::string::npos || b == std::string::npos || c == std::string::npos) continue;
    auto thunk = Name::Parse(line.substr(b + 1, c - b - 1));
    auto output = Name::Parse(line.substr(c + 1));
    if (!thunk.ok() || !output.ok()) continue;
    IdentityEntry e;
    e.identity = line.substr(0, a);
    e.unix_time = std::atoll(line.c_str() + a + 1);
    e.thunk = *thunk;
    e.output = *output;
    out.push_back(std::move(e));
  }
  return out;
}

}  // namespace gg
