#include "net/connection.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>

#include "core/path_util.h"
#include "core/sha256.h"
#include "net/resolve.h"

namespace gg::net {

double MonotonicSeconds() {
  using namespace std::chrono;
  return duration<double>(steady_clock::now().time_since_epoch()).count();
}

static int64_t NowMs() { return static_cast<int64_t>(MonotonicSeconds() * 1000); }

Connection::Connection(int fd) : fd_(fd) {
  // A peer that stops reading must not block a sender forever either.
  timeval tv{kMessageDeadlineMs / 1000, 0};
  setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

Connection::~Connection() {
  if (fd_ >= 0) close(fd_);
}

void Connection::Shutdown() { shutdown(fd_, SHUT_RDWR); }

int64_t Connection::MillisSinceSend() const { return NowMs() - last_send_ms_.load(); }

std::string Connection::peer() const {
  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  char host[NI_MAXHOST] = "?", port[NI_MAXSERV] = "?";
  if (getpeername(fd_, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    getnameinfo(reinterpret_cast<sockaddr*>(&addr), len, host, sizeof host, port, sizeof port,
                NI_NUMERICHOST | NI_NUMERICSERV);
  }
  return std::string(host) + ":" + port;
}

Status Connection::Send(const proto::remote::Message& m) {
  std::string body;
  m.SerializeToString(&body);
  if (body.size() > kMaxMessageBytes) return Status::Invalid("message of " + std::to_string(body.size()) + " bytes is too large");
  uint32_t len = htonl(static_cast<uint32_t>(body.size()));
  std::string frame(reinterpret_cast<const char*>(&len), 4);
  frame += body;
  std::lock_guard<std::mutex> lock(send_mu_);
  size_t done = 0;
  while (done < frame.size()) {
    ssize_t n = send(fd_, frame.data() + done, frame.size() - done, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Status::Unavailable("connection to " + peer() + " lost: " + std::strerror(errno));
    }
    done += n;
  }
  last_send_ms_ = NowMs();
  return Status::Ok();
}

Status Connection::ReadExactly(char* buf, size_t n, int timeout_ms, double* deadline) {
  size_t done = 0;
  while (done < n) {
    int wait_ms = timeout_ms;
    if (*deadline > 0) wait_ms = std::max(0, static_cast<int>((*deadline - MonotonicSeconds()) * 1000));
    pollfd p{fd_, POLLIN, 0};
    int r = poll(&p, 1, wait_ms);
    if (r < 0 && errno == EINTR) continue;
    if (r == 0) {
      if (*deadline == 0) return Status::Timeout("no message");
      // Part of a message came and the rest did not: a peer that stalls
      // mid-frame must not hold this reader (and whoever joins it) forever.
      return Status::Unavailable("connection to " + peer() + " stalled in the middle of a message for " +
                                 std::to_string(kMessageDeadlineMs / 1000) + " s; closing it");
    }
    ssize_t got = recv(fd_, buf + done, n - done, 0);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) return Status::Unavailable("connection closed by the other side");
    if (*deadline == 0) *deadline = MonotonicSeconds() + kMessageDeadlineMs / 1000.0;
    done += got;
  }
  return Status::Ok();
}

Status Connection::Receive(proto::remote::Message* m, int timeout_ms) {
  uint32_t len = 0;
  double deadline = 0;  // set when the frame's first byte arrives
  GG_RETURN_IF_ERROR(ReadExactly(reinterpret_cast<char*>(&len), 4, timeout_ms, &deadline));
  len = ntohl(len);
  if (len > kMaxMessageBytes) return Status::Corrupt("message length " + std::to_string(len) + " is too large: not a gg peer?");
  std::string body(len, '\0');
  GG_RETURN_IF_ERROR(ReadExactly(body.data(), len, timeout_ms, &deadline));
  if (!m->ParseFromString(body)) return Status::Corrupt("malformed message from " + peer());
  return Status::Ok();
}

Status SplitHostPort(const std::string& host_port, std::string* host, std::string* port) {
  size_t colon = host_port.rfind(':');
  if (colon == std::string::npos || colon + 1 == host_port.size()) {
    return Status::Invalid("'" + host_port + "' is not HOST:PORT");
  }
  *host = host_port.substr(0, colon);
  *port = host_port.substr(colon + 1);
  if (host->size() > 2 && host->front() == '[' && host->back() == ']') *host = host->substr(1, host->size() - 2);
  return Status::Ok();
}

Result<int> ConnectTcp(const std::string& host_port, double deadline_s) {
  std::string host, port;
  GG_RETURN_IF_ERROR(SplitHostPort(host_port, &host, &port));
  std::string last_error = "no address";
  do {
    GG_ASSIGN_OR_RETURN(std::vector<Address> addrs, Resolve(host, port, false));
    for (const Address& a : addrs) {
      int fd = socket(a.family, SOCK_STREAM | SOCK_CLOEXEC, 0);
      if (fd < 0) continue;
      if (connect(fd, reinterpret_cast<const sockaddr*>(&a.addr), a.len) == 0) {
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        return fd;
      }
      last_error = std::strerror(errno);
      close(fd);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  } while (MonotonicSeconds() < deadline_s);
  return Status::Unavailable("cannot connect to " + host_port + ": " + last_error);
}

Result<std::pair<int, int>> ListenTcp(const std::string& host_port) {
  std::string host, port;
  GG_RETURN_IF_ERROR(SplitHostPort(host_port, &host, &port));
  auto addrs = Resolve(host, port, true);
  if (!addrs.ok()) return Status::Invalid(addrs.status().message());
  Status last = Status::Unavailable("no address for " + host_port);
  for (const Address& a : *addrs) {
    int fd = socket(a.family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) continue;
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, reinterpret_cast<const sockaddr*>(&a.addr), a.len) == 0 && listen(fd, 128) == 0) {
      sockaddr_storage bound{};
      socklen_t len = sizeof bound;
      getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &len);
      int bound_port = ntohs(bound.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port
                                                         : reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
      return std::make_pair(fd, bound_port);
    }
    last = Status::Unavailable("cannot listen on " + host_port + ": " + std::strerror(errno));
    close(fd);
  }
  return last;
}

std::string Mac(const std::string& secret, const std::string& label, const std::string& a, const std::string& b) {
  Sha256 mac = HmacSha256(secret, label + std::string(1, '\0') + a + b);
  return std::string(reinterpret_cast<const char*>(mac.data()), mac.size());
}

std::string Nonce() {
  char buf[32];
  size_t got = 0;
  while (got < sizeof buf) {
    ssize_t n = getrandom(buf + got, sizeof buf - got, 0);
    if (n > 0) got += n;
  }
  return std::string(buf, sizeof buf);
}

Result<std::string> ReadSecretFile(const std::string& path) {
  auto text = ReadFile(path);
  if (!text.ok()) return text.status().Prefix("cannot read the secret file");
  std::string s = *text;
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  if (s.empty()) return Status::Invalid("the secret file " + path + " is empty");
  return s;
}

}  // namespace gg::net
