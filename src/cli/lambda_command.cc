// `gg lambda deploy`: packages the AWS Lambda function that the lambda
// engine invokes: lambda/handler.py (compiled into gg) and the statically
// linked gg-lambda executor, in a zip ready for `aws lambda create-function`.
#include <sys/stat.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "cli/command.h"
#include "cli/function_package.h"
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

int Deploy(int argc, char** argv) {
  std::string output = "gg-lambda.zip";
  std::string executor_flag;
  if (!ParsePackageArgs(argc, argv, "lambda deploy", &output, &executor_flag)) {
    std::fprintf(stderr, "%s", kUsage);
    return kExitUsage;
  }
  auto executor = FindExecutor(executor_flag);
  if (!executor.ok()) return Fail(executor.status());
  std::vector<PackageFile> files = {{"handler.py", lambda::kHandlerPy, "", 0644}, {"gg-lambda", "", *executor, 0755}};
  if (Status s = WriteZip(output, files); !s.ok()) return Fail(s);
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
