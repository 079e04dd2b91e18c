#include "engines/remote_engine.h"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <condition_variable>
#include <cstdio>
#include <deque>

#include "core/input_closure.h"
#include "core/limits_codec.h"
#include "net/connection.h"
#include "net/handshake.h"
#include "net/object_transfer.h"

namespace gg {
namespace {

constexpr int kHeartbeatMs = 1000;
constexpr double kSilenceLimitSeconds = 10;
// Connections in the handshake at once; a new one beyond this closes the oldest.
constexpr size_t kMaxHandshaking = 32;

}  // namespace

struct RemoteEngine::Worker {
  struct Outgoing {
    uint64_t job = 0;
    bool cancel = false;
    std::string thunk;
    ThunkLimits limits;  // the force's
    std::vector<Name> objects;
  };
  int id = 0;
  std::string host;
  int slots = 0;
  std::unique_ptr<net::Connection> conn;
  bool alive = true;
  bool draining = false;      // near its time budget: no new jobs, closed when idle
  bool shared = false;        // reaches our shared store: objects go through it
  std::set<std::string> has;  // objects it holds: sent to it or made by it
  std::map<uint64_t, Callback> jobs;
  std::map<uint64_t, std::string> job_thunks;
  std::map<uint64_t, std::vector<Name>> job_inputs;
  std::deque<Outgoing> queue;
  std::condition_variable cv;
  std::map<uint64_t, std::vector<std::string>> missing;  // answers to queries, by job
};

namespace {

// Inputs at least this large are worth a round trip to ask about first.
constexpr uint64_t kQueryBytes = 64 * 1024;

}  // namespace

Result<std::unique_ptr<RemoteEngine>> RemoteEngine::Listen(LocalStore* store, const std::string& host_port,
                                                           const std::string& secret, const std::string& label) {
  GG_ASSIGN_OR_RETURN(auto listening, net::ListenTcp(host_port));
  std::unique_ptr<RemoteEngine> engine(
      new RemoteEngine(store, host_port, listening.first, listening.second, secret));
  engine->label_ = label.empty() ? "remote=" + host_port : label;
  engine->acceptor_ = std::thread([e = engine.get()] { e->AcceptLoop(); });
  return engine;
}

RemoteEngine::RemoteEngine(LocalStore* store, std::string address, int listen_fd, int port, std::string secret)
    : store_(store), address_(std::move(address)), listen_fd_(listen_fd), port_(port), secret_(std::move(secret)) {}

RemoteEngine::~RemoteEngine() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
    for (auto& w : workers_) {
      if (w->conn) w->conn->Shutdown();
      w->cv.notify_all();
    }
    for (auto& w : handshaking_) w->conn->Shutdown();
  }
  if (acceptor_.joinable()) acceptor_.join();
  close(listen_fd_);
  std::vector<std::thread> threads;
  {
    std::lock_guard<std::mutex> lock(mu_);
    threads.swap(threads_);
  }
  for (auto& t : threads) t.join();
}

int RemoteEngine::capacity() const {
  std::lock_guard<std::mutex> lock(mu_);
  int n = 0;
  for (const auto& w : workers_) {
    if (w->alive && !w->draining) n += w->slots;
  }
  return n;
}

size_t RemoteEngine::live_workers() const {
  std::lock_guard<std::mutex> lock(mu_);
  size_t n = 0;
  for (const auto& w : workers_) n += w->alive ? 1 : 0;
  return n;
}

void RemoteEngine::AcceptLoop() {
  for (;;) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopping_) return;
    }
    pollfd p{listen_fd_, POLLIN, 0};
    if (poll(&p, 1, 200) <= 0) continue;
    int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) {
      close(fd);
      continue;
    }
    if (handshaking_.size() >= kMaxHandshaking) {
      // Peers that have not authenticated get no more threads than the cap:
      // the longest-waiting one makes room (an honest worker authenticates
      // in milliseconds, so a flood cannot keep it out for long).
      handshaking_.front()->conn->Shutdown();
      handshaking_.pop_front();
    }
    auto w = std::make_shared<Worker>();
    w->conn = std::make_unique<net::Connection>(fd);
    handshaking_.push_back(w);
    threads_.emplace_back([this, w] { Serve(w); });
  }
}

void RemoteEngine::Serve(std::shared_ptr<Worker> w) {
  auto peer = net::AcceptWorker(*w->conn, secret_);
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (auto it = std::find(handshaking_.begin(), handshaking_.end(), w); it != handshaking_.end()) {
      handshaking_.erase(it);
    }
  }
  if (!peer.ok()) {
    std::fprintf(stderr, "gg: %s\n", peer.status().message().c_str());
    return;
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return;
    w->host = peer->host + " (" + w->conn->peer() + ")";
    w->slots = std::max(1, peer->slots);
    w->shared = shared_ != nullptr && !peer->storage.empty() && peer->storage == shared_->storage().uri();
    w->id = static_cast<int>(workers_.size()) + 1;
    workers_.push_back(w);
    threads_.emplace_back([this, w] { SendLoop(w); });
  }
  net::ObjectReceiver receiver(store_);
  double last_heard = net::MonotonicSeconds();
  for (;;) {
    proto::remote::Message m;
    Status s = w->conn->Receive(&m, kHeartbeatMs);
    if (s.code() == Status::Code::kTimeout) {
      if (net::MonotonicSeconds() - last_heard > kSilenceLimitSeconds) {
        return Lost(w.get(), "no heartbeat for " + std::to_string(static_cast<int>(kSilenceLimitSeconds)) + " s");
      }
      continue;
    }
    if (!s.ok()) return Lost(w.get(), s.message());
    last_heard = net::MonotonicSeconds();
    if (m.has_object()) {
      if (Status r = receiver.Add(m.object()); !r.ok()) std::fprintf(stderr, "gg: from worker %s: %s\n", w->host.c_str(), r.message().c_str());
      continue;
    }
    if (m.has_missing()) {
      std::lock_guard<std::mutex> lock(mu_);
      w->missing[m.missing().job()].assign(m.missing().names().begin(), m.missing().names().end());
      w->cv.notify_all();
      continue;
    }
    if (m.has_draining()) {
      std::function<void(const std::string&)> on_drain;
      {
        std::lock_guard<std::mutex> lock(mu_);
        if (w->draining) continue;
        w->draining = true;
        if (w->jobs.empty()) w->conn->Shutdown();  // its thunks are done: let it go
        on_drain = on_drain_;
      }
      if (on_drain) on_drain(w->host);
      continue;
    }
    if (!m.has_done()) continue;
    const auto& d = m.done();
    auto decoded = DecodeResult(d);
    if (!decoded.ok()) return Lost(w.get(), "sent a result this gg cannot read: " + decoded.status().message());
    ExecResult r = std::move(*decoded);
    for (const auto& o : r.reduction.outputs) {
      if (!d.in_store() && !store_->Has(o.name)) {
        r.kind = ExecResult::Kind::kCrashed;
        r.message = "worker " + w->host + " reported output '" + o.tag + "' but did not deliver it intact";
        r.reduction.outputs.clear();
        break;
      }
    }
    if (d.in_store() && r.ok() && shared_ != nullptr) {
      // The worker put them in the shared store: nothing to upload again.
      std::vector<Name> outs;
      for (const auto& o : r.reduction.outputs) outs.push_back(o.name);
      auto known = shared_->Known(*store_);
      if (known.ok()) (void)(*known)->Add(outs);
    }
    Callback done;
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = w->jobs.find(d.job());
      if (it == w->jobs.end()) continue;
      done = std::move(it->second);
      w->jobs.erase(it);
      job_worker_.erase(d.job());
      if (r.ok()) {
        for (const auto& o : r.reduction.outputs) w->has.insert(o.name.str());
      } else if (r.kind == ExecResult::Kind::kSetupFailed) {
        // Its copies of the inputs may be bad: send them again next time.
        for (const auto& n : w->job_inputs[d.job()]) w->has.erase(n.str());
      }
      w->job_thunks.erase(d.job());
      w->job_inputs.erase(d.job());
      if (stopping_) return;
      if (w->draining && w->jobs.empty()) w->conn->Shutdown();  // the worker's last thunk
    }
    if (!r.ok() && r.kind != ExecResult::Kind::kCancelled) r.message += " (on worker " + w->host + ")";
    done(d.job(), std::move(r));
  }
}

void RemoteEngine::SendLoop(std::shared_ptr<Worker> w) {
  for (;;) {
    Worker::Outgoing item;
    {
      std::unique_lock<std::mutex> lock(mu_);
      w->cv.wait_for(lock, std::chrono::milliseconds(kHeartbeatMs),
                     [&] { return stopping_ || !w->alive || !w->queue.empty(); });
      if (stopping_ || !w->alive) return;
      if (w->queue.empty()) {
        lock.unlock();
        if (w->conn->MillisSinceSend() >= kHeartbeatMs) {
          proto::remote::Message ping;
          ping.mutable_ping();
          if (!w->conn->Send(ping).ok()) return Lost(w.get(), "connection lost");
        }
        continue;
      }
      item = std::move(w->queue.front());
      w->queue.pop_front();
    }
    proto::remote::Message m;
    Status s;
    if (item.cancel) {
      m.mutable_cancel()->set_job(item.job);
      s = w->conn->Send(m);
    } else if (w->shared) {
      // Through the store: many workers fetch in parallel, not via us.
      s = shared_->Upload(*store_, item.objects);
      if (!s.ok()) {
        FailJob(w.get(), item.job, "cannot upload inputs to the shared store: " + s.message());
        continue;
      }
      m.mutable_run()->set_job(item.job);
      m.mutable_run()->set_thunk(std::move(item.thunk));
      m.mutable_run()->set_fetch(true);
      if (item.limits.any()) LimitsToProto(item.limits, m.mutable_run()->mutable_limits());
      s = w->conn->Send(m);
    } else {
      uint64_t big = 0;
      for (const Name& n : item.objects) big += n.size() >= kQueryBytes ? n.size() : 0;
      if (big > 0) {
        // A warm worker may hold them from an earlier force: ask first.
        proto::remote::Message q;
        q.mutable_query()->set_job(item.job);
        for (const Name& n : item.objects) q.mutable_query()->add_names(n.str());
        s = w->conn->Send(q);
        if (!s.ok()) return Lost(w.get(), s.message());
        std::unique_lock<std::mutex> lock(mu_);
        w->cv.wait_for(lock, std::chrono::seconds(30),
                       [&] { return stopping_ || !w->alive || w->missing.count(item.job) > 0; });
        if (stopping_ || !w->alive) return;
        auto it = w->missing.find(item.job);
        if (it == w->missing.end()) {
          lock.unlock();
          return Lost(w.get(), "no answer to a query for 30 s");
        }
        std::set<std::string> lacks(it->second.begin(), it->second.end());
        w->missing.erase(it);
        std::vector<Name> needed;
        for (const Name& n : item.objects) {
          if (lacks.count(n.str())) needed.push_back(n);
        }
        item.objects.swap(needed);
      }
      for (const Name& n : item.objects) {
        if (shared_ != nullptr && !store_->Has(n)) {
          // Made by a worker that put it in the shared store.
          if (Status f = shared_->FetchOutputs(*store_, {n}); !f.ok()) {
            s = f;
            break;
          }
        }
        s = net::SendObject(*w->conn, *store_, n);
        if (!s.ok()) break;
      }
      if (!s.ok() && s.code() != Status::Code::kUnavailable) {
        FailJob(w.get(), item.job, "cannot send inputs: " + s.message());
        continue;
      }
      if (s.ok()) {
        m.mutable_run()->set_job(item.job);
        m.mutable_run()->set_thunk(std::move(item.thunk));
        if (item.limits.any()) LimitsToProto(item.limits, m.mutable_run()->mutable_limits());
        s = w->conn->Send(m);
      }
    }
    if (!s.ok()) return Lost(w.get(), s.message());
  }
}

void RemoteEngine::FailJob(Worker* w, uint64_t job, const std::string& why) {
  Callback done;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = w->jobs.find(job);
    if (it == w->jobs.end() || stopping_) return;
    done = std::move(it->second);
    w->jobs.erase(it);
    job_worker_.erase(job);
    for (const auto& n : w->job_inputs[job]) w->has.erase(n.str());
    w->job_thunks.erase(job);
    w->job_inputs.erase(job);
  }
  ExecResult r;
  r.kind = ExecResult::Kind::kSetupFailed;
  r.message = why + " (for worker " + w->host + ")";
  done(job, std::move(r));
}

void RemoteEngine::Lost(Worker* w, const std::string& why) {
  std::map<uint64_t, Callback> jobs;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!w->alive) return;
    w->alive = false;
    w->conn->Shutdown();
    w->cv.notify_all();
    jobs.swap(w->jobs);
    for (const auto& [id, cb] : jobs) job_worker_.erase(id);
    if (stopping_) return;
  }
  if (!jobs.empty()) std::fprintf(stderr, "gg: lost worker %s: %s\n", w->host.c_str(), why.c_str());
  for (auto& [id, cb] : jobs) {
    ExecResult r;
    r.kind = ExecResult::Kind::kCrashed;
    r.message = "lost worker " + w->host + ": " + why;
    cb(id, std::move(r));
  }
}

Status RemoteEngine::Accepts(const Job& job) const {
  uint64_t total = 0;
  for (const Name& n : closures_.Of(*job.thunk)) total += n.size();
  if (total <= max_input_bytes_) return Status::Ok();
  return Status::Invalid("its inputs (" + std::to_string(total) + " bytes) are too large to ship to workers (over " +
                         std::to_string(max_input_bytes_) + ")");
}

Status RemoteEngine::Submit(const Job& job, Callback done) {
  std::vector<Name> inputs = closures_.Of(*job.thunk);
  std::string thunk_name = job.name.str();
  std::lock_guard<std::mutex> lock(mu_);
  Worker* best = nullptr;
  uint64_t best_score = 0;
  bool best_runs_copy = true;
  for (const auto& w : workers_) {
    if (!w->alive || w->draining || static_cast<int>(w->jobs.size()) >= w->slots) continue;
    bool runs_copy = false;
    for (const auto& [id, name] : w->job_thunks) runs_copy = runs_copy || name == thunk_name;
    uint64_t score = 0;
    for (const Name& n : inputs) score += w->has.count(n.str()) ? n.size() + 1 : 0;
    // A straggler's copy goes elsewhere when it can; then most bytes present.
    if (best == nullptr || (best_runs_copy && !runs_copy) ||
        (runs_copy == best_runs_copy && score > best_score)) {
      best = w.get();
      best_score = score;
      best_runs_copy = runs_copy;
    }
  }
  if (best == nullptr) return Status::Unavailable("no remote worker has a free slot");
  Worker::Outgoing item;
  item.job = job.id;
  item.thunk = job.thunk->Serialize();
  item.limits = job.limits;
  for (const Name& n : inputs) {
    if (best->has.insert(n.str()).second) item.objects.push_back(n);
  }
  best->jobs[job.id] = std::move(done);
  best->job_thunks[job.id] = thunk_name;
  best->job_inputs[job.id] = inputs;
  best->queue.push_back(std::move(item));
  best->cv.notify_all();
  job_worker_[job.id] = best;
  return Status::Ok();
}

void RemoteEngine::Cancel(uint64_t job_id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = job_worker_.find(job_id);
  if (it == job_worker_.end() || !it->second->alive) return;
  Worker::Outgoing item;
  item.job = job_id;
  item.cancel = true;
  it->second->queue.push_back(std::move(item));
  it->second->cv.notify_all();
}

}  // namespace gg
