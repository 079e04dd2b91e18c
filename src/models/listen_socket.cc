#include "models/listen_socket.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "core/path_util.h"

namespace gg::models {

ListenSocket::~ListenSocket() {
  if (fd >= 0) close(fd);
  if (!dir.empty()) (void)RemoveTree(dir);
}

Status Listen(const std::string& prefix, ListenSocket* sock) {
  const char* tmp = getenv("TMPDIR");
  std::string tmpl = std::string(tmp && *tmp ? tmp : "/tmp") + "/" + prefix + ".XXXXXX";
  if (!mkdtemp(tmpl.data())) return Status::FromErrno("mkdtemp " + tmpl, errno);
  sock->dir = tmpl;
  sock->path = tmpl + "/sock";
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (sock->path.size() >= sizeof addr.sun_path) {
    return Status::Invalid("socket path " + sock->path + " is too long: set TMPDIR to a shorter directory");
  }
  std::strcpy(addr.sun_path, sock->path.c_str());
  sock->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (sock->fd < 0) return Status::FromErrno("socket", errno);
  if (bind(sock->fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    return Status::FromErrno("bind " + sock->path, errno);
  }
  if (listen(sock->fd, 256) != 0) return Status::FromErrno("listen " + sock->path, errno);
  return Status::Ok();
}

}  // namespace gg::models
