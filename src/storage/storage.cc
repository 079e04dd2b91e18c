#include "storage/storage.h"

#include <cstdlib>

#include "storage/redis_storage.h"
#include "storage/s3_storage.h"
#include "storage/uri.h"

namespace gg {

Result<std::vector<std::optional<Reduction>>> Storage::GetReductions(const std::vector<Name>& thunks) {
  std::vector<std::optional<Reduction>> out;
  out.reserve(thunks.size());
  for (const auto& t : thunks) {
    GG_ASSIGN_OR_RETURN(auto r, GetReduction(t));
    out.push_back(std::move(r));
  }
  return out;
}

Result<std::unique_ptr<Storage>> OpenStorage(const std::string& uri) {
  GG_ASSIGN_OR_RETURN(ParsedUri u, ParseUri(uri));
  if (u.scheme == "redis") return OpenRedisStorage(u);
  if (u.scheme == "s3" || u.scheme == "gs") return OpenS3Storage(u);
  return Status::Invalid("unknown storage scheme '" + u.scheme +
                         "://': use redis://host[:port][/db], s3://bucket[/prefix] or gs://bucket[/prefix]");
}

Result<std::string> StorageUriFromFlagOrEnv(const std::string& flag) {
  if (!flag.empty()) return flag;
  if (const char* env = std::getenv("GG_STORAGE_URI"); env != nullptr && *env != '\0') return std::string(env);
  return Status::Invalid("no shared store given: pass --storage URI or set GG_STORAGE_URI "
                         "(redis://host[:port][/db], s3://bucket[/prefix], gs://bucket[/prefix])");
}

}  // namespace gg
