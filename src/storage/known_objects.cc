#include "storage/known_objects.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include "core/path_util.h"
#include "core/sha256.h"
#include "storage/blob_writer.h"

namespace gg {

std::string RemoteStateDir(const std::string& gg_dir, const std::string& uri) {
  return gg_dir + "/remote/" + HexOf(HashBytes(uri)).substr(0, 16);
}

Result<std::unique_ptr<KnownObjects>> KnownObjects::Open(const std::string& gg_dir, const std::string& uri) {
  std::string dir = RemoteStateDir(gg_dir, uri);
  GG_RETURN_IF_ERROR(MakeDirs(dir));
  std::string uri_file = dir + "/uri";
  if (access(uri_file.c_str(), F_OK) != 0) GG_RETURN_IF_ERROR(WriteFileAtomic(uri_file, uri + "\n"));
  std::string path = dir + "/known";
  int fd = open(path.c_str(), O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) return Status::FromErrno("cannot open " + path, errno);
  std::unique_ptr<KnownObjects> k(new KnownObjects(path, fd));
  auto text = ReadFile(path);
  if (!text.ok()) return text.status();
  size_t start = 0;
  while (start < text->size()) {
    size_t nl = text->find('\n', start);
    if (nl == std::string::npos) break;  // a torn last line
    std::string line = text->substr(start, nl - start);
    start = nl + 1;
    if (line.starts_with("-")) {
      k->names_.erase(line.substr(1));  // a tombstone: found missing from the store
    } else if (Name::Parse(line).ok()) {
      k->names_.insert(std::move(line));
    }
  }
  return k;
}

KnownObjects::~KnownObjects() {
  if (fd_ >= 0) close(fd_);
}

bool KnownObjects::Contains(const Name& name) const {
  std::lock_guard<std::mutex> lock(mu_);
  return names_.count(name.object().str()) > 0;
}

size_t KnownObjects::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return names_.size();
}

Status KnownObjects::Add(const std::vector<Name>& names) {
  std::lock_guard<std::mutex> lock(mu_);
  std::string lines;
  for (const auto& n : names) {
    std::string s = n.object().str();
    if (names_.insert(s).second) lines += s + "\n";
  }
  return AppendLocked(lines);
}

Status KnownObjects::AppendLocked(const std::string& lines) {
  size_t done = 0;
  while (done < lines.size()) {
    ssize_t w = write(fd_, lines.data() + done, lines.size() - done);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) {
      int err = errno;
      return Status::FromErrno("cannot append to " + path_ + DiskFullHint(err), err);
    }
    done += w;
  }
  return Status::Ok();
}

Status KnownObjects::Forget(const std::vector<Name>& names) {
  std::lock_guard<std::mutex> lock(mu_);
  std::string lines;
  for (const auto& n : names) {
    std::string s = n.object().str();
    if (names_.erase(s) > 0) lines += "-" + s + "\n";
  }
  return AppendLocked(lines);
}

Status KnownObjects::Clear() {
  std::lock_guard<std::mutex> lock(mu_);
  names_.clear();
  if (ftruncate(fd_, 0) != 0) return Status::FromErrno("cannot truncate " + path_, errno);
  return Status::Ok();
}

}  // namespace gg
