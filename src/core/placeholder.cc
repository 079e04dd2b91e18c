#include "core/placeholder.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/path_util.h"

namespace gg {

static constexpr std::string_view kFirstLine = "#!/bin/sh\n# gg-placeholder ";
static constexpr size_t kMaxPlaceholderSize = 4096;

std::string PlaceholderContent(const Name& target) {
  return std::string(kFirstLine) + target.str() +
         "\necho \"$0 is a gg placeholder: run 'gg force $0' to compute it\" >&2\nexit 1\n";
}

std::optional<Name> ParsePlaceholder(std::string_view content) {
  if (!content.starts_with(kFirstLine) || content.size() > kMaxPlaceholderSize) return std::nullopt;
  content.remove_prefix(kFirstLine.size());
  auto n = Name::Parse(content.substr(0, content.find('\n')));
  if (!n.ok()) return std::nullopt;
  return *n;
}

std::string PlaceholderFileOf(const std::string& path) {
  struct stat st {};
  if (lstat(path.c_str(), &st) != 0 || !S_ISLNK(st.st_mode)) return path;
  std::string real = RealPath(path);
  return real.empty() ? path : real;
}

Result<std::optional<Name>> ReadPlaceholder(const std::string& path) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Status::FromErrno("cannot open " + path, errno);
  char buf[kMaxPlaceholderSize + 1];
  ssize_t n = read(fd, buf, sizeof buf);
  close(fd);
  if (n < 0) return Status::FromErrno("cannot read " + path, errno);
  return ParsePlaceholder({buf, static_cast<size_t>(n)});
}

Status WritePlaceholder(const std::string& path, const Name& target, int mode) {
  // The sticky bit, which no output of a build has, tells a placeholder by
  // its stat() alone (models/stat_guard.c).
  return WriteFileAtomic(path, PlaceholderContent(target), mode | S_ISVTX);
}

}  // namespace gg
