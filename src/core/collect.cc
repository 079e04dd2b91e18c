#include "core/collect.h"

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include "core/byte_size.h"
#include "core/tree.h"

namespace gg {
namespace {

// Sockets, FIFOs and devices have no content to store (reading /dev/zero
// never ends, a FIFO blocks): refused by name rather than read or skipped.
Status NotStorable(const std::string& path, const struct stat& st) {
  const char* kind = S_ISFIFO(st.st_mode)  ? "a FIFO"
                     : S_ISSOCK(st.st_mode) ? "a socket"
                     : S_ISCHR(st.st_mode)  ? "a character device"
                     : S_ISBLK(st.st_mode)  ? "a block device"
                                            : "not a regular file";
  return Status::Invalid("cannot collect " + path + ": it is " + kind +
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
