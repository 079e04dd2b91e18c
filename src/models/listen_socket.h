// A listening unix socket in a private directory of its own (a socket path
// must be short, and a store's path may not be): the model servers' socket,
// and gg build's force service.
#pragma once

#include <string>

#include "gg/status.h"

namespace gg::models {

struct ListenSocket {
  std::string dir, path;  ///< $TMPDIR/PREFIX.XXXXXX and the socket in it
  int fd = -1;
  ListenSocket() = default;
  ListenSocket(const ListenSocket&) = delete;
  ListenSocket& operator=(const ListenSocket&) = delete;
  ~ListenSocket();  ///< closes the socket and removes its directory
};

/// Binds and listens on a new socket under $TMPDIR (default /tmp), in a
/// directory named PREFIX.XXXXXX.
Status Listen(const std::string& prefix, ListenSocket* sock);

}  // namespace gg::models
