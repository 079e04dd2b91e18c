// `gg gcf package`: writes the source of the Google Cloud Function that the
// gcf engine invokes: gcf/index.js and gcf/package.json (compiled into gg)
// and the statically linked gg-lambda executor, as a directory for `gcloud
// functions deploy --source` or a zip.
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
    "usage: gg gcf package [--output DIR|FILE.zip] [--executor PATH]\n\n"
    "Writes the Google Cloud Function the engine 'gcf=URL' invokes: index.js (a\n"
    "Node 20 handler, entry point 'gg'), package.json and gg-lambda, the\n"
    "statically linked executor, into a directory (or a zip if the name ends in\n"
    ".zip). Deploy it with\n\n"
    "  gcloud functions deploy gg --gen2 --runtime nodejs20 --trigger-http \\\n"
    "    --entry-point gg --source DIR --memory 2GiB --timeout 540s \\\n"
    "    --set-env-vars GG_SANDBOX=none\n\n"
    "The function needs network access to the store (--storage) the force uses\n"
    "(for s3:// and gs://, AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in its\n"
    "environment: HMAC keys for gs://). Run it locally with the Functions Framework:\n\n"
    "  npx @google-cloud/functions-framework --source DIR --target gg --port 8080\n\n"
    "  --output PATH     where to write it (default gg-gcf, a directory)\n"
    "  --executor PATH   the gg-lambda to package (default: $GG_LAMBDA_EXECUTOR,\n"
    "                    else beside gg, else where this build left it)\n";

int Package(int argc, char** argv) {
  std::string output = "gg-gcf";
  std::string executor_flag;
  if (!ParsePackageArgs(argc, argv, "gcf package", &output, &executor_flag)) {
    std::fprintf(stderr, "%s", kUsage);
    return kExitUsage;
  }
  auto executor = FindExecutor(executor_flag);
  if (!executor.ok()) return Fail(executor.status());
  std::vector<PackageFile> files = {{"index.js", gcf::kIndexJs, "", 0644},
                                    {"package.json", gcf::kPackageJson, "", 0644},
                                    {"gg-lambda", "", *executor, 0755}};
  bool zip = output.ends_with(".zip");
  if (Status s = zip ? WriteZip(output, files) : WriteDirectory(output, files); !s.ok()) return Fail(s);
  std::printf("wrote %s (index.js, package.json, gg-lambda)\n", output.c_str());
  std::printf(
      "deploy it with:\n"
      "  gcloud functions deploy gg --gen2 --runtime nodejs20 --trigger-http --entry-point gg \\\n"
      "    --source %s --memory 2GiB --timeout 540s --set-env-vars GG_SANDBOX=none\n"
      "then: gg force --storage redis://HOST:PORT --engine gcf=FUNCTION_URL TARGET...\n"
      "(an s3:// or gs:// store needs AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY set on the function)\n",
      output.c_str());
  return kExitOk;
}

}  // namespace

int GcfMain(int argc, char** argv) {
  if (argc >= 2 && std::strcmp(argv[1], "package") == 0) {
    if (WantsHelp(argc - 1, argv + 1)) {
      std::printf("%s", kUsage);
      return kExitOk;
    }
    return Package(argc - 1, argv + 1);
  }
  bool help = WantsHelp(argc, argv);
  std::fprintf(help ? stdout : stderr, "%s", kUsage);
  return help ? kExitOk : kExitUsage;
}

}  // namespace gg::cli
