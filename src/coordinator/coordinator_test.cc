// The coordinator driven in process: fake engines that "run" a thunk by
// answering after a scripted number of simulated seconds, and a simulated
// clock, so scheduling, retries, stragglers and recovery are checked in
// milliseconds without sandboxes, workers or sleeping.
#include "coordinator/coordinator.h"
#include "core/diagnostics.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <thread>

#include <gtest/gtest.h>

#include "core/substitute.h"
#include "core/test_util.h"
#include "engines/function_budget.h"

namespace gg {
namespace {

/// What one run of a thunk does, chosen by the test per label and run.
struct Behavior {
  double seconds = 1;                         ///< simulated run time
  ExecResult::Kind kind = ExecResult::Kind::kOk;
  bool hang = false;                          ///< never ends unless cancelled
  double cancel_seconds = 0;                  ///< how long it takes to stop when cancelled
  bool lose_engine = false;                   ///< the engine goes away with it (capacity 0)
  std::string stderr_tail;
  std::optional<Name> tail;                   ///< output this thunk instead of a value
  std::vector<std::pair<std::string, std::string>> more_outputs;  ///< (tag, content) after the first
};

class FakeEngine;

/// The simulated world: a clock that a background thread moves forward by
/// `kStep` every real millisecond, firing the completions that fall due.
class Sim {
 public:
  static constexpr double kStep = 0.05;
  using Script = std::function<Behavior(const std::string& label, int run)>;

  explicit Sim(LocalStore* store) : store_(store) {
    ticker_ = std::thread([this] {
      while (!stop_) {
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
        Tick();
      }
    });
  }
  ~Sim() {
    stop_ = true;
    ticker_.join();
  }
  double Now() const { return now_.load(); }
  void set_script(Script s) {
    std::lock_guard<std::mutex> l(mu_);
    script_ = std::move(s);
  }
  /// Labels in the order they were submitted (a label per run).
  std::vector<std::string> submitted() {
    std::lock_guard<std::mutex> l(mu_);
    return submitted_;
  }
  int runs(const std::string& label) {
    std::lock_guard<std::mutex> l(mu_);
    return runs_[label];
  }
  std::vector<std::string> cancelled() {
    std::lock_guard<std::mutex> l(mu_);
    return cancelled_;
  }
  /// Runs whose completion has not been delivered yet.
  size_t pending() {
    std::lock_guard<std::mutex> l(mu_);
    return events_.size();
  }

 private:
  friend class FakeEngine;
  struct Event {
    double at;
    FakeEngine* engine;
    uint64_t job;
    Engine::Callback done;
    ExecResult result;
    std::string label;
    bool hang;
    double cancel_seconds;
  };

  void Tick();
  Status Submit(FakeEngine* engine, const Job& job, Engine::Callback done);
  void Cancel(FakeEngine* engine, uint64_t job);

  LocalStore* store_;
  std::atomic<double> now_{0};
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  Script script_ = [](const std::string&, int) { return Behavior{}; };
  std::vector<Event> events_;
  std::vector<std::string> submitted_;
  std::vector<std::string> cancelled_;
  std::map<std::string, int> runs_;
  std::thread ticker_;
};

/// An engine of the simulation; it keeps the coordinator to its capacity.
class FakeEngine : public Engine {
 public:
  FakeEngine(Sim* sim, std::string name, int capacity) : sim_(sim), name_(std::move(name)), capacity_(capacity) {}
  std::string name() const override { return name_; }
  int capacity() const override { return capacity_.load(); }
  Status Submit(const Job& job, Callback done) override {
    if (capacity_.load() == 0) return Status::Unavailable("engine lost");
    int load = ++load_;
    if (load > capacity_.load()) over_capacity_ = true;
    max_load_ = std::max(max_load_.load(), load);
    ++jobs_;
    return sim_->Submit(this, job, std::move(done));
  }
  void Cancel(uint64_t job_id) override { sim_->Cancel(this, job_id); }

  void Finished() { --load_; }
  void Lose() { capacity_ = 0; }
  int max_load() const { return max_load_; }
  int jobs() const { return jobs_; }
  bool over_capacity() const { return over_capacity_; }

 private:
  Sim* sim_;
  std::string name_;
  std::atomic<int> capacity_;
  std::atomic<int> load_{0}, max_load_{0}, jobs_{0};
  std::atomic<bool> over_capacity_{false};
};

/// A cloud function of the simulation: it refuses thunks whose inputs do not
/// fit its budget (the real FunctionBudget check), as the lambda and gcf
/// engines do.
class BudgetedEngine : public FakeEngine {
 public:
  BudgetedEngine(Sim* sim, std::string name, int capacity, FunctionBudget budget)
      : FakeEngine(sim, std::move(name), capacity), budget_(budget) {}
  Status Accepts(const Job& job) const override {
    std::vector<Name> inputs;
    for (const auto& in : job.thunk->inputs) inputs.push_back(Name::Parse(in.name).value().object());
    return budget_.Check(inputs);
  }

 private:
  FunctionBudget budget_;
};

Status Sim::Submit(FakeEngine* engine, const Job& job, Engine::Callback done) {
  std::lock_guard<std::mutex> l(mu_);
  const std::string& label = job.thunk->args.at(1);
  submitted_.push_back(label);
  int run = ++runs_[label];
  Behavior b = script_(label, run);
  ExecResult r;
  r.kind = b.kind;
  r.stderr_tail = b.stderr_tail;
  if (r.kind == ExecResult::Kind::kOk) {
    Name out;
    if (b.tail) {
      out = *b.tail;
    } else {
      auto put = store_->Put("out:" + label);
      if (!put.ok()) return put.status();
      out = *put;
    }
    r.reduction.outputs.push_back({"out", out, false});
    for (const auto& [tag, content] : b.more_outputs) {
      auto put = store_->Put(content);
      if (!put.ok()) return put.status();
      r.reduction.outputs.push_back({tag, *put, false});
    }
    r.reduction.seconds = b.seconds;
  } else {
    if (r.kind == ExecResult::Kind::kNonzeroExit) r.exit_code = 1;
    r.message = b.lose_engine ? "the worker went away" : "scripted failure";
  }
  if (b.lose_engine) engine->Lose();
  events_.push_back({Now() + b.seconds, engine, job.id, std::move(done), std::move(r), label, b.hang, b.cancel_seconds});
  return Status::Ok();
}

void Sim::Cancel(FakeEngine* engine, uint64_t job) {
  std::lock_guard<std::mutex> l(mu_);
  for (auto& e : events_) {
    if (e.engine == engine && e.job == job && e.result.kind != ExecResult::Kind::kCancelled) {
      cancelled_.push_back(e.label);
      e.hang = false;
      e.at = Now() + e.cancel_seconds;
      e.result = ExecResult{};
      e.result.kind = ExecResult::Kind::kCancelled;
    }
  }
}

void Sim::Tick() {
  std::vector<Event> due;
  {
    std::lock_guard<std::mutex> l(mu_);
    now_ = now_.load() + kStep;
    auto it = std::partition(events_.begin(), events_.end(),
                             [&](const Event& e) { return e.hang || e.at > now_.load(); });
    due.assign(std::make_move_iterator(it), std::make_move_iterator(events_.end()));
    events_.erase(it, events_.end());
  }
  for (auto& e : due) {
    e.engine->Finished();
    e.done(e.job, std::move(e.result));
  }
}

class CoordinatorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = NewStoreIn(dir_);
    ASSERT_NE(store_, nullptr);
    sim_ = std::make_unique<Sim>(store_.get());
    auto prog = store_->Put("#!fake program\n");
    ASSERT_TRUE(prog.ok());
    prog_ = *prog;
  }

  /// A thunk labelled `label` that consumes the outputs of `deps`.
  Name MakeThunk(const std::string& label, const std::vector<Name>& deps = {}) {
    Thunk t;
    t.function = prog_.str();
    t.args = {"prog", label};
    t.inputs.push_back({prog_.str(), "prog", true});
    for (size_t i = 0; i < deps.size(); ++i) t.inputs.push_back({deps[i].str(), "dep" + std::to_string(i), false});
    t.outputs = {"out"};
    auto name = store_->Put(t.Serialize());
    EXPECT_TRUE(name.ok()) << name.status().message();
    return *name;
  }

  /// A thunk labelled `label` whose input is a value of `bytes` bytes.
  Name MakeThunkReading(const std::string& label, size_t bytes) {
    Name data = store_->Put(std::string(bytes, 'd')).value();
    Thunk t;
    t.function = prog_.str();
    t.args = {"prog", label};
    t.inputs = {{prog_.str(), "prog", true}, {data.str(), "data", false}};
    t.outputs = {"out"};
    return store_->Put(t.Serialize()).value();
  }

  /// Records a substitute labelled "both" for `thunk`: its output and its
  /// tail's (substitute.h).
  void SubstituteFor(const Name& thunk) {
    Thunk s;
    s.function = prog_.str();
    s.args = {"prog", "both"};
    s.inputs.push_back({prog_.str(), "prog", true});
    s.outputs = {"out", std::string(kTailClaimPrefix) + "out"};
    Name both = store_->Put(s.Serialize()).value();
    ASSERT_TRUE(RecordSubstitute(*store_, thunk, both).ok());
  }

  ForceOptions Options(std::vector<Engine*> engines) {
    ForceOptions o;
    o.engines = std::move(engines);
    o.clock = [this] { return sim_->Now(); };
    o.progress_out = nullptr;
    return o;
  }

  std::string Content(const ReductionOutput& out) {
    auto c = store_->Get(out.name);
    return c.ok() ? *c : "(missing: " + c.status().message() + ")";
  }

  ScratchDir dir_;
  std::unique_ptr<LocalStore> store_;
  std::unique_ptr<Sim> sim_;
  Name prog_;
};

TEST_F(CoordinatorTest, RunsTheCriticalPathFirst) {
  // target <- c1 <- c2 <- c3 is the long chain; l1 and l2 feed the target directly.
  Name c3 = MakeThunk("c3");
  Name c2 = MakeThunk("c2", {c3});
  Name c1 = MakeThunk("c1", {c2});
  Name l1 = MakeThunk("l1"), l2 = MakeThunk("l2");
  Name target = MakeThunk("target", {c1, l1, l2});
  FakeEngine engine(sim_.get(), "one-slot", 1);
  Coordinator c(store_.get(), Options({&engine}));
  auto out = c.Force({target});
  ASSERT_TRUE(out.ok()) << out.status().message();
  EXPECT_EQ(Content((*out)[0]), "out:target");
  std::vector<std::string> order = sim_->submitted();
  ASSERT_EQ(order.size(), 6u);
  EXPECT_EQ(order[0], "c3");
  EXPECT_EQ(order[1], "c2");
  EXPECT_EQ(order.back(), "target");
  EXPECT_FALSE(engine.over_capacity());
}

TEST_F(CoordinatorTest, FollowsTailRecursion) {
  Name next = MakeThunk("next");
  Name first = MakeThunk("first");
  sim_->set_script([&](const std::string& label, int) {
    Behavior b;
    if (label == "first") b.tail = next;
    return b;
  });
  FakeEngine engine(sim_.get(), "e", 2);
  Coordinator c(store_.get(), Options({&engine}));
  auto out = c.Force({first});
  ASSERT_TRUE(out.ok()) << out.status().message();
  EXPECT_EQ(Content((*out)[0]), "out:next");
  EXPECT_EQ(sim_->runs("first"), 1);
  EXPECT_EQ(sim_->runs("next"), 1);
}

// A discovery thunk D reduces to a compile C; its substitute S does both in
// one run and claims C's output (substitute.h).
TEST_F(CoordinatorTest, ASubstituteRunsInsteadAndItsClaimIsRecorded) {
  Name compile = MakeThunk("compile");
  Name discover = MakeThunk("discover");
  SubstituteFor(discover);
  sim_->set_script([&](const std::string& label, int) {
    Behavior b;
    if (label == "discover") b.tail = compile;
    if (label == "both") {
      b.tail = compile;
      b.more_outputs = {{std::string(kTailClaimPrefix) + "out", "out:compile"}};
    }
    return b;
  });
  FakeEngine engine(sim_.get(), "e", 2);
  {
    Coordinator c(store_.get(), Options({&engine}));
    auto out = c.Force({discover});
    ASSERT_TRUE(out.ok()) << out.status().message();
    EXPECT_EQ(Content((*out)[0]), "out:compile");
    EXPECT_EQ(c.stats().memoized, 0u);
  }
  EXPECT_EQ(sim_->runs("both"), 1);
  EXPECT_EQ(sim_->runs("discover"), 0);
  EXPECT_EQ(sim_->runs("compile"), 0);
  // D reduces to C without the claim; C to the claimed output.
  auto d = store_->reductions().Get(discover).value();
  ASSERT_TRUE(d.has_value());
  ASSERT_EQ(d->outputs.size(), 1u);
  EXPECT_EQ(d->outputs[0].name, compile);
  auto c = store_->reductions().Get(compile).value();
  ASSERT_TRUE(c.has_value());
  ASSERT_EQ(c->outputs.size(), 1u);
  EXPECT_EQ(c->outputs[0].tag, "out");
  EXPECT_EQ(Content(c->outputs[0]), "out:compile");

  // An edit that leaves C alone: a new discovery thunk, no substitute, the
  // compile memoized (the early cut-off).
  Name edited = MakeThunk("discover-after-edit");
  sim_->set_script([&](const std::string&, int) {
    Behavior b;
    b.tail = compile;
    return b;
  });
  Coordinator again(store_.get(), Options({&engine}));
  auto out = again.Force({edited});
  ASSERT_TRUE(out.ok()) << out.status().message();
  EXPECT_EQ(Content((*out)[0]), "out:compile");
  EXPECT_EQ(sim_->runs("discover-after-edit"), 1);
  EXPECT_EQ(sim_->runs("compile"), 0);
}

TEST_F(CoordinatorTest, AFailedSubstituteRunsTheThunkItself) {
  Name compile = MakeThunk("compile");
  Name discover = MakeThunk("discover");
  SubstituteFor(discover);
  sim_->set_script([&](const std::string& label, int) {
    Behavior b;
    if (label == "discover") b.tail = compile;
    if (label == "both") b.kind = ExecResult::Kind::kNonzeroExit;  // declined (e.g. .incbin seen)
    return b;
  });
  FakeEngine engine(sim_.get(), "e", 2);
  Coordinator c(store_.get(), Options({&engine}));
  auto out = c.Force({discover});
  ASSERT_TRUE(out.ok()) << out.status().message();
  EXPECT_EQ(Content((*out)[0]), "out:compile");
  EXPECT_EQ(sim_->runs("both"), 1);
  EXPECT_EQ(sim_->runs("discover"), 1);
  EXPECT_EQ(sim_->runs("compile"), 1);
}

TEST_F(CoordinatorTest, MemoizesFinishedWork) {
  Name x = MakeThunk("x");
  Name y = MakeThunk("y", {x});
  FakeEngine engine(sim_.get(), "e", 2);
  {
    Coordinator c(store_.get(), Options({&engine}));
    ASSERT_TRUE(c.Force({y}).ok());
  }
  {
    Coordinator again(store_.get(), Options({&engine}));
    auto out = again.Force({y});
    ASSERT_TRUE(out.ok()) << out.status().message();
    EXPECT_EQ(Content((*out)[0]), "out:y");
    EXPECT_EQ(again.stats().executed, 0u);
    EXPECT_EQ(engine.jobs(), 2);  // nothing more ran
  }
}

TEST_F(CoordinatorTest, WhatASucceedingProgramSaysIsKeptForGgBuild) {
  Name warns = MakeThunk("warns");
  Name quiet = MakeThunk("quiet", {warns});
  sim_->set_script([](const std::string& label, int) {
    Behavior b;
    if (label == "warns") b.stderr_tail = "w.c:1:20: warning: unused variable 'u'\n";
    return b;
  });
  FakeEngine engine(sim_.get(), "e", 2);
  Coordinator c(store_.get(), Options({&engine}));
  ASSERT_TRUE(c.Force({quiet}).ok());
  EXPECT_EQ(FindDiagnostics(*store_, warns), "w.c:1:20: warning: unused variable 'u'\n");
  EXPECT_EQ(FindDiagnostics(*store_, quiet), std::nullopt);
}

TEST_F(CoordinatorTest, EarlyCutOffWhenAnInputIsRebuiltIdentically) {
  Name x = MakeThunk("x");
  Name y = MakeThunk("y", {x});
  FakeEngine engine(sim_.get(), "e", 2);
  {
    Coordinator c(store_.get(), Options({&engine}));
    ASSERT_TRUE(c.Force({y}).ok());
  }
  // x' is another thunk (an edit upstream) whose output has the same bytes
  // as x's: the fake labels outputs, so x' is labelled "x" but takes an input.
  Name edit = store_->Put("an edited comment").value();
  Thunk t;
  t.function = prog_.str();
  t.args = {"prog", "x"};
  t.inputs = {{prog_.str(), "prog", true}, {edit.str(), "edit", false}};
  t.outputs = {"out"};
  Name x_edited = store_->Put(t.Serialize()).value();
  Name y_over_edit = MakeThunk("y", {x_edited});
  Coordinator c(store_.get(), Options({&engine}));
  auto out = c.Force({y_over_edit});
  ASSERT_TRUE(out.ok()) << out.status().message();
  EXPECT_EQ(Content((*out)[0]), "out:y");
  EXPECT_EQ(sim_->runs("x"), 2);  // the edit ran
  EXPECT_EQ(sim_->runs("y"), 1);  // its dependent was cut off
}

TEST_F(CoordinatorTest, RetriesInfrastructureFailuresUpToTheLimit) {
  Name t = MakeThunk("flaky");
  sim_->set_script([](const std::string&, int run) {
    Behavior b;
    if (run <= 2) b.kind = ExecResult::Kind::kCrashed;
    return b;
  });
  FakeEngine engine(sim_.get(), "e", 1);
  Coordinator c(store_.get(), Options({&engine}));
  auto out = c.Force({t});
  ASSERT_TRUE(out.ok()) << out.status().message();
  EXPECT_EQ(sim_->runs("flaky"), 3);
  EXPECT_EQ(c.stats().retries, 2u);
}

TEST_F(CoordinatorTest, GivesUpAfterMaxAttempts) {
  Name t = MakeThunk("broken-host");
  sim_->set_script([](const std::string&, int) { return Behavior{.kind = ExecResult::Kind::kSetupFailed}; });
  FakeEngine engine(sim_.get(), "e", 1);
  ForceOptions o = Options({&engine});
  o.max_attempts = 3;
  Coordinator c(store_.get(), o);
  auto out = c.Force({t});
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), Status::Code::kUnavailable);
  EXPECT_NE(out.status().message().find("gave up after 3 attempts"), std::string::npos) << out.status().message();
  EXPECT_EQ(sim_->runs("broken-host"), 3);
}

TEST_F(CoordinatorTest, StopsAtOnceWhenTheProgramFails) {
  Name bad = MakeThunk("bad");
  Name other = MakeThunk("slow-other");
  Name target = MakeThunk("target", {bad, other});
  sim_->set_script([](const std::string& label, int) {
    Behavior b;
    if (label == "bad") b = {.kind = ExecResult::Kind::kNonzeroExit, .stderr_tail = "bad.c:1: error: boom\n"};
    if (label == "slow-other") b.hang = true;
    return b;
  });
  FakeEngine engine(sim_.get(), "e", 2);
  Coordinator c(store_.get(), Options({&engine}));
  auto out = c.Force({target});
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), Status::Code::kFailed);
  const std::string& msg = out.status().message();
  EXPECT_NE(msg.find("thunk " + bad.str()), std::string::npos) << msg;
  EXPECT_NE(msg.find("boom"), std::string::npos) << msg;
  EXPECT_NE(msg.find("exit status: 1"), std::string::npos) << msg;
  EXPECT_EQ(sim_->runs("bad"), 1);
  EXPECT_EQ(sim_->runs("target"), 0);
  // The work still running was stopped, not left behind.
  std::vector<std::string> cancelled = sim_->cancelled();
  EXPECT_NE(std::find(cancelled.begin(), cancelled.end(), "slow-other"), cancelled.end());
}

TEST_F(CoordinatorTest, StragglerCopyWinsAndTheLoserIsCancelled) {
  Name t = MakeThunk("straggler");
  sim_->set_script([](const std::string&, int run) {
    Behavior b;
    if (run == 1) b.hang = true;  // a stuck machine
    return b;
  });
  FakeEngine slow(sim_.get(), "slow", 1), fast(sim_.get(), "fast", 1);
  ForceOptions o = Options({&slow, &fast});
  o.straggler_seconds = 2;
  Coordinator c(store_.get(), o);
  auto out = c.Force({t});
  ASSERT_TRUE(out.ok()) << out.status().message();
  EXPECT_EQ(Content((*out)[0]), "out:straggler");
  EXPECT_EQ(c.stats().duplicates, 1u);
  EXPECT_EQ(sim_->runs("straggler"), 2);
  EXPECT_EQ(slow.jobs(), 1);
  EXPECT_EQ(fast.jobs(), 1);  // the copy went to the other engine
  EXPECT_EQ(sim_->cancelled(), std::vector<std::string>{"straggler"});
}

TEST_F(CoordinatorTest, AnAdaptiveCopyNeverSharesTheLocalEngineWithItsFirstRun) {
  // Three 1 s runs set the threshold (4 s); the 20 s one then passes it.
  sim_->set_script([](const std::string& label, int) {
    Behavior b;
    b.seconds = label.ends_with("long") ? 20 : 1;
    return b;
  });
  auto graph = [&](const std::string& prefix) {
    std::vector<Name> quick;
    for (int i = 0; i < 3; ++i) quick.push_back(MakeThunk(prefix + "quick" + std::to_string(i)));
    return MakeThunk(prefix + "long", quick);
  };
  {
    FakeEngine local(sim_.get(), "local", 2);
    Coordinator c(store_.get(), Options({&local}));
    ASSERT_TRUE(c.Force({graph("a")}).ok());
    EXPECT_EQ(c.stats().duplicates, 0u);  // the same cores: no copy
    EXPECT_EQ(sim_->runs("along"), 1);
  }
  {
    // Another engine gets the copy.
    FakeEngine local(sim_.get(), "local", 2), worker(sim_.get(), "worker", 2);
    Coordinator c(store_.get(), Options({&local, &worker}));
    ASSERT_TRUE(c.Force({graph("b")}).ok());
    EXPECT_EQ(c.stats().duplicates, 1u);
  }
  {
    // So does an engine of many machines (remote workers), and a copy
    // anywhere when the user set the threshold.
    FakeEngine remote(sim_.get(), "remote", 2);
    Coordinator c(store_.get(), Options({&remote}));
    ASSERT_TRUE(c.Force({graph("c")}).ok());
    EXPECT_EQ(c.stats().duplicates, 1u);
    FakeEngine local(sim_.get(), "local", 2);
    ForceOptions o = Options({&local});
    o.straggler_seconds = 4;
    Coordinator timed(store_.get(), o);
    ASSERT_TRUE(timed.Force({graph("d")}).ok());
    EXPECT_EQ(timed.stats().duplicates, 1u);
  }
}

TEST_F(CoordinatorTest, ACancelledCopyThatReportsAfterTheForceIsHarmless) {
  // A sandbox takes a while to die: the loser's "cancelled" can arrive after
  // the force returned and the coordinator is gone (under ASan this was a
  // use after free in `gg force`).
  Name t = MakeThunk("late");
  sim_->set_script([](const std::string&, int run) {
    Behavior b;
    if (run == 1) {
      b.hang = true;
      b.cancel_seconds = 30;  // longer than the force waits for cancelled runs
    }
    return b;
  });
  FakeEngine slow(sim_.get(), "slow", 1), fast(sim_.get(), "fast", 1);
  {
    ForceOptions o = Options({&slow, &fast});
    o.straggler_seconds = 2;
    Coordinator c(store_.get(), o);
    auto out = c.Force({t});
    ASSERT_TRUE(out.ok()) << out.status().message();
    EXPECT_EQ(Content((*out)[0]), "out:late");
  }
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (sim_->pending() > 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  EXPECT_EQ(sim_->pending(), 0u);
  EXPECT_EQ(sim_->cancelled(), std::vector<std::string>{"late"});
}

TEST_F(CoordinatorTest, FillsEnginesOfDifferentCapacities) {
  std::vector<Name> leaves;
  for (int i = 0; i < 16; ++i) leaves.push_back(MakeThunk("leaf" + std::to_string(i)));
  Name target = MakeThunk("target", leaves);
  FakeEngine small(sim_.get(), "small", 1), big(sim_.get(), "big", 3);
  Coordinator c(store_.get(), Options({&small, &big}));
  auto out = c.Force({target});
  ASSERT_TRUE(out.ok()) << out.status().message();
  EXPECT_FALSE(small.over_capacity());
  EXPECT_FALSE(big.over_capacity());
  EXPECT_EQ(small.max_load(), 1);
  EXPECT_EQ(big.max_load(), 3);
  EXPECT_EQ(small.jobs() + big.jobs(), 17);
  EXPECT_GT(big.jobs(), small.jobs());
}

TEST_F(CoordinatorTest, ThunkOverAFunctionsBudgetGoesToAnotherEngine) {
  Name big = MakeThunkReading("big", 2 << 20);
  Name small = MakeThunk("small");
  Name target = MakeThunk("target", {big, small});
  BudgetedEngine function(sim_.get(), "function", 4, FunctionBudget{.tmp_bytes = 1 << 20});
  FakeEngine local(sim_.get(), "local", 1);
  Coordinator c(store_.get(), Options({&function, &local}));
  auto out = c.Force({target});
  ASSERT_TRUE(out.ok()) << out.status().message();
  EXPECT_EQ(Content((*out)[0]), "out:target");
  EXPECT_EQ(local.jobs(), 1);     // big
  EXPECT_EQ(function.jobs(), 2);  // small and target (preferred: listed first)
}

TEST_F(CoordinatorTest, ThunkOverEveryBudgetFailsNamingTheBudget) {
  Name big = MakeThunkReading("big", 3 << 20);
  BudgetedEngine function(sim_.get(), "gcf=http://fn", 4,
                          FunctionBudget{.memory_bytes = 1 << 20, .tmp_in_memory = true});
  Coordinator c(store_.get(), Options({&function}));
  auto out = c.Force({big});
  ASSERT_FALSE(out.ok());
  EXPECT_NE(out.status().message().find(big.str()), std::string::npos) << out.status().message();
  EXPECT_NE(out.status().message().find("gcf=http://fn: its inputs (3.0 MiB) do not fit the function's memory budget "
                                        "(memory=1 MiB, which holds /tmp)"),
            std::string::npos)
      << out.status().message();
  EXPECT_EQ(function.jobs(), 0);
}

TEST_F(CoordinatorTest, LostEnginesWorkIsRunElsewhere) {
  std::vector<Name> leaves;
  for (int i = 0; i < 4; ++i) leaves.push_back(MakeThunk("leaf" + std::to_string(i)));
  Name target = MakeThunk("target", leaves);
  FakeEngine doomed(sim_.get(), "doomed", 2), steady(sim_.get(), "steady", 2);
  std::atomic<bool> lost{false};
  sim_->set_script([&](const std::string&, int) {
    Behavior b;
    if (!lost.exchange(true)) b = {.seconds = 3, .kind = ExecResult::Kind::kCrashed, .lose_engine = true};
    return b;
  });
  Coordinator c(store_.get(), Options({&doomed, &steady}));
  auto out = c.Force({target});
  ASSERT_TRUE(out.ok()) << out.status().message();
  EXPECT_EQ(Content((*out)[0]), "out:target");
  EXPECT_GE(c.stats().retries, 1u);
  EXPECT_EQ(doomed.jobs(), 1);  // nothing more went to it once it was gone
}

TEST_F(CoordinatorTest, ResumesAfterAnInterruptedForce) {
  Name a = MakeThunk("a");
  Name b = MakeThunk("b", {a});
  Name target = MakeThunk("target", {b});
  std::atomic<bool> interrupted{false};
  sim_->set_script([&](const std::string& label, int) {
    Behavior behavior;
    if (label == "b") {
      interrupted = true;  // the user pressed ^C while b ran
      behavior.hang = true;
    }
    return behavior;
  });
  FakeEngine engine(sim_.get(), "e", 2);
  {
    ForceOptions o = Options({&engine});
    o.interrupted = &interrupted;
    Coordinator c(store_.get(), o);
    auto out = c.Force({target});
    ASSERT_FALSE(out.ok());
    EXPECT_NE(out.status().message().find("interrupted"), std::string::npos) << out.status().message();
  }
  EXPECT_EQ(sim_->cancelled(), std::vector<std::string>{"b"});
  sim_->set_script([](const std::string&, int) { return Behavior{}; });
  Coordinator resumed(store_.get(), Options({&engine}));
  auto out = resumed.Force({target});
  ASSERT_TRUE(out.ok()) << out.status().message();
  EXPECT_EQ(Content((*out)[0]), "out:target");
  EXPECT_EQ(sim_->runs("a"), 1);  // finished before the interrupt: kept
  EXPECT_EQ(sim_->runs("b"), 2);
  EXPECT_EQ(resumed.stats().memoized, 1u);
}

}  // namespace
}  // namespace gg
