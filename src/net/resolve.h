// Turning HOST and PORT into socket addresses. Kept apart from the rest of
// src/net so that a statically linked program (the worker inside a cloud
// function, which cannot use glibc's NSS) can link resolve_numeric.cc, which
// takes numeric addresses only, in place of resolve.cc.
#pragma once

#include <sys/socket.h>

#include <string>
#include <vector>

#include "gg/status.h"

namespace gg::net {

struct Address {
  int family = 0;
  sockaddr_storage addr{};
  socklen_t len = 0;
};

/// The addresses of HOST:PORT; `passive` for listening (an empty HOST means any).
Result<std::vector<Address>> Resolve(const std::string& host, const std::string& port, bool passive);

}  // namespace gg::net
