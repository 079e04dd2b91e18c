// The remote engine: listens for `gg worker` connections and runs thunks on
// them. Placement prefers the worker already holding most of a thunk's input
// bytes; a straggler's second copy goes to a different worker; a worker that
// disconnects or goes silent has its thunks reported as crashed, so the
// coordinator runs them again elsewhere.
#pragma once

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "core/input_closure.h"
#include "engines/engine.h"
#include "storage/remote_cache.h"

namespace gg {
namespace net {
class Connection;
}

class RemoteEngine : public Engine {
 public:
  /// Listens on HOST:PORT for workers that know `secret`.
  /// Listens on HOST:PORT for workers that know `secret`; `label` names the
  /// engine in traces and messages (default "remote=HOST:PORT").
  static Result<std::unique_ptr<RemoteEngine>> Listen(LocalStore* store, const std::string& host_port,
                                                      const std::string& secret, const std::string& label = "");
  ~RemoteEngine() override;

  std::string name() const override { return label_; }
  int capacity() const override;
  Status Accepts(const Job& job) const override;
  Status Submit(const Job& job, Callback done) override;
  void Cancel(uint64_t job_id) override;

  int port() const { return port_; }
  size_t live_workers() const;
  /// Thunks whose inputs add up to more than this stay off remote workers.
  void set_max_input_bytes(uint64_t n) { max_input_bytes_ = n; }
  /// A store shared with the workers: a worker that reaches the same store
  /// gets its inputs through it (and puts its outputs there) instead of
  /// through its connection. Set before workers connect.
  void set_shared(RemoteCache* shared) { shared_ = shared; }
  /// Called (with the worker's host) when a worker says it is draining near
  /// its time budget: it gets no more jobs and is let go once its jobs are
  /// done. Set before workers connect.
  void set_on_drain(std::function<void(const std::string& host)> f) { on_drain_ = std::move(f); }

 private:
  struct Worker;
  RemoteEngine(LocalStore* store, std::string address, int listen_fd, int port, std::string secret);
  void AcceptLoop();
  void Serve(std::shared_ptr<Worker> w);
  void SendLoop(std::shared_ptr<Worker> w);
  void Lost(Worker* w, const std::string& why);
  void FailJob(Worker* w, uint64_t job, const std::string& why);

  LocalStore* store_;
  std::string address_;
  std::string label_;
  int listen_fd_;
  int port_;
  std::string secret_;
  uint64_t max_input_bytes_ = uint64_t{2} << 30;
  mutable InputClosures closures_{store_};
  RemoteCache* shared_ = nullptr;
  std::function<void(const std::string&)> on_drain_;
  bool stopping_ = false;
  std::thread acceptor_;
  mutable std::mutex mu_;
  std::vector<std::shared_ptr<Worker>> workers_;
  /// Connections that have not proven the secret yet, oldest first (capped;
  /// shut down on stop).
  std::deque<std::shared_ptr<Worker>> handshaking_;
  std::map<uint64_t, Worker*> job_worker_;
  std::vector<std::thread> threads_;
};

}  // namespace gg
