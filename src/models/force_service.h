// gg build's force service: the build's own processes (gg-model) force
// placeholders through gg build instead of a `gg force` of their own. A
// command that must know its real exit status (stderr to /dev/null: zlib's
// `ranlib libz.a >/dev/null 2>&1`), a tool that runs for real on a
// placeholder (nm, readelf) and a just-linked program run by the shell wait
// for their thunks; a second coordinator beside gg build's ran again the
// thunks gg build was running already (zlib: 5 to 10 of its 34 compiles
// ran twice, at random). See docs/models.md, "Where gg-model's forces run".
#pragma once

#include <atomic>
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

namespace gg {
class Engine;
class LocalEngine;
}

namespace gg::models {

class ForceService {
 public:
  struct Options {
    /// Forces targets through the build's running force (which stops at its
    /// first failure): their outputs, or nullopt when it could not.
    std::function<std::optional<std::vector<ReductionOutput>>(const std::vector<Name>&)> force;
    /// Whether the build's force has `thunk` (the models handed it over):
    /// only those go through it, so a command's own thunk that fails (a
    /// check the build branches on) fails that command, not gg build's force.
    std::function<bool(const Name& thunk)> handed_over;
    /// Hands the build's force what the models wrote until now (null:
    /// nothing to do). Asked before a target counts as not handed over: the
    /// models may have written it a moment ago (a compile that ninja runs
    /// waits for its dependency file as soon as its model returns), and
    /// running it here as well as in the build's force runs it twice.
    std::function<void()> catch_up;
    int jobs = 1;  ///< thunks at once on this service's own engine
    /// The build's local engine, whose sandbox server runs already: the
    /// service's own thunks run there (a second sandbox server was a second
    /// start of gg, ~25 ms of CPU, while zlib's `ranlib libz.a` waited).
    /// Null: an engine of the service's own, made at its first use.
    Engine* shared_engine = nullptr;
    const std::atomic<bool>* interrupted = nullptr;
  };

  /// Listens on a new socket (socket_path()) and answers on threads of its own.
  static Result<std::unique_ptr<ForceService>> Start(LocalStore* store, Options options);
  ~ForceService();

  /// For kForceSocketEnv (model_protocol.h).
  const std::string& socket_path() const { return sock_.path; }

  /// Stops accepting and waits for the requests in flight (call once the
  /// build's force has finished, so none of them waits on it any longer).
  void Stop();

  /// What a request gets: each path's placeholder forced and replaced by its
  /// output (a path that is no placeholder any more was forced meanwhile).
  /// Thunks the build's force has are forced there, with what the others
  /// need of them; the others (the waiting command's own) then run on an
  /// engine of the service's own, finding the rest memoized. kFailed (with
  /// the error) when one of those fails; kNotHere, nothing written, when
  /// any is another store's or the build's force could not.
  ForceReply Answer(const ForceRequest& request);

 private:
  ForceService(LocalStore* store, Options options);
  void Serve();
  /// The thunks below `targets` the build's force has (not looking below them).
  std::vector<Name> HandedOverBelow(const std::vector<Name>& targets);

  LocalStore* store_;
  Options options_;
  ListenSocket sock_;
  std::thread acceptor_;
  std::mutex mu_;
  std::vector<std::thread> requests_;
  bool stopped_ = false;
  std::mutex engine_mu_;
  std::unique_ptr<LocalEngine> engine_;  ///< made at its first use
};

}  // namespace gg::models
