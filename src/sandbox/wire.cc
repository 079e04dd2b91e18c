#include "sandbox/wire.h"

#include <cstring>

namespace gg::sandbox::wire {

void Reader::Raw(void* p, size_t n) {
  if (failed_ || data_.size() - pos_ < n) {
    failed_ = true;
    std::memset(p, 0, n);
    return;
  }
  std::memcpy(p, data_.data() + pos_, n);
  pos_ += n;
}

std::string Reader::Str() {
  uint32_t n = U32();
  if (failed_ || data_.size() - pos_ < n) {
    failed_ = true;
    return {};
  }
  std::string s(data_.substr(pos_, n));
  pos_ += n;
  return s;
}

std::string Packet(Type type, uint64_t id, std::string_view payload, bool last) {
  Writer w;
  w.U8(type);
  w.U8(last ? 1 : 0);
  w.U64(id);
  w.buf().append(payload);
  return std::move(w.buf());
}

bool ParsePacket(std::string_view packet, Type* type, uint64_t* id, bool* last,
                 std::string_view* payload) {
  if (packet.size() < kHeaderSize) return false;
  Reader r(packet.substr(0, kHeaderSize));
  *type = static_cast<Type>(r.U8());
  *last = r.U8() != 0;
  *id = r.U64();
  *payload = packet.substr(kHeaderSize);
  return true;
}

namespace {
void Strings(const std::vector<std::string>& v, Writer& w) {
  w.U32(static_cast<uint32_t>(v.size()));
  for (const auto& s : v) w.Str(s);
}
bool Strings(Reader& r, std::vector<std::string>* v) {
  uint32_t n = r.U32();
  for (uint32_t i = 0; i < n && !r.failed(); ++i) v->push_back(r.Str());
  return !r.failed();
}
}  // namespace

void EncodeSpec(const Spec& s, Writer& w) {
  w.Str(s.root_dir);
  w.Str(s.work_host_dir);
  w.Str(s.workdir);
  w.Str(s.exe);
  w.Str(s.stdout_path);
  w.Str(s.stderr_path);
  w.F64(s.timeout_seconds);
  Strings(s.argv, w);
  Strings(s.env, w);
  w.U32(static_cast<uint32_t>(s.mounts.size()));
  for (const Mount& m : s.mounts) {
    w.Str(m.host_path);
    w.Str(m.sandbox_path);
    w.U8((m.is_dir ? 1 : 0) | (m.mkdir_only ? 2 : 0));
  }
  w.U64(s.limits.memory_bytes);
  w.U64(s.limits.processes);
  w.U64(s.limits.tmp_bytes);
  w.U64(s.limits.file_bytes);
  w.U64(s.limits.workdir_bytes);
  Strings(s.outputs, w);
  w.Str(s.workdir_view);
}

bool DecodeSpec(std::string_view data, Spec* s) {
  Reader r(data);
  s->root_dir = r.Str();
  s->work_host_dir = r.Str();
  s->workdir = r.Str();
  s->exe = r.Str();
  s->stdout_path = r.Str();
  s->stderr_path = r.Str();
  s->timeout_seconds = r.F64();
  if (!Strings(r, &s->argv) || !Strings(r, &s->env)) return false;
  uint32_t n = r.U32();
  if (r.failed()) return false;
  s->mounts.reserve(n);
  for (uint32_t i = 0; i < n && !r.failed(); ++i) {
    Mount m;
    m.host_path = r.Str();
    m.sandbox_path = r.Str();
    uint8_t flags = r.U8();
    m.is_dir = (flags & 1) != 0;
    m.mkdir_only = (flags & 2) != 0;
    s->mounts.push_back(std::move(m));
  }
  s->limits.memory_bytes = r.U64();
  s->limits.processes = r.U64();
  s->limits.tmp_bytes = r.U64();
  s->limits.file_bytes = r.U64();
  s->limits.workdir_bytes = r.U64();
  if (!Strings(r, &s->outputs)) return false;
  s->workdir_view = r.Str();
  return !r.failed() && r.done();
}

void EncodeOutcome(const Outcome& o, Writer& w) {
  w.U8(static_cast<uint8_t>(o.kind));
  w.I32(o.exit_code);
  w.I32(o.signal);
  w.F64(o.seconds);
  w.Str(o.error);
  w.U8(o.permanent ? 1 : 0);
  w.U64(o.peak_rss_bytes);
  w.U64(o.limits.memory_bytes);
  w.U64(o.limits.processes);
  w.U64(o.limits.tmp_bytes);
  w.U64(o.limits.file_bytes);
  w.U64(o.limits.workdir_bytes);
  w.U8((o.workdir_full ? 1 : 0) | (o.tmp_full ? 2 : 0) | (o.files_full ? 4 : 0));
}

bool DecodeOutcome(std::string_view data, Outcome* o) {
  Reader r(data);
  o->kind = static_cast<Outcome::Kind>(r.U8());
  o->exit_code = r.I32();
  o->signal = r.I32();
  o->seconds = r.F64();
  o->error = r.Str();
  o->permanent = r.U8() != 0;
  o->peak_rss_bytes = r.U64();
  o->limits.memory_bytes = r.U64();
  o->limits.processes = r.U64();
  o->limits.tmp_bytes = r.U64();
  o->limits.file_bytes = r.U64();
  o->limits.workdir_bytes = r.U64();
  uint8_t full = r.U8();
  o->workdir_full = (full & 1) != 0;
  o->tmp_full = (full & 2) != 0;
  o->files_full = (full & 4) != 0;
  return !r.failed();
}

}  // namespace gg::sandbox::wire
