#include "models/known_failures.h"

#include "core/path_util.h"

namespace gg::models {
namespace {

std::string Dir(LocalStore& store) { return store.dir() + "/models/fails"; }

}  // namespace

Status RecordKnownFailure(LocalStore& store, const Name& target, const std::string& why) {
  GG_RETURN_IF_ERROR(MakeDirs(Dir(store)));
  return WriteFileAtomic(Dir(store) + "/" + target.str(), why);
}

std::optional<std::string> KnownFailure(LocalStore& store, const Name& target) {
  auto why = ReadFile(Dir(store) + "/" + target.str());
  if (!why.ok()) return std::nullopt;
  return *why;
}

}  // namespace gg::models
