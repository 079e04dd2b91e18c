// Remembers the names of files already hashed, keyed by what changes when a
// file is written (device, inode, size, mtime and ctime, in nanoseconds), so
// re-hashing an unchanged file costs one stat. Kept as an append-only log in
// .gg/hashcache, shared by every gg process of the store: a process reads it
// on first use and, on a miss, the lines other processes appended since (a
// blob a model or a sandbox run wrote is then known without reading it). A
// torn last line is ignored. See docs/store_format.md.
#pragma once

#include <sys/stat.h>

#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "gg/name.h"
#include "gg/status.h"

namespace gg {

class HashCache {
 public:
  /// Uses the log at `path` (missing is fine), read on first use, and appends to it.
  explicit HashCache(std::string path);
  ~HashCache();
  HashCache(const HashCache&) = delete;
  HashCache& operator=(const HashCache&) = delete;

  /// The name of the file's content, hashing only when the file changed.
  /// `*hashed` (if given) is the file's stat that name is known for, or all
  /// zero when the file changed while it was read.
  Result<Name> Hash(const std::string& path, uint64_t max_bytes = 0, struct stat* hashed = nullptr);
  /// The remembered name of the file `st` describes, without reading it.
  std::optional<Name> Lookup(const struct stat& st);
  /// Records that the file described by `st` has the content `name`.
  void Remember(const struct stat& st, const Name& name);
  /// A file and its content's name.
  struct Known {
    struct stat st;
    Name name;
  };
  /// Remember for many files, with one write to the log (a view or tree
  /// links thousands of blobs at once).
  void RememberAll(const std::vector<Known>& files);

  /// What Compact did: the log's whole lines before, and those kept.
  struct Compacted {
    size_t lines = 0;
    size_t kept = 0;
  };
  /// Rewrites the log at `path` keeping each file's (device and inode's)
  /// last line only: an earlier one describes a stat the file no longer
  /// has (a hard link to a blob, as every view and tree makes, changes its
  /// ctime, so the same blob gets a line per link), and every gg process
  /// reads the whole log. Unparsable and torn lines are dropped. Written to
  /// a temporary file and renamed over the log: a line another process
  /// appends meanwhile may be lost, which costs a hash, never a wrong name.
  static Result<Compacted> Compact(const std::string& path);

 private:
  struct Key {
    uint64_t dev, ino, size;
    int64_t mtime_ns, ctime_ns;
    bool operator==(const Key&) const = default;
  };
  /// One slot of the open-addressing index: the key's hash and where its
  /// line starts in the text (the mapping, then tail_), plus one (0:
  /// empty). The line itself is the entry: a load parses only the
  /// numbers, a hit its one name.
  struct Slot {
    uint32_t hash;
    uint32_t line;
  };
  static Key KeyOf(const struct stat& st);
  static uint32_t HashOf(const Key& k);
  /// The log's text from `pos` (of the mapping then tail_) to the end of
  /// the part that holds it.
  std::string_view From(size_t pos) const;
  size_t size() const { return mapped_ + tail_.size(); }
  /// The key of the line starting at `pos` of the text, and where its name
  /// starts; nullopt if it is not a hash cache line.
  std::optional<std::pair<Key, size_t>> ParseKey(size_t pos) const;
  /// Adds the entry with mu_ held; appends its log line to `log` if it is new.
  void Add(const Key& k, const Name& object, std::string* log);
  /// Reads the lines appended since the last read (all of them the first
  /// time), with mu_ held; false if there were none.
  bool ReadNewLines();
  /// Indexes the whole lines of the text from `pos` on; later lines win.
  void IndexLines(size_t pos);
  void Insert(const Key& k, uint32_t hash, size_t line);
  /// Moves the index into `capacity` slots (a power of two).
  void Rehash(size_t capacity);
  std::optional<Name> Find(const Key& k) const;

  std::string path_;
  int fd_ = -1;
  std::mutex mu_;
  bool loaded_ = false;
  uint64_t read_upto_ = 0;  ///< bytes of the log parsed (whole lines)
  const char* map_ = nullptr;  ///< the log as it was at the first read, mapped
  size_t map_size_ = 0;
  size_t mapped_ = 0;          ///< its whole lines' bytes
  std::string tail_;           ///< lines read after that, and those this process appended
  std::vector<Slot> slots_; ///< a power of two long, at most half full
  size_t used_ = 0;
};

}  // namespace gg
