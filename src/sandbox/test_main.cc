// The sandbox tests' main: the test binary doubles as the sandbox server.
#include <gtest/gtest.h>

#include "sandbox/sandbox.h"

int main(int argc, char** argv) {
  int server = gg::sandbox::MaybeRunServer(argc, argv);
  if (server >= 0) return server;
  testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
