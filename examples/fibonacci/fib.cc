// fib: the function of the fibonacci example, written with gg's C++ SDK.
//
//   fib fib N SELF   computes fib(N): for N < 2 its output is the number; for
//                    larger N its output is a new thunk, add(fib(N-1), fib(N-2)),
//                    which gg forces in its place (tail recursion). It also
//                    outputs the two fib thunks, so they are stored too.
//   fib add A B      writes A + B.
//
// SELF is the name of this executable, so it can make thunks that run itself.
// Because fib(k) is always the same thunk, gg computes each one once: forcing
// fib(N) runs O(N) thunks, not O(fib(N)).
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "gg/thunk.h"

namespace {

gg::Thunk FibThunk(const gg::Name& self, unsigned long n) {
  gg::Thunk t;
  t.SetFunction(self, "fib");
  t.args = {"fib", "fib", std::to_string(n), self.str()};
  t.outputs = {"out", "left", "right"};
  return t;
}

bool WriteFile(const char* path, const std::string& content) {
  std::ofstream out(path, std::ios::binary);
  out << content;
  return static_cast<bool>(out);
}

std::string ReadFile(const char* path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

int main(int argc, char** argv) {
  std::string mode = argc > 1 ? argv[1] : "";
  if (mode == "fib" && argc == 4) {
    unsigned long n = std::strtoul(argv[2], nullptr, 10);
    auto self = gg::Name::Parse(argv[3]);
    if (!self.ok()) {
      std::fprintf(stderr, "fib: %s\n", self.status().ToString().c_str());
      return 2;
    }
    if (n < 2) {
      return WriteFile("out", std::to_string(n)) && WriteFile("left", "") && WriteFile("right", "") ? 0 : 1;
    }
    gg::Thunk left = FibThunk(*self, n - 1);
    gg::Thunk right = FibThunk(*self, n - 2);
    gg::Thunk add;
    add.SetFunction(*self, "fib").AddInput(left.name(), "a").AddInput(right.name(), "b");
    add.args = {"fib", "add", "a", "b"};
    add.outputs = {"out"};
    return WriteFile("out", add.Serialize()) && WriteFile("left", left.Serialize()) &&
                   WriteFile("right", right.Serialize())
               ? 0
               : 1;
  }
  if (mode == "add" && argc == 4) {
    unsigned long long a = std::strtoull(ReadFile(argv[2]).c_str(), nullptr, 10);
    unsigned long long b = std::strtoull(ReadFile(argv[3]).c_str(), nullptr, 10);
    return WriteFile("out", std::to_string(a + b)) ? 0 : 1;
  }
  if (mode == "thunk" && argc == 4) {
    // Used by the run script: print the serialized fib(N) thunk.
    auto self = gg::Name::Parse(argv[3]);
    if (!self.ok()) {
      std::fprintf(stderr, "fib: %s\n", self.status().ToString().c_str());
      return 2;
    }
    std::string bytes = FibThunk(*self, std::strtoul(argv[2], nullptr, 10)).Serialize();
    std::fwrite(bytes.data(), 1, bytes.size(), stdout);
    return 0;
  }
  std::fprintf(stderr, "usage: fib fib N SELF | fib add A B | fib thunk N SELF\n");
  return 2;
}
