// Mutual authentication with a shared secret: each side proves it holds the
// secret with an HMAC over both sides' fresh nonces, so a recorded exchange
// cannot be replayed. Nothing else crosses a connection before both proofs.
#pragma once

#include <string>

#include "net/connection.h"

namespace gg::net {

struct PeerInfo {
  std::string host;
  int slots = 0;
  std::string storage;  ///< the shared store the worker reaches, if any
};

/// The coordinator's side, on a fresh connection from a worker.
Result<PeerInfo> AcceptWorker(Connection& conn, const std::string& secret);
/// The worker's side, on a fresh connection to a coordinator.
Status JoinCoordinator(Connection& conn, const std::string& secret, int slots, const std::string& host,
                       const std::string& storage_uri);

}  // namespace gg::net
