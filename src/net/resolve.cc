#include "net/resolve.h"

#include <netdb.h>

#include <cstring>

namespace gg::net {

Result<std::vector<Address>> Resolve(const std::string& host, const std::string& port, bool passive) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  if (passive) hints.ai_flags = AI_PASSIVE;
  addrinfo* res = nullptr;
  int rc = getaddrinfo(host.empty() ? nullptr : host.c_str(), port.c_str(), &hints, &res);
  if (rc != 0) return Status::Unavailable("cannot resolve " + host + ":" + port + ": " + gai_strerror(rc));
  std::vector<Address> out;
  for (addrinfo* a = res; a != nullptr; a = a->ai_next) {
    Address addr;
    addr.family = a->ai_family;
    std::memcpy(&addr.addr, a->ai_addr, a->ai_addrlen);
    addr.len = a->ai_addrlen;
    out.push_back(addr);
  }
  freeaddrinfo(res);
  return out;
}

}  // namespace gg::net
