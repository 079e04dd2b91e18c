// Writes a synthetic graph of N thunks into the store named by GG_DIR, every
// one already reduced, and prints their names (one per line) so that
// `gg force @LIST` measures what checking a large memoized job costs.
// Thunk i consumes the outputs of thunks i/2 and i/3 (a DAG with long paths).
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "core/local_store.h"
#include "gg/thunk.h"

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: make_memoized_graph N FUNCTION-FILE  (store: $GG_DIR)\n");
    return 2;
  }
  long n = std::atol(argv[1]);
  auto store = gg::LocalStore::OpenDefault();
  if (!store.ok()) {
    std::fprintf(stderr, "%s\n", store.status().ToString().c_str());
    return 1;
  }
  auto fn = (*store)->PutFile(argv[2]);
  if (!fn.ok()) return 1;
  std::vector<gg::Name> names;
  names.reserve(n);
  for (long i = 0; i < n; ++i) {
    gg::Thunk t;
    t.function = fn->str();
    t.args = {"sh", "-c", "cat a b > out; echo " + std::to_string(i) + " >> out"};
    t.inputs = {{fn->str(), "/bin/sh", true}};
    if (i > 0) t.inputs.push_back({names[i / 2].str(), "a", false});
    if (i > 1) t.inputs.push_back({names[i / 3].str(), "b", false});
    t.outputs = {"out"};
    auto name = (*store)->Put(t.Serialize());
    auto value = (*store)->Put(std::to_string(i) + "\n");
    if (!name.ok() || !value.ok()) return 1;
    gg::Reduction r;
    r.outputs = {{"out", *value, false}};
    if (!(*store)->reductions().Put(*name, r).ok()) return 1;
    names.push_back(*name);
    std::printf("%s\n", name->str().c_str());
  }
  return 0;
}
