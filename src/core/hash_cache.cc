#include "core/hash_cache.h"

#include <fcntl.h>
#include <unistd.h>

#include <charconv>
#include <cstdio>

#include "core/path_util.h"
#include "core/sha256.h"

namespace gg {

HashCache::HashCache(std::string path) : path_(std::move(path)) {
  fd_ = open(path_.c_str(), O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  // A store we may not write to: still use what others recorded.
  if (fd_ < 0) fd_ = open(path_.c_str(), O_RDONLY | O_CLOEXEC);
}

HashCache::~HashCache() {
  if (fd_ >= 0) close(fd_);
}

size_t HashCache::KeyHash::operator()(const Key& k) const {
  // Inodes of one directory are near each other and mtimes share their high
  // bits: mix, so that chains stay short.
  uint64_t h = k.ino * 0x9e3779b97f4a7c15ULL;
  h ^= (static_cast<uint64_t>(k.mtime_ns) + k.dev + (k.size << 20)) * 0xc2b2ae3d27d4eb4fULL;
  return static_cast<size_t>(h ^ (h >> 29));
}

HashCache::Key HashCache::KeyOf(const struct stat& st) {
  return Key{static_cast<uint64_t>(st.st_dev), static_cast<uint64_t>(st.st_ino),
             static_cast<uint64_t>(st.st_size),
             static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec,
             static_cast<int64_t>(st.st_ctim.tv_sec) * 1000000000 + st.st_ctim.tv_nsec};
}

void HashCache::ParseLine(std::string_view line) {
  // "<dev> <inode> <size> <mtime-ns> <ctime-ns> <name>"; anything else is skipped.
  const char* p = line.data();
  const char* end = p + line.size();
  uint64_t u[3];
  int64_t s[2];
  auto field = [&](auto* v) {
    auto [q, ec] = std::from_chars(p, end, *v);
    if (ec != std::errc() || q == end || *q != ' ') return false;
    p = q + 1;
    return true;
  };
  if (!field(&u[0]) || !field(&u[1]) || !field(&u[2]) || !field(&s[0]) || !field(&s[1])) return;
  auto name = Name::Parse(std::string_view(p, end - p));
  if (name.ok()) entries_.insert_or_assign(Key{u[0], u[1], u[2], s[0], s[1]}, std::move(*name));
}

bool HashCache::ReadNewLines() {
  // Read on first use: a process that never hashes (a model answered from
  // the view cache) does not pay for parsing the whole log.
  loaded_ = true;
  if (fd_ < 0) return false;
  struct stat st {};
  if (fstat(fd_, &st) != 0 || static_cast<uint64_t>(st.st_size) <= read_upto_) return false;
  std::string buf(static_cast<size_t>(st.st_size) - read_upto_, '\0');
  size_t got = 0;
  while (got < buf.size()) {
    ssize_t n = pread(fd_, buf.data() + got, buf.size() - got, static_cast<off_t>(read_upto_ + got));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got += static_cast<size_t>(n);
  }
  // Whole lines only: a line being appended now is read next time.
  size_t last_nl = std::string_view(buf.data(), got).rfind('\n');
  if (last_nl == std::string_view::npos) return false;
  std::string_view s(buf.data(), last_nl + 1);
  entries_.reserve(entries_.size() + s.size() / 100);  // lines are ~130 bytes: no rehash while reading
  for (size_t pos = 0; pos < s.size();) {
    size_t nl = s.find('\n', pos);
    ParseLine(s.substr(pos, nl - pos));
    pos = nl + 1;
  }
  read_upto_ += last_nl + 1;
  return true;
}

std::optional<Name> HashCache::Find(const Key& k) const {
  auto it = entries_.find(k);
  if (it == entries_.end()) return std::nullopt;
  return it->second;
}

void HashCache::Add(const Key& k, const Name& object, std::string* log) {
  auto [it, inserted] = entries_.try_emplace(k, object);
  if (!inserted) {
    if (it->second == object) return;
    it->second = object;
  }
  char line[256];
  int n = std::snprintf(line, sizeof line, "%llu %llu %llu %lld %lld %s\n",
                        static_cast<unsigned long long>(k.dev), static_cast<unsigned long long>(k.ino),
                        static_cast<unsigned long long>(k.size), static_cast<long long>(k.mtime_ns),
                        static_cast<long long>(k.ctime_ns), object.str().c_str());
  if (n > 0 && n < static_cast<int>(sizeof line)) log->append(line, n);
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

}  // namespace gg
