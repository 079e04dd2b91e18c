// gg-lambda: the executor inside an AWS Lambda function. Statically linked
// (the function's image has no libraries to rely on); lambda/handler.py
// downloads a thunk's inputs into a gg store under /tmp, runs
//
//   gg-lambda run STORE_DIR THUNK_FILE
//
// and uploads the outputs it names. It prints one JSON result line
// (docs/lambda.md) and exits 0 whenever it could say how the thunk ended.
//
// In the long-running mode the function instead serves a coordinator as a
// worker for the length of a job, moving objects through its connection:
//
//   gg-lambda worker --connect HOST:PORT --secret-file FILE --slots N --cache DIR [--budget SECONDS]
//
// With --budget it drains after that many seconds (before the function's
// time limit): the coordinator lets it go once its thunks are done and starts
// a replacement.
#include <cstdio>
#include <cstring>
#include <string>

#include "core/local_store.h"
#include "core/path_util.h"
#include "engines/lambda_payload.h"
#include "net/connection.h"
#include "worker/worker.h"
#include "sandbox/executor.h"
#include "sandbox/sandbox.h"

namespace {

int Report(const gg::ExecResult& r, bool hermetic) {
  std::printf("%s\n", gg::lambda::ResultToJson(r, hermetic).c_str());
  return 0;
}

int SetupFailure(const std::string& why) {
  gg::ExecResult r;
  r.kind = gg::ExecResult::Kind::kSetupFailed;
  r.message = "gg-lambda: " + why;
  return Report(r, false);
}

int WorkerMain(int argc, char** argv) {
  gg::WorkerOptions options;
  std::string secret_file;
  for (int i = 2; i + 1 < argc; i += 2) {
    std::string flag = argv[i], value = argv[i + 1];
    if (flag == "--connect") options.coordinator = value;
    else if (flag == "--secret-file") secret_file = value;
    else if (flag == "--slots") options.slots = std::atoi(value.c_str());
    else if (flag == "--cache") options.cache_dir = value;
    else if (flag == "--wait") options.connect_timeout = std::atof(value.c_str());
    else if (flag == "--budget") options.budget_seconds = std::atof(value.c_str());
  }
  if (options.coordinator.empty() || secret_file.empty() || options.cache_dir.empty() || options.slots < 1) {
    std::fprintf(stderr, "usage: gg-lambda worker --connect HOST:PORT --secret-file FILE --slots N --cache DIR "
                         "[--budget SECONDS]\n");
    return 2;
  }
  auto secret = gg::net::ReadSecretFile(secret_file);
  if (!secret.ok()) {
    std::fprintf(stderr, "gg-lambda worker: %s\n", secret.status().message().c_str());
    return 2;
  }
  options.secret = *secret;
  gg::Status s = gg::RunWorker(options);
  if (!s.ok()) {
    std::fprintf(stderr, "gg-lambda worker: %s\n", s.message().c_str());
    return 3;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (int rc = gg::sandbox::MaybeRunServer(argc, argv); rc >= 0) return rc;
  if (argc >= 2 && std::strcmp(argv[1], "worker") == 0) return WorkerMain(argc, argv);
  if (argc != 4 || std::strcmp(argv[1], "run") != 0) {
    std::fprintf(stderr,
                 "usage: gg-lambda run STORE_DIR THUNK_FILE\n"
                 "       gg-lambda worker --connect HOST:PORT --secret-file FILE --slots N --cache DIR\n"
                 "                        [--budget SECONDS]\n\n"
                 "Runs the thunk in THUNK_FILE, whose inputs are already in the gg store\n"
                 "STORE_DIR (created if missing), and prints its result as one JSON line.\n"
                 "GG_SANDBOX=none runs it without namespaces (as in AWS Lambda).\n");
    return 2;
  }
  std::string dir = argv[2];
  if (gg::Status s = gg::LocalStore::Init(dir); !s.ok()) return SetupFailure(s.message());
  auto store = gg::LocalStore::Open(dir);
  if (!store.ok()) return SetupFailure(store.status().message());
  auto bytes = gg::ReadFile(argv[3]);
  if (!bytes.ok()) return SetupFailure(bytes.status().message());
  auto thunk = gg::Thunk::Parse(*bytes);
  if (!thunk.ok()) return SetupFailure("the thunk does not parse: " + thunk.status().message());
  auto server = gg::sandbox::Server::Start();
  if (!server.ok()) return SetupFailure(server.status().message());
  gg::Executor executor(store->get(), server->get());
  gg::ExecResult r = executor.Run(*thunk);
  return Report(r, (*server)->hermetic());
}
