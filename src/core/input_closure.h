// The objects a thunk needs to run: its inputs and, for tree inputs, the
// files inside them. What an engine ships to a machine that lacks them.
#pragma once

#include <functional>
#include <map>
#include <mutex>
#include <vector>

#include "core/local_store.h"
#include "gg/thunk.h"

namespace gg {

/// Computes input closures, remembering the file list of each tree: the
/// same trees (a toolchain, system headers) recur in thousands of thunks,
/// and reading a tree means reading and hashing it. Thread-safe.
class InputClosures {
 public:
  explicit InputClosures(LocalStore* store) : store_(store) {}

  /// Input names (untagged), each tree followed by its files. Trees that
  /// are not in the store contribute only their own name.
  std::vector<Name> Of(const Thunk& thunk);

 private:
  LocalStore* store_;
  std::mutex mu_;
  std::map<Name, std::vector<Name>> tree_files_;
};

/// Brings into `store`, through `fetch`, what `thunk` needs and the store
/// lacks: first its inputs, then the files of its tree inputs (which are
/// only known once the trees are here).
Status FetchMissingInputs(LocalStore& store, const Thunk& thunk,
                          const std::function<Status(const std::vector<Name>&)>& fetch);

}  // namespace gg
