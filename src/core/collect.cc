#include "core/collect.h"

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include "core/byte_size.h"
#include "core/sha256.h"
#include "core/tree.h"

namespace gg {
namespace {

// Sockets, FIFOs and devices have no content to store (reading /dev/zero
// never ends, a FIFO blocks): refused by name rather than read or skipped.
Status NotStorable(const std::string& path, const struct stat& st, const char* verb = "collect") {
  const char* kind = S_ISFIFO(st.st_mode)  ? "a FIFO"
                     : S_ISSOCK(st.st_mode) ? "a socket"
                     : S_ISCHR(st.st_mode)  ? "a character device"
                     : S_ISBLK(st.st_mode)  ? "a block device"
                                            : "not a regular file";
  return Status::Invalid(std::string("cannot ") + verb + " " + path + ": it is " + kind +
                         "; only regular files, directories and symbolic links can be stored");
}

Result<Name> PutBounded(LocalStore* store, const std::string& path, uint64_t max) {
  auto name = store->PutFile(path, max);
  if (!name.ok() && name.status().code() == Status::Code::kInvalid && max != 0) {
    return Status::Invalid("cannot collect " + path + ": it is larger than " + FormatBytes(max) +
                           ", the largest file gg collect stores (--max-size SIZE or GG_LIMIT_FILE raises "
                           "it): " + name.status().message());
  }
  return name;
}

Status AddDirectory(LocalStore* store, const std::string& root, const std::string& rel, uint64_t max, Tree* tree) {
  std::error_code ec;
  std::filesystem::directory_iterator it(root + (rel.empty() ? "" : "/" + rel), ec);
  if (ec) return Status::Io("cannot list " + root + "/" + rel + ": " + ec.message());
  for (const auto& entry : it) {
    std::string name = entry.path().filename().string();
    std::string sub = rel.empty() ? name : rel + "/" + name;
    std::string full = root + "/" + sub;
    struct stat st {};
    if (lstat(full.c_str(), &st) != 0) return Status::FromErrno("cannot stat " + full, errno);
    TreeEntry e;
    e.path = sub;
    if (S_ISDIR(st.st_mode)) {
      e.kind = TreeEntry::Kind::kDir;
      tree->entries.push_back(e);
      GG_RETURN_IF_ERROR(AddDirectory(store, root, sub, max, tree));
    } else if (S_ISLNK(st.st_mode)) {
      std::error_code lec;
      e.kind = TreeEntry::Kind::kSymlink;
      e.target = std::filesystem::read_symlink(full, lec).string();
      if (lec) return Status::Io("cannot read link " + full + ": " + lec.message());
      tree->entries.push_back(e);
    } else if (S_ISREG(st.st_mode)) {
      GG_ASSIGN_OR_RETURN(e.name, PutBounded(store, full, max));
      e.executable = (st.st_mode & 0111) != 0;
      tree->entries.push_back(e);
    } else {
      return NotStorable(full, st);
    }
  }
  return Status::Ok();
}

}  // namespace

Result<Name> HashRegularFile(LocalStore* store, const std::string& path, uint64_t max_file_bytes) {
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) return Status::FromErrno("cannot hash " + path, errno);
  if (S_ISDIR(st.st_mode)) {
    return Status::Invalid("cannot hash " + path + ": it is a directory; gg hash names files (gg collect stores a "
                           "directory as a tree and prints its name)");
  }
  if (!S_ISREG(st.st_mode)) return NotStorable(path, st, "hash");
  // By its size first (a sparse file of any size costs nothing here), then
  // by what reading it yields (a /proc file says 0 bytes).
  auto too_large = [&](const std::string& why) {
    return Status::Invalid("cannot hash " + path + ": it is larger than " + FormatBytes(max_file_bytes) +
                           ", the largest file gg hash reads (--max-size SIZE or GG_LIMIT_FILE raises it)" + why);
  };
  if (max_file_bytes != 0 && static_cast<uint64_t>(st.st_size) > max_file_bytes) return too_large("");
  auto name = store != nullptr ? store->hash_cache().Hash(path, max_file_bytes) : HashFile(path, max_file_bytes);
  if (!name.ok() && name.status().code() == Status::Code::kInvalid && max_file_bytes != 0) {
    return too_large(": " + name.status().message());  // it yielded more than its size said
  }
  if (!name.ok()) return name.status().Prefix("cannot hash " + path);
  return name;
}

Result<Name> CollectPath(LocalStore* store, const std::string& path, uint64_t max_file_bytes) {
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) return Status::FromErrno("cannot collect " + path, errno);
  if (S_ISREG(st.st_mode)) return PutBounded(store, path, max_file_bytes);
  if (!S_ISDIR(st.st_mode)) return NotStorable(path, st);
  Tree tree;
  GG_RETURN_IF_ERROR(AddDirectory(store, path, "", max_file_bytes, &tree));
  return store->Put(tree.Serialize());
}

}  // namespace gg
