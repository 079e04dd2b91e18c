#include "engines/local_engine.h"

namespace gg {

Result<std::unique_ptr<LocalEngine>> LocalEngine::Create(LocalStore* store, int jobs,
                                                         const sandbox::Options& options) {
  GG_ASSIGN_OR_RETURN(auto server, sandbox::Server::Start(options));
  return std::unique_ptr<LocalEngine>(new LocalEngine(jobs, std::move(server), store));
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
  auto id = executor_.Start(job.thunk, [this, job_id, done = std::move(done)](ExecResult r) {
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
