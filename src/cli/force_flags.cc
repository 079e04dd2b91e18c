#include "cli/force_flags.h"

#include <signal.h>

#include <cstdlib>

#include "cli/command.h"
#include "core/byte_size.h"

namespace gg::cli {
namespace {

// A positive count, or an error naming the option.
Result<int> PositiveInt(const std::string& option, const std::string& value) {
  char* end = nullptr;
  long n = std::strtol(value.c_str(), &end, 10);
  if (value.empty() || *end != '\0' || n < 1 || n > 1'000'000) {
    return Status::Invalid(option + " takes a positive number, not '" + value + "'");
  }
  return static_cast<int>(n);
}

}  // namespace

std::string LimitFlagsHelp() {
  return "  --limit-memory SIZE   address space of a thunk's program (default 8G, or $GG_LIMIT_MEMORY)\n"
         "  --limit-procs N       processes of one thunk at once (default 1024, or $GG_LIMIT_PROCS)\n"
         "  --limit-tmp SIZE      size of its /tmp and of its /dev/shm (default 1G, or $GG_LIMIT_TMP)\n"
         "  --limit-file SIZE     largest file it may write (default 16G, or $GG_LIMIT_FILE)\n"
         "  --limit-workdir SIZE  all it writes in its work dir (default 16G, or $GG_LIMIT_WORKDIR)\n"
         "                        SIZE: bytes, or with k, M, G, T (binary): 512M, 4G\n";
}

Result<bool> TakeLimitFlag(std::string_view name, const std::string& value, ThunkLimits* limits) {
  uint64_t* field = name == "--limit-memory"    ? &limits->memory_bytes
                    : name == "--limit-procs"   ? &limits->processes
                    : name == "--limit-tmp"     ? &limits->tmp_bytes
                    : name == "--limit-file"    ? &limits->file_bytes
                    : name == "--limit-workdir" ? &limits->workdir_bytes
                                                : nullptr;
  if (field == nullptr) return false;
  auto size = ParseByteSize(value);
  if (!size.ok()) return size.status().Prefix(std::string(name));
  ThunkLimits before = *limits;
  *field = *size;
  if (Status s = ValidateLimits(*limits); !s.ok()) {
    *limits = before;
    return s.Prefix(std::string(name) + " " + value);
  }
  return true;
}

std::string ForceFlagsHelp() {
  return std::string(
             "  -j N               run N thunks at once on the local engine (default: cores)\n"
             "  --engine E         an engine to use, repeatable (default: local):\n") +
         engines::kHelp +
         "  --secret-file FILE the secret remote workers must know\n"
         "  --storage URI      a store shared with other machines (default $GG_STORAGE_URI):\n"
         "                     its reductions are used, new ones published to it\n"
         "  --timeout SECONDS  start a second copy of a thunk running longer than this\n"
         "                     (default: adaptive, 4x the median of similar thunks)\n"
         "  --trace FILE       write the run as Chrome trace-event JSON\n"
         "  --max-attempts N   runs of a thunk whose infrastructure failed (default 3)\n"
         "Limits of each thunk, where the thunk sets none itself (gg create-thunk --limit-*):\n" +
         LimitFlagsHelp();
}

Result<bool> TakeForceFlag(int argc, char** argv, int* i, ForceFlags* flags) {
  std::string arg = argv[*i];
  std::string name = arg, value;
  bool inline_value = false;
  if (arg.starts_with("--") && arg.find('=') != std::string::npos) {
    name = arg.substr(0, arg.find('='));
    value = arg.substr(arg.find('=') + 1);
    inline_value = true;
  } else if (arg.starts_with("-j") && arg.size() > 2) {
    name = "-j";
    value = arg.substr(2);
    inline_value = true;
  }
  static const char* const kNames[] = {"-j",           "--jobs",        "--engine",      "--secret-file",
                                       "--storage",    "--trace",       "--max-attempts", "--timeout",
                                       "--limit-memory", "--limit-procs", "--limit-tmp",  "--limit-file",
                                       "--limit-workdir"};
  bool known = false;
  for (const char* k : kNames) known = known || name == k;
  if (!known) return false;
  if (!inline_value) {
    if (*i + 1 >= argc) return Status::Invalid(name + " needs a value");
    value = argv[*i + 1];
  }
  *i += inline_value ? 1 : 2;
  if (name == "-j" || name == "--jobs") {
    GG_ASSIGN_OR_RETURN(flags->engines.jobs, PositiveInt(name, value));
  } else if (name == "--engine") {
    flags->engines.specs.push_back(value);
  } else if (name == "--secret-file") {
    flags->engines.secret_file = value;
  } else if (name == "--storage") {
    flags->storage_uri = value;
  } else if (name == "--trace") {
    flags->trace_path = value;
  } else if (name == "--max-attempts") {
    GG_ASSIGN_OR_RETURN(flags->max_attempts, PositiveInt(name, value));
  } else if (name.starts_with("--limit-")) {
    GG_RETURN_IF_ERROR(TakeLimitFlag(name, value, &flags->limits).status());
  } else {
    char* end = nullptr;
    flags->straggler_seconds = std::strtod(value.c_str(), &end);
    if (value.empty() || *end != '\0' || !(flags->straggler_seconds > 0)) {
      return Status::Invalid("--timeout takes a positive number of seconds, not '" + value + "'");
    }
  }
  return true;
}

Result<std::vector<char*>> ExtractForceFlags(int argc, char** argv, std::initializer_list<std::string_view> valued,
                                             ForceFlags* flags) {
  std::vector<char*> rest = {argv[0]};
  int i = 1;
  while (i < argc) {
    std::string_view a = argv[i];
    if (a == "--" || !a.starts_with("-") || a == "-") break;
    GG_ASSIGN_OR_RETURN(bool taken, TakeForceFlag(argc, argv, &i, flags));
    if (taken) continue;
    rest.push_back(argv[i++]);
    for (std::string_view v : valued) {
      if (a == v && i < argc) rest.push_back(argv[i++]);
    }
  }
  for (; i < argc; ++i) rest.push_back(argv[i]);
  return rest;
}

Result<std::unique_ptr<ForceSetup>> SetUpForce(LocalStore* store, const ForceFlags& flags) {
  auto setup = std::make_unique<ForceSetup>();
  engines::Config config = flags.engines;
  if (auto uri = StorageUriFromFlagOrEnv(flags.storage_uri); uri.ok()) {
    GG_ASSIGN_OR_RETURN(setup->storage, OpenStorage(*uri));
    setup->shared = std::make_unique<RemoteCache>(*setup->storage);
    config.storage_uri = *uri;
    config.shared = setup->shared.get();
  }
  GG_ASSIGN_OR_RETURN(setup->engines, engines::CreateFromSpecs(store, config));
  ForceOptions& o = setup->options;
  o.engines = setup->engines->engines();
  o.shared = setup->shared.get();
  o.straggler_seconds = flags.straggler_seconds;
  o.max_attempts = flags.max_attempts;
  o.trace_path = flags.trace_path;
  o.limits = flags.limits;
  signal(SIGPIPE, SIG_IGN);  // a worker that goes away must not kill us
  o.interrupted = CatchInterrupts();
  return setup;
}

}  // namespace gg::cli
