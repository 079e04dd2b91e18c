#include "coordinator/coordinator.h"

#include <algorithm>
#include <chrono>
#include <ctime>
#include <optional>
#include <set>

#include "coordinator/identity_log.h"
#include "core/diagnostics.h"
#include "core/substitute.h"
#include "core/input_closure.h"
#include "core/path_util.h"
#include "core/shell_quote.h"
#include "core/subprocess.h"

namespace gg {

struct Coordinator::Node {
  enum class State { kNew, kWaiting, kReady, kRunning, kDone };
  Name name;
  State state = State::kNew;
  // Shared, never copied: a compile's thunk lists thousands of inputs.
  std::shared_ptr<const Thunk> thunk;
  /// `thunk` lists a thunk's output: resolved at launch (looking is a pass
  /// over every input, thousands for a compile).
  bool thunk_inputs = false;
  Name thunk_name;  // of the bytes `thunk` was read from (a substitute's when substituted)
  std::vector<Node*> deps;
  std::vector<Node*> dependents;
  int pending = 0;
  Node* tail_target = nullptr;  // the thunk this one reduced to, while waiting on it
  Node* tail_of = nullptr;      // the first thunk that reduced to this one (for the trace)
  Reduction final;
  double estimate = 1;
  double priority = 0;
  int attempts = 0;
  bool duplicated = false;
  std::vector<uint64_t> jobs;  // running copies
  double ready_time = 0;
  double fetch_start = 0;  // of the latest launch
  Name resolved_name;
  std::shared_ptr<const Thunk> resolved;  // `thunk` itself when it has no thunk inputs
  /// Running a substitute (substitute.h) in this thunk's place; on its
  /// failure the thunk itself runs.
  bool substituted = false;
};

struct Coordinator::Running {
  Node* node;
  Engine* engine;
  double queued;
  double fetching;   // inputs fetched and materialized from here to `submitted`
  double submitted;
  bool duplicate;
  int attempt;
  int slot;  // of its engine, from 0
};

namespace {

std::string Indent(const std::string& text) {
  std::string out = "    ";
  for (size_t i = 0; i < text.size(); ++i) {
    out.push_back(text[i]);
    if (text[i] == '\n' && i + 1 < text.size()) out += "    ";
  }
  if (!out.empty() && out.back() != '\n') out.push_back('\n');
  return out;
}

}  // namespace

Coordinator::Coordinator(LocalStore* store, ForceOptions options)
    : store_(store),
      options_(std::move(options)),
      durations_(store->dir() + "/durations"),
      progress_(options_.progress_out) {}

Coordinator::~Coordinator() = default;

double Coordinator::Now() const {
  if (options_.clock) return options_.clock();
  using namespace std::chrono;
  return duration<double>(steady_clock::now().time_since_epoch()).count();
}

bool Coordinator::LowerPriority(const Node* a, const Node* b) { return a->priority < b->priority; }

Coordinator::Node* Coordinator::GetNode(const Name& object) {
  std::string key = object.object().str();
  auto it = nodes_.find(key);
  if (it != nodes_.end()) return it->second.get();
  auto node = std::make_unique<Node>();
  node->name = object.object();
  Node* n = node.get();
  nodes_.emplace(std::move(key), std::move(node));
  to_expand_.push_back(n);
  stats_.total++;
  return n;
}

Status Coordinator::Expand(Node* n) {
  GG_ASSIGN_OR_RETURN(auto reduction, store_->reductions().Get(n->name));
  if (reduction.has_value()) {
    const Reduction& r = *reduction;
    if (r.outputs[0].name.is_thunk()) {
      stats_.memoized++;
      return WaitOnTail(n, r.outputs[0].name);
    }
    bool all_present = std::all_of(r.outputs.begin(), r.outputs.end(),
                                   [&](const ReductionOutput& o) { return store_->Has(o.name); });
    if (all_present) {
      stats_.memoized++;
      return MarkDone(n, r);
    }
    // An output has gone missing: a miss, so the thunk runs again.
  }
  if (options_.shared != nullptr) {
    auto hit = options_.shared->Lookup(n->name);
    if (!hit.ok()) return SharedError(hit.status());
    if (hit->has_value()) {
      const Reduction& r = **hit;
      stats_.memoized++;
      if (r.outputs[0].name.is_thunk()) {
        // Another machine reduced it to a thunk: bring that thunk here.
        if (Status s = options_.shared->FetchOutputs(*store_, {r.outputs[0].name}); !s.ok()) return SharedError(s);
        return WaitOnTail(n, r.outputs[0].name);
      }
      return MarkDone(n, r);
    }
    if (!store_->Has(n->name)) {
      // A thunk named by another machine: its bytes may be in the shared store.
      (void)options_.shared->FetchOutputs(*store_, {n->name});
    }
  }
  // A substitute (substitute.h) does this thunk's work and its tail's at once.
  Name to_run = n->name;
  GG_ASSIGN_OR_RETURN(auto substitute, FindSubstitute(*store_, n->name));
  if (substitute.has_value()) {
    to_run = *substitute;
    n->substituted = true;
  }
  GG_ASSIGN_OR_RETURN(Thunk thunk, ReadThunk(to_run));
  n->thunk = std::make_shared<const Thunk>(std::move(thunk));
  n->thunk_name = to_run;
  n->estimate = durations_.Estimate(n->thunk->function, 1.0);
  n->state = Node::State::kWaiting;
  std::vector<Name> deps = n->thunk->ThunkDependencies();
  n->thunk_inputs = !deps.empty();
  for (const Name& dep : deps) {
    Node* d = GetNode(dep);
    if (d == n) return Status::Invalid("thunk " + n->name.str() + " depends on itself");
    if (std::find(n->deps.begin(), n->deps.end(), d) != n->deps.end()) continue;
    n->deps.push_back(d);
    if (d->state != Node::State::kDone) {
      n->pending++;
      d->dependents.push_back(n);
    }
  }
  if (n->pending == 0) MakeReady(n);
  return Status::Ok();
}

Result<Thunk> Coordinator::ReadThunk(const Name& name) {
  auto content = store_->GetInto(name, &thunk_bytes_);
  if (!content.ok()) return content.status().Prefix("cannot load thunk " + name.str());
  auto thunk = Thunk::Parse(*content);
  // Kept for the next thunk, unless one was unusually large.
  if (thunk_bytes_.size() > (size_t{64} << 20)) std::string().swap(thunk_bytes_);
  if (!thunk.ok()) return thunk.status().Prefix("thunk " + name.str());
  return thunk;
}

Status Coordinator::LoadAll() {
  while (!to_expand_.empty()) {
    Node* n = to_expand_.back();
    to_expand_.pop_back();
    GG_RETURN_IF_ERROR(Expand(n));
  }
  return Status::Ok();
}

void Coordinator::ComputePriorities(const std::vector<Node*>& fresh) {
  // Longest path to the end of the job, counting dependents first.
  std::unordered_map<Node*, int> remaining;
  for (Node* n : fresh) remaining[n] = 0;
  for (Node* n : fresh) {
    for (Node* d : n->deps) {
      if (auto it = remaining.find(d); it != remaining.end()) it->second++;
    }
  }
  std::vector<Node*> queue;
  for (Node* n : fresh) {
    if (remaining[n] == 0) queue.push_back(n);
  }
  while (!queue.empty()) {
    Node* n = queue.back();
    queue.pop_back();
    double after = 0;
    for (Node* d : n->dependents) after = std::max(after, d->priority);
    n->priority = n->estimate + after;
    for (Node* d : n->deps) {
      auto it = remaining.find(d);
      if (it != remaining.end() && --it->second == 0) queue.push_back(d);
    }
  }
  std::make_heap(ready_.begin(), ready_.end(), LowerPriority);
}

void Coordinator::MakeReady(Node* n) {
  n->state = Node::State::kReady;
  n->ready_time = Now();
  ready_.push_back(n);
  std::push_heap(ready_.begin(), ready_.end(), LowerPriority);
}

Status Coordinator::MarkDone(Node* first, const Reduction& final_reduction) {
  std::vector<std::pair<Node*, Reduction>> work{{first, final_reduction}};
  while (!work.empty()) {
    auto [n, r] = std::move(work.back());
    work.pop_back();
    if (n->state == Node::State::kDone) continue;
    n->state = Node::State::kDone;
    n->final = r;
    n->tail_target = nullptr;
    stats_.done++;
    if (options_.on_done) options_.on_done(n->name, r);
    for (Node* d : n->dependents) {
      if (d->tail_target == n) {
        work.emplace_back(d, r);
      } else if (--d->pending == 0 && d->state == Node::State::kWaiting && d->thunk != nullptr) {
        MakeReady(d);
      }
    }
    n->dependents.clear();
  }
  return Status::Ok();
}

Status Coordinator::WaitOnTail(Node* n, const Name& tail) {
  Node* t = GetNode(tail);
  for (Node* x = t; x != nullptr; x = x->tail_target) {
    if (x == n) return Status::Invalid("thunk " + n->name.str() + " reduces to itself (endless tail recursion)");
  }
  n->state = Node::State::kWaiting;
  n->tail_target = t;
  if (t->tail_of == nullptr) t->tail_of = n;
  if (t->state == Node::State::kDone) return MarkDone(n, t->final);
  t->dependents.push_back(n);
  return Status::Ok();
}

Status Coordinator::ThunkFailure(Node* n, const ExecResult& r) const {
  const Thunk& t = n->resolved ? *n->resolved : *n->thunk;
  std::string msg = "thunk " + n->name.str() + " failed: " + r.message + "\n  command:";
  msg += " " + ShellCommand(t.args) + "\n";
  if (r.kind == ExecResult::Kind::kNonzeroExit) msg += "  exit status: " + std::to_string(r.exit_code) + "\n";
  if (!r.stderr_tail.empty()) msg += "  stderr:\n" + Indent(r.stderr_tail);
  if (!r.stdout_tail.empty() && r.stderr_tail.empty()) msg += "  stdout:\n" + Indent(r.stdout_tail);
  if (!msg.empty() && msg.back() == '\n') msg.pop_back();
  if (r.infrastructure_failure()) return Status::Unavailable(msg);
  if (r.kind == ExecResult::Kind::kTimedOut) return Status::Timeout(msg);
  return Status::Failed(msg);
}

Status Coordinator::SharedError(const Status& s) const {
  return s.Prefix("shared store " + options_.shared->storage().uri());
}

Status Coordinator::EnsureLocal(const Thunk& thunk) {
  if (options_.shared == nullptr) return Status::Ok();
  return FetchMissingInputs(*store_, thunk, [this](const std::vector<Name>& names) {
    return SharedError(options_.shared->FetchOutputs(*store_, names));
  });
}

Status Coordinator::StartReady() {
  while (!ready_.empty()) {
    int free_slots = 0;
    for (Engine* e : options_.engines) free_slots += std::max(0, e->capacity() - engine_load_[e]);
    if (free_slots == 0) return Status::Ok();
    std::pop_heap(ready_.begin(), ready_.end(), LowerPriority);
    Node* n = ready_.back();
    ready_.pop_back();
    if (n->state != Node::State::kReady) continue;

    // Replace each thunk input by the value it reduced to.
    // Replaced in a copy, made only for a thunk that has such inputs.
    std::shared_ptr<Thunk> copy;
    for (size_t i = 0; n->thunk_inputs && i < n->thunk->inputs.size(); ++i) {
      const ThunkInput& in = n->thunk->inputs[i];
      // Only a thunk's output is replaced (names of values and trees, most
      // inputs, start with another letter).
      if (!in.name.starts_with(static_cast<char>(ObjectType::kThunk))) continue;
      auto name = Name::Parse(in.name);
      if (!name.ok() || !name->is_thunk()) continue;
      Node* d = nodes_.at(name->object().str()).get();
      const ReductionOutput* out = d->final.Find(name->tag());
      if (out == nullptr) {
        return Status::Invalid("thunk " + n->name.str() + " wants output '" + name->tag() + "' of thunk " +
                               d->name.str() + ", which has no such output");
      }
      if (!copy) copy = std::make_shared<Thunk>(*n->thunk);
      ThunkInput& resolved = copy->inputs[i];
      resolved.name = out->name.str();
      for (auto& a : copy->args) {
        std::string from = "@{GG:" + name->str() + "}";
        for (size_t p; (p = a.find(from)) != std::string::npos;) a.replace(p, from.size(), "@{GG:" + resolved.name + "}");
      }
    }
    n->resolved = copy ? std::shared_ptr<const Thunk>(std::move(copy)) : n->thunk;
    // Unchanged, it is the thunk read from the store: no need to serialize
    // and hash it again (a compile's thunk lists hundreds of inputs).
    n->resolved_name = n->resolved != n->thunk ? n->resolved->name() : n->thunk_name;
    if (n->resolved_name != n->name) {
      // The same work under another name: a change upstream that left this
      // thunk's inputs unchanged re-runs nothing.
      GG_ASSIGN_OR_RETURN(auto prior, store_->reductions().Get(n->resolved_name));
      if (prior.has_value() &&
          (prior->outputs[0].name.is_thunk() ||
           std::all_of(prior->outputs.begin(), prior->outputs.end(),
                       [&](const ReductionOutput& o) { return store_->Has(o.name); }))) {
        GG_RETURN_IF_ERROR(store_->reductions().Put(n->name, n->substituted ? WithoutTailClaim(*prior) : *prior));
        stats_.memoized++;
        if (prior->outputs[0].name.is_thunk()) {
          GG_RETURN_IF_ERROR(WaitOnTail(n, prior->outputs[0].name));
          std::vector<Node*> fresh = to_expand_;
          GG_RETURN_IF_ERROR(LoadAll());
          ComputePriorities(fresh);
        } else {
          GG_RETURN_IF_ERROR(MarkDone(n, *prior));
        }
        continue;
      }
      GG_RETURN_IF_ERROR(store_->Put(n->resolved->Serialize()).status());
    }
    n->fetch_start = Now();
    GG_RETURN_IF_ERROR(EnsureLocal(*n->resolved));
    bool launched = false;
    GG_RETURN_IF_ERROR(Launch(n, false, &launched));
    if (!launched) return Status::Ok();  // it went back to the queue; wait for room
  }
  return Status::Ok();
}

Status Coordinator::Launch(Node* n, bool duplicate, bool* launched) {
  *launched = false;
  Job job{next_job_, n->resolved_name, n->resolved, options_.limits};
  Engine* engine = nullptr;
  // A straggler's copy prefers an engine other than the one running it.
  Engine* first_engine = duplicate && !n->jobs.empty() ? running_.at(n->jobs.front())->engine : nullptr;
  bool anyone_accepts = false;
  std::string refusals;
  for (Engine* e : options_.engines) {
    if (Status why = e->Accepts(job); !why.ok()) {
      refusals += "; " + e->name() + ": " + why.message();
      continue;
    }
    anyone_accepts = true;
    // An adaptive threshold fires on every long compile, not only stuck
    // ones; a copy on the machine already running the thunk then only takes
    // a core from the other jobs (openssh under gg build: 17 copies, 29 s of
    // runs, none won). --timeout still copies anywhere: the user asked.
    if (duplicate && options_.straggler_seconds <= 0 && e == first_engine && e->name() == "local") continue;
    // A straggler's copy may exceed capacity a little: it replaces a stuck run.
    int limit = e->capacity() + (duplicate && e->capacity() > 0 ? std::max(1, e->capacity() / 8) : 0);
    if (engine_load_[e] >= limit) continue;
    if (engine == nullptr || (duplicate && engine == first_engine && e != first_engine)) engine = e;
  }
  if (!anyone_accepts) {
    return Status::Invalid("no engine of this force can run thunk " + n->name.str() + refusals +
                           " (add an engine that can, e.g. --engine local)");
  }
  if (engine == nullptr) {
    if (!duplicate) MakeReady(n);  // no room now; try again later
    return Status::Ok();
  }

  uint64_t id = next_job_++;
  // The trace's row: the engine's lowest free slot.
  auto& free = free_slots_[engine];
  int slot = next_slot_[engine];
  if (free.empty()) {
    ++next_slot_[engine];
  } else {
    slot = *free.begin();
    free.erase(free.begin());
  }
  double fetching = duplicate ? Now() : n->fetch_start;
  auto run = std::make_unique<Running>(Running{n, engine, n->ready_time, fetching, 0, duplicate, n->attempts + 1, slot});
  if (!duplicate) n->attempts++;
  Status s = engine->Submit(job, [inbox = inbox_](uint64_t job_id, ExecResult r) {
    std::lock_guard<std::mutex> lock(inbox->mu);
    inbox->completions.emplace_back(job_id, std::move(r));
    inbox->cv.notify_one();
  });
  // A local engine materializes the inputs inside Submit.
  run->submitted = Now();
  if (!s.ok()) free.insert(slot);
  if (s.code() == Status::Code::kUnavailable) {
    // The engine lost its room meanwhile (a worker left): later.
    if (!duplicate) {
      n->attempts--;
      MakeReady(n);
    }
    return Status::Ok();
  }
  if (!s.ok()) return s.Prefix("cannot run thunk " + n->name.str());
  n->state = Node::State::kRunning;
  n->jobs.push_back(id);
  if (duplicate) {
    n->duplicated = true;
    stats_.duplicates++;
  }
  running_.emplace(id, std::move(run));
  engine_load_[engine]++;
  stats_.running++;
  *launched = true;
  return Status::Ok();
}

Status Coordinator::HandleCompletion(uint64_t job_id, ExecResult r) {
  auto it = running_.find(job_id);
  if (it == running_.end()) return Status::Ok();
  std::unique_ptr<Running> run = std::move(it->second);
  running_.erase(it);
  free_slots_[run->engine].insert(run->slot);
  engine_load_[run->engine]--;
  stats_.running--;
  Node* n = run->node;
  n->jobs.erase(std::remove(n->jobs.begin(), n->jobs.end(), job_id), n->jobs.end());
  TraceRun(*run, r);

  if (n->state != Node::State::kRunning) return Status::Ok();  // a copy already won
  if (r.ok()) {
    for (uint64_t other : n->jobs) running_.at(other)->engine->Cancel(other);
    if (n->thunk) durations_.Add(n->thunk->function, r.reduction.seconds);
    GG_RETURN_IF_ERROR(RecordRun(*n->resolved, n->resolved_name, r.reduction));
    if (!r.stderr_tail.empty()) {
      // Advisory (gg build shows it): a failure to keep it fails nothing.
      (void)RecordDiagnostics(*store_, n->name, r.stderr_tail);
    }
    if (n->substituted) return FinishSubstitute(n, r.reduction);
    GG_RETURN_IF_ERROR(store_->reductions().Put(n->name, r.reduction));
    if (n->resolved_name != n->name) GG_RETURN_IF_ERROR(store_->reductions().Put(n->resolved_name, r.reduction));
    if (options_.shared != nullptr) {
      Status s = options_.shared->Publish(*store_, n->name, n->resolved_name, r.reduction);
      if (!s.ok()) return SharedError(s).Prefix("cannot publish the result of thunk " + n->name.str());
    }
    if (r.reduction.outputs[0].name.is_thunk()) {
      GG_RETURN_IF_ERROR(WaitOnTail(n, r.reduction.outputs[0].name));
      std::vector<Node*> fresh = to_expand_;
      GG_RETURN_IF_ERROR(LoadAll());
      ComputePriorities(fresh);
      return Status::Ok();
    }
    return MarkDone(n, r.reduction);
  }
  if (r.kind == ExecResult::Kind::kCancelled) return Status::Ok();
  if (!n->jobs.empty()) return Status::Ok();  // the other copy may still succeed
  if (n->substituted) return RunInsteadOfSubstitute(n);
  if (r.infrastructure_failure()) {
    if (n->attempts >= options_.max_attempts) {
      stats_.failed++;
      return ThunkFailure(n, r).Prefix("gave up after " + std::to_string(n->attempts) + " attempts");
    }
    stats_.retries++;
    MakeReady(n);
    return Status::Ok();
  }
  stats_.failed++;
  return ThunkFailure(n, r);
}

Status Coordinator::RecordRun(const Thunk& thunk, const Name& name, const Reduction& r) {
  stats_.executed++;
  // For `gg explain`: a record of what ran, found again by the thunk's identity.
  return IdentityLog(store_->dir() + "/identities")
      .Append({ThunkIdentity(thunk), static_cast<int64_t>(std::time(nullptr)), name, r.outputs[0].name});
}

Status Coordinator::FinishSubstitute(Node* n, const Reduction& r) {
  const Name& tail_name = r.outputs[0].name;
  auto tail_bytes = tail_name.is_thunk() ? store_->Get(tail_name) : Result<std::string>(Status::Invalid("a value"));
  auto tail = tail_bytes.ok() ? Thunk::Parse(*tail_bytes) : Result<Thunk>(tail_bytes.status());
  auto claim = tail.ok() ? SplitTailClaim(r, *tail) : Result<TailClaim>(tail.status());
  if (!claim.ok()) {
    // Not a result to trust: the thunk itself runs, as if there were no substitute.
    return RunInsteadOfSubstitute(n);
  }
  // The tail's record first: once the thunk's own exists, a later force
  // follows it to the tail and must find the tail reduced.
  GG_ASSIGN_OR_RETURN(auto prior, store_->reductions().Get(tail_name));
  if (!prior.has_value()) {
    GG_RETURN_IF_ERROR(store_->reductions().Put(tail_name, claim->tail));
    // The tail ran here in effect.
    GG_RETURN_IF_ERROR(RecordRun(*tail, tail_name, claim->tail));
  }
  GG_RETURN_IF_ERROR(store_->reductions().Put(n->resolved_name, r));
  GG_RETURN_IF_ERROR(store_->reductions().Put(n->name, claim->own));
  if (options_.shared != nullptr) {
    for (const auto& [thunk, reduction] :
         {std::pair{tail_name, claim->tail}, std::pair{n->resolved_name, r}, std::pair{n->name, claim->own}}) {
      Status s = options_.shared->Publish(*store_, thunk, thunk, reduction);
      if (!s.ok()) return SharedError(s).Prefix("cannot publish the result of thunk " + n->name.str());
    }
  }
  Node* t = GetNode(tail_name);
  if (t->state == Node::State::kNew) {
    // Reduced by this run, not memoized: done without a lookup.
    to_expand_.erase(std::remove(to_expand_.begin(), to_expand_.end(), t), to_expand_.end());
    GG_RETURN_IF_ERROR(MarkDone(t, prior.has_value() ? *prior : claim->tail));
  }
  GG_RETURN_IF_ERROR(WaitOnTail(n, tail_name));
  std::vector<Node*> fresh = to_expand_;
  GG_RETURN_IF_ERROR(LoadAll());
  ComputePriorities(fresh);
  return Status::Ok();
}

Status Coordinator::RunInsteadOfSubstitute(Node* n) {
  GG_ASSIGN_OR_RETURN(Thunk thunk, ReadThunk(n->name));
  n->thunk = std::make_shared<const Thunk>(std::move(thunk));
  n->thunk_inputs = !n->thunk->ThunkDependencies().empty();
  n->thunk_name = n->name;
  n->substituted = false;
  n->attempts = 0;
  n->duplicated = false;
  n->resolved.reset();
  stats_.retries++;
  MakeReady(n);
  return Status::Ok();
}

void Coordinator::TraceRun(const Running& run, const ExecResult& r) {
  const Node* n = run.node;
  const Thunk* t = n->resolved ? n->resolved.get() : n->thunk.get();
  std::string function = t != nullptr && !t->args.empty() ? t->args[0] : "";
  function = function.substr(function.rfind('/') + 1);
  std::string label = (function.empty() ? "" : function + " ") + n->name.str().substr(0, 12);
  size_t engine_index = std::find(options_.engines.begin(), options_.engines.end(), run.engine) - options_.engines.begin();
  int tid = static_cast<int>(engine_index + 1) * kSlotsPerEngineRow + run.slot + 1;
  trace_.NameRow(tid, run.engine->name() + " slot " + std::to_string(run.slot + 1));
  auto us = [&](double when) { return static_cast<int64_t>((when - start_) * 1e6); };
  double now = Now();
  TraceWriter::Args args = {{"thunk", n->name.str()},
                            {"engine", run.engine->name()},
                            {"attempt", std::to_string(run.attempt)},
                            {"duplicate", run.duplicate ? "yes" : "no"},
                            {"result", r.KindName()}};
  if (!run.duplicate) trace_.Add(label, "queued", us(run.queued), us(run.fetching) - us(run.queued), tid, args);
  trace_.Add(label, "fetching inputs", us(run.fetching), us(run.submitted) - us(run.fetching), tid, args);
  double ran_until = std::min(now, run.submitted + r.reduction.seconds);
  trace_.Add(label, "collected", us(ran_until), us(now) - us(ran_until), tid, args);

  // What `gg report` and `gg explain` need beyond the timing, on the main event.
  args.emplace_back("function", function);
  if (t != nullptr) {
    std::string command = ShellCommand(t->args);
    if (command.size() > kMaxTracedCommand) command = command.substr(0, kMaxTracedCommand) + " ...";
    args.emplace_back("command", std::move(command));
  }
  if (n->resolved_name != n->name && n->resolved_name.is_thunk()) args.emplace_back("resolved", n->resolved_name.str());
  std::string deps;
  for (const Node* d : n->deps) deps += (deps.empty() ? "" : " ") + d->name.str();
  if (n->tail_of != nullptr) deps += (deps.empty() ? "" : " ") + n->tail_of->name.str();
  if (!deps.empty()) args.emplace_back("deps", std::move(deps));
  if (r.ok()) {
    std::string outputs;
    for (const auto& o : r.reduction.outputs) outputs += (outputs.empty() ? "" : " ") + o.name.str();
    args.emplace_back("outputs", std::move(outputs));
  } else {
    args.emplace_back("message", r.message);
    if (r.kind == ExecResult::Kind::kNonzeroExit) args.emplace_back("exit_status", std::to_string(r.exit_code));
    if (!r.stderr_tail.empty()) args.emplace_back("stderr", r.stderr_tail);
    if (!r.stdout_tail.empty()) args.emplace_back("stdout", r.stdout_tail);
  }
  trace_.Add(label, run.duplicate ? "running (duplicate)" : run.attempt > 1 ? "running (retry)" : "running",
             us(run.submitted), us(ran_until) - us(run.submitted), tid, std::move(args));
}

Status Coordinator::WriteTraces(const Status& status) {
  if (trace_.size() == 0 && options_.trace_path.empty()) return Status::Ok();
  int slots = 0;
  std::string engines;
  for (Engine* e : options_.engines) {
    slots += e->capacity();
    engines += (engines.empty() ? "" : " ") + e->name() + "=" + std::to_string(e->capacity());
  }
  trace_.SetInfo("gg_trace", "1");
  trace_.SetInfo("start_unix", std::to_string(start_unix_));
  trace_.SetInfo("wall_seconds", std::to_string(Now() - start_));
  trace_.SetInfo("engines", engines);
  trace_.SetInfo("slots", std::to_string(slots));
  trace_.SetInfo("thunks", std::to_string(stats_.total));
  trace_.SetInfo("ran", std::to_string(stats_.executed));
  trace_.SetInfo("memoized", std::to_string(stats_.memoized));
  trace_.SetInfo("status", status.ok() ? "ok" : status.message().substr(0, status.message().find('\n')));
  if (!options_.trace_path.empty()) GG_RETURN_IF_ERROR(trace_.Write(options_.trace_path));
  // A force that ran nothing keeps the previous run's trace: that is the one
  // that explains the outputs.
  if (trace_.size() > 0) GG_RETURN_IF_ERROR(trace_.Write(store_->dir() + "/" + kLastTraceFile));
  return Status::Ok();
}

void Coordinator::CheckStragglers() {
  double now = Now();
  std::vector<Node*> stragglers;
  std::unordered_map<std::string, double> thresholds;  // per function, this tick
  auto threshold_of = [&](const std::string& function) {
    if (options_.straggler_seconds > 0) return options_.straggler_seconds;
    auto [it, fresh] = thresholds.try_emplace(function, -1.0);
    if (!fresh) return it->second;
    size_t count = 0;
    double median = durations_.MedianThisRun(function, &count);
    // Before 3 runs of this force finish, fall back on earlier forces.
    if (count < 3) median = durations_.Estimate(function, -1);
    if (median >= 0) it->second = std::max(4 * median, median + 2.0);
    return it->second;
  };
  for (const auto& [id, run] : running_) {
    Node* n = run->node;
    if (n->duplicated || run->duplicate || n->jobs.size() != 1 || !n->thunk) continue;
    double threshold = threshold_of(n->thunk->function);
    if (threshold >= 0 && now - run->submitted > threshold) stragglers.push_back(n);
  }
  for (Node* n : stragglers) {
    bool launched = false;
    (void)Launch(n, true, &launched);
  }
}

void Coordinator::CancelAll() {
  for (const auto& [id, run] : running_) run->engine->Cancel(id);
  double deadline = Now() + 10;
  while (!running_.empty() && Now() < deadline) {
    std::deque<std::pair<uint64_t, ExecResult>> batch;
    {
      std::unique_lock<std::mutex> lock(inbox_->mu);
      inbox_->cv.wait_for(lock, std::chrono::milliseconds(100), [&] { return !inbox_->completions.empty(); });
      batch.swap(inbox_->completions);
    }
    // Finished work is still recorded; failures now are not news.
    for (auto& [id, r] : batch) (void)HandleCompletion(id, std::move(r));
  }
}

Status Coordinator::Stuck(const std::vector<Node*>& targets) const {
  // Follow an unfinished target down to what it waits for, to say where.
  const Node* n = nullptr;
  for (const Node* t : targets) {
    if (t != nullptr && t->state != Node::State::kDone) n = t;
  }
  std::string path;
  for (int depth = 0; n != nullptr && depth < 50; ++depth) {
    static const char* kStates[] = {"new", "waiting", "ready", "running", "done"};
    path += "\n  " + n->name.str() + " (" + kStates[static_cast<int>(n->state)] +
            ", waiting for " + std::to_string(n->pending) + " inputs" + (n->tail_target ? ", reduced to a thunk)" : ")");
    const Node* next = n->tail_target;
    for (const Node* d : n->deps) {
      if (next == nullptr && d->state != Node::State::kDone) next = d;
    }
    n = next;
  }
  return Status::Invalid("internal error: no thunk can run, but the targets are not done:" + path);
}

void Coordinator::AddTargets(const std::vector<Name>& targets) {
  std::lock_guard<std::mutex> lock(inbox_->mu);
  inbox_->added.insert(inbox_->added.end(), targets.begin(), targets.end());
  inbox_->cv.notify_one();
}

void Coordinator::EndTargets() {
  std::lock_guard<std::mutex> lock(inbox_->mu);
  inbox_->targets_ended = true;
  inbox_->cv.notify_one();
}

Result<std::vector<ReductionOutput>> Coordinator::Force(const std::vector<Name>& targets) {
  start_ = Now();
  // To the microsecond: a trace's times are placed against other clocks by it.
  start_unix_ = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  std::vector<Node*> target_nodes;
  for (const Name& t : targets) {
    if (t.is_thunk()) {
      target_nodes.push_back(GetNode(t));
    } else {
      if (!store_->Has(t)) return Status::NotFound("target " + t.str() + " is not in the store");
      target_nodes.push_back(nullptr);
    }
  }
  Status status = LoadAll();
  if (status.ok()) {
    std::vector<Node*> all;
    for (auto& [k, n] : nodes_) all.push_back(n.get());
    ComputePriorities(all);
  }
  std::vector<Node*> added_nodes;  // open-ended: targets given while running
  bool more_may_come = options_.open_ended;
  auto take_added = [&]() -> Status {
    std::vector<Name> names;
    {
      std::lock_guard<std::mutex> lock(inbox_->mu);
      names.swap(inbox_->added);
      more_may_come = options_.open_ended && !inbox_->targets_ended;
    }
    if (names.empty()) return Status::Ok();
    for (const Name& t : names) {
      if (t.is_thunk()) added_nodes.push_back(GetNode(t));
    }
    GG_RETURN_IF_ERROR(LoadAll());
    std::vector<Node*> all;
    for (auto& [k, n] : nodes_) all.push_back(n.get());
    ComputePriorities(all);
    return Status::Ok();
  };
  auto all_done = [&] {
    auto done = [](Node* n) { return n == nullptr || n->state == Node::State::kDone; };
    return !more_may_come && std::all_of(target_nodes.begin(), target_nodes.end(), done) &&
           std::all_of(added_nodes.begin(), added_nodes.end(), done);
  };
  double last_progress = 0;
  double idle_since = 0;
  if (status.ok()) status = take_added();
  while (status.ok() && !all_done()) {
    status = StartReady();
    if (!status.ok() || all_done()) break;  // memoized under resolved names
    if (running_.empty() && ready_.empty() && to_expand_.empty() && !more_may_come) {
      status = Stuck(target_nodes);
      break;
    }
    if (running_.empty() && !ready_.empty()) {
      // Nothing runs and nothing can start: engines without room (remote
      // engines before their workers connect). Wait, but not forever.
      if (idle_since == 0) idle_since = Now();
      if (Now() - idle_since > options_.wait_for_engines_seconds) {
        status = Status::Unavailable("no engine had room for " + std::to_string(static_cast<int>(options_.wait_for_engines_seconds)) +
                                     " s (did any worker connect?)");
        break;
      }
    } else {
      idle_since = 0;
    }
    std::deque<std::pair<uint64_t, ExecResult>> batch;
    {
      std::unique_lock<std::mutex> lock(inbox_->mu);
      inbox_->cv.wait_for(lock, std::chrono::milliseconds(100), [&] {
        return !inbox_->completions.empty() || !inbox_->added.empty() || (more_may_come && inbox_->targets_ended);
      });
      batch.swap(inbox_->completions);
    }
    for (auto& [id, r] : batch) {
      status = HandleCompletion(id, std::move(r));
      if (!status.ok()) break;
    }
    if (!status.ok()) break;
    status = take_added();
    if (!status.ok()) break;
    if (options_.interrupted != nullptr && options_.interrupted->load()) {
      status = Status::Unavailable("interrupted; finished thunks are recorded and will not run again");
      break;
    }
    CheckStragglers();
    double now = Now();
    if (now - last_progress > 0.1) {
      progress_.Update(stats_, now - start_);
      if (options_.on_progress) options_.on_progress(stats_, now - start_);
      last_progress = now;
    }
  }
  // Also reaps the losing copies of stragglers, so no callback outlives us.
  if (!status.ok() || !running_.empty()) CancelAll();
  progress_.Clear();
  if (options_.on_progress) options_.on_progress(stats_, Now() - start_);
  durations_.Save();
  if (Status t = WriteTraces(status); status.ok() && !t.ok()) status = t;
  if (!status.ok()) return status;

  std::vector<ReductionOutput> outputs;
  for (size_t i = 0; i < targets.size(); ++i) {
    if (target_nodes[i] == nullptr) {
      outputs.push_back({"", targets[i], false});
      continue;
    }
    const ReductionOutput* out = target_nodes[i]->final.Find(targets[i].tag());
    if (out == nullptr) {
      return Status::NotFound("thunk " + targets[i].object().str() + " has no output tagged '" + targets[i].tag() + "'");
    }
    outputs.push_back(*out);
  }
  if (options_.shared != nullptr && options_.download) {
    std::vector<Name> missing;
    for (const auto& o : outputs) {
      if (!store_->Has(o.name)) missing.push_back(o.name);
    }
    if (!missing.empty()) {
      if (Status s = options_.shared->FetchOutputs(*store_, missing); !s.ok()) return SharedError(s);
    }
  }
  return outputs;
}

}  // namespace gg
