#include "models/force_service.h"

#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <optional>
#include <set>

#include "coordinator/coordinator.h"
#include "core/placeholder.h"
#include "engines/local_engine.h"
#include "gg/thunk.h"

namespace gg::models {
namespace {

// Another force's engine, for one request's coordinator: its job ids get a
// range of their own (each coordinator numbers its jobs from 1, and the
// engine tells its runs apart by id).
class JobsOfTheirOwn : public Engine {
 public:
  explicit JobsOfTheirOwn(Engine* engine) : engine_(engine), tag_(next_tag_.fetch_add(1) << 40) {}
  std::string name() const override { return engine_->name(); }
  int capacity() const override { return engine_->capacity(); }
  Status Accepts(const Job& job) const override { return engine_->Accepts(job); }
  Status Submit(const Job& job, Callback done) override {
    Job tagged = job;
    tagged.id |= tag_;
    return engine_->Submit(tagged, [done = std::move(done)](uint64_t id, ExecResult r) {
      done(id & ((uint64_t{1} << 40) - 1), std::move(r));
    });
  }
  void Cancel(uint64_t job_id) override { engine_->Cancel(job_id | tag_); }

 private:
  static inline std::atomic<uint64_t> next_tag_{1};
  Engine* engine_;
  uint64_t tag_;
};

}  // namespace

ForceService::ForceService(LocalStore* store, Options options) : store_(store), options_(std::move(options)) {}

Result<std::unique_ptr<ForceService>> ForceService::Start(LocalStore* store, Options options) {
  std::unique_ptr<ForceService> s(new ForceService(store, std::move(options)));
  GG_RETURN_IF_ERROR(Listen("gg-force", &s->sock_));
  s->acceptor_ = std::thread([p = s.get()] { p->Serve(); });
  return s;
}

ForceService::~ForceService() { Stop(); }

void ForceService::Stop() {
  {
    std::lock_guard<std::mutex> l(mu_);
    if (stopped_) return;
    stopped_ = true;
  }
  shutdown(sock_.fd, SHUT_RDWR);  // wakes accept()
  if (acceptor_.joinable()) acceptor_.join();
  for (auto& t : requests_) t.join();  // no new ones: the acceptor has returned
}

void ForceService::Serve() {
  for (;;) {
    int fd = accept4(sock_.fd, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      return;  // shut down
    }
    std::lock_guard<std::mutex> l(mu_);
    // One thread per request: each waits for its thunks, which may take as
    // long as the build.
    requests_.emplace_back([this, fd] {
      auto frame = ReadFrame(fd);
      auto request = frame ? DecodeForceRequest(*frame) : std::nullopt;
      ForceReply reply = request ? Answer(*request) : ForceReply{};
      (void)WriteFrame(fd, Encode(reply));
      close(fd);
    });
  }
}

std::vector<Name> ForceService::HandedOverBelow(const std::vector<Name>& targets) {
  std::vector<Name> found;
  std::set<Name> seen;
  std::vector<Name> todo = targets;
  while (!todo.empty()) {
    Name n = todo.back().object();
    todo.pop_back();
    if (!seen.insert(n).second) continue;
    auto bytes = store_->Get(n);
    auto thunk = bytes.ok() ? Thunk::Parse(*bytes) : Result<Thunk>(bytes.status());
    if (!thunk.ok()) continue;  // the coordinator will say what is wrong
    for (const Name& dep : thunk->ThunkDependencies()) {
      if (options_.handed_over(dep.object())) found.push_back(dep);
      else todo.push_back(dep);
    }
  }
  return found;
}

ForceReply ForceService::Answer(const ForceRequest& request) {
  std::vector<std::string> paths;
  std::vector<Name> targets;
  for (const auto& p : request.paths) {
    auto target = ReadPlaceholder(p);
    if (!target.ok()) return {ForceReply::Kind::kNotHere, target.status().message()};
    if (!target->has_value()) continue;  // forced meanwhile (the guard, another request)
    // A placeholder of another store (a gg build inside the build) is not
    // this force's to compute.
    if (!store_->Has((*target)->object())) return {ForceReply::Kind::kNotHere, p + ": not this store's thunk"};
    paths.push_back(PlaceholderFileOf(p));
    targets.push_back(**target);
  }
  // Through the build's force: the targets it has, and what the others need
  // of what it has (zlib's ranlib thunk is the waiting command's own; the
  // archive and the compiles below it are the build's).
  std::vector<Name> shared, own;
  std::vector<size_t> shared_at, own_at;
  if (options_.catch_up) {
    for (const Name& t : targets) {
      if (!options_.handed_over(t.object())) {
        options_.catch_up();
        break;
      }
    }
  }
  for (size_t i = 0; i < targets.size(); ++i) {
    bool handed = options_.handed_over(targets[i].object());
    (handed ? shared : own).push_back(targets[i]);
    (handed ? shared_at : own_at).push_back(i);
  }
  std::vector<Name> through_build = shared;
  if (!own.empty()) {
    for (const Name& n : HandedOverBelow(own)) through_build.push_back(n);
  }
  std::vector<ReductionOutput> outputs(targets.size());
  if (!through_build.empty()) {
    auto done = options_.force(through_build);
    if (!done) return {ForceReply::Kind::kNotHere, "gg build's force has stopped"};
    for (size_t i = 0; i < shared.size(); ++i) outputs[shared_at[i]] = (*done)[i];
  }
  if (!own.empty()) {
    std::optional<JobsOfTheirOwn> tagged;
    Engine* engine = nullptr;
    if (options_.shared_engine != nullptr) {
      engine = &tagged.emplace(options_.shared_engine);
    } else {
      std::lock_guard<std::mutex> l(engine_mu_);
      if (!engine_) {
        auto made = LocalEngine::Create(store_, options_.jobs);
        if (!made.ok()) return {ForceReply::Kind::kNotHere, made.status().message()};
        engine_ = std::move(*made);
      }
      engine = engine_.get();
    }
    ForceOptions fo;
    fo.engines.push_back(engine);
    fo.interrupted = options_.interrupted;
    fo.progress_out = nullptr;  // the build's output owns the terminal
    Coordinator coordinator(store_, fo);
    auto done = coordinator.Force(own);
    if (!done.ok()) {
      bool failed = done.status().code() == Status::Code::kFailed || done.status().code() == Status::Code::kTimeout;
      return {failed ? ForceReply::Kind::kFailed : ForceReply::Kind::kNotHere, done.status().message()};
    }
    for (size_t i = 0; i < own.size(); ++i) outputs[own_at[i]] = (*done)[i];
  }
  for (size_t i = 0; i < paths.size(); ++i) {
    // Written already by whoever else forced it (the guard writes into the
    // placeholder's inode): the same bytes.
    auto still = ReadPlaceholder(paths[i]);
    if (still.ok() && !still->has_value()) continue;
    Status s = store_->CopyOut(outputs[i].name, paths[i], outputs[i].executable);
    if (!s.ok()) return {ForceReply::Kind::kNotHere, s.message()};
  }
  return {ForceReply::Kind::kForced, ""};
}

}  // namespace gg::models
