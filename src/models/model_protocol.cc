#include "models/model_protocol.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace gg::models {
namespace {

void PutU32(std::string* out, uint32_t v) { out->append(reinterpret_cast<const char*>(&v), sizeof v); }
void PutString(std::string* out, const std::string& s) {
  PutU32(out, static_cast<uint32_t>(s.size()));
  out->append(s);
}
void PutList(std::string* out, const std::vector<std::string>& l) {
  PutU32(out, static_cast<uint32_t>(l.size()));
  for (const auto& s : l) PutString(out, s);
}

// Reads fields from a frame; any overrun makes ok false for good.
struct Reader {
  std::string_view in;
  bool ok = true;
  uint32_t U32() {
    uint32_t v = 0;
    if (in.size() < sizeof v) {
      ok = false;
      return 0;
    }
    std::memcpy(&v, in.data(), sizeof v);
    in.remove_prefix(sizeof v);
    return v;
  }
  uint8_t U8() {
    if (in.empty()) {
      ok = false;
      return 0;
    }
    uint8_t v = static_cast<uint8_t>(in[0]);
    in.remove_prefix(1);
    return v;
  }
  std::string String() {
    uint32_t n = U32();
    if (!ok || in.size() < n) {
      ok = false;
      return {};
    }
    std::string s(in.substr(0, n));
    in.remove_prefix(n);
    return s;
  }
  std::vector<std::string> List() {
    uint32_t n = U32();
    std::vector<std::string> l;
    for (uint32_t i = 0; ok && i < n; ++i) l.push_back(String());
    return l;
  }
};

bool WriteAll(int fd, const char* p, size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    p += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}

bool ReadAll(int fd, char* p, size_t n) {
  while (n > 0) {
    ssize_t r = read(fd, p, n);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    p += r;
    n -= static_cast<size_t>(r);
  }
  return true;
}

}  // namespace

std::string Encode(const ModelRequest& r) {
  std::string out(1, static_cast<char>(r.kind));
  PutString(&out, r.exe);
  PutString(&out, r.cwd);
  PutList(&out, r.argv);
  PutList(&out, r.env);
  out.push_back(static_cast<char>(r.stderr_to));
  return out;
}

std::string Encode(const ModelReply& r) {
  std::string out(1, static_cast<char>(r.kind));
  PutList(&out, r.force);
  PutString(&out, r.message);
  PutString(&out, r.dep_file);
  return out;
}

std::optional<ModelRequest> DecodeRequest(std::string_view frame) {
  Reader in{frame};
  ModelRequest r;
  uint8_t kind = in.U8();
  if (kind != 1 && kind != 2) return std::nullopt;
  r.kind = static_cast<ModelRequest::Kind>(kind);
  r.exe = in.String();
  r.cwd = in.String();
  r.argv = in.List();
  r.env = in.List();
  uint8_t stderr_to = in.U8();
  if (stderr_to > 2) return std::nullopt;
  r.stderr_to = static_cast<ModelRequest::Stderr>(stderr_to);
  if (!in.ok || !in.in.empty()) return std::nullopt;
  return r;
}

std::optional<ModelReply> DecodeReply(std::string_view frame) {
  Reader in{frame};
  ModelReply r;
  uint8_t kind = in.U8();
  if (kind < 1 || kind > 3) return std::nullopt;
  r.kind = static_cast<ModelReply::Kind>(kind);
  r.force = in.List();
  r.message = in.String();
  r.dep_file = in.String();
  if (!in.ok || !in.in.empty()) return std::nullopt;
  return r;
}

std::string Encode(const ForceRequest& r) {
  std::string out;
  PutList(&out, r.paths);
  return out;
}

std::optional<ForceRequest> DecodeForceRequest(std::string_view frame) {
  Reader in{frame};
  ForceRequest r;
  r.paths = in.List();
  if (!in.ok || !in.in.empty()) return std::nullopt;
  return r;
}

std::string Encode(const ForceReply& r) {
  std::string out(1, static_cast<char>(r.kind));
  PutString(&out, r.message);
  return out;
}

std::optional<ForceReply> DecodeForceReply(std::string_view frame) {
  Reader in{frame};
  ForceReply r;
  uint8_t kind = in.U8();
  if (kind < 1 || kind > 3) return std::nullopt;
  r.kind = static_cast<ForceReply::Kind>(kind);
  r.message = in.String();
  if (!in.ok || !in.in.empty()) return std::nullopt;
  return r;
}

bool WriteFrame(int fd, const std::string& payload) {
  std::string frame;
  PutU32(&frame, static_cast<uint32_t>(payload.size()));
  frame += payload;
  return WriteAll(fd, frame.data(), frame.size());
}

std::optional<std::string> ReadFrame(int fd, size_t max) {
  uint32_t n = 0;
  if (!ReadAll(fd, reinterpret_cast<char*>(&n), sizeof n) || n > max) return std::nullopt;
  std::string payload(n, '\0');
  if (!ReadAll(fd, payload.data(), n)) return std::nullopt;
  return payload;
}

}  // namespace gg::models
