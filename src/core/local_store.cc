#include "core/local_store.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <vector>

#include "core/beneath.h"
#include "core/path_util.h"
#include "core/sha256.h"
#include "core/tree.h"

namespace gg {

namespace {

// Copies `src` to a new file `base` in the directory `dirfd`.
Status CopyFileAt(const std::string& src, int dirfd, const std::string& base, mode_t mode) {
  GG_ASSIGN_OR_RETURN(std::string content, ReadFile(src));
  UniqueFd out(openat(dirfd, base.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode));
  if (!out.valid()) return Status::FromErrno("cannot create a copy of " + src, errno);
  for (size_t done = 0; done < content.size();) {
    ssize_t n = write(out.get(), content.data() + done, content.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Status::FromErrno("cannot write a copy of " + src, errno);
    done += n;
  }
  return Status::Ok();
}

// Moves `from` (below `from_dir`) to `to` unless `to` exists. Objects are
// never renamed over: a process may be hard-linking or mounting the old
// inode at that moment, and link(2) of an inode whose last name was just
// replaced fails with ENOENT. Returns false (and removes `from`) when
// another process published the same object first.
Result<bool> PublishNoReplace(int from_dir, const std::string& from, const std::string& to, bool is_dir) {
  if (renameat2(from_dir, from.c_str(), AT_FDCWD, to.c_str(), RENAME_NOREPLACE) == 0) return true;
  int err = errno;
  if ((err == EINVAL || err == ENOSYS) && !is_dir) {
    // A filesystem without RENAME_NOREPLACE: link(2) refuses to replace too.
    if (linkat(from_dir, from.c_str(), AT_FDCWD, to.c_str(), 0) == 0) {
      unlinkat(from_dir, from.c_str(), 0);
      return true;
    }
    err = errno;
  } else if ((err == EINVAL || err == ENOSYS) && is_dir) {
    if (renameat(from_dir, from.c_str(), AT_FDCWD, to.c_str()) == 0) return true;
    err = errno == ENOTEMPTY ? EEXIST : errno;
  }
  if (err == EEXIST) {
    if (!is_dir) unlinkat(from_dir, from.c_str(), 0);
    return false;
  }
  Status status = Status::FromErrno("cannot move " + from + " to " + to, err);
  errno = err;  // callers fall back to copying on EXDEV
  return status;
}

}  // namespace

LocalStore::LocalStore(std::string dir)
    : dir_(std::move(dir)), reductions_(dir_ + "/reductions"), hash_cache_(dir_ + "/hashcache") {}

Result<std::string> LocalStore::FindDir() {
  if (const char* env = std::getenv("GG_DIR"); env != nullptr && *env != '\0') {
    return AbsolutePath(env);
  }
  std::string cwd = AbsolutePath(".");
  for (std::string d = cwd;; d = DirName(d)) {
    struct stat st {};
    std::string candidate = (d == "/" ? "" : d) + "/.gg";
    if (stat(candidate.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) return candidate;
    if (d == "/" || d.empty()) break;
  }
  return Status::NotFound("no .gg directory in " + cwd + " or above it: run 'gg init' or set GG_DIR");
}

Status LocalStore::Init(const std::string& dir) {
  for (const char* sub : {"blobs", "blobs-x", "trees", "reductions", "tmp"}) {
    GG_RETURN_IF_ERROR(MakeDirs(dir + "/" + sub));
  }
  return Status::Ok();
}

Result<std::unique_ptr<LocalStore>> LocalStore::Open(const std::string& dir) {
  struct stat st {};
  if (stat((dir + "/blobs").c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return Status::NotFound(dir + " is not a gg store (no blobs/ inside): run 'gg init' there");
  }
  GG_RETURN_IF_ERROR(Init(dir));  // adds directories newer versions introduced
  return std::unique_ptr<LocalStore>(new LocalStore(dir));
}

Result<std::unique_ptr<LocalStore>> LocalStore::OpenDefault() {
  GG_ASSIGN_OR_RETURN(std::string dir, FindDir());
  return Open(dir);
}

bool LocalStore::Has(const Name& name) const {
  return access(BlobPath(name).c_str(), F_OK) == 0;
}

Status LocalStore::MissingError(const Name& name) const {
  return Status::NotFound("object " + name.object().str() + " is not in the store " + dir_ +
                          " (collect it with 'gg collect', or pull it from a shared store)");
}

Result<std::string> LocalStore::Get(const Name& name) {
  std::string content;
  GG_ASSIGN_OR_RETURN(std::string_view read, GetInto(name, &content));
  content.resize(read.size());
  return content;
}

Result<std::string_view> LocalStore::GetInto(const Name& name, std::string* buffer) {
  std::string path = BlobPath(name);
  struct stat before {};
  bool stat_ok = stat(path.c_str(), &before) == 0;
  auto read = ReadFileInto(path, buffer);
  if (!read.ok()) {
    if (read.status().code() == Status::Code::kNotFound) return MissingError(name);
    return read.status();
  }
  std::string_view content = *read;
  // A blob this or another gg process wrote or checked, unchanged since
  // (hash_cache.h), is not hashed again: models write the thunks the
  // coordinator reads.
  struct stat after {};
  if (stat_ok && content.size() == static_cast<size_t>(before.st_size) && stat(path.c_str(), &after) == 0 &&
      after.st_ino == before.st_ino && after.st_mtim.tv_sec == before.st_mtim.tv_sec &&
      after.st_mtim.tv_nsec == before.st_mtim.tv_nsec && after.st_ctim.tv_sec == before.st_ctim.tv_sec &&
      after.st_ctim.tv_nsec == before.st_ctim.tv_nsec) {
    if (auto known = hash_cache_.Lookup(before); known && *known == name.object()) return content;
  }
  if (Name::ForContent(content) != name.object()) {
    return Status::Corrupt("object " + name.object().str() + " in " + dir_ +
                           "/blobs does not match its name (the file was changed or damaged); "
                           "delete it and collect or pull it again");
  }
  return content;
}

Status LocalStore::PutNamed(const Name& name, std::string_view content) {
  if (Has(name)) return Status::Ok();
  return WriteObject(BlobPath(name), name, content, 0444);
}

void LocalStore::RememberWritten(const std::string& path, const Name& name) {
  // Stat after the rename (it changes the ctime): the inode just published
  // holds exactly the bytes hashed, so no process needs to read it to know.
  struct stat st {};
  if (stat(path.c_str(), &st) == 0 && static_cast<uint64_t>(st.st_size) == name.size()) {
    hash_cache_.Remember(st, name);
  }
}

Status LocalStore::WriteObject(const std::string& path, const Name& name, std::string_view content, int mode) {
  std::string tmp = TempDir() + "/put." + UniqueSuffix();
  GG_RETURN_IF_ERROR(WriteFileAtomic(tmp, content, mode));
  auto published = PublishNoReplace(AT_FDCWD, tmp, path, false);
  if (!published.ok()) unlink(tmp.c_str());
  if (published.ok() && *published) RememberWritten(path, name);
  return published.status();
}

Result<Name> LocalStore::Put(std::string_view content) {
  Name name = Name::ForContent(content);
  GG_RETURN_IF_ERROR(PutNamed(name, content));
  return name;
}

Result<Name> LocalStore::CopyIn(const std::string& path, uint64_t max_bytes) {
  // O_NONBLOCK: a kernel file that never ends or waits for events (in
  // /proc) fails rather than hangs.
  UniqueFd in(open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));
  if (!in.valid()) return Status::FromErrno("cannot open " + path, errno);
  return CopyInFd(in.get(), path, max_bytes);
}

Result<Name> LocalStore::CopyInFd(int in, const std::string& path, uint64_t max_bytes) {
  std::string tmp = TempDir() + "/put." + UniqueSuffix();
  int out = open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0444);
  if (out < 0) return Status::FromErrno("cannot create " + tmp, errno);
  // Hash while copying, so the name is of exactly the bytes stored.
  Sha256Hasher hasher;
  // Not zeroed: filling 1 MiB cost more than hashing a small output.
  constexpr size_t kBuf = 1 << 20;
  auto buf = std::make_unique_for_overwrite<char[]>(kBuf);
  uint64_t size = 0;
  std::string prefix;
  Status status;
  for (;;) {
    ssize_t n = read(in, buf.get(), kBuf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) { status = Status::FromErrno("cannot read " + path, errno); break; }
    if (n == 0) break;
    if (max_bytes != 0 && size + static_cast<uint64_t>(n) > max_bytes) {
      status = Status::Invalid(path + " holds more than " + std::to_string(max_bytes) + " bytes");
      break;
    }
    if (prefix.size() < kThunkMagic.size()) prefix.append(buf.get(), std::min<size_t>(n, kThunkMagic.size() - prefix.size()));
    hasher.Update({buf.get(), static_cast<size_t>(n)});
    size += n;
    for (ssize_t done = 0; done < n;) {
      ssize_t w = write(out, buf.get() + done, n - done);
      if (w < 0 && errno == EINTR) continue;
      if (w < 0) {
        int err = errno;
        status = Status::FromErrno("cannot write " + tmp + (err == ENOSPC ? " (the disk is full: free space, or run 'gg gc')" : ""), err);
        break;
      }
      done += w;
    }
    if (!status.ok()) break;
  }
  if (close(out) != 0 && status.ok()) status = Status::FromErrno("cannot write " + tmp, errno);
  if (!status.ok()) {
    unlink(tmp.c_str());
    return status;
  }
  Name name(Name::TypeOf(prefix), hasher.Finish(), size);
  auto published = PublishNoReplace(AT_FDCWD, tmp, BlobPath(name), false);
  if (!published.ok()) {
    unlink(tmp.c_str());
    return published.status().Prefix("cannot store " + path);
  }
  if (*published) RememberWritten(BlobPath(name), name);
  return name;
}

Result<Name> LocalStore::PutFile(const std::string& path, uint64_t max_bytes) {
  // An unchanged file already stored costs one stat and one access; any
  // other is read once, hashed while it is copied in.
  struct stat before {};
  if (stat(path.c_str(), &before) != 0) return Status::FromErrno("cannot stat " + path, errno);
  if (max_bytes != 0 && static_cast<uint64_t>(before.st_size) > max_bytes) {
    // Refused before reading: a sparse file of any size costs nothing here.
    return Status::Invalid(path + " holds " + std::to_string(before.st_size) + " bytes, more than " +
                           std::to_string(max_bytes));
  }
  if (auto cached = hash_cache_.Lookup(before); cached && Has(*cached)) return *cached;
  GG_ASSIGN_OR_RETURN(Name name, CopyIn(path, max_bytes));
  struct stat st {};
  if (stat(path.c_str(), &st) == 0) hash_cache_.Remember(st, name);
  return name;
}

Result<Name> LocalStore::AdoptFile(const std::string& path) {
  std::string dir = DirName(path);
  UniqueFd dirfd(open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dirfd.valid()) return Status::FromErrno("cannot open " + dir, errno);
  bool executable = false;
  return AdoptFileAt(dirfd.get(), path.substr(dir.empty() ? 0 : dir.size() + 1), path, &executable);
}

Result<Name> LocalStore::AdoptFileAt(int dirfd, const std::string& rel, const std::string& what, bool* executable) {
  // The parent is opened without following links, and the file itself
  // through O_NOFOLLOW: a program that swapped a directory on the way for a
  // symlink to the host cannot make gg move a host file into the store.
  size_t slash = rel.rfind('/');
  std::string base = slash == std::string::npos ? rel : rel.substr(slash + 1);
  GG_ASSIGN_OR_RETURN(UniqueFd parent, OpenBeneath(dirfd, slash == std::string::npos ? "" : rel.substr(0, slash),
                                                   O_RDONLY | O_DIRECTORY, what));
  UniqueFd fd(openat(parent.get(), base.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
  if (!fd.valid()) {
    if (errno == ELOOP) return Status::Invalid(what + " is a symbolic link, not a regular file");
    if (errno == ENOENT) return Status::NotFound(what + " does not exist");
    return Status::FromErrno("cannot open " + what, errno);
  }
  struct stat st {};
  if (fstat(fd.get(), &st) != 0) return Status::FromErrno("cannot stat " + what, errno);
  if (!S_ISREG(st.st_mode)) return Status::Invalid(what + " is not a regular file");
  *executable = (st.st_mode & 0111) != 0;
  GG_ASSIGN_OR_RETURN(Name name, HashFd(fd.get(), what));
  if (Has(name)) {
    unlinkat(parent.get(), base.c_str(), 0);
    return name;
  }
  if (st.st_nlink > 1) {
    // Another name shares this inode: store a copy rather than change it.
    if (lseek(fd.get(), 0, SEEK_SET) != 0) return Status::FromErrno("cannot read " + what, errno);
    return CopyInFd(fd.get(), what);
  }
  if (fchmod(fd.get(), 0444) != 0) return Status::FromErrno("cannot make " + what + " read-only", errno);
  std::string dest = BlobPath(name);
  auto published = PublishNoReplace(parent.get(), base, dest, false);
  if (!published.ok()) {
    if (errno != EXDEV) return published.status();
    if (lseek(fd.get(), 0, SEEK_SET) != 0) return Status::FromErrno("cannot read " + what, errno);
    return CopyInFd(fd.get(), what);
  }
  if (*published) {
    // The name moved must still be the inode hashed (nothing may run in the
    // work dir now, but the store must not take that on trust).
    struct stat moved {};
    if (stat(dest.c_str(), &moved) != 0 || moved.st_ino != st.st_ino || moved.st_dev != st.st_dev) {
      unlink(dest.c_str());
      return Status::Invalid(what + " was replaced while it was being stored");
    }
    // Known to every process from now on (only the ctime changed since the
    // hash: fchmod and rename; nothing can write there since the sandbox's
    // processes are gone, and a write would have moved the mtime).
    if (moved.st_size == st.st_size && moved.st_mtim.tv_sec == st.st_mtim.tv_sec &&
        moved.st_mtim.tv_nsec == st.st_mtim.tv_nsec) {
      hash_cache_.Remember(moved, name);
    }
  }
  return name;
}

Status LocalStore::Verify(const Name& name, struct stat* verified) {
  std::string path = BlobPath(name);
  auto actual = hash_cache_.Hash(path, 0, verified);
  if (!actual.ok()) {
    if (access(path.c_str(), F_OK) != 0) return MissingError(name);
    return actual.status();
  }
  if (*actual != name.object()) {
    return Status::Corrupt("object " + name.object().str() + " in " + dir_ +
                           "/blobs does not match its name (the file was changed or damaged); "
                           "delete it and collect or pull it again");
  }
  return Status::Ok();
}

Result<std::string> LocalStore::MaterializeFile(const Name& name, bool executable, struct stat* verified) {
  if (!executable) {
    GG_RETURN_IF_ERROR(Verify(name, verified));
    return BlobPath(name);
  }
  GG_RETURN_IF_ERROR(Verify(name));
  // Executables get their own copy with mode 0555: a blob's mode is shared by
  // every hard link to it, so it cannot serve as both. The copy is checked
  // like a blob (through the hash cache: one stat while its inode, size,
  // mtime and ctime are those recorded when it was hashed), since what runs
  // is what a reduction will be recorded for.
  std::string xpath = dir_ + "/blobs-x/" + name.object().str();
  for (int attempt = 0; attempt < 2; ++attempt) {
    auto actual = hash_cache_.Hash(xpath, 0, verified);
    if (actual.ok() && *actual == name.object()) return xpath;
    if (actual.ok()) {
      // Changed since the store made it: drop it and make it again.
      std::fprintf(stderr, "gg: the executable copy %s does not match its name; recreating it\n", xpath.c_str());
      unlink(xpath.c_str());
    }
    GG_ASSIGN_OR_RETURN(std::string content, Get(name));
    GG_RETURN_IF_ERROR(WriteObject(xpath, name, content, 0555));
  }
  return Status::Corrupt("the executable copy " + xpath + " keeps changing after gg writes it; "
                         "something else is writing into the store");
}

void LocalStore::NoteLinked(const Name& name, const struct stat& verified, int dirfd, const std::string& path,
                            std::vector<HashCache::Known>* learned) {
  struct stat st {};
  if (verified.st_ino == 0 || fstatat(dirfd, path.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) return;
  // The same inode, its size and mtime as verified (a write moves the
  // mtime): only the link's ctime is new. AdoptFileAt reasons the same way.
  if (st.st_dev == verified.st_dev && st.st_ino == verified.st_ino && st.st_size == verified.st_size &&
      st.st_mtim.tv_sec == verified.st_mtim.tv_sec && st.st_mtim.tv_nsec == verified.st_mtim.tv_nsec) {
    learned->push_back({st, name});
  }
}

Status LocalStore::CopyOut(const Name& name, const std::string& path, bool executable) {
  GG_RETURN_IF_ERROR(Verify(name));
  std::string tmp = path + ".tmp." + UniqueSuffix();
  std::error_code ec;
  std::filesystem::copy_file(BlobPath(name), tmp, ec);
  if (ec) return Status::Io("cannot write " + tmp + ": " + ec.message());
  mode_t mask = umask(0);
  umask(mask);
  if (chmod(tmp.c_str(), (executable ? 0777 : 0666) & ~mask) != 0 || rename(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    unlink(tmp.c_str());
    return Status::FromErrno("cannot replace " + path, err);
  }
  return Status::Ok();
}

Result<std::string> LocalStore::MaterializeTree(const Name& tree_name) {
  std::string final_dir = dir_ + "/trees/" + tree_name.object().str();
  struct stat st {};
  if (stat(final_dir.c_str(), &st) == 0) return final_dir;
  GG_ASSIGN_OR_RETURN(std::string bytes, Get(tree_name));
  // Parse rejects entries below a symlink or a file, "..", absolute and
  // duplicate names; creating everything relative to directory fds opened
  // without following links makes sure nothing lands outside `tmp` even so.
  GG_ASSIGN_OR_RETURN(Tree tree, Tree::Parse(bytes));
  std::string tmp_name = "tree." + UniqueSuffix();
  std::string tmp = TempDir() + "/" + tmp_name;
  if (mkdir(tmp.c_str(), 0755) != 0) return Status::FromErrno("cannot create " + tmp, errno);
  auto fail = [&](Status s) {
    RemoveTree(tmp);
    return s.Prefix("materializing tree " + tree_name.str());
  };
  UniqueFd root(open(tmp.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!root.valid()) return fail(Status::FromErrno("cannot open " + tmp, errno));
  std::string parent_path = "";
  UniqueFd parent(fcntl(root.get(), F_DUPFD_CLOEXEC, 0));
  std::vector<HashCache::Known> learned;
  for (const auto& e : tree.entries) {
    size_t slash = e.path.rfind('/');
    std::string dir = slash == std::string::npos ? "" : e.path.substr(0, slash);
    std::string base = slash == std::string::npos ? e.path : e.path.substr(slash + 1);
    if (dir != parent_path) {
      auto fd = OpenBeneath(root.get(), dir, O_RDONLY | O_DIRECTORY, "tree entry " + e.path);
      if (!fd.ok()) return fail(fd.status());
      parent = std::move(*fd);
      parent_path = dir;
    }
    std::string p = tmp + "/" + e.path;
    switch (e.kind) {
      case TreeEntry::Kind::kDir:
        if (mkdirat(parent.get(), base.c_str(), 0755) != 0) return fail(Status::FromErrno("mkdir " + p, errno));
        break;
      case TreeEntry::Kind::kSymlink:
        if (symlinkat(e.target.c_str(), parent.get(), base.c_str()) != 0) {
          return fail(Status::FromErrno("symlink " + p, errno));
        }
        break;
      case TreeEntry::Kind::kFile: {
        struct stat verified {};
        auto src = MaterializeFile(e.name, e.executable, &verified);
        if (!src.ok()) return fail(src.status());
        // A hard link costs no copy; the tree is mounted read-only anyway. An
        // inode at the filesystem's link limit gets a copy instead.
        if (linkat(AT_FDCWD, src->c_str(), parent.get(), base.c_str(), 0) != 0) {
          if (errno != EMLINK) return fail(Status::FromErrno("link " + p, errno));
          if (Status s = CopyFileAt(*src, parent.get(), base, e.executable ? 0555 : 0444); !s.ok()) return fail(s);
        } else {
          NoteLinked(e.name, verified, parent.get(), base, &learned);
        }
        break;
      }
    }
  }
  hash_cache_.RememberAll(learned);
  // Published whole or not at all, never over another process's copy.
  auto published = PublishNoReplace(AT_FDCWD, tmp, final_dir, true);
  if (!published.ok() || !*published) RemoveTree(tmp);
  if (!published.ok()) return published.status().Prefix("materializing tree " + tree_name.str());
  return final_dir;
}

namespace {

// True if a scratch entry's name carries the pid of a live process:
// "<kind>.<pid>.<thread>.<n>" (UniqueSuffix) or "<file>.tmp.<pid>...".
bool OwnerAlive(const std::string& entry) {
  size_t pos = entry.find(".tmp.");
  pos = pos == std::string::npos ? entry.find('.') : pos + 4;
  if (pos == std::string::npos) return false;
  long pid = std::strtol(entry.c_str() + pos + 1, nullptr, 10);
  return pid > 0 && (kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM);
}

}  // namespace

Result<std::vector<LocalStore::ObjectInfo>> LocalStore::ListObjects() const {
  GG_ASSIGN_OR_RETURN(auto entries, ListDirectory(dir_ + "/blobs"));
  std::vector<ObjectInfo> out;
  for (const auto& e : entries) {
    if (e.find(".tmp.") != std::string::npos) continue;
    auto name = Name::Parse(e);
    if (!name.ok()) continue;
    ObjectInfo info{*name, 0, 0};
    for (const char* sub : {"/blobs/", "/blobs-x/"}) {
      struct stat st {};
      if (stat((dir_ + sub + e).c_str(), &st) != 0) continue;
      info.bytes += static_cast<uint64_t>(st.st_size);
      info.last_use = std::max<int64_t>({info.last_use, st.st_atim.tv_sec, st.st_mtim.tv_sec});
    }
    out.push_back(std::move(info));
  }
  return out;
}

Result<uint64_t> LocalStore::RemoveObject(const Name& name) {
  const std::string n = name.object().str();
  std::string tree = dir_ + "/trees/" + n;
  std::string away = TempDir() + "/gc." + UniqueSuffix();
  if (rename(tree.c_str(), away.c_str()) == 0) {
    GG_RETURN_IF_ERROR(RemoveTree(away));
  } else if (errno != ENOENT) {
    return Status::FromErrno("cannot remove the materialized tree " + tree, errno);
  }
  uint64_t freed = 0;
  for (const char* sub : {"/blobs-x/", "/blobs/"}) {
    std::string p = dir_ + sub + n;
    struct stat st {};
    if (stat(p.c_str(), &st) != 0) continue;
    if (unlink(p.c_str()) != 0 && errno != ENOENT) return Status::FromErrno("cannot remove " + p, errno);
    freed += static_cast<uint64_t>(st.st_size);
  }
  return freed;
}

Result<size_t> LocalStore::RemoveStaleScratch() {
  size_t removed = 0;
  for (const char* sub : {"/blobs", "/blobs-x", "/trees", "/tmp"}) {
    GG_ASSIGN_OR_RETURN(auto entries, ListDirectory(dir_ + sub));
    bool scratch_dir = std::string(sub) == "/tmp";
    for (const auto& e : entries) {
      if (!scratch_dir && e.find(".tmp.") == std::string::npos) continue;
      if (OwnerAlive(e)) continue;
      GG_RETURN_IF_ERROR(RemoveTree(dir_ + sub + "/" + e));
      removed++;
    }
  }
  return removed;
}

}  // namespace gg
