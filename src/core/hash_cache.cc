#include "core/hash_cache.h"

#include <fcntl.h>
#include <unistd.h>

#include <cinttypes>
#include <cstdio>

#include "core/path_util.h"
#include "core/sha256.h"

namespace gg {

HashCache::HashCache(std::string path) : path_(std::move(path)) {
  fd_ = open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
}

HashCache::~HashCache() {
  if (fd_ >= 0) close(fd_);
}

HashCache::Key HashCache::KeyOf(const struct stat& st) {
  return Key{static_cast<uint64_t>(st.st_dev), static_cast<uint64_t>(st.st_ino),
             static_cast<uint64_t>(st.st_size),
             static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec,
             static_cast<int64_t>(st.st_ctim.tv_sec) * 1000000000 + st.st_ctim.tv_nsec};
}

void HashCache::Load() {
  // Loaded on first use: a process that never hashes (a model answered from
  // the view cache) does not pay for parsing the whole log.
  if (loaded_) return;
  loaded_ = true;
  auto content = ReadFile(path_);
  if (!content.ok()) return;
  const std::string& s = *content;
  size_t pos = 0;
  while (pos < s.size()) {
    size_t nl = s.find('\n', pos);
    if (nl == std::string::npos) break;  // torn last line
    std::string line = s.substr(pos, nl - pos);
    pos = nl + 1;
    Key k{};
    char name[160];
    unsigned long long dev, ino, size;
    long long mt, ct;
    if (std::sscanf(line.c_str(), "%llu %llu %llu %lld %lld %159s", &dev, &ino, &size, &mt, &ct, name) != 6) {
      continue;
    }
    k = Key{dev, ino, size, mt, ct};
    if (Name::Parse(name).ok()) entries_[k] = name;
  }
}

void HashCache::Remember(const struct stat& st, const Name& name) {
  Key k = KeyOf(st);
  std::string text = name.str();
  {
    std::lock_guard<std::mutex> lock(mu_);
    Load();
    auto [it, inserted] = entries_.try_emplace(k, text);
    if (!inserted) {
      if (it->second == text) return;
      it->second = text;
    }
  }
  if (fd_ < 0) return;
  char line[256];
  int n = std::snprintf(line, sizeof line, "%llu %llu %llu %lld %lld %s\n",
                        static_cast<unsigned long long>(k.dev), static_cast<unsigned long long>(k.ino),
                        static_cast<unsigned long long>(k.size), static_cast<long long>(k.mtime_ns),
                        static_cast<long long>(k.ctime_ns), text.c_str());
  // One write with O_APPEND: lines from concurrent gg processes do not interleave.
  if (n > 0 && n < static_cast<int>(sizeof line)) (void)!write(fd_, line, n);
}

std::optional<Name> HashCache::Lookup(const struct stat& st) {
  std::lock_guard<std::mutex> lock(mu_);
  Load();
  auto it = entries_.find(KeyOf(st));
  if (it == entries_.end()) return std::nullopt;
  auto n = Name::Parse(it->second);
  if (!n.ok()) return std::nullopt;
  return *n;
}

Result<Name> HashCache::Hash(const std::string& path, uint64_t max_bytes) {
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) return Status::FromErrno("cannot stat " + path, errno);
  Key k = KeyOf(st);
  if (auto cached = Lookup(st)) return *cached;
  GG_ASSIGN_OR_RETURN(Name name, HashFile(path, max_bytes));
  struct stat after {};
  // Only remember content that did not change while we read it.
  if (stat(path.c_str(), &after) == 0 && KeyOf(after) == k) Remember(st, name);
  return name;
}

}  // namespace gg
