#include "core/hash_cache.h"

#include <fcntl.h>
#include <unistd.h>

#include <charconv>
#include <cinttypes>
#include <cstdio>
#include <cstring>

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
  // Parsed by hand (no sscanf, no copy per line): a store's log holds tens
  // of thousands of lines after a toolchain capture, and every process that
  // hashes (each model server, gg build) loads it.
  const std::string& s = *content;
  const char* p = s.data();
  const char* end = p + s.size();
  entries_.reserve(s.size() / 96);
  while (p < end) {
    const char* nl = static_cast<const char*>(std::memchr(p, '\n', end - p));
    if (nl == nullptr) break;  // torn last line
    Key k{};
    const char* q = p;
    bool ok = true;
    auto field = [&](auto& value) {
      if (!ok) return;
      auto r = std::from_chars(q, nl, value);
      ok = r.ec == std::errc() && r.ptr < nl && *r.ptr == ' ';
      q = r.ptr + 1;
    };
    field(k.dev);
    field(k.ino);
    field(k.size);
    field(k.mtime_ns);
    field(k.ctime_ns);
    // The name is checked where it is used (Lookup parses it).
    if (ok && q < nl && nl - q < 160 && std::memchr(q, ' ', nl - q) == nullptr) entries_[k].assign(q, nl);
    p = nl + 1;
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
