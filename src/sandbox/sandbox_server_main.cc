// gg-sandbox-server FD: the sandbox server on its own, statically linked.
#include <cstdio>

#include "sandbox/sandbox.h"

int main(int argc, char** argv) {
  int r = gg::sandbox::MaybeRunServer(argc, argv);
  if (r >= 0) return r;
  std::fprintf(stderr, "usage: gg-sandbox-server __sandbox-server FD (started by gg)\n");
  return 2;
}
