// Resolve() for statically linked programs: numeric addresses only, no NSS.
#include <arpa/inet.h>
#include <netinet/in.h>

#include <cstdlib>

#include "net/resolve.h"

namespace gg::net {

Result<std::vector<Address>> Resolve(const std::string& host, const std::string& port, bool passive) {
  char* end = nullptr;
  long p = std::strtol(port.c_str(), &end, 10);
  if (port.empty() || *end != '\0' || p < 0 || p > 65535) return Status::Invalid("bad port '" + port + "'");
  Address a;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&a.addr);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&a.addr);
  if ((host.empty() && passive) || inet_pton(AF_INET, host.c_str(), &v4->sin_addr) == 1) {
    a.family = v4->sin_family = AF_INET;
    v4->sin_port = htons(static_cast<uint16_t>(p));
    a.len = sizeof *v4;
  } else if (inet_pton(AF_INET6, host.c_str(), &v6->sin6_addr) == 1) {
    a.family = v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(static_cast<uint16_t>(p));
    a.len = sizeof *v6;
  } else {
    return Status::Invalid("'" + host + "' is not a numeric address; this statically linked program cannot look "
                           "up names (give the coordinator's IP address)");
  }
  return std::vector<Address>{a};
}

}  // namespace gg::net
