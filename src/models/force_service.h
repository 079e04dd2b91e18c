// gg build's force service: the build's own processes (gg-model) force
// placeholders through gg build's running force instead of a `gg force` of
// their own. A command that must know its real exit status (stderr to
// /dev/null: zlib's `ranlib libz.a >/dev/null 2>&1`), a tool that runs for
// real on a placeholder (nm, readelf) and a just-linked program run by the
// shell wait for their thunks; a second coordinator beside gg build's would
// run again the thunks gg build is already running (zlib: 5 to 10 of its 34
// compiles ran twice, at random). See docs/models.md.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "core/local_store.h"
#include "core/reduction.h"
#include "gg/name.h"
#include "models/listen_socket.h"
#include "models/model_protocol.h"

namespace gg::models {

class ForceService {
 public:
  /// Forces targets through the build's force: their outputs, or nullopt
  /// when it could not (a thunk failed, the force stopped).
  using Force = std::function<std::optional<std::vector<ReductionOutput>>(const std::vector<Name>&)>;

  /// Listens on a new socket (socket_path()) and answers on threads of its own.
  static Result<std::unique_ptr<ForceService>> Start(LocalStore* store, Force force);
  ~ForceService();

  /// For kForceSocketEnv (model_protocol.h).
  const std::string& socket_path() const { return sock_.path; }

  /// Stops accepting and waits for the requests in flight (call once the
  /// build's force has finished, so none of them waits on it any longer).
  void Stop();

  /// What a request gets: each path's placeholder forced and replaced by its
  /// output, or kNotHere (nothing written) if any is not this store's or
  /// could not be forced. A path that is no placeholder any more (forced
  /// meanwhile) counts as done.
  ForceAnswer Answer(const ForceRequest& request);

 private:
  ForceService(LocalStore* store, Force force) : store_(store), force_(std::move(force)) {}
  void Serve();

  LocalStore* store_;
  Force force_;
  ListenSocket sock_;
  std::thread acceptor_;
  std::mutex mu_;
  std::vector<std::thread> requests_;
  bool stopped_ = false;
};

}  // namespace gg::models
