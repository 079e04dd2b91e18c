#include "core/path_util.h"

#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <thread>

namespace gg {
namespace {

bool CleanComponents(std::string_view path) {
  if (path.find('\0') != std::string_view::npos) return false;  // the kernel would cut the name there
  size_t pos = 0;
  while (pos <= path.size()) {
    size_t end = path.find('/', pos);
    if (end == std::string_view::npos) end = path.size();
    std::string_view c = path.substr(pos, end - pos);
    if (c.empty() || c == "." || c == "..") return false;
    pos = end + 1;
  }
  return true;
}

}  // namespace

bool IsCleanRelativePath(std::string_view path) {
  return !path.empty() && path[0] != '/' && CleanComponents(path);
}

bool IsCleanAbsolutePath(std::string_view path) {
  if (path.empty() || path[0] != '/') return false;
  if (path == "/") return true;
  return CleanComponents(path.substr(1));
}

Result<std::string> ReadFile(const std::string& path) {
  std::string out;
  GG_ASSIGN_OR_RETURN(std::string_view read, ReadFileInto(path, &out));
  out.resize(read.size());
  return out;
}

Result<std::string_view> ReadFileInto(const std::string& path, std::string* buffer) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    int err = errno;
    if (err == ENOENT) return Status::NotFound(path + " does not exist");
    return Status::FromErrno("cannot open " + path, err);
  }
  // Straight into the buffer, not through another: gg reads each thunk
  // it runs, and one with thousands of inputs is a megabyte. The size is
  // a hint only (a file may change while it is read): reading goes on to
  // the end either way.
  std::string& out = *buffer;
  struct stat st {};
  size_t size = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0 ? st.st_size : 0;
  // One more byte: the end is seen without another call.
  if (out.size() < size + 1) out.resize(size + 1);
  size_t got = 0;
  for (;;) {
    if (got == out.size()) out.resize(out.size() + (out.size() >> 1) + 4096);
    ssize_t n = read(fd, out.data() + got, out.size() - got);
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      close(fd);
      return Status::FromErrno("cannot read " + path, err);
    }
    if (n == 0) break;
    got += n;
  }
  close(fd);
  return std::string_view(out.data(), got);
}

std::string UniqueSuffix() {
  static std::atomic<uint64_t> counter{0};
  return std::to_string(getpid()) + "." +
         std::to_string(std::hash<std::thread::id>{}(std::this_thread::get_id()) % 100000) + "." +
         std::to_string(counter++);
}

Status WriteFileAtomic(const std::string& path, std::string_view content, int mode) {
  std::string tmp = path + ".tmp." + UniqueSuffix();
  int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) return Status::FromErrno("cannot create " + tmp, errno);
  size_t done = 0;
  while (done < content.size()) {
    ssize_t n = write(fd, content.data() + done, content.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      close(fd);
      unlink(tmp.c_str());
      return Status::FromErrno("cannot write " + tmp + (err == ENOSPC ? " (the disk is full: free space and retry)" : ""), err);
    }
    done += n;
  }
  if (close(fd) != 0) {
    int err = errno;
    unlink(tmp.c_str());
    return Status::FromErrno("cannot write " + tmp, err);
  }
  if (fchmodat(AT_FDCWD, tmp.c_str(), mode, 0) != 0 || rename(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    unlink(tmp.c_str());
    return Status::FromErrno("cannot rename " + tmp + " to " + path, err);
  }
  return Status::Ok();
}

Status MakeDirs(const std::string& path, int mode) {
  std::error_code ec;
  std::filesystem::create_directories(path, ec);
  if (ec) return Status::Io("cannot create directory " + path + ": " + ec.message());
  (void)mode;
  return Status::Ok();
}

Status RemoveTree(const std::string& path) {
  // Sandboxes leave read-only directories behind; make them writable first.
  std::error_code ec;
  for (auto it = std::filesystem::recursive_directory_iterator(
           path, std::filesystem::directory_options::skip_permission_denied, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    if (it->is_directory(ec) && !it->is_symlink(ec)) chmod(it->path().c_str(), 0755);
  }
  ec.clear();
  std::filesystem::remove_all(path, ec);
  if (ec) return Status::Io("cannot remove " + path + ": " + ec.message());
  return Status::Ok();
}

Result<std::vector<std::string>> ListDirectory(const std::string& dir) {
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return Status::FromErrno("cannot list " + dir, errno);
  std::vector<std::string> names;
  while (dirent* e = readdir(d)) {
    std::string n = e->d_name;
    if (n != "." && n != "..") names.push_back(std::move(n));
  }
  closedir(d);
  return names;
}

std::string DirName(std::string_view path) {
  size_t slash = path.rfind('/');
  if (slash == std::string_view::npos) return "";
  if (slash == 0) return "/";
  return std::string(path.substr(0, slash));
}

std::string BaseName(std::string_view path) {
  size_t slash = path.rfind('/');
  return std::string(slash == std::string_view::npos ? path : path.substr(slash + 1));
}

std::string RealPath(const std::string& path) {
  char buf[PATH_MAX];
  return realpath(path.c_str(), buf) ? std::string(buf) : std::string();
}

std::string AbsolutePath(const std::string& path) {
  std::filesystem::path p = std::filesystem::absolute(path).lexically_normal();
  std::string s = p.string();
  if (s.size() > 1 && s.back() == '/') s.pop_back();
  return s;
}

}  // namespace gg
