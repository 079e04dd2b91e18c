// The messages exchanged between a sandbox client and its server over a
// SOCK_SEQPACKET socket, and the compact binary encoding of a Spec.
//
// Every packet starts with a 10-byte header: type (u8), last (u8: 1 on the
// final packet of a message), id (u64, little-endian host order; both ends
// are the same binary). A Launch message may span many packets because a
// Spec can hold thousands of mounts; all other messages fit in one.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "sandbox/sandbox.h"

namespace gg::sandbox::wire {

enum Type : uint8_t {
  kHello = 1,   ///< server -> client, first: u8 hermetic, i32 errno, str why
  kLaunch = 2,  ///< client -> server: an encoded Spec (possibly chunked)
  kKill = 3,    ///< client -> server: kill run `id`
  kAck = 4,     ///< server -> client: u8 ok, str error
  kDone = 5,    ///< server -> client: an encoded Outcome
};

constexpr size_t kHeaderSize = 10;
/// Largest packet either side sends (well under the default socket buffer).
constexpr size_t kMaxPacket = 32 * 1024;

/// Appends fixed-width integers and length-prefixed strings.
class Writer {
 public:
  void U8(uint8_t v) { buf_.push_back(static_cast<char>(v)); }
  void U32(uint32_t v) { Raw(&v, sizeof v); }
  void I32(int32_t v) { Raw(&v, sizeof v); }
  void U64(uint64_t v) { Raw(&v, sizeof v); }
  void F64(double v) { Raw(&v, sizeof v); }
  void Str(std::string_view s) {
    U32(static_cast<uint32_t>(s.size()));
    buf_.append(s);
  }
  std::string& buf() { return buf_; }

 private:
  void Raw(const void* p, size_t n) { buf_.append(static_cast<const char*>(p), n); }
  std::string buf_;
};

/// Reads what Writer wrote; any underflow sets failed() and yields zeros.
class Reader {
 public:
  explicit Reader(std::string_view data) : data_(data) {}
  uint8_t U8() { uint8_t v = 0; Raw(&v, 1); return v; }
  uint32_t U32() { uint32_t v = 0; Raw(&v, sizeof v); return v; }
  int32_t I32() { int32_t v = 0; Raw(&v, sizeof v); return v; }
  uint64_t U64() { uint64_t v = 0; Raw(&v, sizeof v); return v; }
  double F64() { double v = 0; Raw(&v, sizeof v); return v; }
  std::string Str();
  bool failed() const { return failed_; }
  bool done() const { return pos_ == data_.size(); }

 private:
  void Raw(void* p, size_t n);
  std::string_view data_;
  size_t pos_ = 0;
  bool failed_ = false;
};

/// A packet header followed by `payload`.
std::string Packet(Type type, uint64_t id, std::string_view payload, bool last = true);
/// Splits a packet into its header fields and payload; false if too short.
bool ParsePacket(std::string_view packet, Type* type, uint64_t* id, bool* last,
                 std::string_view* payload);

void EncodeSpec(const Spec& spec, Writer& w);
bool DecodeSpec(std::string_view data, Spec* spec);
void EncodeOutcome(const Outcome& o, Writer& w);
bool DecodeOutcome(std::string_view data, Outcome* o);

}  // namespace gg::sandbox::wire
