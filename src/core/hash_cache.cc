#include "core/hash_cache.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <set>

#include "core/path_util.h"
#include "core/sha256.h"

namespace gg {

HashCache::HashCache(std::string path) : path_(std::move(path)) {
  fd_ = open(path_.c_str(), O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  // A store we may not write to: still use what others recorded.
  if (fd_ < 0) fd_ = open(path_.c_str(), O_RDONLY | O_CLOEXEC);
}

HashCache::~HashCache() {
  if (map_ != nullptr) munmap(const_cast<char*>(map_), map_size_);
  if (fd_ >= 0) close(fd_);
}

std::string_view HashCache::From(size_t pos) const {
  if (pos < mapped_) return std::string_view(map_ + pos, mapped_ - pos);
  return std::string_view(tail_).substr(pos - mapped_);
}

uint32_t HashCache::HashOf(const Key& k) {
  // Inodes of one directory are near each other and mtimes share their high
  // bits: every field goes through a full mix (murmur3's finalizer), so that
  // probe runs stay short.
  auto mix = [](uint64_t h) {
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    return h ^ (h >> 33);
  };
  uint64_t h = mix(k.ino ^ mix(static_cast<uint64_t>(k.mtime_ns) ^ mix(k.size + k.dev)));
  h ^= static_cast<uint64_t>(k.ctime_ns);
  return static_cast<uint32_t>(mix(h));
}

HashCache::Key HashCache::KeyOf(const struct stat& st) {
  return Key{static_cast<uint64_t>(st.st_dev), static_cast<uint64_t>(st.st_ino),
             static_cast<uint64_t>(st.st_size),
             static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec,
             static_cast<int64_t>(st.st_ctim.tv_sec) * 1000000000 + st.st_ctim.tv_nsec};
}

std::optional<std::pair<HashCache::Key, size_t>> HashCache::ParseKey(size_t pos) const {
  // "<dev> <inode> <size> <mtime-ns> <ctime-ns> <name>\n"; anything else is skipped.
  std::string_view rest = From(pos);
  const char* begin = rest.data();
  const char* p = begin;
  const char* end = begin + rest.size();
  uint64_t u[3];
  int64_t s[2];
  auto field = [&](auto* v) {
    auto [q, ec] = std::from_chars(p, end, *v);
    if (ec != std::errc() || q == end || *q != ' ') return false;
    p = q + 1;
    return true;
  };
  if (!field(&u[0]) || !field(&u[1]) || !field(&u[2]) || !field(&s[0]) || !field(&s[1])) return std::nullopt;
  if (p == end || *p == '\n') return std::nullopt;
  return std::pair{Key{u[0], u[1], u[2], s[0], s[1]}, pos + static_cast<size_t>(p - begin)};
}

void HashCache::Rehash(size_t capacity) {
  // Every slot moves by its hash alone: keys in the index are distinct.
  std::vector<Slot> old = std::move(slots_);
  slots_.assign(capacity, Slot{0, 0});
  size_t mask = capacity - 1;
  for (const Slot& s : old) {
    if (s.line == 0) continue;
    size_t i = s.hash & mask;
    while (slots_[i].line != 0) i = (i + 1) & mask;
    slots_[i] = s;
  }
}

void HashCache::Insert(const Key& k, uint32_t hash, size_t line) {
  if ((used_ + 1) * 2 > slots_.size()) Rehash(std::max<size_t>(1024, slots_.size() * 2));
  size_t mask = slots_.size() - 1;
  for (size_t i = hash & mask;; i = (i + 1) & mask) {
    Slot& s = slots_[i];
    if (s.line == 0) {
      s = Slot{hash, static_cast<uint32_t>(line + 1)};
      ++used_;
      return;
    }
    if (s.hash == hash && ParseKey(s.line - 1)->first == k) {
      s.line = static_cast<uint32_t>(line + 1);  // a later line wins
      return;
    }
  }
}

void HashCache::IndexLines(size_t pos) {
  // Lines are ~130 bytes: grow once up front rather than while indexing.
  size_t want = std::max<size_t>(1024, slots_.size());
  while (want < (used_ + (size() - pos) / 120 + 1) * 2) want *= 2;
  if (want > slots_.size()) Rehash(want);
  // The index is larger than the caches: each line's slot is prefetched a
  // few lines before it is filled, so the misses overlap (in order: a later
  // line still wins).
  constexpr size_t kAhead = 8;
  struct Parsed {
    Key key;
    uint32_t hash;
    size_t pos;
  } ahead[kAhead];
  size_t parsed_lines = 0;
  while (pos < size()) {
    // Lines do not cross from the mapping into tail_: each ends with its '\n'.
    std::string_view rest = From(pos);
    size_t in_rest = rest.find('\n');
    if (in_rest == std::string_view::npos) break;
    size_t nl = pos + in_rest;
    // Offsets are 32 bits: past 4 GiB of log, lines are not indexed (misses: files are hashed again).
    if (nl >= UINT32_MAX) break;
    if (auto parsed = ParseKey(pos); parsed && parsed->second < nl) {
      uint32_t hash = HashOf(parsed->first);
      __builtin_prefetch(&slots_[hash & (slots_.size() - 1)]);
      Parsed& slot = ahead[parsed_lines++ % kAhead];
      if (parsed_lines > kAhead) Insert(slot.key, slot.hash, slot.pos);
      slot = Parsed{parsed->first, hash, pos};
    }
    pos = nl + 1;
  }
  for (size_t i = parsed_lines > kAhead ? parsed_lines - kAhead : 0; i < parsed_lines; ++i) {
    const Parsed& p = ahead[i % kAhead];
    Insert(p.key, p.hash, p.pos);
  }
}

bool HashCache::ReadNewLines() {
  // Read on first use: a process that never hashes (a model answered from
  // the view cache) does not pay for reading the log.
  bool first = !loaded_;
  loaded_ = true;
  if (fd_ < 0) return false;
  struct stat st {};
  if (fstat(fd_, &st) != 0 || static_cast<uint64_t>(st.st_size) <= read_upto_) return false;
  size_t start = size();
  if (first) {
    // The log as it is now is mapped, not read: a per-user store's log is
    // megabytes (the toolchain's files), and every gg process and model
    // server loads it; copying it into fresh memory (zeroed, then filled)
    // was most of a memoized model call's CPU. Only gg rewrites it, by
    // rename (Compact), so the mapped file is never cut short under us.
    size_t len = static_cast<size_t>(st.st_size);
    void* m = mmap(nullptr, len, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd_, 0);
    if (m != MAP_FAILED) {
      std::string_view all(static_cast<const char*>(m), len);
      size_t last_nl = all.rfind('\n');
      if (last_nl == std::string_view::npos) {
        munmap(m, len);
        return false;
      }
      map_ = static_cast<const char*>(m);
      map_size_ = len;
      mapped_ = last_nl + 1;
      read_upto_ = mapped_;
      IndexLines(0);
      return true;
    }
  }
  // Lines appended since: read into tail_, whole lines only (a line being
  // appended now is read next time).
  size_t tail_start = tail_.size();
  size_t want = static_cast<size_t>(static_cast<uint64_t>(st.st_size) - read_upto_);
  tail_.resize(tail_start + want);
  size_t got = 0;
  while (got < want) {
    ssize_t n = pread(fd_, tail_.data() + tail_start + got, want - got, static_cast<off_t>(read_upto_ + got));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got += static_cast<size_t>(n);
  }
  size_t last_nl = std::string_view(tail_.data() + tail_start, got).rfind('\n');
  if (last_nl == std::string_view::npos) {
    tail_.resize(tail_start);
    return false;
  }
  tail_.resize(tail_start + last_nl + 1);
  read_upto_ += last_nl + 1;
  IndexLines(start);
  return true;
}

std::optional<Name> HashCache::Find(const Key& k) const {
  if (slots_.empty()) return std::nullopt;
  uint32_t hash = HashOf(k);
  size_t mask = slots_.size() - 1;
  for (size_t i = hash & mask; slots_[i].line != 0; i = (i + 1) & mask) {
    if (slots_[i].hash != hash) continue;
    auto parsed = ParseKey(slots_[i].line - 1);
    if (!parsed || !(parsed->first == k)) continue;
    std::string_view rest = From(parsed->second);
    auto name = Name::Parse(rest.substr(0, rest.find('\n')));
    // A line whose name does not parse is no answer: the file is hashed.
    if (!name.ok()) return std::nullopt;
    return *name;
  }
  return std::nullopt;
}

void HashCache::Add(const Key& k, const Name& object, std::string* log) {
  if (Find(k) == object) return;
  char line[256];
  int n = std::snprintf(line, sizeof line, "%llu %llu %llu %lld %lld %s\n",
                        static_cast<unsigned long long>(k.dev), static_cast<unsigned long long>(k.ino),
                        static_cast<unsigned long long>(k.size), static_cast<long long>(k.mtime_ns),
                        static_cast<long long>(k.ctime_ns), object.str().c_str());
  if (n <= 0 || n >= static_cast<int>(sizeof line)) return;
  size_t pos = size();
  tail_.append(line, static_cast<size_t>(n));
  IndexLines(pos);
  log->append(line, static_cast<size_t>(n));
}

void HashCache::Remember(const struct stat& st, const Name& name) {
  RememberAll({Known{st, name}});
}

void HashCache::RememberAll(const std::vector<Known>& files) {
  std::string log;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!loaded_) ReadNewLines();
    for (const Known& f : files) Add(KeyOf(f.st), f.name.object(), &log);
  }
  // One write with O_APPEND: lines from concurrent gg processes do not
  // interleave (a reader takes whole lines only).
  if (fd_ >= 0 && !log.empty()) (void)!write(fd_, log.data(), log.size());
}

std::optional<Name> HashCache::Lookup(const struct stat& st) {
  Key k = KeyOf(st);
  std::lock_guard<std::mutex> lock(mu_);
  if (!loaded_) ReadNewLines();
  if (auto hit = Find(k)) return hit;
  // Another process may have hashed or written it since we last looked.
  if (ReadNewLines()) return Find(k);
  return std::nullopt;
}

Result<Name> HashCache::Hash(const std::string& path, uint64_t max_bytes, struct stat* hashed) {
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) return Status::FromErrno("cannot stat " + path, errno);
  Key k = KeyOf(st);
  if (hashed != nullptr) *hashed = st;
  if (auto cached = Lookup(st)) return *cached;
  GG_ASSIGN_OR_RETURN(Name name, HashFile(path, max_bytes));
  struct stat after {};
  // Only remember content that did not change while we read it.
  if (stat(path.c_str(), &after) == 0 && KeyOf(after) == k) {
    Remember(st, name);
  } else if (hashed != nullptr) {
    *hashed = {};
  }
  return name;
}

Result<HashCache::Compacted> HashCache::Compact(const std::string& path) {
  auto text = ReadFile(path);
  if (!text.ok()) {
    if (text.status().code() == Status::Code::kNotFound) return Compacted{};
    return text.status();
  }
  // Whole lines whose device and inode parse, newest first; the first seen
  // of each file is its last line.
  std::vector<std::string_view> kept;
  std::set<std::pair<uint64_t, uint64_t>> seen;
  Compacted c;
  std::string_view all(*text);
  size_t end = all.rfind('\n');
  while (end != std::string_view::npos) {
    size_t begin = end == 0 ? std::string_view::npos : all.rfind('\n', end - 1);
    size_t from = begin == std::string_view::npos ? 0 : begin + 1;
    std::string_view line = all.substr(from, end + 1 - from);
    c.lines++;
    uint64_t dev = 0, ino = 0;
    const char* p = line.data();
    const char* stop = line.data() + line.size();
    auto [q, ec] = std::from_chars(p, stop, dev);
    bool ok = ec == std::errc() && q != stop && *q == ' ';
    if (ok) {
      auto [r, ec2] = std::from_chars(q + 1, stop, ino);
      ok = ec2 == std::errc() && r != stop && *r == ' ' && std::count(line.begin(), line.end(), ' ') == 5;
    }
    if (ok && seen.insert({dev, ino}).second) kept.push_back(line);
    end = begin;
  }
  std::string out;
  for (auto it = kept.rbegin(); it != kept.rend(); ++it) out.append(*it);
  c.kept = kept.size();
  GG_RETURN_IF_ERROR(WriteFileAtomic(path, out));
  return c;
}

}  // namespace gg
