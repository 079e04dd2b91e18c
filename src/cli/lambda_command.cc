// `gg lambda deploy`: packages the AWS Lambda function that the lambda
// engine invokes: lambda/handler.py (compiled into gg) and the statically
// linked gg-lambda executor, in a zip ready for `aws lambda create-function`.
#include <sys/stat.h>
#include <unistd.h>
#include <zip.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "cli/command.h"
#include "lambda/package.h"

namespace gg::cli {
namespace {

constexpr char kUsage[] =
    "usage: gg lambda deploy [--output FILE.zip] [--executor PATH]\n\n"
    "Writes the AWS Lambda function the engine 'lambda=FUNCTION' invokes: a zip\n"
    "holding handler.py (runtime python3.12 or python3.13) and gg-lambda, the\n"
    "statically linked executor. Upload it with\n\n"
    "  aws lambda create-function --function-name gg --runtime python3.12 \\\n"
    "    --handler handler.handler --zip-file fileb://FILE.zip --role ROLE_ARN \\\n"
    "    --timeout 900 --memory-size 3008 --ephemeral-storage Size=10240\n\n"
    "The function needs network access to the store (--storage) the force uses.\n\n"
    "  --output FILE.zip  where to write it (default gg-lambda.zip)\n"
    "  --executor PATH    the gg-lambda to package (default: $GG_LAMBDA_EXECUTOR,\n"
    "                     else beside gg, else where this build left it)\n";

std::string DirOfSelf() {
  char exe[4096] = {};
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  std::string path = n > 0 ? std::string(exe, n) : "";
  return path.substr(0, path.rfind('/'));
}

bool IsExecutable(const std::string& path) {
  struct stat st {};
  return stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && access(path.c_str(), X_OK) == 0;
}

Result<std::string> FindExecutor(const std::string& flag) {
  if (!flag.empty()) {
    if (!IsExecutable(flag)) return Status::NotFound("--executor " + flag + " is not an executable file");
    return flag;
  }
  std::vector<std::string> candidates;
  if (const char* env = std::getenv("GG_LAMBDA_EXECUTOR"); env != nullptr && *env != '\0') candidates.push_back(env);
  std::string dir = DirOfSelf();
  candidates.push_back(dir + "/gg-lambda");
  candidates.push_back(dir + "/../lambda/gg-lambda");
  candidates.push_back(dir + "/../libexec/gg/gg-lambda");
  candidates.push_back(lambda::kExecutorBuiltAt);
  for (const auto& c : candidates) {
    if (IsExecutable(c)) return c;
  }
  return Status::NotFound("cannot find gg-lambda (looked beside gg and at " + std::string(lambda::kExecutorBuiltAt) +
                          "): build it (target gg-lambda) or pass --executor PATH");
}

Status WriteZip(const std::string& out, const std::string& executor) {
  int err = 0;
  zip_t* z = zip_open(out.c_str(), ZIP_CREATE | ZIP_TRUNCATE, &err);
  if (z == nullptr) {
    zip_error_t e;
    zip_error_init_with_code(&e, err);
    Status s = Status::Io("cannot create " + out + ": " + zip_error_strerror(&e));
    zip_error_fini(&e);
    return s;
  }
  auto fail = [&](const std::string& what) {
    Status s = Status::Io(what + " in " + out + ": " + zip_strerror(z));
    zip_discard(z);
    unlink(out.c_str());
    return s;
  };
  zip_source_t* handler = zip_source_buffer(z, lambda::kHandlerPy, std::strlen(lambda::kHandlerPy), 0);
  zip_int64_t hi = handler == nullptr ? -1 : zip_file_add(z, "handler.py", handler, ZIP_FL_OVERWRITE);
  if (hi < 0) {
    if (handler != nullptr) zip_source_free(handler);
    return fail("adding handler.py");
  }
  zip_source_t* exe = zip_source_file(z, executor.c_str(), 0, -1);
  zip_int64_t ei = exe == nullptr ? -1 : zip_file_add(z, "gg-lambda", exe, ZIP_FL_OVERWRITE);
  if (ei < 0) {
    if (exe != nullptr) zip_source_free(exe);
    return fail("adding " + executor);
  }
  // Unix modes: Lambda keeps the executable bit from the zip.
  if (zip_file_set_external_attributes(z, hi, 0, ZIP_OPSYS_UNIX, (0100644u) << 16) < 0 ||
      zip_file_set_external_attributes(z, ei, 0, ZIP_OPSYS_UNIX, (0100755u) << 16) < 0) {
    return fail("setting file modes");
  }
  if (zip_close(z) < 0) return fail("writing");
  return Status::Ok();
}

int Deploy(int argc, char** argv) {
  std::string output = "gg-lambda.zip";
  std::string executor_flag;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if ((a == "--output" || a == "-o") && i + 1 < argc) {
      output = argv[++i];
    } else if (a.starts_with("--output=")) {
      output = a.substr(9);
    } else if (a == "--executor" && i + 1 < argc) {
      executor_flag = argv[++i];
    } else if (a.starts_with("--executor=")) {
      executor_flag = a.substr(11);
    } else {
      std::fprintf(stderr, "gg: lambda deploy: unexpected '%s'\n%s", a.c_str(), kUsage);
      return kExitUsage;
    }
  }
  auto executor = FindExecutor(executor_flag);
  if (!executor.ok()) return Fail(executor.status());
  if (Status s = WriteZip(output, *executor); !s.ok()) return Fail(s);
  struct stat st {};
  stat(output.c_str(), &st);
  std::printf("wrote %s (%lld bytes: handler.py, gg-lambda)\n", output.c_str(), static_cast<long long>(st.st_size));
  std::printf(
      "create the function with:\n"
      "  aws lambda create-function --function-name gg --runtime python3.12 --handler handler.handler \\\n"
      "    --zip-file fileb://%s --role ROLE_ARN --timeout 900 --memory-size 3008\n"
      "then: gg force --storage s3://BUCKET --engine lambda=gg,region=REGION TARGET...\n",
      output.c_str());
  return kExitOk;
}

}  // namespace

int LambdaMain(int argc, char** argv) {
  if (argc >= 2 && std::strcmp(argv[1], "deploy") == 0) {
    if (WantsHelp(argc - 1, argv + 1)) {
      std::printf("%s", kUsage);
      return kExitOk;
    }
    return Deploy(argc - 1, argv + 1);
  }
  bool help = WantsHelp(argc, argv);
  std::fprintf(help ? stdout : stderr, "%s", kUsage);
  return help ? kExitOk : kExitUsage;
}

}  // namespace gg::cli
