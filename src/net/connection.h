// A framed, authenticated message stream over a TCP socket: each message is
// a 4-byte big-endian length and a serialized gg.proto.remote.Message.
#pragma once

#include <atomic>
#include <mutex>
#include <string>

#include "gg/status.h"
#include "net/remote.pb.h"

namespace gg::net {

inline constexpr uint32_t kProtocolVersion = 2;
inline constexpr uint32_t kMaxMessageBytes = 8 << 20;
inline constexpr size_t kObjectPieceBytes = 4 << 20;
/// Once a message's first byte has arrived, the whole message must within this.
inline constexpr int kMessageDeadlineMs = 30000;

class Connection {
 public:
  explicit Connection(int fd);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  /// Sends one message; thread-safe.
  Status Send(const proto::remote::Message& m);
  /// Waits up to `timeout_ms` for one message (kTimeout if none came).
  /// Only one thread may receive.
  Status Receive(proto::remote::Message* m, int timeout_ms);
  /// Wakes a blocked Receive and makes further I/O fail.
  void Shutdown();
  /// Milliseconds since the last Send (for heartbeats).
  int64_t MillisSinceSend() const;
  std::string peer() const;

 private:
  /// Reads n bytes: waits up to `timeout_ms` while `*deadline` is 0 (no byte
  /// of the message yet), then until `*deadline` (set on the first byte).
  Status ReadExactly(char* buf, size_t n, int timeout_ms, double* deadline);
  int fd_;
  std::mutex send_mu_;
  std::atomic<int64_t> last_send_ms_{0};
};

/// Connects to "HOST:PORT", retrying refused connections until `deadline_s`.
Result<int> ConnectTcp(const std::string& host_port, double deadline_s);
/// Listens on "HOST:PORT" (port 0: any); returns the fd and the bound port.
Result<std::pair<int, int>> ListenTcp(const std::string& host_port);
/// Splits "HOST:PORT".
Status SplitHostPort(const std::string& host_port, std::string* host, std::string* port);

/// HMAC-SHA256 of `label` and the two nonces under `secret`.
std::string Mac(const std::string& secret, const std::string& label, const std::string& a, const std::string& b);
/// 32 random bytes.
std::string Nonce();
/// Reads a secret file (trailing newlines trimmed); refuses an empty one.
Result<std::string> ReadSecretFile(const std::string& path);
double MonotonicSeconds();

}  // namespace gg::net
