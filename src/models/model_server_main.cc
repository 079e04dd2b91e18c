// gg-model-server SESSION_DIR: answers gg-model's requests on the listening
// socket it inherits as fd 3, until gg infer shuts the socket down.
#include <cstdio>

#include "models/model_server.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: gg-model-server SESSION_DIR (started by gg infer, socket on fd 3)\n");
    return 2;
  }
  return gg::models::ServeModels(argv[1], 3);
}
