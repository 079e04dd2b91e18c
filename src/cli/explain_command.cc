// gg explain: what became of a thunk and why it ran.
#include <getopt.h>
#include <unistd.h>

#include <cstdio>

#include "cli/command.h"
#include "coordinator/coordinator.h"
#include "core/path_util.h"
#include "report/explain.h"

namespace gg::cli {
namespace {

constexpr char kUsage[] =
    "usage: gg explain [--trace FILE] NAME\n\n"
    "Explains NAME: a thunk (T...), a placeholder file, or an output file of\n"
    "`gg build`. For it and each thunk it reduced to (tail calls): whether it\n"
    "is reduced and to what; whether it ran in the last force, on which engine,\n"
    "how long and how many attempts, with why each retry happened; if it\n"
    "failed, its exit status, the end of its stderr and the command to run it\n"
    "by hand (`gg execute`); and why it was not memoized: the last earlier run\n"
    "of the same job (same program, work dir and outputs) and which inputs (by\n"
    "path), arguments or environment differ. See docs/report.md.\n\n"
    "  --trace FILE  the force's trace (default: the store's trace of the last\n"
    "                `gg force` or `gg build` that ran anything)\n\n"
    "Exit status: 0 explained, 2 usage, 3 NAME not found.\n";

}  // namespace

int ExplainMain(int argc, char** argv) {
  if (WantsHelp(argc, argv)) {
    std::printf("%s", kUsage);
    return kExitOk;
  }
  std::string trace_path;
  static const option kLong[] = {{"trace", required_argument, nullptr, 'r'}, {nullptr, 0, nullptr, 0}};
  optind = 1;
  int opt;
  while ((opt = getopt_long(argc, argv, "", kLong, nullptr)) != -1) {
    switch (opt) {
      case 'r': trace_path = optarg; break;
      default: std::fprintf(stderr, "%s", kUsage); return kExitUsage;
    }
  }
  if (argc - optind != 1) {
    std::fprintf(stderr, "gg: explain takes one NAME\n%s", kUsage);
    return kExitUsage;
  }
  auto store = OpenStoreOrComplain();
  if (!store) return kExitError;
  if (trace_path.empty()) trace_path = store->dir() + "/" + kLastTraceFile;
  std::optional<report::Trace> trace;
  if (access(trace_path.c_str(), F_OK) == 0) {
    auto t = report::ReadTrace(trace_path);
    if (!t.ok()) return Fail(Status::Io(t.status().message()));
    trace = std::move(*t);
  }
  auto text = report::Explain(store.get(), trace, argv[optind]);
  if (!text.ok()) return Fail(text.status());
  std::fwrite(text->data(), 1, text->size(), stdout);
  return kExitOk;
}

}  // namespace gg::cli
