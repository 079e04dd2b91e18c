#include "storage/transfer.h"

#include <algorithm>
#include <set>

#include "core/tree.h"
#include "gg/thunk.h"

namespace gg {
namespace {

std::vector<Name> Unique(const std::vector<Name>& names) {
  std::set<Name> seen;
  std::vector<Name> out;
  for (const auto& n : names) {
    if (seen.insert(n.object()).second) out.push_back(n.object());
  }
  return out;
}

/// Objects an object refers to that travel with it: a tree's files, a
/// thunk's inputs (thunk outputs as their thunks).
Status References(LocalStore& local, const Name& n, std::vector<Name>* refs) {
  if (n.type() == ObjectType::kValue) return Status::Ok();
  GG_ASSIGN_OR_RETURN(std::string bytes, local.Get(n));
  if (n.type() == ObjectType::kTree) {
    GG_ASSIGN_OR_RETURN(Tree tree, Tree::Parse(bytes));
    for (const auto& e : tree.entries) {
      if (e.kind == TreeEntry::Kind::kFile) refs->push_back(e.name);
    }
    return Status::Ok();
  }
  GG_ASSIGN_OR_RETURN(Thunk thunk, Thunk::Parse(bytes));
  for (const auto& in : thunk.inputs) {
    GG_ASSIGN_OR_RETURN(Name name, Name::Parse(in.name));
    refs->push_back(name.object());
  }
  return Status::Ok();
}

}  // namespace

Result<TransferStats> UploadObjects(Storage& storage, LocalStore& local, KnownObjects* known,
                                    const std::vector<Name>& names) {
  TransferStats stats;
  std::vector<Name> ask;
  for (const auto& n : Unique(names)) {
    if (known != nullptr && known->Contains(n)) {
      stats.skipped++;
    } else {
      ask.push_back(n);
    }
  }
  if (ask.empty()) return stats;
  std::vector<Name> send, large;
  for (const auto& n : ask) {
    if (n.size() > kAskBeforeUploadSize) {
      large.push_back(n);
    } else {
      send.push_back(n);
      stats.bytes += n.size();
    }
  }
  if (!large.empty()) {
    GG_ASSIGN_OR_RETURN(std::vector<bool> has, storage.Has(large));
    for (size_t i = 0; i < large.size(); ++i) {
      if (has[i]) {
        stats.skipped++;
      } else {
        send.push_back(large[i]);
        stats.bytes += large[i].size();
      }
    }
  }
  GG_RETURN_IF_ERROR(storage.Put(local, send));
  stats.sent = send.size();
  if (known != nullptr) GG_RETURN_IF_ERROR(known->Add(ask));
  return stats;
}

Result<TransferStats> DownloadObjects(Storage& storage, LocalStore& local, KnownObjects* known,
                                      const std::vector<Name>& names) {
  TransferStats stats;
  std::vector<Name> fetch;
  for (const auto& n : Unique(names)) {
    if (local.Has(n)) {
      stats.skipped++;
    } else {
      fetch.push_back(n);
      stats.bytes += n.size();
    }
  }
  if (fetch.empty()) return stats;
  GG_RETURN_IF_ERROR(storage.Get(local, fetch));
  stats.sent = fetch.size();
  if (known != nullptr) GG_RETURN_IF_ERROR(known->Add(fetch));
  return stats;
}

Result<TransferStats> PushClosure(Storage& storage, LocalStore& local, KnownObjects* known,
                                  const std::vector<Name>& names) {
  std::set<Name> seen;
  std::vector<Name> objects;
  std::vector<std::pair<Name, Reduction>> reductions;
  size_t unavailable = 0;
  std::vector<std::pair<Name, bool>> stack;  // (object, named by the user)
  for (auto it = names.rbegin(); it != names.rend(); ++it) stack.push_back({it->object(), true});
  while (!stack.empty()) {
    auto [n, named] = stack.back();
    stack.pop_back();
    if (!seen.insert(n).second) continue;
    if (!local.Has(n)) {
      if (named) return Status::NotFound("cannot push " + n.str() + ": it is not in the local store " + local.dir());
      unavailable++;
      continue;
    }
    objects.push_back(n);
    std::vector<Name> refs;
    GG_RETURN_IF_ERROR(References(local, n, &refs).Prefix("reading " + n.str()));
    if (n.is_thunk()) {
      GG_ASSIGN_OR_RETURN(auto red, local.reductions().Get(n));
      if (red.has_value()) {
        for (const auto& o : red->outputs) refs.push_back(o.name.object());
        reductions.push_back({n, *red});
      }
    }
    for (auto it = refs.rbegin(); it != refs.rend(); ++it) stack.push_back({*it, false});
  }
  GG_ASSIGN_OR_RETURN(TransferStats stats, UploadObjects(storage, local, known, objects));
  // Reductions go after their outputs, so a reader never finds one whose
  // outputs are not there yet.
  for (const auto& [thunk, red] : reductions) {
    bool outputs_local = true;
    for (const auto& o : red.outputs) outputs_local = outputs_local && local.Has(o.name);
    if (!outputs_local) continue;  // collected away locally: nothing to vouch for
    GG_RETURN_IF_ERROR(storage.PutReduction(thunk, red));
    stats.reductions++;
  }
  stats.unavailable = unavailable;
  return stats;
}

Result<TransferStats> PullClosure(Storage& storage, LocalStore& local, KnownObjects* known,
                                  const std::vector<Name>& names) {
  TransferStats total;
  std::set<Name> seen;
  std::vector<Name> level;
  for (const auto& n : names) {
    if (seen.insert(n.object()).second) level.push_back(n.object());
  }
  bool first = true;
  while (!level.empty()) {
    // The level's objects themselves: named ones must exist; referenced
    // ones that are missing are counted.
    std::vector<Name> fetch;
    for (const auto& n : level) {
      if (!local.Has(n)) fetch.push_back(n);
    }
    std::vector<Name> present_remote = fetch;
    if (!first && !fetch.empty()) {
      GG_ASSIGN_OR_RETURN(std::vector<bool> has, storage.Has(fetch));
      present_remote.clear();
      for (size_t i = 0; i < fetch.size(); ++i) {
        if (has[i]) present_remote.push_back(fetch[i]);
        else total.unavailable++;
      }
    }
    GG_ASSIGN_OR_RETURN(TransferStats s, DownloadObjects(storage, local, known, present_remote));
    total.sent += s.sent;
    total.bytes += s.bytes;
    total.skipped += level.size() - fetch.size();

    std::vector<Name> thunks;
    for (const auto& n : level) {
      if (n.is_thunk() && local.Has(n)) thunks.push_back(n);
    }
    std::vector<std::optional<Reduction>> reds(thunks.size());
    if (!thunks.empty()) {
      GG_ASSIGN_OR_RETURN(reds, storage.GetReductions(thunks));
    }
    // A reduction counts only if all its outputs are in the store.
    std::vector<Name> outputs;
    for (const auto& r : reds) {
      if (r.has_value()) {
        for (const auto& o : r->outputs) outputs.push_back(o.name.object());
      }
    }
    std::set<Name> outputs_there;
    if (!outputs.empty()) {
      std::vector<Name> missing_local;
      for (const auto& o : Unique(outputs)) {
        if (local.Has(o)) outputs_there.insert(o);
        else missing_local.push_back(o);
      }
      if (!missing_local.empty()) {
        GG_ASSIGN_OR_RETURN(std::vector<bool> has, storage.Has(missing_local));
        for (size_t i = 0; i < missing_local.size(); ++i) {
          if (has[i]) outputs_there.insert(missing_local[i]);
        }
      }
    }
    std::vector<Name> next, output_fetch;
    std::set<size_t> reduced;
    for (size_t i = 0; i < thunks.size(); ++i) {
      const auto& r = reds[i];
      bool usable = r.has_value();
      if (usable) {
        for (const auto& o : r->outputs) usable = usable && outputs_there.count(o.name.object()) > 0;
      }
      if (usable) {
        reduced.insert(i);
        for (const auto& o : r->outputs) output_fetch.push_back(o.name.object());
      }
    }
    GG_ASSIGN_OR_RETURN(TransferStats os, DownloadObjects(storage, local, known, output_fetch));
    total.sent += os.sent;
    total.bytes += os.bytes;
    for (size_t i : reduced) {
      GG_RETURN_IF_ERROR(local.reductions().Put(thunks[i], *reds[i]));
      total.reductions++;
    }
    // Recurse into trees, outputs that are trees or thunks, and the inputs
    // of thunks that have no usable reduction.
    auto follow = [&](const Name& n) {
      if (seen.insert(n).second) next.push_back(n);
    };
    for (const auto& o : output_fetch) {
      if (o.type() != ObjectType::kValue) follow(o);
    }
    for (const auto& n : level) {
      if (!local.Has(n) || n.type() == ObjectType::kValue) continue;
      if (n.is_thunk()) {
        size_t idx = std::find(thunks.begin(), thunks.end(), n) - thunks.begin();
        if (reduced.count(idx) > 0) continue;
      }
      std::vector<Name> refs;
      GG_RETURN_IF_ERROR(References(local, n, &refs).Prefix("reading " + n.str()));
      for (const auto& r : refs) follow(r);
    }
    level = std::move(next);
    first = false;
  }
  return total;
}

}  // namespace gg
