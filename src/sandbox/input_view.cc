#include "sandbox/input_view.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <set>

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
    auto blob = name.ok() ? store->MaterializeFile(*name, f.executable, &verified) : Result<std::string>(name.status());
    if (!blob.ok()) return blob.status().Prefix("input " + path);
    if (linkat(AT_FDCWD, blob->c_str(), root, path.c_str(), 0) != 0) {
      if (errno == EMLINK) return Status::Unavailable(*blob + " is at the file system's hard link limit");
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

Result<size_t> RemoveViews(LocalStore* store) {
  std::string views = ViewsDir(store->dir());
  struct stat st {};
  if (stat(views.c_str(), &st) != 0 && errno == ENOENT) return size_t{0};
  GG_ASSIGN_OR_RETURN(std::vector<std::string> entries, ListDirectory(views));
  size_t removed = 0;
  for (const std::string& e : entries) {
    std::string path = views + "/" + e;
    UniqueFd fd(open(path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    // In use by a run (or gone already): kept.
    if (!fd.valid() || flock(fd.get(), LOCK_EX | LOCK_NB) != 0) continue;
    std::string away = store->TempDir() + "/gc-view." + UniqueSuffix();
    if (rename(path.c_str(), away.c_str()) != 0) return Status::FromErrno("cannot remove the input view " + path, errno);
    fd = UniqueFd();
    GG_RETURN_IF_ERROR(RemoveTree(away));
    removed++;
  }
  return removed;
}

}  // namespace gg
