#include "models/project_view.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>

#include "core/path_util.h"
#include "core/placeholder.h"
#include "core/sha256.h"
#include "core/tree.h"

namespace gg::models {
namespace {

bool HasSuffix(const std::string& s, std::string_view suffix) { return s.ends_with(suffix); }

bool IsSourceName(const std::string& name) {
  static const char* const kExt[] = {".h", ".hh", ".hpp", ".hxx", ".H", ".inc", ".def", ".c", ".cc",
                                     ".cpp", ".cxx", ".C", ".tcc", ".ipp", ".inl", ".S", ".s", ".in",
                                     ".sh", ".map", ".sym", ".ld", ".lds", ".x", ".tbl", ".y", ".l"};
  for (const char* e : kExt) {
    if (HasSuffix(name, e)) return true;
  }
  return false;
}

bool IsPlaceholderFile(const std::string& path, uint64_t size) {
  if (size > 4096 || size < 20) return false;
  auto p = ReadPlaceholder(path);
  return p.ok() && p->has_value();
}

// ---- The view cache ----

// Part of every record and digest: bump when what an entry means changes in a
// way names and stat keys do not show (what counts as a placeholder, say).
// Rules decided by name and mode need no bump: they pick the entries a digest
// covers, so changing them changes the digests.
constexpr std::string_view kRecordMagic = "gg-view-cache 1";

std::atomic<int64_t> g_settle_ns{2'000'000'000};
struct Counters {
  std::atomic<int> trees_reused{0}, trees_built{0}, files_hashed{0}, records_rejected{0};
} g_counters;

// What changes when a file is written, renamed over, or chmod'ed.
struct StatKey {
  uint64_t dev = 0, ino = 0, size = 0;
  int64_t mtime_ns = 0, ctime_ns = 0;
  uint32_t mode = 0;
  bool operator==(const StatKey&) const = default;
};

StatKey KeyOf(const struct stat& st) {
  return StatKey{static_cast<uint64_t>(st.st_dev), static_cast<uint64_t>(st.st_ino),
                 static_cast<uint64_t>(st.st_size),
                 static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec,
                 static_cast<int64_t>(st.st_ctim.tv_sec) * 1000000000 + st.st_ctim.tv_nsec,
                 static_cast<uint32_t>(st.st_mode)};
}

enum class Kind : char { kFile = 'f', kDir = 'd', kLink = 'l' };

struct DirScan;

// A directory entry a view may show, decided by name, type and mode; its
// content (file name, link target, whether it is a placeholder) is resolved
// from the directory's record or from the file.
struct Entry {
  std::string name;
  Kind kind = Kind::kFile;
  StatKey key;
  bool settled = false;     // old enough for its stat key to stand for its content
  bool resolved = false;
  bool keep = true;         // false: a placeholder, or gone while we looked
  bool recordable = false;  // resolved with the stat key unchanged throughout
  Name content;             // files
  std::string target;       // links
  std::unique_ptr<DirScan> sub;  // dirs scanned as part of a tree
};

// One record line, as loaded.
struct RecordEntry {
  Kind kind = Kind::kFile;
  StatKey key;
  bool keep = true;
  std::string value;  // content name or link target
  Name content;       // a kept file's, parsed from `value`
};

struct Record {
  std::map<std::string, RecordEntry> entries;
  std::string tree_digest, tree_name;  // the tree of this dir for a digest, if known
  std::string text;                    // as read, to skip rewriting it unchanged
};

struct DirScan {
  std::string path;
  std::vector<Entry> entries;       // sorted by name
  std::vector<std::string> excluded;  // names left out by the request
  Sha256 digest{};
  bool settled = true;              // every entry below is settled
  bool record_loaded = false;
  std::shared_ptr<const Record> record;
  size_t from_record = 0;           // entries resolved from the record as it says
  std::string tree_digest, tree_name;  // to record
};

// What this process learned in earlier views: a model server answers every
// compile of a build, and each view of a project reads the same records and
// finds the same blobs. Neither can make a view wrong: a record only stands
// for an entry whose stat key it holds, and a blob once stored stays (gg gc
// during a build would make the thunk fail at materialization, not differ).
struct Known {
  std::mutex mu;
  // Records as parsed, by record file, while that file is the one parsed
  // (a record is rewritten by renaming a new file into place).
  std::map<std::string, std::pair<StatKey, std::shared_ptr<const Record>>> records;
  std::map<std::string, std::set<Name>> present;  // by store dir: objects seen in it
};
Known& TheKnown() {
  static Known* k = new Known;  // never destroyed: no exit-time order issues
  return *k;
}

bool StoreHas(const LocalStore* store, const Name& name) {
  Name object = name.object();
  Known& k = TheKnown();
  {
    std::lock_guard<std::mutex> l(k.mu);
    if (k.present[store->dir()].count(object)) return true;
  }
  if (!store->Has(object)) return false;
  std::lock_guard<std::mutex> l(k.mu);
  k.present[store->dir()].insert(object);
  return true;
}

// Names are written with %XX for bytes that would split a line or a field.
std::string Escape(std::string_view s) {
  std::string out;
  for (unsigned char c : s) {
    if (c <= ' ' || c == '%' || c == 0x7f) {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

std::optional<std::string> Unescape(std::string_view s) {
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out += s[i];
      continue;
    }
    if (i + 2 >= s.size() || hex(s[i + 1]) < 0 || hex(s[i + 2]) < 0) return std::nullopt;
    out += static_cast<char>(hex(s[i + 1]) * 16 + hex(s[i + 2]));
    i += 2;
  }
  return out;
}

std::vector<std::string_view> Fields(std::string_view line) {
  std::vector<std::string_view> f;
  size_t pos = 0;
  while (pos <= line.size()) {
    size_t sp = line.find(' ', pos);
    if (sp == std::string_view::npos) sp = line.size();
    f.push_back(line.substr(pos, sp - pos));
    pos = sp + 1;
  }
  return f;
}

std::string RecordPath(const LocalStore* store, const std::string& dir) {
  return store->dir() + "/view-cache/" + HexOf(HashBytes(dir));
}

// The record of `dir` in `text`, or nothing when it is damaged (the last
// line is a checksum of the rest) or for another directory.
std::optional<Record> ParseRecord(const std::string& dir, Result<std::string> text) {
  if (!text.ok()) return std::nullopt;
  auto reject = [] {
    ++g_counters.records_rejected;
    return std::nullopt;
  };
  const std::string& t = *text;
  size_t sum_at = t.rfind("sum ");
  if (sum_at == std::string::npos || t.empty() || t.back() != '\n' || (sum_at > 0 && t[sum_at - 1] != '\n')) {
    return reject();
  }
  std::string_view body(t.data(), sum_at);
  if (t.substr(sum_at + 4, t.size() - sum_at - 5) != HexOf(HashBytes(body))) return reject();
  Record r;
  r.text = t;
  size_t pos = 0;
  int line_no = 0;
  while (pos < body.size()) {
    size_t nl = body.find('\n', pos);
    std::string_view line = body.substr(pos, nl - pos);
    pos = nl + 1;
    auto f = Fields(line);
    ++line_no;
    if (line_no == 1) {
      if (line != kRecordMagic) return reject();
    } else if (line_no == 2) {
      if (f.size() != 2 || f[0] != "dir" || Unescape(f[1]) != dir) return reject();
    } else if (f[0] == "tree") {
      if (f.size() != 3 || !Name::Parse(f[2]).ok()) return reject();
      r.tree_digest = f[1];
      r.tree_name = f[2];
    } else {
      // <kind> <dev> <ino> <size> <mtime> <ctime> <mode> <name> <content|target|->
      if (f.size() != 9 || f[0].size() != 1 || (f[0][0] != 'f' && f[0][0] != 'l')) return reject();
      RecordEntry e;
      e.kind = static_cast<Kind>(f[0][0]);
      unsigned long long dev, ino, size;
      long long mt, ct;
      unsigned mode;
      std::string nums = std::string(f[1]) + " " + std::string(f[2]) + " " + std::string(f[3]) + " " +
                         std::string(f[4]) + " " + std::string(f[5]) + " " + std::string(f[6]);
      if (std::sscanf(nums.c_str(), "%llu %llu %llu %lld %lld %o", &dev, &ino, &size, &mt, &ct, &mode) != 6) {
        return reject();
      }
      e.key = StatKey{dev, ino, size, mt, ct, mode};
      auto name = Unescape(f[7]);
      auto value = Unescape(f[8]);
      if (!name || !value) return reject();
      e.keep = f[8] != "-";
      e.value = *value;
      if (e.kind == Kind::kFile && e.keep) {
        auto content = Name::Parse(e.value);
        if (!content.ok()) return reject();
        e.content = *content;
      }
      r.entries[*name] = std::move(e);
    }
  }
  if (line_no < 2) return reject();
  return r;
}

// The record of `dir`, or nothing when it is missing or unusable; parsed
// once per version of the record file in this process.
std::shared_ptr<const Record> LoadRecord(const LocalStore* store, const std::string& dir) {
  std::string path = RecordPath(store, dir);
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) return nullptr;
  Known& k = TheKnown();
  {
    std::lock_guard<std::mutex> l(k.mu);
    auto it = k.records.find(path);
    if (it != k.records.end() && it->second.first == KeyOf(st)) return it->second.second;
  }
  auto parsed = ParseRecord(dir, ReadFile(path));
  if (!parsed) return nullptr;
  auto record = std::make_shared<const Record>(std::move(*parsed));
  struct stat after {};
  if (stat(path.c_str(), &after) == 0 && KeyOf(after) == KeyOf(st)) {  // not replaced while read
    std::lock_guard<std::mutex> l(k.mu);
    k.records[path] = {KeyOf(st), record};
  }
  return record;
}

const Record* RecordOf(const LocalStore* store, DirScan& d) {
  if (!d.record_loaded) {
    d.record = LoadRecord(store, d.path);
    d.record_loaded = true;
  }
  return d.record.get();
}

// Writes the directory's record when it changed: a temporary file renamed
// into place, so concurrent model processes never see half of one. Failing
// to write only costs the next process the work again.
void SaveRecord(const LocalStore* store, DirScan& d) {
  const Record* old = RecordOf(store, d);
  std::string text(kRecordMagic);
  text += "\ndir " + Escape(d.path) + "\n";
  if (!d.tree_name.empty()) {
    text += "tree " + d.tree_digest + " " + d.tree_name + "\n";
  } else if (old && !old->tree_name.empty()) {
    text += "tree " + old->tree_digest + " " + old->tree_name + "\n";  // still valid for its digest
  }
  auto line = [&](const std::string& name, Kind kind, const StatKey& k, bool keep, const std::string& value) {
    char nums[160];
    std::snprintf(nums, sizeof nums, "%c %llu %llu %llu %lld %lld %o ", static_cast<char>(kind),
                  static_cast<unsigned long long>(k.dev), static_cast<unsigned long long>(k.ino),
                  static_cast<unsigned long long>(k.size), static_cast<long long>(k.mtime_ns),
                  static_cast<long long>(k.ctime_ns), static_cast<unsigned>(k.mode));
    // "-" marks a placeholder; a link to "-" is written escaped.
    std::string v = !keep ? "-" : value == "-" ? "%2D" : Escape(value);
    text += nums + Escape(name) + " " + v + "\n";
  };
  std::vector<std::pair<std::string, const RecordEntry*>> carried;
  for (const auto& n : d.excluded) {  // not looked at this time: keep what was known
    if (old && old->entries.count(n)) carried.emplace_back(n, &old->entries.at(n));
  }
  size_t files = 0;
  for (const auto& e : d.entries) files += e.kind != Kind::kDir;
  bool same_tree = d.tree_name.empty() || (old && d.tree_name == old->tree_name && d.tree_digest == old->tree_digest);
  // Every line as the record has it (each entry matched one of its lines,
  // and none of them is left over): the text would be the same.
  if (old && same_tree && d.from_record == files && files + carried.size() == old->entries.size()) return;
  size_t c = 0;
  std::sort(carried.begin(), carried.end());
  for (const auto& e : d.entries) {
    while (c < carried.size() && carried[c].first < e.name) {
      const RecordEntry& r = *carried[c].second;
      line(carried[c++].first, r.kind, r.key, r.keep, r.value);
    }
    if (e.kind == Kind::kDir || !e.resolved || !e.recordable) continue;
    line(e.name, e.kind, e.key, e.keep, e.kind == Kind::kFile ? (e.keep ? e.content.str() : "") : e.target);
  }
  for (; c < carried.size(); ++c) {
    const RecordEntry& r = *carried[c].second;
    line(carried[c].first, r.kind, r.key, r.keep, r.value);
  }
  text += "sum " + HexOf(HashBytes(text)) + "\n";
  if (old && old->text == text) return;
  std::string path = RecordPath(store, d.path);
  if (!WriteFileAtomic(path, text).ok()) {
    if (MakeDirs(DirName(path)).ok()) (void)WriteFileAtomic(path, text);
  }
}

bool IsDirectory(const std::string& path) {
  struct stat st {};
  return lstat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

void HashKey(Sha256Hasher& h, const StatKey& k) {
  int64_t v[6] = {static_cast<int64_t>(k.dev), static_cast<int64_t>(k.ino), static_cast<int64_t>(k.size),
                  k.mtime_ns, k.ctime_ns, static_cast<int64_t>(k.mode)};
  h.Update(std::string_view(reinterpret_cast<const char*>(v), sizeof v));
}

// One entry of a directory as a view may show it, decided by name, type and
// mode alone (build products, built programs and special files are left
// out): what a readdir and an lstat tell.
struct Listed {
  std::string name;
  Kind kind = Kind::kFile;
  StatKey key;
  bool linked = false;  // a file with other hard links: written through them, it raises no event here
};

// The entry `name` of the directory `dir_fd` as a listing shows it (an
// lstat), or nothing if it is gone or left out.
std::optional<Listed> ListOne(int dir_fd, std::string name) {
  struct stat st {};
  if (fstatat(dir_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) return std::nullopt;
  Listed e;
  e.key = KeyOf(st);
  if (S_ISDIR(st.st_mode)) {
    if (IsBuildProduct(name, true)) return std::nullopt;
    e.kind = Kind::kDir;
  } else if (S_ISLNK(st.st_mode)) {
    if (IsBuildProduct(name, false)) return std::nullopt;
    e.kind = Kind::kLink;
  } else if (S_ISREG(st.st_mode)) {
    if (IsBuildProduct(name, false)) return std::nullopt;
    if ((st.st_mode & 0111) && !IsSourceName(name)) return std::nullopt;  // built programs, scripts run later
    e.kind = Kind::kFile;
    e.linked = st.st_nlink > 1;
  } else {
    return std::nullopt;
  }
  e.name = std::move(name);
  return e;
}

// Lists `dir` afresh: a readdir and an lstat (relative to the directory) per
// entry the view may show, sorted by name.
Result<std::vector<Listed>> ListAfresh(const std::string& dir) {
  DIR* dp = opendir(dir.c_str());
  if (dp == nullptr) return Status::FromErrno("cannot list " + dir, errno);
  std::vector<std::string> names;
  while (dirent* de = readdir(dp)) {
    std::string n = de->d_name;
    if (n == "." || n == "..") continue;
    // Build products need no lstat when the directory says what they are
    // (the objects of a build are a third of its work dir). A symlink named
    // like one (zlib's libz.so -> libz.so.1.2.13) too: in an expanded dir it
    // is shown as what it leads to, a placeholder or the forced output
    // depending on when the model ran, so the links that see it would differ
    // between identical builds. A link that reads it gets it from
    // link_inputs.cc.
    if ((de->d_type == DT_REG || de->d_type == DT_DIR || de->d_type == DT_LNK) &&
        IsBuildProduct(n, de->d_type == DT_DIR)) {
      continue;
    }
    names.push_back(std::move(n));
  }
  std::sort(names.begin(), names.end());
  std::vector<Listed> out;
  out.reserve(names.size());
  for (auto& n : names) {
    if (auto e = ListOne(dirfd(dp), std::move(n))) out.push_back(std::move(*e));
  }
  closedir(dp);
  return out;
}

bool IsLocalFilesystem(const std::string& dir) {
  struct statfs fs {};
  if (statfs(dir.c_str(), &fs) != 0) return false;
  switch (static_cast<uint64_t>(fs.f_type)) {
    case 0xEF53:      // ext2/3/4
    case 0x58465342:  // xfs
    case 0x9123683E:  // btrfs
    case 0x01021994:  // tmpfs
    case 0xF2F52010:  // f2fs
    case 0x794C7630:  // overlayfs
      return true;
    default:
      return false;
  }
}

// Listings kept between views, in a model server (EnableListingCache). A
// server answers every compile of a build, and with `-I.` from the top
// directory (CPython) every view lists the whole tree again: a readdir and
// an lstat per entry, ~30 ms of system time a call. So the server watches
// each directory it lists (inotify, added before the listing is taken) and
// lists it again only after an event in it: an entry created, deleted,
// renamed, written, closed after writing, or its metadata changed (mode,
// times, link count). The events are read before each view; every write
// the build made before it ran the command has raised its event by then
// (fsnotify is synchronous in the system call). As a second check the
// directory's own stat key must still be the listing's (a directory moved
// away and another in its place), and files with other hard links are
// lstat'ed every time. A queue overflow drops every listing. Not seen
// without an event, so not covered: a file written through a shared mapping
// after its descriptor was closed, and a file hard-linked from outside the
// directory after it was listed and then written through that other name;
// local filesystems only (a network filesystem's other clients raise no
// events here).
class ListingCache {
 public:
  ~ListingCache() {
    if (fd_ >= 0) close(fd_);
  }
  bool Start() {
    fd_ = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    return fd_ >= 0;
  }

  // Applies the events raised since the last call.
  void Refresh() {
    alignas(inotify_event) char buf[64 * 1024];
    for (;;) {
      ssize_t n = read(fd_, buf, sizeof buf);
      if (n <= 0) return;  // EAGAIN: no more (an error: the next listing check still stats the dir)
      for (char* p = buf; p < buf + n;) {
        auto* ev = reinterpret_cast<inotify_event*>(p);
        p += sizeof(inotify_event) + ev->len;
        if (ev->mask & IN_Q_OVERFLOW) {
          for (auto& [path, l] : by_path_) l.valid = false;
          ++stats_.overflows;
          continue;
        }
        auto it = paths_of_wd_.find(ev->wd);
        if (it == paths_of_wd_.end()) continue;
        for (const auto& path : it->second) {
          auto l = by_path_.find(path);
          if (l == by_path_.end() || l->second.wd != ev->wd) continue;
          if (ev->mask & IN_IGNORED) {
            by_path_.erase(l);
          } else if (ev->len > 0 && ev->name[0] != '\0' && l->second.changed.size() < kMaxChanged) {
            l->second.changed.insert(ev->name);  // an entry: only it is looked at again
          } else {
            l->second.valid = false;  // the directory itself, or many entries: list it again
          }
        }
        if (ev->mask & IN_IGNORED) paths_of_wd_.erase(it);
      }
    }
  }

  // The listing of `dir`: the kept one while no event invalidated it, else
  // afresh (and kept, on a local filesystem).
  Result<std::shared_ptr<const std::vector<Listed>>> List(const std::string& dir) {
    struct stat st {};
    auto it = by_path_.find(dir);
    if (it != by_path_.end() && it->second.valid && !it->second.changed.empty() && lstat(dir.c_str(), &st) == 0 &&
        static_cast<uint64_t>(st.st_dev) == it->second.dir_key.dev &&
        static_cast<uint64_t>(st.st_ino) == it->second.dir_key.ino && Patch(dir, &it->second)) {
      // The same directory, its key taken after the events were read: a
      // change made since raises an event read before the next view.
      it->second.dir_key = KeyOf(st);
      ++stats_.patched;
    }
    if (it != by_path_.end() && it->second.valid && it->second.changed.empty() && lstat(dir.c_str(), &st) == 0 &&
        KeyOf(st) == it->second.dir_key && Relinked(dir, &it->second)) {
      ++stats_.reused;
      return std::shared_ptr<const std::vector<Listed>>(it->second.entries);
    }
    ++stats_.listed;
    if (lstat(dir.c_str(), &st) != 0 || !IsLocal(st.st_dev, dir)) return Unkept(dir);
    int wd = inotify_add_watch(fd_, dir.c_str(),
                               IN_MODIFY | IN_ATTRIB | IN_CLOSE_WRITE | IN_CREATE | IN_DELETE | IN_MOVED_FROM |
                                   IN_MOVED_TO | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR | IN_DONT_FOLLOW);
    if (wd < 0 || lstat(dir.c_str(), &st) != 0) {
      if (it != by_path_.end()) by_path_.erase(it);
      return Unkept(dir);  // no watch (the limit, or gone)
    }
    GG_ASSIGN_OR_RETURN(auto entries, Afresh(dir));
    auto& paths = paths_of_wd_[wd];
    if (std::find(paths.begin(), paths.end(), dir) == paths.end()) paths.push_back(dir);
    by_path_[dir] = Listing{wd, KeyOf(st), true, {}, entries};
    return std::shared_ptr<const std::vector<Listed>>(entries);
  }

  ListingCacheStats stats() const { return stats_; }

 private:
  // A directory where a build writes (the top directory of a Makefile
  // build, where each compile adds an object) changes before every view:
  // its entries named by events since are looked at again, not all of them
  // (openssh: ~500 lstats a model call). More than this many: list it again.
  static constexpr size_t kMaxChanged = 64;

  struct Listing {
    int wd = -1;
    StatKey dir_key;  // the directory's own when listed
    bool valid = false;
    std::set<std::string> changed;  // entries named by events since, to look at again
    std::shared_ptr<std::vector<Listed>> entries;
  };

  // Replaces the entries named in `l->changed` with what an lstat of each
  // shows now (a new listing: the old one may still be in use), keeping the
  // order by name; false if the directory cannot be opened.
  static bool Patch(const std::string& dir, Listing* l) {
    int fd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return false;
    std::vector<Listed> now;
    for (const auto& name : l->changed) {
      if (auto e = ListOne(fd, name)) now.push_back(std::move(*e));
    }
    close(fd);
    auto patched = std::make_shared<std::vector<Listed>>();
    patched->reserve(l->entries->size() + now.size());
    auto next = now.begin();
    for (const auto& e : *l->entries) {
      for (; next != now.end() && next->name < e.name; ++next) patched->push_back(std::move(*next));
      if (!l->changed.contains(e.name)) patched->push_back(e);
    }
    for (; next != now.end(); ++next) patched->push_back(std::move(*next));
    l->entries = std::move(patched);
    l->changed.clear();
    return true;
  }

  static Result<std::shared_ptr<std::vector<Listed>>> Afresh(const std::string& dir) {
    GG_ASSIGN_OR_RETURN(auto entries, ListAfresh(dir));
    return std::make_shared<std::vector<Listed>>(std::move(entries));
  }

  static Result<std::shared_ptr<const std::vector<Listed>>> Unkept(const std::string& dir) {
    GG_ASSIGN_OR_RETURN(auto entries, ListAfresh(dir));
    return std::make_shared<const std::vector<Listed>>(std::move(entries));
  }

  // Network filesystems' other clients raise no events here.
  bool IsLocal(dev_t dev, const std::string& dir) {
    auto it = local_.find(dev);
    if (it == local_.end()) it = local_.emplace(dev, IsLocalFilesystem(dir)).first;
    return it->second;
  }

  // Refreshes the stat keys of files with other hard links; false if one
  // is gone or no longer a regular file (list afresh).
  static bool Relinked(const std::string& dir, Listing* l) {
    for (auto& e : *l->entries) {
      if (!e.linked) continue;
      struct stat st {};
      std::string full = dir == "/" ? "/" + e.name : dir + "/" + e.name;
      if (lstat(full.c_str(), &st) != 0 || !S_ISREG(st.st_mode) || ((st.st_mode & 0111) && !IsSourceName(e.name))) {
        return false;
      }
      e.key = KeyOf(st);
    }
    return true;
  }

  int fd_ = -1;
  std::map<std::string, Listing> by_path_;
  std::map<int, std::vector<std::string>> paths_of_wd_;
  std::map<dev_t, bool> local_;
  ListingCacheStats stats_;
};

// Set in a model server (one call at a time: no lock).
std::unique_ptr<ListingCache> g_listings;
bool g_listings_suspended = false;

// Lists `dir`'s entries (and, with `recurse`, everything below it) and
// digests their names and stat keys. Reads no file.
Result<std::unique_ptr<DirScan>> Scan(const std::string& dir, const std::set<std::string>& exclude, bool recurse,
                                      int64_t settled_before) {
  auto d = std::make_unique<DirScan>();
  d->path = dir;
  std::shared_ptr<const std::vector<Listed>> listed;
  if (g_listings && !g_listings_suspended) {
    GG_ASSIGN_OR_RETURN(listed, g_listings->List(dir));
  } else {
    GG_ASSIGN_OR_RETURN(auto fresh, ListAfresh(dir));
    listed = std::make_shared<const std::vector<Listed>>(std::move(fresh));
  }
  Sha256Hasher h;
  h.Update(kRecordMagic);
  for (const auto& l : *listed) {
    std::string full = dir == "/" ? "/" + l.name : dir + "/" + l.name;
    if (exclude.count(full)) {
      d->excluded.push_back(l.name);
      continue;
    }
    Entry e;
    e.key = l.key;
    e.kind = l.kind;
    if (e.kind == Kind::kDir) {
      e.settled = true;  // a dir stands for what is in it, digested below
      if (recurse) {
        auto sub = Scan(full, exclude, true, settled_before);
        if (!sub.ok()) {
          if (!IsDirectory(full)) continue;  // removed under a running build: left out like a file
          return sub.status();
        }
        e.sub = std::move(*sub);
        d->settled &= e.sub->settled;
      }
    } else {
      e.settled = std::max(e.key.mtime_ns, e.key.ctime_ns) < settled_before;
      d->settled &= e.settled;
    }
    h.Update(std::string_view(reinterpret_cast<const char*>(&e.kind), 1));
    h.Update(l.name);
    h.Update(std::string_view("\0", 1));
    if (e.kind == Kind::kDir) {
      if (e.sub) h.Update(std::string_view(reinterpret_cast<const char*>(e.sub->digest.data()), 32));
    } else {
      HashKey(h, e.key);
    }
    e.name = l.name;
    d->entries.push_back(std::move(e));
  }
  d->digest = h.Finish();
  return d;
}

// Fills in the content of the files and links of `d` (not below it): from
// the record when the stat key matches one written while settled, else from
// the file (through the hash cache when settled, directly when not).
void Resolve(LocalStore* store, DirScan& d) {
  const Record* rec = RecordOf(store, d);
  for (auto& e : d.entries) {
    if (e.kind == Kind::kDir || e.resolved) continue;
    e.resolved = true;
    if (rec && e.settled) {
      auto it = rec->entries.find(e.name);
      if (it != rec->entries.end() && it->second.kind == e.kind && it->second.key == e.key) {
        const RecordEntry& r = it->second;
        e.keep = r.keep;
        e.recordable = true;
        if (e.kind == Kind::kLink || !r.keep) {
          e.target = e.kind == Kind::kLink ? r.value : "";
          ++d.from_record;
          continue;
        }
        // A blob `gg gc` dropped since is stored again below.
        if (StoreHas(store, r.content)) {
          e.content = r.content;
          ++d.from_record;
          continue;
        }
      }
    }
    std::string full = d.path == "/" ? "/" + e.name : d.path + "/" + e.name;
    e.keep = false;
    if (e.kind == Kind::kLink) {
      std::error_code ec;
      e.target = std::filesystem::read_symlink(full, ec).string();
      e.keep = !ec;
    } else {
      ++g_counters.files_hashed;
      if (e.settled) {
        if (!IsPlaceholderFile(full, e.key.size)) {
          auto n = store->PutFile(full);
          if (n.ok()) e.content = *n;
          e.keep = n.ok();  // a file vanishing under a running build is left out
        }
      } else if (auto content = ReadFile(full); content.ok()) {
        // Not through the hash cache, whose entry could be as racy as ours.
        if (!ParsePlaceholder(*content)) {
          auto n = store->Put(*content);
          if (n.ok()) e.content = *n;
          e.keep = n.ok();
        }
      }
    }
    struct stat after {};
    e.recordable = e.settled && lstat(full.c_str(), &after) == 0 && KeyOf(after) == e.key;
  }
}

bool AllRecordable(const DirScan& d) {
  for (const auto& e : d.entries) {
    if (e.kind == Kind::kDir ? !AllRecordable(*e.sub) : !e.recordable) return false;
  }
  return true;
}

void ResolveAll(LocalStore* store, DirScan& d) {
  Resolve(store, d);
  for (auto& e : d.entries) {
    if (e.sub) ResolveAll(store, *e.sub);
  }
}

void SaveAll(const LocalStore* store, DirScan& d) {
  SaveRecord(store, d);
  for (auto& e : d.entries) {
    if (e.sub) SaveAll(store, *e.sub);
  }
}

void AppendTree(const DirScan& d, const std::string& prefix, Tree* tree) {
  for (const auto& e : d.entries) {
    TreeEntry t;
    t.path = prefix.empty() ? e.name : prefix + "/" + e.name;
    if (e.kind == Kind::kDir) {
      t.kind = TreeEntry::Kind::kDir;
      tree->entries.push_back(t);
      AppendTree(*e.sub, t.path, tree);
    } else if (e.keep) {
      if (e.kind == Kind::kLink) {
        t.kind = TreeEntry::Kind::kSymlink;
        t.target = e.target;
      } else {
        t.name = e.content;
        t.executable = (e.key.mode & 0111) != 0;
      }
      tree->entries.push_back(std::move(t));
    }
  }
}

// The tree object of everything under `dir`, reused from its record when
// the digest of names and stat keys below it matches.
Result<Name> TreeOf(LocalStore* store, const std::string& dir, const std::set<std::string>& exclude,
                    int64_t settled_before) {
  GG_ASSIGN_OR_RETURN(auto scan, Scan(dir, exclude, true, settled_before));
  std::string digest = HexOf(scan->digest);
  if (const Record* rec = RecordOf(store, *scan); scan->settled && rec && rec->tree_digest == digest) {
    auto n = Name::Parse(rec->tree_name);
    // A stored tree keeps its files from `gg gc`, so it is usable as it is.
    if (n.ok() && StoreHas(store, *n)) {
      ++g_counters.trees_reused;
      return *n;
    }
  }
  ResolveAll(store, *scan);
  Tree tree;
  AppendTree(*scan, "", &tree);
  GG_ASSIGN_OR_RETURN(Name name, store->Put(tree.Serialize()));
  ++g_counters.trees_built;
  if (scan->settled && AllRecordable(*scan)) {
    scan->tree_digest = digest;
    scan->tree_name = name.str();
  }
  SaveAll(store, *scan);
  return name;
}

int64_t NowNs() {
  struct timespec ts {};
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

class ViewBuilder {
 public:
  ViewBuilder(LocalStore* store, const ViewRequest& r)
      : store_(store), r_(r), settled_before_(NowNs() - g_settle_ns.load()) {}

  Status Visit(const std::string& dir) {
    if (!r_.expand.count(dir)) {
      GG_ASSIGN_OR_RETURN(Name name, TreeOf(store_, dir, r_.exclude, settled_before_));
      Add(name.str(), dir, false);
      return Status::Ok();
    }
    GG_ASSIGN_OR_RETURN(auto scan, Scan(dir, r_.exclude, false, settled_before_));
    Resolve(store_, *scan);
    for (const auto& e : scan->entries) {
      std::string full = dir == "/" ? "/" + e.name : dir + "/" + e.name;
      if (e.kind == Kind::kDir) {
        if (Status st = Visit(full); !st.ok() && IsDirectory(full)) return st;
      } else if (e.kind == Kind::kFile && e.keep) {
        Add(e.content.str(), full, (e.key.mode & 0111) != 0);
      } else if (e.kind == Kind::kLink) {
        GG_RETURN_IF_ERROR(AddLinked(full));
      }
    }
    SaveRecord(store_, *scan);
    return Status::Ok();
  }

  std::vector<ThunkInput> inputs;

 private:
  // An input is a file or a tree, so a symlink in an expanded dir (pcre2
  // links its pcre2_chartables.c to a .dist file) is seen as what it leads
  // to, at its own path: gcc names and searches relative to the path it was
  // given, not the link's target. A dangling link, or one to a placeholder
  // (its thunk is an input where the command needs it), stays absent.
  Status AddLinked(const std::string& link) {
    struct stat st {};
    if (stat(link.c_str(), &st) != 0) return Status::Ok();
    if (S_ISREG(st.st_mode)) {
      if (IsPlaceholderFile(link, st.st_size)) return Status::Ok();
      GG_ASSIGN_OR_RETURN(Name name, store_->PutFile(link));
      Add(name.str(), link, (st.st_mode & 0111) != 0);
    } else if (S_ISDIR(st.st_mode)) {
      std::error_code ec;
      std::string real = std::filesystem::canonical(link, ec).string();
      if (ec) return Status::Ok();
      GG_ASSIGN_OR_RETURN(Name name, TreeOf(store_, real, r_.exclude, settled_before_));
      Add(name.str(), link, false);
    }
    return Status::Ok();
  }

  void Add(const std::string& name, const std::string& abs, bool exec) {
    std::string path = abs;
    if (IsUnder(abs, r_.workdir)) {
      if (abs == r_.workdir) return;  // the work dir itself is never a tree
      path = abs.substr(r_.workdir.size() + (r_.workdir == "/" ? 0 : 1));
    }
    inputs.push_back({name, path, exec});
  }

  LocalStore* store_;
  const ViewRequest& r_;
  int64_t settled_before_;
};

bool IsSystemDir(const std::string& d) {
  for (const char* s : {"/usr", "/lib", "/lib64", "/bin", "/etc", "/proc", "/dev", "/sys"}) {
    if (IsUnder(d, s)) return true;
  }
  return false;
}

}  // namespace

bool IsUnder(const std::string& path, const std::string& dir) {
  if (dir == "/") return true;
  return path == dir || (path.size() > dir.size() && path.starts_with(dir) && path[dir.size()] == '/');
}

bool IsBuildProduct(const std::string& name, bool is_dir) {
  // Python's bytecode caches too: no compiler or linker reads them, and a
  // build that runs Python rewrites them with the source's mtime inside
  // (CPython's _sysconfigdata, regenerated by every build), which made the
  // views, so the discoveries and links, differ between identical builds.
  if (is_dir) {
    return name == ".git" || name == ".gg" || name == ".svn" || name == ".hg" || name == ".libs" ||
           name == "__pycache__";
  }
  static const char* const kExt[] = {".o",   ".a",   ".so",  ".lo",        ".la",         ".d",   ".Po",
                                     ".Plo", ".Tpo", ".Tplo", ".gcda",     ".gcno",       ".obj", ".ninja_log",
                                     ".ninja_deps", ".log", ".trs", ".pyc", ".pyo"};
  for (const char* e : kExt) {
    if (HasSuffix(name, e)) return true;
  }
  return name.find(".so.") != std::string::npos || name.find(".gg-tmp.") != std::string::npos;
}

ViewCacheStats GetViewCacheStats() {
  return ViewCacheStats{g_counters.trees_reused.load(), g_counters.trees_built.load(),
                        g_counters.files_hashed.load(), g_counters.records_rejected.load()};
}

void SetViewSettleTime(std::chrono::nanoseconds t) { g_settle_ns = t.count(); }

bool EnableListingCache() {
  auto cache = std::make_unique<ListingCache>();
  if (!cache->Start()) return false;
  g_listings = std::move(cache);
  return true;
}

void DisableListingCache() { g_listings.reset(); }

void SuspendListingCache(bool suspended) { g_listings_suspended = suspended; }

ListingCacheStats GetListingCacheStats() { return g_listings ? g_listings->stats() : ListingCacheStats{}; }

Result<std::vector<ThunkInput>> BuildView(LocalStore* store, const ViewRequest& request) {
  if (g_listings && !g_listings_suspended) g_listings->Refresh();
  ViewRequest r = request;
  // Each needed dir is shown through the root holding it, or as its own root.
  std::set<std::string> tops;
  std::vector<std::string> needed = r.needed;
  needed.push_back(r.workdir);
  for (const auto& d : needed) {
    if (IsSystemDir(d) && !IsUnder(r.workdir, d)) continue;
    struct stat st {};
    if (stat(d.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) continue;
    std::string top = d;
    for (const auto& root : r.roots) {
      if (IsUnder(d, root) && root.size() < top.size()) top = root;
    }
    tops.insert(top);
  }
  // Drop tops nested in other tops.
  std::vector<std::string> outer;
  for (const auto& t : tops) {
    bool nested = false;
    for (const auto& o : tops) nested |= o != t && IsUnder(t, o);
    if (!nested) outer.push_back(t);
  }
  // The work dir and every expanded dir are expanded up to their top.
  std::set<std::string> expand;
  auto expand_up = [&](std::string d) {
    for (const auto& top : outer) {
      if (!IsUnder(d, top)) continue;
      while (true) {
        expand.insert(d);
        if (d == top || d == "/") break;
        d = DirName(d);
        if (d.empty()) d.assign(1, '/');
      }
    }
  };
  expand_up(r.workdir);
  for (const auto& d : r.expand) expand_up(d);
  r.expand = expand;
  ViewBuilder b(store, r);
  for (const auto& top : outer) GG_RETURN_IF_ERROR(b.Visit(top));
  return b.inputs;
}

}  // namespace gg::models
