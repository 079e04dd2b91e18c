#include "sandbox/input_view.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <utility>

#include "core/path_util.h"
#include "core/sha256.h"

namespace gg {

std::string ViewsDir(const std::string& store_dir) { return store_dir + "/views"; }

std::string ViewKey(const std::vector<ViewFile>& files, uid_t owner) {
  // Hashed as it is written, a chunk at a time: a whole copy of a large
  // set's text was fresh memory to fault in (a megabyte for 10,000 files),
  // and each set's key is worked out once per process (the executor keeps
  // its plans). Paths hold no NUL (thunk validation), so the fields cannot
  // run together. (Version 1 had no owner: its directories were made again
  // in every run's sandbox.)
  constexpr size_t kChunk = 64 << 10;
  Sha256Hasher hasher;
  std::string text = "gg input view 2\nowner " + std::to_string(owner) + "\n";
  text.reserve(kChunk + 4096);
  for (const ViewFile& f : files) {
    text += f.executable ? "x " : "f ";
    text += f.name;
    text += ' ';
    text += f.path;
    text += '\0';
    if (text.size() >= kChunk) {
      hasher.Update(text);
      text.clear();
    }
  }
  hasher.Update(text);
  return HexOf(hasher.Finish());
}

namespace {

/// Links every file into the fresh directory `root` (only this process
/// writes there, and it makes no symlink, so relative paths stay inside),
/// in directories given to `owner`.
Status Fill(LocalStore* store, int root, const std::string& tmp, const std::vector<ViewFile>& files, uid_t owner) {
  std::set<std::string> dirs;
  std::vector<HashCache::Known> learned;
  bool give = owner != geteuid();
  UniqueFd blobs(open((store->dir() + "/blobs").c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  for (const ViewFile& f : files) {
    std::string path(f.path);
    for (size_t slash = path.find('/'); slash != std::string::npos; slash = path.find('/', slash + 1)) {
      std::string dir = path.substr(0, slash);
      if (!dirs.insert(dir).second) continue;
      if (mkdirat(root, dir.c_str(), 0755) != 0 && errno != EEXIST) {
        return Status::FromErrno("mkdir " + tmp + "/" + dir, errno);
      }
      // As the sandbox's work dir is given (client.cc, GiveWorkDir).
      if (give && fchownat(root, dir.c_str(), owner, owner, AT_SYMLINK_NOFOLLOW) != 0) {
        return Status::FromErrno("give " + tmp + "/" + dir + " to uid " + std::to_string(owner), errno);
      }
    }
    auto name = Name::Parse(f.name);
    struct stat verified {};
    // A blob the hash cache knows at its stat is verified with one stat
    // and linked from an fd of blobs/: two path walks from / per file were a
    // tenth of making a view. Anything else (an executable's copy, a blob
    // to hash) goes through MaterializeFile.
    std::string object = name.ok() ? name->object().str() : std::string();
    bool known = !f.executable && name.ok() && blobs.valid() &&
                 fstatat(blobs.get(), object.c_str(), &verified, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(verified.st_mode) &&
                 store->hash_cache().Lookup(verified) == name->object();
    Result<std::string> blob = std::string();
    if (!known) {
      verified = {};
      blob = name.ok() ? store->MaterializeFile(*name, f.executable, &verified) : Result<std::string>(name.status());
      if (!blob.ok()) return blob.status().Prefix("input " + path);
    }
    if (known ? linkat(blobs.get(), object.c_str(), root, path.c_str(), 0) != 0
              : linkat(AT_FDCWD, blob->c_str(), root, path.c_str(), 0) != 0) {
      if (errno == EMLINK) {
        return Status::Unavailable((known ? store->BlobPath(*name) : *blob) + " is at the file system's hard link limit");
      }
      return Status::FromErrno("link " + tmp + "/" + path, errno);
    }
    store->NoteLinked(*name, verified, root, path, &learned);
  }
  store->hash_cache().RememberAll(learned);
  return Status::Ok();
}

}  // namespace

Result<std::string> MaterializeView(LocalStore* store, const std::vector<ViewFile>& files, uid_t owner,
                                    const std::string& key) {
  std::string views = ViewsDir(store->dir());
  std::string final_dir = views + "/" + (key.empty() ? ViewKey(files, owner) : key);
  struct stat st {};
  if (stat(final_dir.c_str(), &st) == 0) return final_dir;
  std::string tmp = store->TempDir() + "/view." + UniqueSuffix();
  if (mkdir(tmp.c_str(), 0755) != 0) return Status::FromErrno("cannot create " + tmp, errno);
  auto fail = [&](const Status& s) -> Result<std::string> {
    RemoveTree(tmp);
    return s.Prefix("materializing the input view " + final_dir);
  };
  {
    UniqueFd root(open(tmp.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!root.valid()) return fail(Status::FromErrno("cannot open " + tmp, errno));
    if (Status s = Fill(store, root.get(), tmp, files, owner); !s.ok()) return fail(s);
  }
  // Published whole, never over another process's view (one may be
  // mounting it): the first to publish wins and the others drop theirs.
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (renameat2(AT_FDCWD, tmp.c_str(), AT_FDCWD, final_dir.c_str(), RENAME_NOREPLACE) == 0) return final_dir;
    int err = errno;
    if (err == EEXIST || err == ENOTEMPTY) {
      RemoveTree(tmp);
      return final_dir;
    }
    // views/ is made on first use.
    if (err != ENOENT || attempt > 0) return fail(Status::FromErrno("cannot rename " + tmp + " to " + final_dir, err));
    if (Status s = MakeDirs(views); !s.ok()) return fail(s);
  }
  return fail(Status::Io("cannot publish " + tmp));
}

Result<ViewLease> LeaseView(LocalStore* store, const std::vector<ViewFile>& files, uid_t owner,
                            const std::string& key) {
  std::string known_key = key.empty() ? ViewKey(files, owner) : key;
  for (int attempt = 0; attempt < 100; ++attempt) {
    GG_ASSIGN_OR_RETURN(std::string path, MaterializeView(store, files, owner, known_key));
    UniqueFd fd(open(path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!fd.valid() && errno != ENOENT) return Status::FromErrno("cannot open the input view " + path, errno);
    // Held exclusively only by a gg gc removing it: wait, then see again.
    if (fd.valid() && flock(fd.get(), LOCK_SH | LOCK_NB) == 0) {
      // Still the view at that path (gc renames a view before it lets go)?
      struct stat held {}, named {};
      if (fstat(fd.get(), &held) == 0 && stat(path.c_str(), &named) == 0 && held.st_ino == named.st_ino &&
          held.st_dev == named.st_dev) {
        return ViewLease{std::move(path), std::move(fd)};
      }
    }
    usleep(2000);
  }
  return Status::Unavailable("the input view for these inputs kept being removed while gg tried to use it "
                             "(is a gg gc running on this store?)");
}

namespace {

/// The blobs a gc's unlinks touched, by inode: each one's stat after the
/// last unlink and its name.
using Unlinked = std::map<std::pair<dev_t, ino_t>, HashCache::Known>;

/// Unlinks the files of the view `dir` (taken out of views/ already),
/// noting in `unlinked` each linked blob's new stat: an unlink moves the
/// blob's ctime, as the link did, and the hash cache (keyed by it) would
/// otherwise read and hash every blob again the next time a view links it.
/// Only a blob known by the hash cache (or by an earlier unlink here) at
/// the link's stat, and found after the unlink with the same inode, size
/// and mtime, is noted: as LocalStore::NoteLinked reasons.
void UnlinkFiles(LocalStore* store, const std::string& dir, Unlinked* unlinked) {
  std::error_code ec;
  for (auto it = std::filesystem::recursive_directory_iterator(dir, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    struct stat link {};
    if (lstat(it->path().c_str(), &link) != 0 || !S_ISREG(link.st_mode)) continue;
    std::optional<Name> name = store->hash_cache().Lookup(link);
    auto key = std::make_pair(link.st_dev, link.st_ino);
    if (auto seen = unlinked->find(key); !name && seen != unlinked->end()) {
      const struct stat& was = seen->second.st;
      if (was.st_size == link.st_size && was.st_mtim.tv_sec == link.st_mtim.tv_sec &&
          was.st_mtim.tv_nsec == link.st_mtim.tv_nsec && was.st_ctim.tv_sec == link.st_ctim.tv_sec &&
          was.st_ctim.tv_nsec == link.st_ctim.tv_nsec) {
        name = seen->second.name;
      }
    }
    if (unlink(it->path().c_str()) != 0 || !name) continue;
    // A view links blobs/ (blobs-x/ for an executable).
    for (const std::string& blob : {store->BlobPath(*name), store->dir() + "/blobs-x/" + name->object().str()}) {
      struct stat st {};
      if (stat(blob.c_str(), &st) == 0 && st.st_dev == link.st_dev && st.st_ino == link.st_ino &&
          st.st_size == link.st_size && st.st_mtim.tv_sec == link.st_mtim.tv_sec &&
          st.st_mtim.tv_nsec == link.st_mtim.tv_nsec) {
        (*unlinked)[key] = {st, *name};
        break;
      }
    }
  }
}

}  // namespace

Result<size_t> RemoveViews(LocalStore* store) {
  std::string views = ViewsDir(store->dir());
  struct stat st {};
  if (stat(views.c_str(), &st) != 0 && errno == ENOENT) return size_t{0};
  GG_ASSIGN_OR_RETURN(std::vector<std::string> entries, ListDirectory(views));
  size_t removed = 0;
  Unlinked unlinked;
  for (const std::string& e : entries) {
    std::string path = views + "/" + e;
    UniqueFd fd(open(path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    // In use by a run (or gone already): kept.
    if (!fd.valid() || flock(fd.get(), LOCK_EX | LOCK_NB) != 0) continue;
    std::string away = store->TempDir() + "/gc-view." + UniqueSuffix();
    if (rename(path.c_str(), away.c_str()) != 0) return Status::FromErrno("cannot remove the input view " + path, errno);
    fd = UniqueFd();
    UnlinkFiles(store, away, &unlinked);
    GG_RETURN_IF_ERROR(RemoveTree(away));
    removed++;
  }
  std::vector<HashCache::Known> learned;
  learned.reserve(unlinked.size());
  for (const auto& [inode, known] : unlinked) learned.push_back(known);
  store->hash_cache().RememberAll(learned);
  return removed;
}

}  // namespace gg
