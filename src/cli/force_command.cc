#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <map>
#include <thread>

#include "cli/command.h"
#include "cli/force_flags.h"
#include "coordinator/coordinator.h"
#include "core/path_util.h"
#include "core/placeholder.h"

namespace gg::cli {
namespace {

constexpr char kUsage[] =
    "usage: gg force [-j N] [--engine E]... [--storage URI] [--timeout SECONDS] [--trace FILE]\n"
    "                [--max-attempts N] [--no-download] TARGET...\n\n"
    "Computes each TARGET: a placeholder file (replaced by the output's content,\n"
    "with its mode), a thunk name (the output's name is printed), or @FILE, a file\n"
    "listing targets one per line. Thunks already reduced are never run again.\n"
    "@- reads that listing from standard input as it is written: each target starts\n"
    "as soon as its line arrives, while the writer still stores later ones (gg\n"
    "stops at end of input, once all are done; outputs are printed in order).\n\n";
constexpr char kUsageEnd[] =
    "  --no-download      leave the targets' outputs in the shared store\n\n"
    "Exit status: 0 done, 1 a thunk failed, 2 usage, 3 other error, 130 interrupted.\n";

std::string Usage() { return kUsage + ForceFlagsHelp() + kUsageEnd; }

struct Target {
  std::string placeholder;  // empty for a name given directly
  Name name;
};

Status AddTarget(const std::string& arg, std::vector<Target>* out) {
  if (arg.starts_with("@")) {
    GG_ASSIGN_OR_RETURN(std::string list, ReadFile(arg.substr(1)));
    size_t pos = 0;
    while (pos < list.size()) {
      size_t nl = list.find('\n', pos);
      std::string line = list.substr(pos, nl == std::string::npos ? std::string::npos : nl - pos);
      pos = nl == std::string::npos ? list.size() : nl + 1;
      if (!line.empty()) GG_RETURN_IF_ERROR(AddTarget(line, out));
    }
    return Status::Ok();
  }
  struct stat st {};
  if (stat(arg.c_str(), &st) == 0 && S_ISREG(st.st_mode)) {
    GG_ASSIGN_OR_RETURN(auto target, ReadPlaceholder(arg));
    if (!target) {
      return Status::Invalid(arg + " is not a gg placeholder (already forced, or not made by gg?)");
    }
    out->push_back({PlaceholderFileOf(arg), *target});
    return Status::Ok();
  }
  auto name = Name::Parse(arg);
  if (!name.ok()) {
    return Status::Invalid("'" + arg + "' is neither a placeholder file nor an object name");
  }
  out->push_back({"", *name});
  return Status::Ok();
}

/// Targets read from standard input (`@-`) while the force runs: each is
/// handed to the coordinator as soon as its line arrives.
class StdinTargets {
 public:
  explicit StdinTargets(Coordinator* coordinator) : coordinator_(coordinator) {}
  ~StdinTargets() {
    // After a failed force the writer may still hold standard input open:
    // the reader stops at its next poll rather than wait for the end.
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  void Start() {
    thread_ = std::thread([this] { Read(); });
  }
  /// After a successful force (so the reader has seen the end of input).
  Status Finish(std::vector<Target>* targets) {
    thread_.join();
    targets->insert(targets->end(), read_.begin(), read_.end());
    return status_;
  }

 private:
  void Read() {
    Status status = Status::Ok();
    std::string pending;
    char buf[4096];
    while (status.ok() && !stop_) {
      pollfd p{STDIN_FILENO, POLLIN, 0};
      int ready = poll(&p, 1, 100);
      if (ready < 0 && errno == EINTR) continue;
      if (ready == 0) continue;
      ssize_t n = ready < 0 ? -1 : read(STDIN_FILENO, buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) status = Status::FromErrno("cannot read the targets on standard input", errno);
      if (n <= 0) break;
      pending.append(buf, static_cast<size_t>(n));
      size_t start = 0;
      for (size_t nl; status.ok() && (nl = pending.find('\n', start)) != std::string::npos; start = nl + 1) {
        status = Take(pending.substr(start, nl - start));
      }
      pending.erase(0, start);
    }
    if (status.ok() && !stop_ && !pending.empty()) status = Take(pending);  // a last line without its newline
    status_ = status.Prefix("@-");
    // On a bad line too: the force then ends once what was given is done,
    // and fails with this status.
    coordinator_->EndTargets();
  }

  Status Take(const std::string& arg) {
    if (arg.empty()) return Status::Ok();
    if (arg.starts_with("@")) return Status::Invalid("a listing on standard input cannot name another (" + arg + ")");
    size_t before = read_.size();
    GG_RETURN_IF_ERROR(AddTarget(arg, &read_));
    coordinator_->AddTargets({read_[before].name});
    return Status::Ok();
  }

  Coordinator* coordinator_;
  std::thread thread_;
  std::atomic<bool> stop_ = false;
  // Written by the reader thread only; read after it is joined.
  std::vector<Target> read_;
  Status status_ = Status::Ok();
};

/// The output `target` stands for, from the reductions this force saw.
Result<ReductionOutput> OutputOf(const Name& target, const std::map<std::string, Reduction>& done,
                                 LocalStore* store) {
  if (!target.is_thunk()) {
    if (!store->Has(target)) return Status::NotFound("target " + target.str() + " is not in the store");
    return ReductionOutput{"", target, false};
  }
  auto it = done.find(target.object().str());
  if (it == done.end()) return Status::NotFound("target " + target.str() + " was not forced");
  const ReductionOutput* out = it->second.Find(target.tag());
  if (out == nullptr) {
    return Status::NotFound("thunk " + target.object().str() + " has no output tagged '" + target.tag() + "'");
  }
  return *out;
}

}  // namespace

int ForceMain(int argc, char** argv) {
  if (WantsHelp(argc, argv)) {
    std::printf("%s", Usage().c_str());
    return kExitOk;
  }
  ForceFlags flags;
  bool download = true;
  std::vector<Target> targets;
  std::vector<std::string> target_args;
  for (int i = 1; i < argc;) {
    std::string a = argv[i];
    if (a == "--") {
      for (++i; i < argc; ++i) target_args.push_back(argv[i]);
      break;
    }
    auto taken = TakeForceFlag(argc, argv, &i, &flags);
    if (!taken.ok()) {
      std::fprintf(stderr, "gg: %s\n%s", taken.status().message().c_str(), Usage().c_str());
      return kExitUsage;
    }
    if (*taken) continue;
    if (a == "--no-download") {
      download = false;
    } else if (a.starts_with("-") && a != "-") {
      std::fprintf(stderr, "gg: force has no option '%s'\n%s", a.c_str(), Usage().c_str());
      return kExitUsage;
    } else {
      target_args.push_back(a);
    }
    ++i;
  }
  if (target_args.empty()) {
    std::fprintf(stderr, "gg: force needs at least one TARGET\n%s", Usage().c_str());
    return kExitUsage;
  }
  bool from_stdin = false;
  for (const auto& t : target_args) {
    if (t == "@-") {
      from_stdin = true;
      continue;
    }
    if (Status s = AddTarget(t, &targets); !s.ok()) return Fail(s);
  }
  if (!download) {
    for (const auto& t : targets) {
      if (!t.placeholder.empty()) return Fail(Status::Invalid("--no-download cannot replace placeholder " + t.placeholder));
    }
  }
  auto store = OpenStoreOrComplain();
  if (!store) return kExitError;
  auto setup = SetUpForce(store.get(), flags);
  if (!setup.ok()) return Fail(setup.status());
  ForceOptions& options = (*setup)->options;
  options.download = download;

  std::vector<Name> names;
  for (const auto& t : targets) names.push_back(t.name);
  std::map<std::string, Reduction> done;  // of streamed targets' thunks, by name
  if (from_stdin) {
    options.open_ended = true;
    options.on_done = [&done](const Name& thunk, const Reduction& r) { done[thunk.str()] = r; };
  }
  Coordinator coordinator(store.get(), options);
  StdinTargets streamed(&coordinator);
  if (from_stdin) streamed.Start();
  auto outputs = coordinator.Force(names);
  if (!outputs.ok()) {
    int rc = Fail(outputs.status());
    return options.interrupted->load() ? kExitInterrupted : rc;
  }
  if (from_stdin) {
    size_t given = targets.size();
    if (Status s = streamed.Finish(&targets); !s.ok()) return Fail(s);
    std::vector<Name> missing;
    for (size_t i = given; i < targets.size(); ++i) {
      auto out = OutputOf(targets[i].name, done, store.get());
      if (!out.ok()) return Fail(out.status());
      outputs->push_back(*out);
      if (options.shared != nullptr && options.download && !store->Has(out->name)) missing.push_back(out->name);
    }
    if (!missing.empty()) {
      if (Status s = options.shared->FetchOutputs(*store, missing); !s.ok()) return Fail(s.Prefix("shared store"));
    }
  }
  if (isatty(STDERR_FILENO)) {
    const ForceStats& st = coordinator.stats();
    std::fprintf(stderr, "gg: %zu thunks: %zu ran, %zu memoized", st.total, st.executed, st.memoized);
    if (st.retries) std::fprintf(stderr, ", %zu retried", st.retries);
    if (st.duplicates) std::fprintf(stderr, ", %zu straggler copies", st.duplicates);
    std::fprintf(stderr, "\n");
  }
  for (size_t i = 0; i < targets.size(); ++i) {
    if (targets[i].placeholder.empty()) {
      std::printf("%s\n", (*outputs)[i].name.str().c_str());
    } else if (Status s = store->CopyOut((*outputs)[i].name, targets[i].placeholder, (*outputs)[i].executable); !s.ok()) {
      return Fail(s);
    }
  }
  return kExitOk;
}

}  // namespace gg::cli
