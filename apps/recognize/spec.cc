// Lines: "find\tTEXT", "model\tM", "model-file\tPATH", "fps\tN/D",
// "program\tNAME", "input\tNAME\tPATH\t0|1", "group\tI\tRESULTS",
// "frame\tI\tN\tNAME". TEXT may not hold a tab or a newline.
#include "spec.h"

#include <sstream>

namespace rec {

std::string WriteSpec(const Spec& spec) {
  std::string s = "find\t" + spec.find + "\nmodel\t" + spec.model + "\nmodel-file\t" + spec.model_file + "\nfps\t" +
                  spec.fps + "\nprogram\t" + spec.program + "\n";
  for (const auto& in : spec.closure) s += "input\t" + in.name + "\t" + in.path + "\t" + (in.executable ? "1" : "0") + "\n";
  for (size_t i = 0; i < spec.groups.size(); ++i) {
    s += "group\t" + std::to_string(i) + "\t" + spec.groups[i].results + "\n";
    for (const auto& [n, name] : spec.groups[i].frames) {
      s += "frame\t" + std::to_string(i) + "\t" + std::to_string(n) + "\t" + name + "\n";
    }
  }
  return s;
}

bool ParseSpec(const std::string& text, Spec* spec, std::string* error) {
  std::istringstream in(text);
  int line_no = 0;
  for (std::string line; std::getline(in, line);) {
    ++line_no;
    std::vector<std::string> f;
    std::istringstream fields(line);
    for (std::string x; std::getline(fields, x, '\t');) f.push_back(x);
    auto bad = [&] {
      *error = "spec line " + std::to_string(line_no) + " is malformed: " + line.substr(0, 80);
      return false;
    };
    if (f.empty()) continue;
    const std::string& key = f[0];
    if (f.size() == 2 && key == "find") spec->find = f[1];
    else if (f.size() == 1 && key == "find") spec->find.clear();
    else if (f.size() == 2 && key == "model") spec->model = f[1];
    else if (f.size() == 2 && key == "model-file") spec->model_file = f[1];
    else if (f.size() == 2 && key == "fps") spec->fps = f[1];
    else if (f.size() == 2 && key == "program") spec->program = f[1];
    else if (f.size() == 4 && key == "input") spec->closure.push_back({f[1], f[2], f[3] == "1"});
    else if (f.size() == 3 && key == "group") {
      if (std::stoul(f[1]) != spec->groups.size()) return bad();
      spec->groups.push_back({f[2], {}});
    } else if (f.size() == 4 && key == "frame") {
      size_t g = std::stoul(f[1]);
      if (g >= spec->groups.size()) return bad();
      spec->groups[g].frames[std::stol(f[2])] = f[3];
    } else {
      return bad();
    }
  }
  if (spec->program.empty() || spec->groups.empty()) {
    *error = "the spec names no program or no groups";
    return false;
  }
  return true;
}

}  // namespace rec
