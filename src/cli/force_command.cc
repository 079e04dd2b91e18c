#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>

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
    "listing targets one per line. Thunks already reduced are never run again.\n\n";
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
    out->push_back({arg, *target});
    return Status::Ok();
  }
  auto name = Name::Parse(arg);
  if (!name.ok()) {
    return Status::Invalid("'" + arg + "' is neither a placeholder file nor an object name");
  }
  out->push_back({"", *name});
  return Status::Ok();
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
  for (const auto& t : target_args) {
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
  Coordinator coordinator(store.get(), options);
  auto outputs = coordinator.Force(names);
  if (!outputs.ok()) {
    int rc = Fail(outputs.status());
    return options.interrupted->load() ? kExitInterrupted : rc;
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
