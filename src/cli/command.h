// The `gg` command's subcommands. Each lives in its own file and is listed
// in main.cc; each answers --help.
#pragma once

#include <atomic>
#include <memory>
#include <string>

#include "core/local_store.h"
#include "gg/status.h"

namespace gg::cli {

/// Exit statuses, documented in docs/cli.md.
enum ExitCode {
  kExitOk = 0,
  kExitThunkFailed = 1,   ///< a thunk's program failed (or timed out)
  kExitUsage = 2,         ///< bad command line
  kExitError = 3,         ///< anything else: a missing object, a corrupt store, i/o
  kExitInterrupted = 130,
};

struct Command {
  const char* name;
  const char* summary;
  int (*run)(int argc, char** argv);
};

int InitMain(int argc, char** argv);
int HashMain(int argc, char** argv);
int CollectMain(int argc, char** argv);
int CreateThunkMain(int argc, char** argv);
int ForceMain(int argc, char** argv);
int ExecuteMain(int argc, char** argv);
int DescribeMain(int argc, char** argv);
int CatMain(int argc, char** argv);
int GcMain(int argc, char** argv);
int WorkerMain(int argc, char** argv);
int LambdaMain(int argc, char** argv);
int GcfMain(int argc, char** argv);
int InferMain(int argc, char** argv);
int BuildMain(int argc, char** argv);
int PushMain(int argc, char** argv);
int PullMain(int argc, char** argv);
int TestMain(int argc, char** argv);
int ReportMain(int argc, char** argv);
int ExplainMain(int argc, char** argv);

/// Prints "gg: <message>" to stderr.
void PrintError(const Status& s);
/// Prints the error and returns the exit code that fits it.
int Fail(const Status& s);
/// True if argv holds -h or --help before any "--".
bool WantsHelp(int argc, char** argv);
/// Makes SIGINT and SIGTERM set the returned flag (for ForceOptions), so a
/// force stops cleanly and keeps what finished.
const std::atomic<bool>* CatchInterrupts();
/// Opens the store or prints why not (returns null).
std::unique_ptr<LocalStore> OpenStoreOrComplain();
/// "1.5 MiB", "12 bytes".
std::string Bytes(uint64_t b);

}  // namespace gg::cli
