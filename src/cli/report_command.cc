// gg report: a trace as a self-contained HTML page, or as JSON.
#include <getopt.h>
#include <unistd.h>

#include <cstdio>

#include "cli/command.h"
#include "coordinator/coordinator.h"
#include "core/path_util.h"
#include "report/html_report.h"
#include "report/json_report.h"

namespace gg::cli {
namespace {

constexpr char kUsage[] =
    "usage: gg report [TRACE] [-o FILE] [--json]\n\n"
    "Turns the trace of a force into one self-contained HTML page (no network\n"
    "needed to view it): the timeline with one row per engine slot, each run a\n"
    "bar coloured by phase and kind, retries, straggler copies and cancelled\n"
    "losers marked; the critical path against the wall time; utilisation over\n"
    "time; the slowest thunks with their commands; totals per function.\n"
    "TRACE is a file written by --trace, or by default the store's trace of the\n"
    "last `gg force` or `gg build` that ran anything. See docs/report.md.\n\n"
    "  -o FILE   where to write the page (default: report.html)\n"
    "  --json    print the same data as JSON to stdout (or FILE) instead\n\n"
    "Exit status: 0 written, 2 usage, 3 the trace cannot be read.\n";

}  // namespace

int ReportMain(int argc, char** argv) {
  if (WantsHelp(argc, argv)) {
    std::printf("%s", kUsage);
    return kExitOk;
  }
  std::string out_path;
  bool json = false;
  static const option kLong[] = {{"json", no_argument, nullptr, 'J'}, {"output", required_argument, nullptr, 'o'},
                                 {nullptr, 0, nullptr, 0}};
  optind = 1;
  int opt;
  while ((opt = getopt_long(argc, argv, "o:", kLong, nullptr)) != -1) {
    switch (opt) {
      case 'o': out_path = optarg; break;
      case 'J': json = true; break;
      default: std::fprintf(stderr, "%s", kUsage); return kExitUsage;
    }
  }
  if (argc - optind > 1) {
    std::fprintf(stderr, "gg: report takes one TRACE\n%s", kUsage);
    return kExitUsage;
  }
  std::string trace_path;
  if (optind < argc) {
    trace_path = argv[optind];
  } else {
    auto store = OpenStoreOrComplain();
    if (!store) return kExitError;
    trace_path = store->dir() + "/" + kLastTraceFile;
    if (access(trace_path.c_str(), F_OK) != 0) {
      return Fail(Status::NotFound("no trace in the store " + store->dir() +
                                   " yet: run `gg force` or `gg build` first, or name a --trace file"));
    }
  }
  auto trace = report::ReadTrace(trace_path);
  if (!trace.ok()) return Fail(trace.status().code() == Status::Code::kInvalid
                                   ? Status::Io(trace.status().message())
                                   : trace.status());
  if (json) {
    std::string text = report::RenderJson(*trace);
    if (out_path.empty()) {
      std::fwrite(text.data(), 1, text.size(), stdout);
      return kExitOk;
    }
    if (Status s = WriteFileAtomic(out_path, text); !s.ok()) return Fail(s);
    return kExitOk;
  }
  if (out_path.empty()) out_path = "report.html";
  std::string title = "gg report: " + trace_path;
  if (Status s = WriteFileAtomic(out_path, report::RenderHtml(*trace, title)); !s.ok()) return Fail(s);
  std::fprintf(stderr, "gg: wrote %s (%zu runs)\n", out_path.c_str(), trace->runs.size());
  return kExitOk;
}

}  // namespace gg::cli
