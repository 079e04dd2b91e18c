#include "engines/gcf_engine.h"

#include <cstdlib>

#include "engines/engine_set.h"
#include "engines/function_engine.h"

namespace gg {

Result<GcfOptions> GcfOptions::Parse(const std::string& arg) {
  GcfOptions o;
  o.limits.tmp_in_memory = true;
  std::vector<std::string> parts = engines::SplitOptions(arg);
  o.url = parts[0];
  for (size_t i = 1; i < parts.size(); ++i) {
    const std::string& part = parts[i];
    bool budget_option = false;
    GG_RETURN_IF_ERROR(o.limits.ParseOption(part, &budget_option));
    if (budget_option) continue;
    if (part.starts_with("slots=")) {
      o.slots = std::atoi(part.c_str() + 6);
    } else {
      return Status::Invalid("unknown option '" + part + "' (URL[,slots=N][,tmp=SIZE][,memory=SIZE])");
    }
  }
  if (!o.url.starts_with("http://") && !o.url.starts_with("https://")) {
    return Status::Invalid("the function's URL is missing or not http(s):// (gcf=URL, e.g. "
                           "gcf=https://REGION-PROJECT.cloudfunctions.net/gg)");
  }
  if (o.slots < 1) return Status::Invalid("slots must be positive");
  return o;
}

Result<std::unique_ptr<Engine>> CreateGcfEngine(LocalStore* store, RemoteCache* shared,
                                                const std::string& storage_uri, const GcfOptions& o) {
  GG_RETURN_IF_ERROR(FunctionEngine::NeedsStore(shared, storage_uri));
  FunctionTarget t;
  t.engine_name = "gcf=" + o.url;
  t.url = o.url;
  t.what = "cloud function " + o.url;
  if (const char* token = std::getenv("GG_GCF_TOKEN"); token != nullptr && *token != '\0') {
    t.headers.push_back(std::string("Authorization: Bearer ") + token);
  }
  t.hint_403 = " (a function that requires authentication needs GG_GCF_TOKEN: "
               "export GG_GCF_TOKEN=$(gcloud auth print-identity-token))";
  t.hint_404 = " (deploy it first: see 'gg gcf package --help')";
  t.max_payload = 32'000'000;  // Cloud Functions' HTTP request limit
  t.slots = o.slots;
  t.retry.max_attempts = o.max_attempts;
  t.retry.base_delay = 0.1;
  t.retry.max_delay = o.max_delay;
  t.budget = o.limits;
  GG_ASSIGN_OR_RETURN(auto engine, FunctionEngine::Create(store, shared, storage_uri, std::move(t)));
  return std::unique_ptr<Engine>(std::move(engine));
}

}  // namespace gg
