// What the dynamic stage's scan thunks need to make further thunks: the
// program's inputs, the model, the query, and every group's results and
// frames by name. Written by the front end, stored as a value, read by scan.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "gg/thunk.h"

namespace rec {

struct Group {
  std::string results;                 ///< the recognize thunk of the group (T...)
  std::map<long, std::string> frames;  ///< frame number -> its object (T...#frameNNNNNN.png)
};

struct Spec {
  std::string find, model, model_file, fps;  ///< fps as "N/D"
  std::string program;                       ///< gg-recognize's value name
  std::vector<gg::ThunkInput> closure;       ///< the program, its libraries, the model
  std::vector<Group> groups;
};

/// Tab-separated lines, one fact a line (see spec.cc).
std::string WriteSpec(const Spec& spec);
bool ParseSpec(const std::string& text, Spec* spec, std::string* error);

}  // namespace rec
