#include "core/substitute.h"

#include "core/path_util.h"

namespace gg {
namespace {

ReductionStore Substitutes(LocalStore& store) { return ReductionStore(store.dir() + "/substitutes"); }

bool Claimed(const ReductionOutput& o) { return o.tag.starts_with(kTailClaimPrefix); }

}  // namespace

Status RecordSubstitute(LocalStore& store, const Name& thunk, const Name& substitute) {
  Reduction r;
  r.outputs.push_back({"", substitute, false});
  GG_RETURN_IF_ERROR(MakeDirs(store.dir() + "/substitutes"));
  return Substitutes(store).Put(thunk, r);
}

Result<std::optional<Name>> FindSubstitute(LocalStore& store, const Name& thunk) {
  GG_ASSIGN_OR_RETURN(auto r, Substitutes(store).Get(thunk));
  if (!r.has_value() || r->outputs.size() != 1 || !r->outputs[0].name.is_thunk() ||
      !store.Has(r->outputs[0].name)) {
    return std::optional<Name>();
  }
  return std::optional<Name>(r->outputs[0].name);
}

Result<TailClaim> SplitTailClaim(const Reduction& r, const Thunk& tail) {
  TailClaim c;
  c.own.seconds = c.tail.seconds = r.seconds;
  for (const auto& o : r.outputs) {
    if (!Claimed(o)) {
      c.own.outputs.push_back(o);
      continue;
    }
    ReductionOutput t = o;
    t.tag = o.tag.substr(sizeof kTailClaimPrefix - 1);
    c.tail.outputs.push_back(std::move(t));
  }
  if (c.own.outputs.empty() || !c.own.outputs[0].name.is_thunk()) {
    return Status::Invalid("a substitute's first output must be the thunk it reduces to");
  }
  bool same = c.tail.outputs.size() == tail.outputs.size();
  for (size_t i = 0; same && i < tail.outputs.size(); ++i) same = c.tail.outputs[i].tag == tail.outputs[i];
  if (!same) {
    std::string want, got;
    for (const auto& t : tail.outputs) want += " " + t;
    for (const auto& o : c.tail.outputs) got += " " + o.tag;
    return Status::Invalid("a substitute claimed outputs [" + got + " ] for a thunk whose outputs are [" + want + " ]");
  }
  return c;
}

Reduction WithoutTailClaim(const Reduction& r) {
  Reduction own = r;
  std::erase_if(own.outputs, Claimed);
  return own;
}

}  // namespace gg
