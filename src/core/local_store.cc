#include "core/local_store.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <vector>

#include "core/path_util.h"
#include "core/sha256.h"
#include "core/tree.h"

namespace gg {

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
  auto content = ReadFile(BlobPath(name));
  if (!content.ok()) {
    if (content.status().code() == Status::Code::kNotFound) return MissingError(name);
    return content.status();
  }
  if (Name::ForContent(*content) != name.object()) {
    return Status::Corrupt("object " + name.object().str() + " in " + dir_ +
                           "/blobs does not match its name (the file was changed or damaged); "
                           "delete it and collect or pull it again");
  }
  return content;
}

Status LocalStore::PutNamed(const Name& name, std::string_view content) {
  if (Has(name)) return Status::Ok();
  return WriteFileAtomic(BlobPath(name), content, 0444);
}

Result<Name> LocalStore::Put(std::string_view content) {
  Name name = Name::ForContent(content);
  GG_RETURN_IF_ERROR(PutNamed(name, content));
  return name;
}

Result<Name> LocalStore::CopyIn(const std::string& path) {
  int in = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (in < 0) return Status::FromErrno("cannot open " + path, errno);
  std::string tmp = TempDir() + "/put." + UniqueSuffix();
  int out = open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0444);
  if (out < 0) {
    int err = errno;
    close(in);
    return Status::FromErrno("cannot create " + tmp, err);
  }
  // Hash while copying, so the name is of exactly the bytes stored.
  Sha256Hasher hasher;
  std::vector<char> buf(1 << 20);
  uint64_t size = 0;
  std::string prefix;
  Status status;
  for (;;) {
    ssize_t n = read(in, buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) { status = Status::FromErrno("cannot read " + path, errno); break; }
    if (n == 0) break;
    if (prefix.size() < kThunkMagic.size()) prefix.append(buf.data(), std::min<size_t>(n, kThunkMagic.size() - prefix.size()));
    hasher.Update({buf.data(), static_cast<size_t>(n)});
    size += n;
    for (ssize_t done = 0; done < n;) {
      ssize_t w = write(out, buf.data() + done, n - done);
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
  close(in);
  if (close(out) != 0 && status.ok()) status = Status::FromErrno("cannot write " + tmp, errno);
  if (!status.ok()) {
    unlink(tmp.c_str());
    return status;
  }
  Name name(Name::TypeOf(prefix), hasher.Finish(), size);
  if (rename(tmp.c_str(), BlobPath(name).c_str()) != 0) {
    int err = errno;
    unlink(tmp.c_str());
    return Status::FromErrno("cannot store " + path, err);
  }
  return name;
}

Result<Name> LocalStore::PutFile(const std::string& path) {
  // An unchanged file already stored costs one stat and one access; any
  // other is read once, hashed while it is copied in.
  struct stat before {};
  if (stat(path.c_str(), &before) != 0) return Status::FromErrno("cannot stat " + path, errno);
  if (auto cached = hash_cache_.Lookup(before); cached && Has(*cached)) return *cached;
  GG_ASSIGN_OR_RETURN(Name name, CopyIn(path));
  struct stat st {};
  if (stat(path.c_str(), &st) == 0) hash_cache_.Remember(st, name);
  return name;
}

Result<Name> LocalStore::AdoptFile(const std::string& path) {
  GG_ASSIGN_OR_RETURN(Name name, HashFile(path));
  std::string dest = BlobPath(name);
  if (Has(name)) {
    unlink(path.c_str());
    return name;
  }
  chmod(path.c_str(), 0444);
  if (rename(path.c_str(), dest.c_str()) != 0) {
    if (errno != EXDEV) return Status::FromErrno("cannot move " + path + " into the store", errno);
    return CopyIn(path);
  }
  return name;
}

Status LocalStore::Verify(const Name& name) {
  std::string path = BlobPath(name);
  auto actual = hash_cache_.Hash(path);
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

Result<std::string> LocalStore::MaterializeFile(const Name& name, bool executable) {
  GG_RETURN_IF_ERROR(Verify(name));
  if (!executable) return BlobPath(name);
  // Executables get their own copy with mode 0555: a blob's mode is shared by
  // every hard link to it, so it cannot serve as both.
  std::string xpath = dir_ + "/blobs-x/" + name.object().str();
  struct stat st {};
  if (stat(xpath.c_str(), &st) == 0 && static_cast<uint64_t>(st.st_size) == name.size()) return xpath;
  GG_ASSIGN_OR_RETURN(std::string content, Get(name));
  GG_RETURN_IF_ERROR(WriteFileAtomic(xpath, content, 0555));
  return xpath;
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
  GG_ASSIGN_OR_RETURN(Tree tree, Tree::Parse(bytes));
  std::string tmp = TempDir() + "/tree." + UniqueSuffix();
  GG_RETURN_IF_ERROR(MakeDirs(tmp));
  auto fail = [&](Status s) {
    RemoveTree(tmp);
    return s.Prefix("materializing tree " + tree_name.str());
  };
  for (const auto& e : tree.entries) {
    std::string p = tmp + "/" + e.path;
    std::string parent = DirName(p);
    if (Status s = MakeDirs(parent); !s.ok()) return fail(s);
    switch (e.kind) {
      case TreeEntry::Kind::kDir:
        if (mkdir(p.c_str(), 0755) != 0 && errno != EEXIST) return fail(Status::FromErrno("mkdir " + p, errno));
        break;
      case TreeEntry::Kind::kSymlink:
        if (symlink(e.target.c_str(), p.c_str()) != 0) return fail(Status::FromErrno("symlink " + p, errno));
        break;
      case TreeEntry::Kind::kFile: {
        auto src = MaterializeFile(e.name, e.executable);
        if (!src.ok()) return fail(src.status());
        // A hard link costs no copy; the tree is mounted read-only anyway.
        if (link(src->c_str(), p.c_str()) != 0) return fail(Status::FromErrno("link " + p, errno));
        break;
      }
    }
  }
  if (rename(tmp.c_str(), final_dir.c_str()) != 0) {
    int err = errno;
    RemoveTree(tmp);
    // Another process built it first: theirs is as good as ours.
    if (err == ENOTEMPTY || err == EEXIST) return final_dir;
    return Status::FromErrno("cannot rename tree into " + final_dir, err);
  }
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
