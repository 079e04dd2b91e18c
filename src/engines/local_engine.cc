#include "engines/local_engine.h"

#include <unistd.h>

namespace gg {
namespace {

// Starts the sandbox server on the first run: a build whose thunks are all
// memoized never pays for its fork, exec and handshake (~35 ms, a fifth of
// a small project's memoized gg build).
class LazyServer : public sandbox::Server {
 public:
  explicit LazyServer(sandbox::Options options) : options_(std::move(options)) {}
  Result<Id> Launch(const sandbox::Spec& spec, Callback done) override {
    GG_ASSIGN_OR_RETURN(sandbox::Server * s, Started());
    return s->Launch(spec, std::move(done));
  }
  void Kill(Id id) override {
    std::lock_guard<std::mutex> l(mu_);
    if (server_) server_->Kill(id);  // no server: nothing was launched
  }
  bool hermetic() const override {
    auto s = Started();
    return s.ok() && (*s)->hermetic();
  }
  uid_t program_uid() const override {
    auto s = Started();
    return s.ok() ? (*s)->program_uid() : geteuid();
  }

 private:
  // Const: asking whether runs are hermetic starts the server too.
  Result<sandbox::Server*> Started() const {
    std::lock_guard<std::mutex> l(mu_);
    if (!server_ && start_error_.ok()) {
      auto s = sandbox::Server::Start(options_);
      if (s.ok()) server_ = std::move(*s);
      else start_error_ = s.status();
    }
    if (!server_) return start_error_;
    return server_.get();
  }

  sandbox::Options options_;
  mutable std::mutex mu_;
  mutable std::unique_ptr<sandbox::Server> server_;
  mutable Status start_error_ = Status::Ok();
};

}  // namespace

Result<std::unique_ptr<LocalEngine>> LocalEngine::Create(LocalStore* store, int jobs,
                                                         const sandbox::Options& options) {
  return std::unique_ptr<LocalEngine>(new LocalEngine(jobs, std::make_unique<LazyServer>(options), store));
}

LocalEngine::~LocalEngine() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    closing_ = true;
  }
  // Stop the server (and the thread that runs callbacks) before the maps go.
  server_.reset();
}

Status LocalEngine::Submit(const Job& job, Callback done) {
  uint64_t job_id = job.id;
  // Not holding mu_ across Start: the sandbox client's thread may be inside a
  // callback that needs it while Start waits for that thread.
  auto id = executor_.Start(*job.thunk, [this, job_id, done = std::move(done)](ExecResult r) {
    {
      std::lock_guard<std::mutex> l(mu_);
      if (closing_) return;  // the coordinator is gone; nobody is listening
      if (running_.erase(job_id) == 0) finished_early_.insert(job_id);
    }
    done(job_id, std::move(r));
  }, job.limits);
  if (!id.ok()) return id.status();
  std::lock_guard<std::mutex> lock(mu_);
  if (finished_early_.erase(job_id) == 0) running_[job_id] = *id;
  return Status::Ok();
}

void LocalEngine::Cancel(uint64_t job_id) {
  std::lock_guard<std::mutex> lock(mu_);
  if (auto it = running_.find(job_id); it != running_.end()) executor_.Cancel(it->second);
}

}  // namespace gg
