#include "models/system_sources.h"

#include <sys/stat.h>

#include <filesystem>
#include <set>

#include "core/collect.h"
#include "core/path_util.h"
#include "models/project_view.h"

namespace gg::models {

Result<std::vector<ThunkInput>> SystemSourceTrees(LocalStore* store, const Toolchain& toolchain,
                                                  const GccCommand& c, const std::string& cwd) {
  auto normal = [&](const std::string& p) {
    return std::filesystem::path(p.starts_with("/") ? p : cwd + "/" + p).lexically_normal().string();
  };
  std::vector<std::string> dirs;
  for (const auto& in : c.inputs) {
    if (c.mode == GccCommand::Mode::kCompile || !in.ends_with(".o")) dirs.push_back(DirName(normal(in)));
  }
  for (const auto& d : c.include_dirs) dirs.push_back(normal(d));
  for (const auto& f : c.include_files) dirs.push_back(DirName(normal(f)));
  std::set<std::string> wanted;
  for (auto d : dirs) {
    while (d.size() > 1 && d.back() == '/') d.pop_back();
    bool system = false;
    for (const char* s : {"/usr", "/lib", "/etc", "/opt"}) system |= IsUnder(d, s);
    if (!system) continue;
    bool clash = false;
    for (const auto& in : toolchain.inputs) {
      if (in.path.starts_with("/") && (IsUnder(d, in.path) || IsUnder(in.path, d))) clash = true;
    }
    struct stat st {};
    if (!clash && stat(d.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) wanted.insert(d);
  }
  std::vector<ThunkInput> out;
  for (const auto& d : wanted) {
    bool nested = false;
    for (const auto& o : wanted) nested |= o != d && IsUnder(d, o);
    if (nested) continue;
    GG_ASSIGN_OR_RETURN(Name name, CollectPath(store, d));
    out.push_back({name.str(), d, false});
  }
  return out;
}

}  // namespace gg::models
