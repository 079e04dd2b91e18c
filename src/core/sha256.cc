#include "core/sha256.h"

#include <fcntl.h>
#include <sys/stat.h>
// The low-level SHA256_* calls run the same assembly (SHA-NI where present)
// as EVP, without OpenSSL 3's provider machinery: statically linked SDK
// programs (thunk functions) stay small and need no dlopen.
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/sha.h>
#include <unistd.h>

#include <cerrno>
#include <memory>

namespace gg {

Sha256Hasher::Sha256Hasher() : ctx_(new SHA256_CTX) { SHA256_Init(static_cast<SHA256_CTX*>(ctx_)); }

Sha256Hasher::~Sha256Hasher() { delete static_cast<SHA256_CTX*>(ctx_); }

void Sha256Hasher::Update(std::string_view data) {
  SHA256_Update(static_cast<SHA256_CTX*>(ctx_), data.data(), data.size());
}

Sha256 Sha256Hasher::Finish() {
  Sha256 out{};
  SHA256_Final(out.data(), static_cast<SHA256_CTX*>(ctx_));
  return out;
}

Sha256 HashBytes(std::string_view data) {
  SHA256_CTX ctx;
  SHA256_Init(&ctx);
  SHA256_Update(&ctx, data.data(), data.size());
  Sha256 out{};
  SHA256_Final(out.data(), &ctx);
  return out;
}

std::string HexOf(const Sha256& digest) {
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * digest.size());
  for (uint8_t b : digest) {
    out += kHex[b >> 4];
    out += kHex[b & 15];
  }
  return out;
}

Sha256 HmacSha256(std::string_view key, std::string_view message) {
  constexpr size_t kBlock = 64;
  std::string k(key);
  if (k.size() > kBlock) {
    Sha256 h = HashBytes(k);
    k.assign(reinterpret_cast<const char*>(h.data()), h.size());
  }
  k.resize(kBlock, '\0');
  std::string inner_pad(kBlock, '\0'), outer_pad(kBlock, '\0');
  for (size_t i = 0; i < kBlock; ++i) {
    inner_pad[i] = static_cast<char>(k[i] ^ 0x36);
    outer_pad[i] = static_cast<char>(k[i] ^ 0x5c);
  }
  Sha256Hasher inner;
  inner.Update(inner_pad);
  inner.Update(message);
  Sha256 inner_hash = inner.Finish();
  Sha256Hasher outer;
  outer.Update(outer_pad);
  outer.Update({reinterpret_cast<const char*>(inner_hash.data()), inner_hash.size()});
  return outer.Finish();
}

Result<Name> HashFile(const std::string& path, uint64_t max_bytes) {
  // O_NONBLOCK: opening a FIFO does not wait for a writer (and it is then
  // refused), reading a file that waits for events fails.
  int fd = open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return Status::FromErrno("cannot open " + path, errno);
  struct stat st {};
  if (fstat(fd, &st) == 0 && (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode))) {
    close(fd);
    return Status::Invalid("cannot read " + path + ": it is a FIFO or a socket, which has no content to name");
  }
  auto name = HashFd(fd, path, max_bytes);
  close(fd);
  return name;
}

Result<Name> HashFd(int fd, const std::string& path, uint64_t max_bytes) {
  posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
  Sha256Hasher hasher;
  // Not zeroed: filling 1 MiB cost more than hashing a small output.
  constexpr size_t kBuf = 1 << 20;
  auto buf = std::make_unique_for_overwrite<char[]>(kBuf);
  uint64_t size = 0;
  std::string prefix;
  for (;;) {
    ssize_t n = read(fd, buf.get(), kBuf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Status::FromErrno("cannot read " + path, errno);
    }
    if (n == 0) break;
    if (max_bytes != 0 && size + static_cast<uint64_t>(n) > max_bytes) {
      return Status::Invalid(path + " holds more than " + std::to_string(max_bytes) + " bytes");
    }
    if (prefix.size() < kThunkMagic.size()) {
      prefix.append(buf.get(), std::min<size_t>(n, kThunkMagic.size() - prefix.size()));
    }
    hasher.Update({buf.get(), static_cast<size_t>(n)});
    size += n;
  }
  return Name(Name::TypeOf(prefix), hasher.Finish(), size);
}

}  // namespace gg
