// gg: run jobs as hermetic, content-addressed thunks.
#include <cstdio>
#include <cstring>

#include "cli/command.h"
#include "sandbox/sandbox.h"

namespace gg::cli {
namespace {

const Command kCommands[] = {
    {"init", "create a .gg store in the current directory", InitMain},
    {"hash", "print the name of a file's content", HashMain},
    {"collect", "store files (or directories, as trees) and print their names", CollectMain},
    {"create-thunk", "store a thunk and print its name", CreateThunkMain},
    {"force", "compute targets (placeholders or thunk names)", ForceMain},
    {"execute", "run one thunk in the sandbox and print its outputs", ExecuteMain},
    {"describe", "show a thunk (or tree) readably or as JSON", DescribeMain},
    {"cat", "write an object's content to stdout", CatMain},
    {"gc", "drop objects nothing refers to", GcMain},
    {"push", "upload objects, thunks and their reductions to a shared store", PushMain},
    {"pull", "download objects, thunks and their reductions from a shared store", PullMain},
    {"infer", "run a build with its tools replaced by models", InferMain},
    {"build", "infer a build, force it, leave the real outputs", BuildMain},
    {"test", "run GoogleTest binaries as one memoized thunk per test", TestMain},
    {"report", "turn a force's trace into an HTML timeline (or JSON)", ReportMain},
    {"explain", "why a thunk ran, failed or was not memoized", ExplainMain},
    {"worker", "run thunks for a coordinator on this machine", WorkerMain},
    {"lambda", "package the AWS Lambda function (gg lambda deploy)", LambdaMain},
    {"gcf", "package the Google Cloud Function (gg gcf package)", GcfMain},
};

void Usage(FILE* out) {
  std::fprintf(out,
               "usage: gg COMMAND [ARGS...]\n\n"
               "gg runs jobs as thousands of small, deterministic, content-addressed\n"
               "containers (thunks), in parallel, never computing the same thing twice.\n\n"
               "commands:\n");
  for (const auto& c : kCommands) std::fprintf(out, "  %-13s %s\n", c.name, c.summary);
  std::fprintf(out,
               "\nRun 'gg COMMAND --help' for a command's options. The store is the\n"
               ".gg directory found from the current directory upwards, or $GG_DIR.\n");
}

}  // namespace
}  // namespace gg::cli

int main(int argc, char** argv) {
  if (int rc = gg::sandbox::MaybeRunServer(argc, argv); rc >= 0) return rc;
  using namespace gg::cli;
  if (argc < 2) {
    Usage(stderr);
    return kExitUsage;
  }
  if (std::strcmp(argv[1], "--help") == 0 || std::strcmp(argv[1], "-h") == 0 || std::strcmp(argv[1], "help") == 0) {
    Usage(stdout);
    return kExitOk;
  }
  if (std::strcmp(argv[1], "--version") == 0) {
    std::printf("gg 0.1.0\n");
    return kExitOk;
  }
  for (const auto& c : kCommands) {
    if (std::strcmp(argv[1], c.name) == 0) return c.run(argc - 1, argv + 1);
  }
  std::fprintf(stderr, "gg: unknown command '%s'\n\n", argv[1]);
  Usage(stderr);
  return kExitUsage;
}
