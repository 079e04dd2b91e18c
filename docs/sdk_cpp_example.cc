// The complete example of docs/sdk_cpp.md (built against an installed SDK by
// tests/sdk_test.py): two thunks, the second consuming the first's output,
// forced on this machine, the result read back.
//
//   app BUSYBOX    uses the store in $GG_DIR (default ./.gg), created if missing
#include <cstdio>
#include <cstdlib>

#include "gg/gg.h"

namespace {

int Fail(const gg::Status& status) {
  std::fprintf(stderr, "app: %s\n", status.ToString().c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: app BUSYBOX\n");
    return 2;
  }
  const char* dir = std::getenv("GG_DIR");
  auto store = gg::Store::Init(dir != nullptr ? dir : ".gg");
  if (!store.ok()) return Fail(store.status());

  // Inputs by value: a program and some text.
  auto sh = store->Collect(argv[1]);
  if (!sh.ok()) return Fail(sh.status());
  auto text = store->Put("hello from a thunk\n");
  if (!text.ok()) return Fail(text.status());

  // upper: its input is seen at in.txt; @{GG:name} in args becomes that path.
  gg::Thunk upper;
  upper.SetFunction(*sh, "/bin/sh").AddInput(*text, "in.txt");
  upper.args = {"sh", "-c", "tr a-z A-Z < " + gg::Thunk::Placeholder(*text) + " > out; wc -c < out > size"};
  upper.outputs = {"out", "size"};
  upper.timeout_ms = 10000;
  auto upper_name = store->PutThunk(upper);
  if (!upper_name.ok()) return Fail(upper_name.status());

  // both: consumes upper's first output and its output "size" (T...#size).
  gg::Thunk both;
  both.SetFunction(*sh, "/bin/sh").AddInput(*upper_name, "a").AddInput(upper_name->WithTag("size"), "n");
  both.args = {"sh", "-c", "cat a n > out"};
  both.outputs = {"out"};
  auto both_name = store->PutThunk(both);
  if (!both_name.ok()) return Fail(both_name.status());

  gg::ForceSettings options;  // the local engine, one thunk per core
  options.on_progress = [](const gg::ForceProgress& p) {
    std::fprintf(stderr, "%zu/%zu done, %zu memoized\n", p.done, p.total, p.memoized);
  };
  auto result = store->ForceAndGet(*both_name, options);
  if (!result.ok()) return Fail(result.status());
  std::printf("%s", result->c_str());
  return 0;
}
