#include <getopt.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "cli/command.h"
#include "cli/force_flags.h"
#include "core/placeholder.h"
#include "gg/thunk.h"

namespace gg::cli {
namespace {

constexpr char kUsage[] =
    "usage: gg create-thunk [-v NAME[=PATH]]... [-t NAME[=PATH]]... [-e NAME[=PATH]]...\n"
    "                       [-o TAG]... [-E VAR=VALUE]... [-T SECONDS] [-C PLACEHOLDER]\n"
    "                       [--limit-memory SIZE] [--limit-procs N] [--limit-tmp SIZE]\n"
    "                       [--limit-file SIZE] [--limit-workdir SIZE]\n"
    "                       FUNCTION-NAME ARG0 [ARG...]\n\n"
    "Stores a thunk and prints its name.\n\n"
    "  -v NAME[=PATH]  a value (V...) or tree (D...) the thunk may read\n"
    "  -t NAME[=PATH]  the first output of thunk NAME (or NAME#TAG for another output)\n"
    "  -e NAME[=PATH]  an executable (mode 0555)\n"
    "                  PATH is where the thunk sees it: relative paths are in its\n"
    "                  working directory (/work), absolute ones at that path in its\n"
    "                  private filesystem. Without PATH, the name itself (relative).\n"
    "  -o TAG          an output file the function leaves in its working directory;\n"
    "                  the first is the main output (at least one is required)\n"
    "  -E VAR=VALUE    an environment variable (the environment is otherwise empty)\n"
    "  -T SECONDS      kill the thunk if it runs longer (default: no limit)\n"
    "  -C PLACEHOLDER  also write a placeholder file standing for the first output\n"
    "The thunk's own limits (part of it, so they hold on any machine; they come\n"
    "before gg force --limit-*, $GG_LIMIT_* and the defaults):\n";

constexpr char kUsageEnd[] =
    "\nFUNCTION-NAME is the executable to run (added as an input if no -e names it).\n"
    "In ARGs and -E values, @{GG:NAME} becomes the path where input NAME is seen.\n";

void PrintUsage(FILE* to) { std::fprintf(to, "%s%s%s", kUsage, LimitFlagsHelp().c_str(), kUsageEnd); }

Result<ThunkInput> ParseInput(LocalStore* store, const char* flag, const std::string& arg) {
  size_t eq = arg.find('=');
  ThunkInput in;
  in.name = arg.substr(0, eq);
  in.path = eq == std::string::npos ? in.name : arg.substr(eq + 1);
  GG_ASSIGN_OR_RETURN(Name name, Name::Parse(in.name));
  bool thunk_flag = std::strcmp(flag, "-t") == 0;
  if (thunk_flag != name.is_thunk()) {
    return Status::Invalid(std::string(flag) + " " + in.name + ": " +
                           (thunk_flag ? "-t takes a thunk name (T...)" : "a thunk's output goes with -t"));
  }
  if (std::strcmp(flag, "-e") == 0) {
    in.executable = true;
    if (name.type() != ObjectType::kValue) return Status::Invalid("-e " + in.name + ": an executable must be a value (V...)");
  }
  if (!store->Has(name)) {
    return Status::NotFound(std::string(flag) + " " + in.name + ": not in the store (store it first with 'gg collect')");
  }
  return in;
}

}  // namespace

int CreateThunkMain(int argc, char** argv) {
  if (WantsHelp(argc, argv)) {
    PrintUsage(stdout);
    return kExitOk;
  }
  auto store = OpenStoreOrComplain();
  if (!store) return kExitError;
  Thunk thunk;
  std::string placeholder;
  optind = 1;
  int opt;
  static const option kLong[] = {{"limit-memory", required_argument, nullptr, 'L'},
                                 {"limit-procs", required_argument, nullptr, 'L'},
                                 {"limit-tmp", required_argument, nullptr, 'L'},
                                 {"limit-file", required_argument, nullptr, 'L'},
                                 {"limit-workdir", required_argument, nullptr, 'L'},
                                 {nullptr, 0, nullptr, 0}};
  int long_index = 0;
  // '+': stop at FUNCTION-NAME so the function's own arguments are left alone.
  while ((opt = getopt_long(argc, argv, "+v:t:e:o:E:T:C:", kLong, &long_index)) != -1) {
    switch (opt) {
      case 'L': {
        std::string flag = std::string("--") + kLong[long_index].name;
        auto taken = TakeLimitFlag(flag, optarg, &thunk.limits);
        if (!taken.ok()) {
          std::fprintf(stderr, "gg: %s\n", taken.status().message().c_str());
          return kExitUsage;
        }
        break;
      }
      case 'v':
      case 't':
      case 'e': {
        char flag[3] = {'-', static_cast<char>(opt), 0};
        auto in = ParseInput(store.get(), flag, optarg);
        if (!in.ok()) return Fail(in.status());
        thunk.inputs.push_back(*in);
        break;
      }
      case 'o': thunk.outputs.push_back(optarg); break;
      case 'E': thunk.env.push_back(optarg); break;
      case 'T': {
        char* end = nullptr;
        double s = std::strtod(optarg, &end);
        if (end == optarg || *end != '\0') {
          std::fprintf(stderr, "gg: -T takes a number of seconds, not '%s'\n", optarg);
          return kExitUsage;
        }
        auto ms = TimeoutMsFromSeconds(s);
        if (!ms.ok()) {
          std::fprintf(stderr, "gg: -T %s: %s\n", optarg, ms.status().message().c_str());
          return kExitUsage;
        }
        thunk.timeout_ms = *ms;
        break;
      }
      case 'C': placeholder = optarg; break;
      default: PrintUsage(stderr); return kExitUsage;
    }
  }
  if (argc - optind < 2) {
    std::fprintf(stderr, "gg: create-thunk needs FUNCTION-NAME and ARG0\n");
    PrintUsage(stderr);
    return kExitUsage;
  }
  thunk.function = argv[optind++];
  for (int i = optind; i < argc; ++i) thunk.args.push_back(argv[i]);
  if (thunk.FunctionInput() == nullptr) {
    auto in = ParseInput(store.get(), "-e", thunk.function);
    if (!in.ok()) return Fail(in.status().Prefix("FUNCTION-NAME"));
    thunk.inputs.push_back(*in);
  }
  if (Status s = thunk.Validate(); !s.ok()) return Fail(Status::Invalid(s.message()));
  auto name = store->Put(thunk.Serialize());
  if (!name.ok()) return Fail(name.status());
  if (!placeholder.empty()) {
    if (Status s = WritePlaceholder(placeholder, *name); !s.ok()) return Fail(s);
  }
  std::printf("%s\n", name->str().c_str());
  return kExitOk;
}

}  // namespace gg::cli
