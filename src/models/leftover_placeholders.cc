#include "models/leftover_placeholders.h"

#include <unistd.h>

#include <cerrno>

#include "core/path_util.h"

namespace gg::models {

bool IsIncludedDependencyFile(const std::string& path) {
  return path.ends_with(".Po") || path.ends_with(".Plo");
}

std::optional<ReductionOutput> ReducedOutput(LocalStore* store, const Name& target) {
  Name t = target;
  // Tail recursion: a reduction may name another thunk; a chain is short.
  for (int hop = 0; hop < 64 && t.is_thunk(); ++hop) {
    auto r = store->reductions().Get(t.object());
    if (!r.ok() || !r->has_value()) return std::nullopt;
    const ReductionOutput* o = (*r)->Find(t.tag());
    if (!o) return std::nullopt;
    if (!o->name.is_thunk()) {
      if (!store->Has(o->name)) return std::nullopt;
      return *o;
    }
    t = o->name;
  }
  return std::nullopt;
}

Result<LeftoverSummary> ResolveLeftoverPlaceholders(LocalStore* store,
                                                    const std::map<std::string, Name>& placeholders) {
  LeftoverSummary sum;
  for (const auto& [path, target] : placeholders) {
    if (auto out = ReducedOutput(store, target)) {
      if (store->CopyOut(out->name, path, out->executable).ok()) {
        ++sum.written;
        continue;
      }
    }
    if (IsIncludedDependencyFile(path)) {
      GG_RETURN_IF_ERROR(WriteFileAtomic(path, "# dummy\n"));
      ++sum.dummied;
    } else if (unlink(path.c_str()) == 0 || errno == ENOENT) {
      ++sum.removed;
    } else {
      return Status::FromErrno("cannot remove the placeholder " + path, errno);
    }
  }
  return sum;
}

}  // namespace gg::models
