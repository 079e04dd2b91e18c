// The local engine: runs thunks in sandboxes on this machine.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <set>

#include "engines/engine.h"
#include "sandbox/executor.h"

namespace gg {

class LocalEngine : public Engine {
 public:
  /// `jobs` sandboxes at most at once.
  static Result<std::unique_ptr<LocalEngine>> Create(LocalStore* store, int jobs,
                                                     const sandbox::Options& options = {});
  ~LocalEngine() override;
  std::string name() const override { return "local"; }
  int capacity() const override { return jobs_; }
  Status Submit(const Job& job, Callback done) override;
  void Cancel(uint64_t job_id) override;
  bool hermetic() const { return server_->hermetic(); }

 private:
  LocalEngine(int jobs, std::unique_ptr<sandbox::Server> server, LocalStore* store)
      : jobs_(jobs), server_(std::move(server)), executor_(store, server_.get()) {}

  int jobs_;
  std::unique_ptr<sandbox::Server> server_;
  Executor executor_;
  std::mutex mu_;
  std::map<uint64_t, Executor::Id> running_;
  std::set<uint64_t> finished_early_;  // completed before Submit recorded them
  bool closing_ = false;
};

}  // namespace gg
