#include "core/diagnostics.h"

#include "core/path_util.h"

namespace gg {

Status RecordDiagnostics(LocalStore& store, const Name& thunk, std::string_view text) {
  std::string dir = store.dir() + "/diagnostics";
  GG_RETURN_IF_ERROR(MakeDirs(dir));
  return WriteFileAtomic(dir + "/" + thunk.str(), text);
}

std::optional<std::string> FindDiagnostics(LocalStore& store, const Name& thunk) {
  auto text = ReadFile(store.dir() + "/diagnostics/" + thunk.str());
  if (!text.ok() || text->empty()) return std::nullopt;
  return *text;
}

}  // namespace gg
