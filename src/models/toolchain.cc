#include "models/toolchain.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <set>
#include <sstream>

#include "core/collect.h"
#include "core/path_util.h"
#include "core/subprocess.h"
#include "core/tree.h"

namespace gg::models {
namespace fs = std::filesystem;

namespace {

constexpr char kFormat[] = "gg-toolchain 7";
constexpr char kBusybox[] = "/usr/bin/busybox";

// The tools a build may call directly, by the names found in $PATH.
const std::pair<const char*, const char*> kTools[] = {
    {"cc", "gcc"},       {"cxx", "g++"},   {"ar", "ar"},   {"ranlib", "ranlib"}, {"strip", "strip"},
    {"as", "as"},        {"ld", "ld"},     {"nm", "nm"},   {"objcopy", "objcopy"},
    {"clang", "clang"},  {"clangxx", "clang++"}};

std::string Lexical(const std::string& p) { return fs::path(p).lexically_normal().string(); }


std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

// Files that make up the synthetic library trees, grouped by directory.
class FileSet {
 public:
  // Adds `path` and, if it is a symlink, the chain of links to its file.
  void Add(const std::string& raw) {
    std::string path = Lexical(raw);
    // Only system files: a link's own temporary objects are not toolchain.
    if (!path.starts_with("/usr/") && !path.starts_with("/lib")) return;
    for (int depth = 0; depth < 16 && !path.empty(); ++depth) {
      std::string dir = DirName(path);
      std::string real_dir = RealPath(dir);
      if (real_dir.empty()) return;
      aliases_[real_dir].insert(dir);
      aliases_[real_dir].insert(real_dir);
      std::string base = path.substr(path.rfind('/') + 1);
      std::string real_path = real_dir + "/" + base;
      if (!files_[real_dir].insert(base).second) return;
      struct stat st {};
      if (lstat(real_path.c_str(), &st) != 0) {
        files_[real_dir].erase(base);
        return;
      }
      if (!S_ISLNK(st.st_mode)) return;
      std::error_code ec;
      std::string target = fs::read_symlink(real_path, ec).string();
      if (ec) return;
      path = Lexical(target[0] == '/' ? target : real_dir + "/" + target);
    }
  }

  // One tree per directory, mounted at the directory and its aliases.
  // Directories inside `whole` (mounted as trees already) are skipped.
  Status AddInputs(LocalStore* store, std::vector<ThunkInput>* inputs, const std::vector<std::string>& whole,
                   const std::map<std::string, std::string>& extra_files = {}) {
    // Where trees will be mounted: each tree below another needs its mount
    // point there (clang's resource dir below /usr/lib/llvm-14/lib,
    // .../gconv below its lib dir).
    std::set<std::string> mount_points(whole.begin(), whole.end());
    for (const auto& [dir, names] : files_) {
      if (!names.empty()) mount_points.insert(aliases_[dir].begin(), aliases_[dir].end());
    }
    for (const auto& [dir, names] : files_) {
      if (Covered(dir, whole) || names.empty()) continue;
      Tree tree;
      GG_ASSIGN_OR_RETURN(size_t added, AddEntries(store, dir, &tree));
      (void)added;
      for (const auto& [base, host] : extra_files) {
        if (dir != "/usr/bin") continue;
        TreeEntry e;
        e.path = base;
        GG_ASSIGN_OR_RETURN(e.name, store->PutFile(host));
        e.executable = true;
        tree.entries.push_back(e);
      }
      for (const auto& w : mount_points) {
        std::string rel;
        for (const auto& alias : aliases_[dir]) {
          if (w.starts_with(alias + "/")) rel = w.substr(alias.size() + 1);
        }
        if (rel.empty()) continue;
        for (size_t slash = 0; slash != std::string::npos;) {
          slash = rel.find('/', slash + 1);
          TreeEntry e;
          e.path = rel.substr(0, slash);
          e.kind = TreeEntry::Kind::kDir;
          bool have = false;
          for (const auto& x : tree.entries) have |= x.path == e.path;
          if (!have) tree.entries.push_back(e);
        }
      }
      GG_ASSIGN_OR_RETURN(Name name, store->Put(tree.Serialize()));
      for (const auto& alias : aliases_[dir]) inputs->push_back({name.str(), alias, false});
    }
    return Status::Ok();
  }

  // Adds the files gathered for `dir` to `tree` (those it lacks); returns
  // how many were added.
  Result<size_t> AddEntries(LocalStore* store, const std::string& dir, Tree* tree) const {
    std::set<std::string> have;
    for (const auto& e : tree->entries) have.insert(e.path);
    size_t added = 0;
    auto it = files_.find(dir);
    if (it == files_.end()) return added;
    for (const auto& base : it->second) {
      if (have.count(base)) continue;
      std::string full = dir + "/" + base;
      struct stat st {};
      if (lstat(full.c_str(), &st) != 0) continue;
      TreeEntry e;
      e.path = base;
      if (S_ISLNK(st.st_mode)) {
        e.kind = TreeEntry::Kind::kSymlink;
        std::error_code ec;
        e.target = fs::read_symlink(full, ec).string();
        if (ec) continue;
      } else if (S_ISREG(st.st_mode)) {
        GG_ASSIGN_OR_RETURN(e.name, store->PutFile(full));
        e.executable = (st.st_mode & 0111) != 0;
      } else {
        continue;
      }
      tree->entries.push_back(e);
      ++added;
    }
    return added;
  }

  static bool Covered(const std::string& dir, const std::vector<std::string>& whole) {
    for (const auto& w : whole) {
      if (dir == w || dir.starts_with(w + "/")) return true;
    }
    return false;
  }

  const std::map<std::string, std::set<std::string>>& files() const { return files_; }
  const std::set<std::string>& aliases(const std::string& dir) { return aliases_[dir]; }

 private:
  std::map<std::string, std::set<std::string>> files_;
  std::map<std::string, std::set<std::string>> aliases_;
};

// Shared libraries (and the loader) a binary needs, from ldd.
std::vector<std::string> LddPaths(const std::string& binary) {
  std::vector<std::string> paths;
  auto out = RunCapture({"ldd", binary}, true);
  if (!out.ok()) return paths;
  for (const auto& line : Lines(*out)) {
    size_t arrow = line.find("=> ");
    std::string rest = arrow == std::string::npos ? line : line.substr(arrow + 3);
    size_t start = rest.find('/');
    if (start == std::string::npos) continue;
    paths.push_back(rest.substr(start, rest.find(' ', start) - start));
  }
  return paths;
}

void AddLddClosure(const std::string& binary, FileSet* files) {
  for (const auto& path : LddPaths(binary)) files->Add(path);
}

// Every file the linker opens for a few representative links (crt files,
// libc's linker script and what it names, libgcc, libstdc++, libm...).
void AddLinkFiles(const std::string& cc, const std::string& cxx, FileSet* files) {
  char dir_template[] = "/tmp/gg-toolchain-XXXXXX";
  if (!mkdtemp(dir_template)) return;
  std::string dir = dir_template;
  std::string c = dir + "/t.c", cc_src = dir + "/t.cc", out = dir + "/t";
  (void)WriteFileAtomic(c, "#include <math.h>\n#include <pthread.h>\nint main(void){return (int)sqrt(4.0);}\n");
  (void)WriteFileAtomic(cc_src, "#include <iostream>\nint main(){std::cout<<1;}\n");
  std::vector<std::vector<std::string>> links = {
      {cc, "-o", out, c, "-lm", "-lpthread", "-ldl", "-lrt", "-Wl,-t"},
      {cc, "-fPIC", "-shared", "-o", out + ".so", c, "-lm", "-Wl,-t"},
      {cc, "-no-pie", "-o", out, c, "-lm", "-Wl,-t"},
      {cc, "-static", "-o", out, c, "-lm", "-Wl,-t"},
      {cxx, "-o", out, cc_src, "-Wl,-t"},
      {cxx, "-fPIC", "-shared", "-o", out + ".so", cc_src, "-Wl,-t"},
  };
  for (const auto& argv : links) {
    auto text = RunCapture(argv, true);
    if (!text.ok()) continue;
    for (const auto& line : Lines(*text)) {
      if (line.empty() || line[0] != '/') continue;
      std::string path = line.substr(0, line.find_first_of("( :"));
      files->Add(path);
    }
  }
  (void)RemoveTree(dir);
}

// What the symlinks in gcc's install dir lead to outside it (libgomp.so ->
// ../../../x86_64-linux-gnu/libgomp.so.1, libasan.so, libitm.so...), and
// their libraries. The driver adds such libraries itself (-fopenmp adds
// -lgomp through libgomp.spec, -fsanitize=address -lasan): left dangling in
// the sandbox, ld silently took the static libgomp.a beside the link instead
// (pixman's tests came out without DT_NEEDED libgomp.so.1).
void AddInstallDirLinks(const std::string& install, FileSet* files) {
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(install, ec)) {
    if (!e.is_symlink(ec)) continue;
    std::string target = RealPath(e.path().string());
    struct stat st {};
    if (target.empty() || target.starts_with(install + "/") || stat(target.c_str(), &st) != 0 ||
        !S_ISREG(st.st_mode)) {
      continue;
    }
    files->Add(e.path().string());
    AddLddClosure(target, files);
  }
}

// System include directories the drivers search.
std::vector<std::string> IncludeDirs(const std::string& driver, const char* lang) {
  std::vector<std::string> dirs;
  auto text = RunCapture({driver, "-x", lang, "-E", "-v", "/dev/null", "-o", "/dev/null"}, true);
  if (!text.ok()) return dirs;
  bool in = false;
  for (const auto& line : Lines(*text)) {
    if (line.starts_with("#include <...> search starts here")) in = true;
    else if (line.starts_with("End of search list")) in = false;
    else if (in && line.starts_with(" /")) dirs.push_back(Lexical(line.substr(1)));
  }
  return dirs;
}

// clang: its libraries (ldd), resource dir, the names that lead to it, and
// every other system file a sample compile and link open (strace): the /etc
// files its distribution detection reads decide defaults such as PIE.
Status CaptureClang(LocalStore* store, Toolchain* t, std::vector<std::string> trees, FileSet files,
                    const std::map<std::string, std::string>& extra) {
  const std::string clang = t->tools["clang"];
  auto resource = RunCapture({clang, "-print-resource-dir"});
  if (!resource.ok() || Lines(*resource).empty()) return Status::Failed("clang -print-resource-dir failed");
  std::string resource_dir = Lexical(Lines(*resource)[0]);
  t->clang_resource_dir = resource_dir;
  std::vector<std::string> new_trees;
  if (access(resource_dir.c_str(), R_OK) == 0) new_trees.push_back(resource_dir);
  for (const char* lang : {"c", "c++"}) {
    for (const auto& d : IncludeDirs(clang, lang)) {
      bool covered = false;
      for (const auto* list : {&trees, &new_trees}) {
        for (const auto& tr : *list) covered |= d == tr || d.starts_with(tr + "/");
      }
      if (!covered && access(d.c_str(), R_OK) == 0) new_trees.push_back(d);
    }
  }
  AddLddClosure(clang, &files);
  for (const char* name : {"clang", "clang++"}) {
    std::string found = FindInPath(name);
    if (!found.empty() && found.starts_with("/usr/bin/")) files.Add(found);
    files.Add(DirName(clang) + "/" + name);
  }
  // What a compile and a link open besides that, from strace if present.
  std::vector<std::string> etc;
  if (!FindInPath("strace").empty()) {
    char dir_template[] = "/tmp/gg-clang-XXXXXX";
    if (mkdtemp(dir_template)) {
      std::string dir = dir_template;
      (void)WriteFileAtomic(dir + "/t.cc", "#include <iostream>\nint main(){std::cout<<1;}\n");
      (void)RunCapture({"strace", "-f", "-qq", "-e", "trace=open,openat,execve", "-o", dir + "/trace",
                        DirName(clang) + "/clang++", "-o", dir + "/t", dir + "/t.cc"}, true);
      auto trace = ReadFile(dir + "/trace");
      for (const auto& line : trace.ok() ? Lines(*trace) : std::vector<std::string>{}) {
        if (line.find("ENOENT") != std::string::npos || line.find("ENOTDIR") != std::string::npos) continue;
        size_t q = line.find('"');
        if (q == std::string::npos) continue;
        std::string path = Lexical(line.substr(q + 1, line.find('"', q + 1) - q - 1));
        struct stat st {};
        if (stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
        // Locale data (/usr/share, linked into /etc) only changes messages.
        if (path.starts_with("/etc/") && path != "/etc/ld.so.cache") etc.push_back(path);
        else if (!path.starts_with("/usr/share/") && !path.starts_with("/usr/lib/locale/")) files.Add(path);
      }
      (void)RemoveTree(dir);
    }
  }
  for (const char* f : {"/etc/os-release", "/etc/lsb-release", "/etc/debian_version"}) {
    if (access(f, R_OK) == 0) etc.push_back(f);
  }
  std::sort(etc.begin(), etc.end());
  etc.erase(std::unique(etc.begin(), etc.end()), etc.end());

  for (const auto& dir : new_trees) {
    GG_ASSIGN_OR_RETURN(Name name, CollectPath(store, dir));
    t->clang_inputs.push_back({name.str(), dir, false});
    trees.push_back(dir);
  }
  for (const auto& in : t->inputs) {
    // gcc's whole-directory trees; its synthetic trees are rebuilt below.
    if (std::find(trees.begin(), trees.end(), in.path) != trees.end()) t->clang_inputs.push_back(in);
  }
  GG_RETURN_IF_ERROR(files.AddInputs(store, &t->clang_inputs, trees, extra));
  for (const auto& f : etc) {
    GG_ASSIGN_OR_RETURN(Name name, store->PutFile(f));
    t->clang_inputs.push_back({name.str(), f, false});
  }
  for (const auto& [kind, path] : t->tools) {
    if (kind != "clang") continue;  // clang++ is the same file
    GG_ASSIGN_OR_RETURN(Name name, store->PutFile(path));
    t->clang_inputs.push_back({name.str(), path, true});
  }
  return Status::Ok();
}

std::string CacheKey(const std::map<std::string, std::string>& tools, const std::string& install) {
  std::string key = std::string(kFormat) + "\n";
  auto add = [&](const std::string& path) {
    struct stat st {};
    stat(path.c_str(), &st);
    key += path + " " + std::to_string(st.st_size) + " " + std::to_string(st.st_mtim.tv_sec) + "\n";
  };
  for (const auto& [kind, path] : tools) add(path);
  add(install);
  add(install + "/cc1");
  add("/usr/include");
  add(kBusybox);
  std::string h = Name::ForContent(key).str();
  return h.substr(1, 20);
}

}  // namespace

std::string FindInPath(const std::string& name) {
  if (name.find('/') != std::string::npos) return name;
  const char* path = getenv("PATH");
  std::string p = path ? path : "/usr/bin:/bin";
  size_t pos = 0;
  while (pos <= p.size()) {
    size_t colon = p.find(':', pos);
    std::string dir = p.substr(pos, colon == std::string::npos ? std::string::npos : colon - pos);
    if (dir.empty()) dir = ".";
    std::string cand = dir + "/" + name;
    if (access(cand.c_str(), X_OK) == 0) return cand;
    if (colon == std::string::npos) break;
    pos = colon + 1;
  }
  return "";
}

Result<std::string> RunCapture(const std::vector<std::string>& argv, bool allow_failure) {
  auto c = gg::RunCapture(argv, /*merge_stderr=*/true);
  if (!c.ok() && allow_failure) return std::string();
  if (!c.ok()) return c.status();
  if (!allow_failure && c->exit_code != 0) return Status::Failed(argv[0] + " failed: " + c->out);
  return c->out;
}

namespace {

// "<ino> <size> <mtime-ns> <ctime-ns>" of `path`, or "-" if it cannot be stat'ed.
std::string StatKey(const std::string& path) {
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) return "-";
  auto ns = [](const timespec& t) { return std::to_string(t.tv_sec * 1000000000LL + t.tv_nsec); };
  return std::to_string(st.st_ino) + " " + std::to_string(st.st_size) + " " + ns(st.st_mtim) + " " + ns(st.st_ctim);
}

}  // namespace

// Kept because it is a fork and exec of gcc on every gg build otherwise; a
// specs file added to the install dir changes the dir's times.
Result<std::string> GccSearchDirs(LocalStore* store, const std::string& cc, bool refresh) {
  std::string key = "gg-search-dirs 1\n" + cc + " " + StatKey(cc) + "\n";
  for (const char* v : {"GCC_EXEC_PREFIX", "COMPILER_PATH", "LIBRARY_PATH"}) {
    const char* val = getenv(v);
    key += std::string(v) + (val ? "=" + std::string(val) : " unset") + "\n";
  }
  std::string cache = store->dir() + "/models/search-dirs-" + Name::ForContent(key).str().substr(1, 20);
  std::string install_prefix = "install: ";
  auto install_of = [&](const std::string& dirs) -> std::string {
    for (const auto& line : Lines(dirs)) {
      if (line.starts_with(install_prefix)) return Lexical(line.substr(install_prefix.size()));
    }
    return "";
  };
  if (auto text = refresh ? Result<std::string>(Status::NotFound(cache)) : ReadFile(cache); text.ok()) {
    // "<key>install-stat <stat key>\n<output>"
    std::string stat_line = "install-stat ";
    if (text->starts_with(key + stat_line)) {
      size_t nl = text->find('\n', key.size());
      if (nl != std::string::npos) {
        std::string output = text->substr(nl + 1);
        std::string recorded = text->substr(key.size() + stat_line.size(), nl - key.size() - stat_line.size());
        std::string install = install_of(output);
        if (!install.empty() && recorded == StatKey(install)) return output;
      }
    }
  }
  GG_ASSIGN_OR_RETURN(std::string dirs, RunCapture({cc, "-print-search-dirs"}));
  std::string install = install_of(dirs);
  if (!install.empty()) {
    // Best effort: without it, the next build asks gcc again.
    if (MakeDirs(DirName(cache)).ok()) (void)WriteFileAtomic(cache, key + "install-stat " + StatKey(install) + "\n" + dirs);
  }
  return dirs;
}

Result<std::vector<ThunkInput>> Toolchain::InputsWith(LocalStore* store, const std::vector<std::string>& extra,
                                                     const std::string& kind) const {
  const std::vector<ThunkInput>& base = InputsFor(kind);
  std::vector<ThunkInput> out = base;
  if (extra.empty()) return out;
  FileSet files;
  for (const auto& f : extra) files.Add(f);
  for (const auto& [dir, names] : files.files()) {
    if (FileSet::Covered(dir, whole_dirs)) continue;
    // The capture's tree for this directory: the input mounted at it or at
    // an alias of it (same real path).
    std::string existing;
    for (const auto& in : base) {
      if (!in.executable && in.path.starts_with("/") && RealPath(in.path) == dir) {
        auto n = Name::Parse(in.name);
        if (n.ok() && n->type() == ObjectType::kTree) existing = in.name;
        break;
      }
    }
    Tree tree;
    if (!existing.empty()) {
      GG_ASSIGN_OR_RETURN(Name n, Name::Parse(existing));
      GG_ASSIGN_OR_RETURN(std::string bytes, store->Get(n));
      GG_ASSIGN_OR_RETURN(tree, Tree::Parse(bytes));
    }
    GG_ASSIGN_OR_RETURN(size_t added, files.AddEntries(store, dir, &tree));
    if (added == 0) continue;
    GG_ASSIGN_OR_RETURN(Name merged, store->Put(tree.Serialize()));
    if (existing.empty()) {
      for (const auto& alias : files.aliases(dir)) out.push_back({merged.str(), alias, false});
      continue;
    }
    for (auto& in : out) {
      if (in.name == existing) in.name = merged.str();
    }
  }
  return out;
}

Result<std::vector<ThunkInput>> SharedLibraryInputs(LocalStore* store, const std::string& binary) {
  FileSet files;
  std::vector<ThunkInput> inputs;
  std::set<std::string> own;
  for (const auto& path : LddPaths(binary)) {
    std::string clean = Lexical(path);
    if (clean.starts_with("/usr/") || clean.starts_with("/lib")) {
      files.Add(clean);
    } else if (own.insert(clean).second) {
      // The project's own libraries: single files, since their directory
      // (a build dir) may hold the binary and other inputs too.
      GG_ASSIGN_OR_RETURN(Name name, store->PutFile(clean));
      inputs.push_back({name.str(), clean, false});
    }
  }
  GG_RETURN_IF_ERROR(files.AddInputs(store, &inputs, {}));
  return inputs;
}

Result<ThunkInput> Toolchain::ToolInput(const std::string& kind) const {
  auto it = tools.find(kind);
  if (it == tools.end()) return Status::NotFound("no " + kind + " in the captured toolchain");
  for (const auto& in : InputsFor(kind)) {
    if (in.path == it->second && in.executable) return in;
  }
  return Status::NotFound("toolchain has no input for " + it->second);
}

std::string Toolchain::Serialize() const {
  std::string out = std::string(kFormat) + "\n";
  out += "shell " + shell + "\n";
  for (const auto& [k, v] : tools) out += "tool " + k + " " + v + "\n";
  for (const auto& d : whole_dirs) out += "whole " + d + "\n";
  for (const auto& d : lib_dirs) out += "libdir " + d + "\n";
  for (const auto& in : inputs) out += "input " + in.name + " " + (in.executable ? "x" : "-") + " " + in.path + "\n";
  if (!clang_resource_dir.empty()) out += "clang-resource-dir " + clang_resource_dir + "\n";
  for (const auto& in : clang_inputs) {
    out += "clang-input " + in.name + " " + (in.executable ? "x" : "-") + " " + in.path + "\n";
  }
  return out;
}

Result<Toolchain> Toolchain::Parse(const std::string& text) {
  Toolchain t;
  auto lines = Lines(text);
  if (lines.empty() || lines[0] != kFormat) return Status::Corrupt("not a toolchain description");
  for (size_t i = 1; i < lines.size(); ++i) {
    std::istringstream in(lines[i]);
    std::string kind;
    in >> kind;
    if (kind == "shell") {
      in >> t.shell;
    } else if (kind == "tool") {
      std::string k, v;
      in >> k >> v;
      t.tools[k] = v;
    } else if (kind == "clang-resource-dir") {
      in >> t.clang_resource_dir;
    } else if (kind == "whole" || kind == "libdir") {
      std::string d;
      in >> d;
      (kind == "whole" ? t.whole_dirs : t.lib_dirs).push_back(d);
    } else if (kind == "input" || kind == "clang-input") {
      ThunkInput ti;
      std::string x;
      in >> ti.name >> x >> ti.path;
      ti.executable = x == "x";
      (kind == "input" ? t.inputs : t.clang_inputs).push_back(ti);
    }
  }
  return t;
}

Result<Toolchain> CaptureToolchain(LocalStore* store, bool refresh) {
  Toolchain t;
  for (const auto& [kind, name] : kTools) {
    std::string found = FindInPath(name);
    if (found.empty()) continue;
    std::string real = RealPath(found);
    if (!real.empty()) t.tools[kind] = real;
  }
  if (!t.tools.count("cc")) return Status::NotFound("no gcc in $PATH: nothing to model");
  std::string install;
  GG_ASSIGN_OR_RETURN(std::string dirs, GccSearchDirs(store, t.tools["cc"], refresh));
  for (const auto& line : Lines(dirs)) {
    if (line.starts_with("install: ")) install = Lexical(line.substr(9));
    if (!line.starts_with("libraries: =")) continue;
    // $LIBRARY_PATH dirs are in this list too; a link that finds a library
    // there runs locally (link_inputs.cc), so they are left out.
    std::set<std::string> from_env;
    if (const char* lp = getenv("LIBRARY_PATH")) {
      std::istringstream env(lp);
      for (std::string d; std::getline(env, d, ':');) {
        if (!d.empty()) from_env.insert(Lexical(d));
      }
    }
    std::istringstream list(line.substr(12));
    for (std::string d; std::getline(list, d, ':');) {
      d = Lexical(d);
      while (d.size() > 1 && d.back() == '/') d.pop_back();
      struct stat st {};
      if (d.empty() || from_env.count(d) || stat(d.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) continue;
      if (std::find(t.lib_dirs.begin(), t.lib_dirs.end(), d) == t.lib_dirs.end()) t.lib_dirs.push_back(d);
    }
  }
  while (install.size() > 1 && install.back() == '/') install.pop_back();
  if (install.empty()) return Status::Failed("gcc -print-search-dirs names no install directory");

  std::string cache_dir = store->dir() + "/models";
  std::string cache = cache_dir + "/toolchain-" + CacheKey(t.tools, install);
  if (!refresh) {
    auto text = ReadFile(cache);
    if (text.ok()) {
      auto parsed = Toolchain::Parse(*text);
      bool complete = parsed.ok();
      for (const auto* list : {&parsed->inputs, &parsed->clang_inputs}) {
        for (size_t i = 0; complete && i < list->size(); ++i) {
          auto n = Name::Parse((*list)[i].name);
          complete = n.ok() && store->Has(*n);
        }
      }
      if (complete) return parsed;
    }
  }

  // Directories mounted whole: the gcc install dir (cc1, cc1plus, collect2,
  // crtbegin*.o, libgcc, the plugin) and the system include directories.
  std::vector<std::string> trees = {install};
  std::vector<std::string> includes = IncludeDirs(t.tools["cc"], "c");
  if (t.tools.count("cxx")) {
    for (auto& d : IncludeDirs(t.tools["cxx"], "c++")) includes.push_back(d);
  }
  std::sort(includes.begin(), includes.end());
  for (const auto& d : includes) {
    bool covered = false;
    for (const auto& tr : trees) covered |= d == tr || d.starts_with(tr + "/");
    if (covered || access(d.c_str(), R_OK) != 0) continue;
    trees.push_back(d);
  }
  t.whole_dirs = trees;
  for (const auto& dir : trees) {
    GG_ASSIGN_OR_RETURN(Name name, CollectPath(store, dir));
    t.inputs.push_back({name.str(), dir, false});
  }

  // The binaries, their libraries and the files links read.
  FileSet files;
  std::vector<std::string> binaries;
  for (const auto& [kind, path] : t.tools) {
    if (!Toolchain::IsClang(kind)) binaries.push_back(path);
  }
  for (const char* prog : {"cc1", "cc1plus", "collect2", "lto-wrapper", "lto1"}) {
    std::string p = install + "/" + prog;
    if (access(p.c_str(), X_OK) == 0) binaries.push_back(p);
  }
  auto plugin = RunCapture({t.tools["cc"], "-print-file-name=liblto_plugin.so"}, true);
  if (plugin.ok() && !plugin->empty()) binaries.push_back(Lexical(Lines(*plugin)[0]));
  for (const auto& b : binaries) AddLddClosure(b, &files);
  for (const char* name : {"gcc", "g++", "cc", "c++", "as", "ld", "ld.bfd", "ar", "ranlib", "strip", "nm",
                           "objcopy"}) {
    std::string found = FindInPath(name);
    if (!found.empty() && found.starts_with("/usr/bin/")) files.Add(found);
  }
  AddLinkFiles(t.tools["cc"], t.tools.count("cxx") ? t.tools["cxx"] : t.tools["cc"], &files);
  AddInstallDirLinks(install, &files);
  std::map<std::string, std::string> extra;
  if (access(kBusybox, X_OK) == 0) {
    extra["sh"] = kBusybox;
    GG_ASSIGN_OR_RETURN(Name bb, store->PutFile(kBusybox));
    t.shell = bb.str();
  }
  FileSet clang_files = files;  // before gcc's trees are made: clang's add to them
  GG_RETURN_IF_ERROR(files.AddInputs(store, &t.inputs, trees, extra));
  // Each tool also as a value at its real path, so it can be a function.
  for (const auto& [kind, path] : t.tools) {
    if (Toolchain::IsClang(kind)) continue;
    GG_ASSIGN_OR_RETURN(Name name, store->PutFile(path));
    t.inputs.push_back({name.str(), path, true});
  }
  if (t.tools.count("clang")) {
    Status s = CaptureClang(store, &t, trees, std::move(clang_files), extra);
    if (!s.ok()) {
      // gcc builds still work; clang commands will run locally, listed.
      std::fprintf(stderr, "gg: clang not captured (%s); clang commands will run locally\n", s.message().c_str());
      t.tools.erase("clang");
      t.tools.erase("clangxx");
      t.clang_inputs.clear();
      t.clang_resource_dir.clear();
    }
  }
  GG_RETURN_IF_ERROR(MakeDirs(cache_dir));
  GG_RETURN_IF_ERROR(WriteFileAtomic(cache, t.Serialize()));
  return t;
}

}  // namespace gg::models
