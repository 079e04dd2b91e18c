#include "gg/store.h"

#include "core/collect.h"
#include "core/local_store.h"
#include "core/placeholder.h"
#include "sdk/store_impl.h"

namespace gg {

Store::Store(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Store::Store(Store&&) noexcept = default;
Store& Store::operator=(Store&&) noexcept = default;
Store::~Store() = default;

Result<Store> Store::Open(const std::string& dir) {
  std::string where = dir;
  if (where.empty()) {
    GG_ASSIGN_OR_RETURN(where, LocalStore::FindDir());
  }
  GG_ASSIGN_OR_RETURN(auto local, LocalStore::Open(where));
  return Store(std::make_unique<Impl>(Impl{std::move(local)}));
}

Result<Store> Store::Init(const std::string& dir) {
  if (dir.empty()) return Status::Invalid("Store::Init needs a directory (the .gg to create)");
  GG_RETURN_IF_ERROR(LocalStore::Init(dir));
  return Open(dir);
}

const std::string& Store::dir() const { return impl_->local->dir(); }

Result<Name> Store::Put(std::string_view content) { return impl_->local->Put(content); }

Result<Name> Store::PutThunk(const Thunk& thunk) {
  if (Status s = thunk.Validate(); !s.ok()) {
    return Status::Invalid("malformed thunk (function " + thunk.function + "): " + s.message());
  }
  return impl_->local->Put(thunk.Serialize());
}

Result<Name> Store::PutTree(const Tree& tree) {
  for (const auto& e : tree.entries) {
    if (e.kind == TreeEntry::Kind::kFile && !impl_->local->Has(e.name)) {
      return Status::NotFound("tree entry " + e.path + ": object " + e.name.str() +
                              " is not in the store (put or collect it first)");
    }
  }
  return impl_->local->Put(tree.Serialize());
}

Result<Name> Store::Collect(const std::string& path) { return CollectPath(impl_->local.get(), path); }

bool Store::Has(const Name& name) const { return impl_->local->Has(name); }

Result<std::string> Store::Get(const Name& name) {
  if (name.is_thunk() && name.has_tag()) {
    return Status::Invalid(name.str() + " names a thunk's output: force it first, then Get the value it returns");
  }
  return impl_->local->Get(name);
}

Result<Thunk> Store::GetThunk(const Name& name) {
  if (!name.is_thunk()) return Status::Invalid(name.str() + " is not a thunk (T...) name");
  GG_ASSIGN_OR_RETURN(std::string bytes, impl_->local->Get(name.object()));
  auto thunk = Thunk::Parse(bytes);
  if (!thunk.ok()) return thunk.status().Prefix("thunk " + name.object().str());
  return thunk;
}

Status Store::CopyOut(const Name& name, const std::string& path, bool executable) {
  return impl_->local->CopyOut(name, path, executable);
}

Result<std::optional<Name>> Store::ReducedTo(const Name& thunk) {
  if (!thunk.is_thunk()) return Status::Invalid(thunk.str() + " is not a thunk (T...) name");
  GG_ASSIGN_OR_RETURN(auto reduction, impl_->local->reductions().Get(thunk.object()));
  if (!reduction) return std::optional<Name>();
  const ReductionOutput* out = reduction->Find(thunk.tag());
  if (out == nullptr) {
    return Status::NotFound("thunk " + thunk.object().str() + " has no output '" + thunk.tag() + "'");
  }
  return std::optional<Name>(out->name);
}

Status Store::WritePlaceholder(const std::string& path, const Name& target) {
  return gg::WritePlaceholder(path, target);
}

Result<std::string> Store::ForceAndGet(const Name& target, const ForceSettings& options) {
  GG_ASSIGN_OR_RETURN(auto outputs, Force({target}, options));
  return Get(outputs.at(0));
}

}  // namespace gg
