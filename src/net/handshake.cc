#include "net/handshake.h"


namespace gg::net {
namespace {

// Short: a connection that has not proven it holds the secret gets little
// of the coordinator's time.
constexpr int kHandshakeTimeoutMs = 5000;
constexpr char kWorkerLabel[] = "gg-worker";
constexpr char kCoordinatorLabel[] = "gg-coordinator";

bool SameMac(const std::string& a, const std::string& b) {
  // Constant time, so a forger learns nothing from how long a check takes.
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

}  // namespace

Result<PeerInfo> AcceptWorker(Connection& conn, const std::string& secret) {
  proto::remote::Message hello;
  std::string nonce = Nonce();
  hello.mutable_hello()->set_version(kProtocolVersion);
  hello.mutable_hello()->set_nonce(nonce);
  GG_RETURN_IF_ERROR(conn.Send(hello));
  proto::remote::Message m;
  GG_RETURN_IF_ERROR(conn.Receive(&m, kHandshakeTimeoutMs));
  auto refuse = [&](const std::string& why) {
    proto::remote::Message r;
    r.mutable_refused()->set_reason(why);
    (void)conn.Send(r);
    return Status::Invalid("refused worker " + conn.peer() + ": " + why);
  };
  if (!m.has_auth()) return refuse("expected an authentication message");
  const auto& auth = m.auth();
  if (auth.version() != kProtocolVersion) {
    return refuse("protocol version " + std::to_string(auth.version()) + " is not " +
                  std::to_string(kProtocolVersion) + ": run the same gg version on both sides");
  }
  if (!SameMac(auth.mac(), Mac(secret, kWorkerLabel, nonce, auth.nonce()))) {
    return refuse("wrong secret");
  }
  proto::remote::Message welcome;
  welcome.mutable_welcome()->set_mac(Mac(secret, kCoordinatorLabel, auth.nonce(), nonce));
  GG_RETURN_IF_ERROR(conn.Send(welcome));
  return PeerInfo{auth.host(), static_cast<int>(auth.slots()), auth.storage()};
}

Status JoinCoordinator(Connection& conn, const std::string& secret, int slots, const std::string& host,
                       const std::string& storage_uri) {
  proto::remote::Message m;
  GG_RETURN_IF_ERROR(conn.Receive(&m, kHandshakeTimeoutMs).Prefix("no greeting from the coordinator"));
  if (!m.has_hello()) return Status::Invalid("the peer at " + conn.peer() + " is not a gg coordinator");
  if (m.hello().version() != kProtocolVersion) {
    return Status::Invalid("the coordinator speaks protocol version " + std::to_string(m.hello().version()) +
                           ", this worker " + std::to_string(kProtocolVersion) + ": run the same gg version");
  }
  std::string nonce = Nonce();
  proto::remote::Message auth;
  auth.mutable_auth()->set_version(kProtocolVersion);
  auth.mutable_auth()->set_nonce(nonce);
  auth.mutable_auth()->set_mac(Mac(secret, kWorkerLabel, m.hello().nonce(), nonce));
  auth.mutable_auth()->set_slots(slots);
  auth.mutable_auth()->set_host(host);
  auth.mutable_auth()->set_storage(storage_uri);
  GG_RETURN_IF_ERROR(conn.Send(auth));
  proto::remote::Message reply;
  GG_RETURN_IF_ERROR(conn.Receive(&reply, kHandshakeTimeoutMs).Prefix("no answer from the coordinator"));
  if (reply.has_refused()) {
    return Status::Invalid("the coordinator at " + conn.peer() + " refused this worker: " + reply.refused().reason());
  }
  if (!reply.has_welcome() || !SameMac(reply.welcome().mac(), Mac(secret, kCoordinatorLabel, nonce, m.hello().nonce()))) {
    return Status::Invalid("the peer at " + conn.peer() + " does not know the secret: not running anything for it");
  }
  return Status::Ok();
}

}  // namespace gg::net
