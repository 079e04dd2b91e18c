#include "models/project_view.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>

#include "core/path_util.h"
#include "core/placeholder.h"
#include "core/tree.h"

namespace gg::models {
namespace {

bool HasSuffix(const std::string& s, std::string_view suffix) { return s.ends_with(suffix); }

bool IsSourceName(const std::string& name) {
  static const char* const kExt[] = {".h", ".hh", ".hpp", ".hxx", ".H", ".inc", ".def", ".c", ".cc",
                                     ".cpp", ".cxx", ".C", ".tcc", ".ipp", ".inl", ".S", ".s", ".in",
                                     ".sh", ".map", ".sym", ".ld", ".lds", ".x", ".tbl", ".y", ".l"};
  for (const char* e : kExt) {
    if (HasSuffix(name, e)) return true;
  }
  return false;
}

bool IsPlaceholderFile(const std::string& path, const struct stat& st) {
  if (st.st_size > 4096 || st.st_size < 20) return false;
  auto p = ReadPlaceholder(path);
  return p.ok() && p->has_value();
}

// Whether a regular file belongs in a view.
bool Keep(const std::string& full, const std::string& name, const struct stat& st) {
  if (IsBuildProduct(name, false)) return false;
  if ((st.st_mode & 0111) && !IsSourceName(name)) return false;  // built programs, scripts run later
  return !IsPlaceholderFile(full, st);
}

Status AddTreeEntries(LocalStore* store, const std::string& root, const std::string& rel,
                      const std::set<std::string>& exclude, Tree* tree) {
  std::string dir = rel.empty() ? root : root + "/" + rel;
  GG_ASSIGN_OR_RETURN(std::vector<std::string> names, ListDirectory(dir));
  for (const auto& n : names) {
    std::string sub = rel.empty() ? n : rel + "/" + n;
    std::string full = root + "/" + sub;
    struct stat st {};
    if (lstat(full.c_str(), &st) != 0) continue;
    if (exclude.count(full)) continue;
    TreeEntry e;
    e.path = sub;
    if (S_ISDIR(st.st_mode)) {
      if (IsBuildProduct(n, true)) continue;
      e.kind = TreeEntry::Kind::kDir;
      tree->entries.push_back(e);
      GG_RETURN_IF_ERROR(AddTreeEntries(store, root, sub, exclude, tree));
    } else if (S_ISLNK(st.st_mode)) {
      std::error_code ec;
      e.kind = TreeEntry::Kind::kSymlink;
      e.target = std::filesystem::read_symlink(full, ec).string();
      if (ec) continue;
      tree->entries.push_back(e);
    } else if (S_ISREG(st.st_mode) && Keep(full, n, st)) {
      auto name = store->PutFile(full);
      if (!name.ok()) continue;  // a file vanishing under a running build
      e.name = *name;
      e.executable = (st.st_mode & 0111) != 0;
      tree->entries.push_back(e);
    }
  }
  return Status::Ok();
}

class ViewBuilder {
 public:
  ViewBuilder(LocalStore* store, const ViewRequest& r) : store_(store), r_(r) {}

  Status Visit(const std::string& dir) {
    if (!r_.expand.count(dir)) {
      Tree tree;
      GG_RETURN_IF_ERROR(AddTreeEntries(store_, dir, "", r_.exclude, &tree));
      GG_ASSIGN_OR_RETURN(Name name, store_->Put(tree.Serialize()));
      Add(name.str(), dir, false);
      return Status::Ok();
    }
    GG_ASSIGN_OR_RETURN(std::vector<std::string> names, ListDirectory(dir));
    std::sort(names.begin(), names.end());
    for (const auto& n : names) {
      std::string full = dir;
      if (full != "/") full += '/';
      full += n;
      if (r_.exclude.count(full)) continue;
      struct stat st {};
      if (lstat(full.c_str(), &st) != 0) continue;
      if (S_ISDIR(st.st_mode)) {
        if (!IsBuildProduct(n, true)) GG_RETURN_IF_ERROR(Visit(full));
      } else if (S_ISREG(st.st_mode) && Keep(full, n, st)) {
        auto name = store_->PutFile(full);
        if (name.ok()) Add(name->str(), full, (st.st_mode & 0111) != 0);
      }
      // Symlinks in expanded dirs are skipped: an input is a file or a tree.
    }
    return Status::Ok();
  }

  std::vector<ThunkInput> inputs;

 private:
  void Add(const std::string& name, const std::string& abs, bool exec) {
    std::string path = abs;
    if (IsUnder(abs, r_.workdir)) {
      if (abs == r_.workdir) return;  // the work dir itself is never a tree
      path = abs.substr(r_.workdir.size() + (r_.workdir == "/" ? 0 : 1));
    }
    inputs.push_back({name, path, exec});
  }

  LocalStore* store_;
  const ViewRequest& r_;
};

bool IsSystemDir(const std::string& d) {
  for (const char* s : {"/usr", "/lib", "/lib64", "/bin", "/etc", "/proc", "/dev", "/sys"}) {
    if (IsUnder(d, s)) return true;
  }
  return false;
}

}  // namespace

bool IsUnder(const std::string& path, const std::string& dir) {
  if (dir == "/") return true;
  return path == dir || (path.size() > dir.size() && path.starts_with(dir) && path[dir.size()] == '/');
}

bool IsBuildProduct(const std::string& name, bool is_dir) {
  if (is_dir) return name == ".git" || name == ".gg" || name == ".svn" || name == ".hg" || name == ".libs";
  static const char* const kExt[] = {".o", ".a", ".so", ".lo", ".la", ".d", ".Po", ".Plo", ".Tpo", ".Tplo",
                                     ".gcda", ".gcno", ".obj", ".ninja_log", ".ninja_deps", ".log", ".trs"};
  for (const char* e : kExt) {
    if (HasSuffix(name, e)) return true;
  }
  return name.find(".so.") != std::string::npos || name.find(".gg-tmp.") != std::string::npos;
}

Result<std::vector<ThunkInput>> BuildView(LocalStore* store, const ViewRequest& request) {
  ViewRequest r = request;
  // Each needed dir is shown through the root holding it, or as its own root.
  std::set<std::string> tops;
  std::vector<std::string> needed = r.needed;
  needed.push_back(r.workdir);
  for (const auto& d : needed) {
    if (IsSystemDir(d) && !IsUnder(r.workdir, d)) continue;
    struct stat st {};
    if (stat(d.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) continue;
    std::string top = d;
    for (const auto& root : r.roots) {
      if (IsUnder(d, root) && root.size() < top.size()) top = root;
    }
    tops.insert(top);
  }
  // Drop tops nested in other tops.
  std::vector<std::string> outer;
  for (const auto& t : tops) {
    bool nested = false;
    for (const auto& o : tops) nested |= o != t && IsUnder(t, o);
    if (!nested) outer.push_back(t);
  }
  // The work dir and every expanded dir are expanded up to their top.
  std::set<std::string> expand;
  auto expand_up = [&](std::string d) {
    for (const auto& top : outer) {
      if (!IsUnder(d, top)) continue;
      while (true) {
        expand.insert(d);
        if (d == top || d == "/") break;
        d = DirName(d);
        if (d.empty()) d.assign(1, '/');
      }
    }
  };
  expand_up(r.workdir);
  for (const auto& d : r.expand) expand_up(d);
  r.expand = expand;
  ViewBuilder b(store, r);
  for (const auto& top : outer) GG_RETURN_IF_ERROR(b.Visit(top));
  return b.inputs;
}

}  // namespace gg::models
