#include "worker/worker.h"

#include <unistd.h>

#include <condition_variable>
#include <cstdio>
#include <deque>
#include <map>
#include <mutex>
#include <thread>

#include "core/input_closure.h"
#include "core/limits_codec.h"
#include "engines/local_engine.h"
#include "net/connection.h"
#include "net/handshake.h"
#include "net/object_transfer.h"

namespace gg {
namespace {

constexpr int kHeartbeatMs = 1000;
constexpr double kSilenceLimitSeconds = 15;

class Worker {
 public:
  Worker(LocalStore* store, net::Connection* conn, LocalEngine* engine, const WorkerOptions* options)
      : store_(store), conn_(conn), engine_(engine), options_(options), receiver_(store) {}

  Status Serve() {
    std::thread sender([this] { SendLoop(); });
    Status status = ReceiveLoop();
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopping_ = true;
      for (uint64_t job : running_) engine_->Cancel(job);
    }
    cv_.notify_all();
    sender.join();
    for (auto& t : fetchers_) t.join();
    return status;
  }

 private:
  Status ReceiveLoop() {
    double last_heard = net::MonotonicSeconds();
    const double started = last_heard;
    bool draining = false;
    for (;;) {
      if (!draining && options_->budget_seconds > 0 && net::MonotonicSeconds() - started >= options_->budget_seconds) {
        draining = true;
        size_t running = 0;
        {
          std::lock_guard<std::mutex> lock(mu_);
          running = running_.size();
        }
        std::fprintf(stderr, "gg worker: %.0f s budget reached: draining (%zu thunks still running)\n",
                     options_->budget_seconds, running);
        proto::remote::Message d;
        d.mutable_draining()->set_reason("time budget reached");
        if (Status r = conn_->Send(d); !r.ok()) return r;
      }
      proto::remote::Message m;
      Status s = conn_->Receive(&m, draining || options_->budget_seconds <= 0 ? kHeartbeatMs : 100);
      if (s.code() == Status::Code::kTimeout) {
        if (net::MonotonicSeconds() - last_heard > kSilenceLimitSeconds) {
          return Status::Unavailable("the coordinator has been silent for 15 s; giving up");
        }
        continue;
      }
      if (!s.ok()) {
        std::lock_guard<std::mutex> lock(mu_);
        if (s.code() == Status::Code::kUnavailable) return Status::Ok();  // the coordinator is done
        return s;
      }
      last_heard = net::MonotonicSeconds();
      if (m.has_object()) {
        Status r = receiver_.Add(m.object());
        if (!r.ok()) std::fprintf(stderr, "gg worker: %s\n", r.message().c_str());
      } else if (m.has_run() && m.run().fetch()) {
        // Fetching from the shared store may take a while: not on this thread.
        fetchers_.emplace_back([this, run = m.run()] { StartJob(run); });
      } else if (m.has_run()) {
        StartJob(m.run());
      } else if (m.has_query()) {
        proto::remote::Message reply;
        reply.mutable_missing()->set_job(m.query().job());
        for (const auto& text : m.query().names()) {
          auto n = Name::Parse(text);
          if (!n.ok() || !store_->Has(*n)) reply.mutable_missing()->add_names(text);
        }
        if (Status r = conn_->Send(reply); !r.ok()) return r;
      } else if (m.has_cancel()) {
        engine_->Cancel(m.cancel().job());
      } else if (m.has_refused()) {
        return Status::Unavailable("the coordinator closed the connection: " + m.refused().reason());
      }
    }
  }

  void StartJob(const proto::remote::Run& run) {
    uint64_t job_id = run.job();
    auto thunk = Thunk::Parse(run.thunk());
    ExecResult failure;
    failure.kind = ExecResult::Kind::kSetupFailed;
    if (!thunk.ok()) {
      failure.message = "this worker cannot parse the thunk: " + thunk.status().message();
      return Finish(job_id, std::move(failure));
    }
    if (run.fetch()) {
      if (Status s = FetchInputs(*thunk); !s.ok()) {
        failure.message = "on worker: cannot fetch inputs from the shared store: " + s.message();
        return Finish(job_id, std::move(failure));
      }
    }
    // The force's limits are checked like the thunk's own: a coordinator
    // could send any number.
    ThunkLimits limits = LimitsFromProto(run.limits());
    if (Status s = ValidateLimits(limits); !s.ok()) {
      failure.message = "this worker refuses the force's limits: " + s.message();
      return Finish(job_id, std::move(failure));
    }
    Job job{job_id, Name::ForContent(run.thunk()), std::make_shared<const Thunk>(std::move(*thunk)), limits};
    {
      std::lock_guard<std::mutex> lock(mu_);
      running_.insert(job_id);
    }
    Status s = engine_->Submit(job, [this](uint64_t id, ExecResult r) { Finish(id, std::move(r)); });
    if (!s.ok()) {
      // A corrupt or missing cached input: drop the bad copies so the
      // coordinator's retry sends them again.
      for (const auto& in : job.thunk->inputs) {
        auto n = Name::Parse(in.name);
        if (n.ok() && store_->Verify(*n).code() == Status::Code::kCorrupt) unlink(store_->BlobPath(*n).c_str());
      }
      failure.message = "on worker: " + s.message();
      Finish(job_id, std::move(failure));
    }
  }

  Status FetchInputs(const Thunk& thunk) {
    if (!options_->fetch) return Status::Unavailable("this worker has no shared store (GG_STORAGE_URI)");
    return FetchMissingInputs(*store_, thunk,
                              [this](const std::vector<Name>& names) { return options_->fetch(*store_, names); });
  }


  void Finish(uint64_t job_id, ExecResult r) {
    std::lock_guard<std::mutex> lock(mu_);
    running_.erase(job_id);
    finished_.emplace_back(job_id, std::move(r));
    cv_.notify_all();
  }

  // Sends results (outputs first, then Done) and heartbeats.
  void SendLoop() {
    for (;;) {
      std::pair<uint64_t, ExecResult> item;
      {
        std::unique_lock<std::mutex> lock(mu_);
        cv_.wait_for(lock, std::chrono::milliseconds(kHeartbeatMs), [&] { return stopping_ || !finished_.empty(); });
        if (stopping_) return;
        if (finished_.empty()) {
          lock.unlock();
          if (conn_->MillisSinceSend() >= kHeartbeatMs) {
            proto::remote::Message ping;
            ping.mutable_ping();
            (void)conn_->Send(ping);
          }
          continue;
        }
        item = std::move(finished_.front());
        finished_.pop_front();
      }
      auto& [job_id, r] = item;
      bool in_store = false;
      if (r.ok() && options_->upload) {
        std::vector<Name> outs;
        for (const auto& o : r.reduction.outputs) outs.push_back(o.name);
        // Into the shared store; if that fails, through the connection.
        in_store = options_->upload(*store_, outs).ok();
      }
      if (r.ok() && !in_store) {
        for (const auto& o : r.reduction.outputs) {
          Status s = net::SendObject(*conn_, *store_, o.name);
          if (!s.ok()) {
            r.kind = ExecResult::Kind::kCrashed;
            r.message = "the worker could not send output '" + o.tag + "': " + s.message();
            break;
          }
        }
      }
      proto::remote::Message m;
      auto* d = m.mutable_done();
      d->set_job(job_id);
      EncodeResult(r, d);
      d->set_in_store(in_store);
      if (!conn_->Send(m).ok()) return;
    }
  }

  LocalStore* store_;
  net::Connection* conn_;
  LocalEngine* engine_;
  const WorkerOptions* options_;
  net::ObjectReceiver receiver_;
  std::vector<std::thread> fetchers_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::set<uint64_t> running_;
  std::deque<std::pair<uint64_t, ExecResult>> finished_;
};

}  // namespace

Status RunWorker(const WorkerOptions& options) {
  GG_RETURN_IF_ERROR(LocalStore::Init(options.cache_dir));
  GG_ASSIGN_OR_RETURN(auto store, LocalStore::Open(options.cache_dir));
  GG_ASSIGN_OR_RETURN(int fd, net::ConnectTcp(options.coordinator, net::MonotonicSeconds() + options.connect_timeout));
  net::Connection conn(fd);
  char host[256] = "?";
  gethostname(host, sizeof host - 1);
  GG_RETURN_IF_ERROR(net::JoinCoordinator(conn, options.secret, options.slots, host, options.shared_uri));
  GG_ASSIGN_OR_RETURN(auto engine, LocalEngine::Create(store.get(), options.slots));
  Worker worker(store.get(), &conn, engine.get(), &options);
  return worker.Serve();
}

}  // namespace gg
