#include "core/input_closure.h"

#include "core/tree.h"

namespace gg {
namespace {

Result<std::vector<Name>> FilesOf(LocalStore& store, const Name& tree_name) {
  GG_ASSIGN_OR_RETURN(std::string bytes, store.Get(tree_name));
  GG_ASSIGN_OR_RETURN(Tree tree, Tree::Parse(bytes));
  std::vector<Name> files;
  for (const auto& e : tree.entries) {
    if (e.kind == TreeEntry::Kind::kFile) files.push_back(e.name);
  }
  return files;
}

}  // namespace

std::vector<Name> InputClosures::Of(const Thunk& thunk) {
  std::vector<Name> names;
  for (const auto& in : thunk.inputs) {
    auto n = Name::Parse(in.name);
    if (!n.ok()) continue;
    names.push_back(n->object());
    if (n->type() != ObjectType::kTree) continue;
    std::lock_guard<std::mutex> lock(mu_);
    auto it = tree_files_.find(n->object());
    if (it == tree_files_.end()) {
      auto files = FilesOf(*store_, *n);
      if (!files.ok()) continue;  // not here (yet): not remembered either
      it = tree_files_.emplace(n->object(), std::move(*files)).first;
    }
    names.insert(names.end(), it->second.begin(), it->second.end());
  }
  return names;
}

Status FetchMissingInputs(LocalStore& store, const Thunk& thunk,
                          const std::function<Status(const std::vector<Name>&)>& fetch) {
  std::vector<Name> missing;
  for (const auto& in : thunk.inputs) {
    auto n = Name::Parse(in.name);
    if (n.ok() && !store.Has(*n)) missing.push_back(n->object());
  }
  if (!missing.empty()) GG_RETURN_IF_ERROR(fetch(missing));
  missing.clear();
  for (const auto& in : thunk.inputs) {
    auto n = Name::Parse(in.name);
    if (!n.ok() || n->type() != ObjectType::kTree) continue;
    GG_ASSIGN_OR_RETURN(std::vector<Name> files, FilesOf(store, *n));
    for (const Name& f : files) {
      if (!store.Has(f)) missing.push_back(f);
    }
  }
  if (missing.empty()) return Status::Ok();
  return fetch(missing);
}

}  // namespace gg
