#include "core/input_closure.h"

#include "core/tree.h"

namespace gg {

std::vector<Name> InputClosure(LocalStore& store, const Thunk& thunk) {
  std::vector<Name> names;
  for (const auto& in : thunk.inputs) {
    auto n = Name::Parse(in.name);
    if (!n.ok()) continue;
    names.push_back(n->object());
    if (n->type() != ObjectType::kTree) continue;
    auto bytes = store.Get(*n);
    if (!bytes.ok()) continue;
    auto tree = Tree::Parse(*bytes);
    if (!tree.ok()) continue;
    for (const auto& e : tree->entries) {
      if (e.kind == TreeEntry::Kind::kFile) names.push_back(e.name);
    }
  }
  return names;
}

}  // namespace gg
