#include "storage/remote_cache.h"

#include <set>

#include "storage/transfer.h"

namespace gg {

Result<KnownObjects*> RemoteCache::Known(LocalStore& local) {
  std::lock_guard<std::mutex> lock(mu_);
  auto& slot = known_[local.dir()];
  if (!slot) {
    GG_ASSIGN_OR_RETURN(slot, KnownObjects::Open(local.dir(), storage_.uri()));
    if (!gone_.empty()) GG_RETURN_IF_ERROR(slot->Forget(gone_));
  }
  return slot.get();
}

Result<std::optional<Reduction>> RemoteCache::Lookup(const Name& thunk) {
  GG_ASSIGN_OR_RETURN(auto v, LookupMany({thunk}));
  return std::move(v[0]);
}

Result<std::vector<std::optional<Reduction>>> RemoteCache::LookupMany(const std::vector<Name>& thunks) {
  GG_ASSIGN_OR_RETURN(auto reds, storage_.GetReductions(thunks));
  std::set<Name> wanted;
  for (const auto& r : reds) {
    if (!r) continue;
    for (const auto& o : r->outputs) wanted.insert(o.name.object());
  }
  if (wanted.empty()) return reds;
  // Always ask the store (not the known-objects record): entries whose
  // outputs were deleted there must be misses.
  std::vector<Name> ask(wanted.begin(), wanted.end());
  GG_ASSIGN_OR_RETURN(std::vector<bool> has, storage_.Has(ask));
  std::set<Name> there;
  std::vector<Name> gone;
  for (size_t i = 0; i < ask.size(); ++i) {
    if (has[i]) {
      there.insert(ask[i]);
    } else {
      gone.push_back(ask[i]);
    }
  }
  if (!gone.empty()) {
    // Deleted from the store: the next Publish must upload them again.
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& [dir, known] : known_) GG_RETURN_IF_ERROR(known->Forget(gone));
    gone_.insert(gone_.end(), gone.begin(), gone.end());
  }
  for (auto& r : reds) {
    if (!r) continue;
    for (const auto& o : r->outputs) {
      if (there.count(o.name.object()) == 0) {
        r.reset();
        break;
      }
    }
  }
  return reds;
}

Status RemoteCache::Upload(LocalStore& local, const std::vector<Name>& names) {
  GG_ASSIGN_OR_RETURN(KnownObjects * known, Known(local));
  return UploadObjects(storage_, local, known, names).status();
}

Status RemoteCache::Publish(LocalStore& local, const Name& thunk, const Name& resolved_thunk, const Reduction& r) {
  std::vector<Name> outputs;
  for (const auto& o : r.outputs) outputs.push_back(o.name.object());
  GG_RETURN_IF_ERROR(Upload(local, outputs));
  GG_RETURN_IF_ERROR(storage_.PutReduction(thunk, r));
  if (resolved_thunk.object() != thunk.object()) GG_RETURN_IF_ERROR(storage_.PutReduction(resolved_thunk, r));
  return Status::Ok();
}

Status RemoteCache::FetchOutputs(LocalStore& local, const std::vector<Name>& names) {
  GG_ASSIGN_OR_RETURN(KnownObjects * known, Known(local));
  return DownloadObjects(storage_, local, known, names).status();
}

}  // namespace gg
