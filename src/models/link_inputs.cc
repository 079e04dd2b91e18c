#include "models/link_inputs.h"

#include <elf.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <charconv>
#include <cstring>
#include <filesystem>
#include <set>
#include <sstream>

#include "core/path_util.h"
#include "core/placeholder.h"
#include "models/project_view.h"

namespace gg::models {
namespace {

std::string Normal(const std::string& cwd, const std::string& p) {
  std::string a = p.starts_with("/") ? p : cwd + "/" + p;
  return std::filesystem::path(a).lexically_normal().string();
}

// Files the toolchain's synthetic trees can hold (FileSet takes these).
bool IsSystemPath(const std::string& p) { return p.starts_with("/usr/") || p.starts_with("/lib"); }

bool ReadAt(int fd, void* buf, size_t n, off_t at) {
  return pread(fd, buf, n, at) == static_cast<ssize_t>(n);
}

std::vector<std::string> SplitColons(const std::string& s) {
  std::vector<std::string> out;
  std::istringstream in(s);
  for (std::string d; std::getline(in, d, ':');) {
    if (!d.empty()) out.push_back(d);
  }
  return out;
}

class Resolver {
 public:
  Resolver(LocalStore* store, const GccCommand& c, const std::string& cwd, const Toolchain& tc,
           const std::string& lib_path, LinkInputs* out, std::set<std::string>* seen)
      : store_(store), c_(c), cwd_(cwd), tc_(tc), lib_path_(lib_path), out_(*out), seen_(*seen) {
    for (const auto& d : c.lib_dirs) dirs_.push_back(Normal(cwd, d));
    for (const auto& d : c.linker_dirs) {
      dirs_.push_back(Normal(cwd, d));
      rpath_link_.push_back(Normal(cwd, d));
    }
    for (const auto& d : SplitColons(lib_path)) {
      env_dirs_.insert(Normal(cwd, d));
      dirs_.push_back(Normal(cwd, d));
    }
    for (const auto& d : tc.lib_dirs) dirs_.push_back(d);
  }

  void Run() {
    for (const auto& in : c_.inputs) {
      std::string abs = Normal(cwd_, in);
      if (!IsLinkable(abs)) continue;  // sources compiled by this command are in the view
      AddFile(abs);
    }
    for (const auto& lib : c_.libs) FindLib(lib);
    for (const auto& f : c_.linker_files) {
      // Scripts and version scripts: shown by the view unless it leaves
      // them out (libtool writes .libs/libfoo.ver).
      std::string abs = Normal(cwd_, f);
      if (!AddFile(abs, false)) out_.needed_dirs.push_back(DirName(abs));
    }
  }

 private:
  static bool IsLinkable(const std::string& p) {
    static const char* const kSource[] = {".c", ".cc", ".cpp", ".cxx", ".c++", ".C", ".i", ".ii", ".s", ".S", ".sx"};
    for (const char* e : kSource) {
      if (p.ends_with(e)) return false;
    }
    return true;
  }

  // A file the linker reads: recorded, then (if `follow`) followed into
  // what it names. False if it is left to the project view or the
  // placeholder dependencies.
  bool AddFile(const std::string& abs, bool follow = true) {
    if (!seen_.insert(abs).second) return true;
    struct stat st {};
    if (stat(abs.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return false;
    if (st.st_size <= 4096) {
      auto p = ReadPlaceholder(abs);
      if (p.ok() && p->has_value()) {
        // A thunk's output (the model makes it a dependency). A shared
        // library's DT_NEEDED are what its link named with -l.
        if (abs.find(".so") != std::string::npos) FollowThunkLibs(**p);
        return false;
      }
    }
    if (IsSystemPath(abs)) {
      out_.system_files.push_back(abs);
    } else {
      std::string base = abs.substr(abs.rfind('/') + 1);
      bool left_out = IsBuildProduct(base, false) || abs.find("/.libs/") != std::string::npos ||
                      (st.st_mode & 0111) != 0;
      if (!left_out) return false;  // the view shows it
      out_.project_files.push_back(abs);
    }
    if (!follow) return true;
    ElfDynamic dyn;
    if (ReadElfDynamic(abs, &dyn)) {
      // ld finds a DT_NEEDED library by its soname (libz.so.1), which the
      // libz.so -> libz.so.1.2.13 chain may skip.
      if (!dyn.soname.empty()) {
        std::string by_soname = DirName(abs) + "/" + dyn.soname;
        if (access(by_soname.c_str(), F_OK) == 0) AddFile(by_soname);
      }
      std::vector<std::string> own = dyn.runpath;
      own.push_back(DirName(abs));
      for (const auto& n : dyn.needed) FindNeeded(n, own);
      return true;
    }
    if (IsThinArchive(abs)) {
      AddThinMembers(abs);
      return true;
    }
    if (st.st_size > 65536) return true;
    auto text = ReadFile(abs);
    if (!text.ok() || text->starts_with("!<arch>") || text->starts_with("\x7f" "ELF")) return true;
    for (const auto& name : LinkerScriptInputs(*text)) {
      if (name.starts_with("-l")) {
        FindLib(name.substr(2));
      } else if (name.starts_with("/")) {
        AddFile(name);
      } else if (std::string here = Normal(cwd_, name); access(here.c_str(), F_OK) == 0) {
        AddFile(here);
      } else {
        FindIn(name, dirs_);
      }
    }
    return true;
  }

  static bool IsThinArchive(const std::string& abs) {
    int fd = open(abs.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return false;
    char magic[8];
    bool thin = ReadAt(fd, magic, sizeof magic, 0) && std::memcmp(magic, "!<thin>\n", 8) == 0;
    close(fd);
    return thin;
  }

  // A thin archive (`ar T`, Meson's static libraries) holds only the paths
  // of its members, which ld then opens: they are inputs too.
  void AddThinMembers(const std::string& archive) {
    auto bytes = ReadFile(archive);
    if (!bytes.ok()) return;
    for (const auto& m : ThinArchiveMembers(*bytes)) {
      std::string abs = Normal(DirName(archive), m);
      struct stat st {};
      if (stat(abs.c_str(), &st) == 0 && S_ISREG(st.st_mode) && st.st_size <= 4096) {
        auto p = ReadPlaceholder(abs);
        if (p.ok() && p->has_value()) {
          // Not a dependency the model makes: the link forces it, for real.
          if (out_.local_reason.empty()) out_.local_reason = "thin archive member " + abs + " is not built yet";
          continue;
        }
      }
      if (!AddFile(abs)) out_.needed_dirs.push_back(DirName(abs));
    }
  }

  // -lNAME as ld finds it: the first dir holding libNAME.so or libNAME.a
  // (both are taken: -Bstatic may pick either).
  void FindLib(const std::string& name) {
    for (const auto& dir : dirs_) {
      std::vector<std::string> found;
      if (name.starts_with(":")) {
        found.push_back(dir + "/" + name.substr(1));
      } else {
        if (!c_.static_link) found.push_back(dir + "/lib" + name + ".so");
        found.push_back(dir + "/lib" + name + ".a");
      }
      bool any = false;
      for (const auto& f : found) {
        if (access(f.c_str(), F_OK) != 0) continue;
        any = true;
        if (env_dirs_.count(dir) && out_.local_reason.empty()) {
          out_.local_reason = "-l" + name + " found in $LIBRARY_PATH dir " + dir;
        }
        AddFile(f);
      }
      if (any) return;
    }
    // ld will fail on it. A build may branch on that failure (a check such as
    // `$(CC) -o t t.c -lz && echo yes`), so the command runs for real rather
    // than be answered "exit 0" now and fail later, as a thunk.
    if (out_.local_reason.empty()) out_.local_reason = "-l" + name + " is not in the library search path";
  }

  // The libraries the link thunk behind `target` names, resolved from its
  // working directory.
  void FollowThunkLibs(const Name& target) {
    if (!store_ || !followed_.insert(target.object().str()).second) return;
    auto bytes = store_->Get(target.object());
    if (!bytes.ok()) return;
    auto t = Thunk::Parse(*bytes);
    if (!t.ok() || t->args.size() < 2) return;
    GccCommand link = ParseGccCommand(std::vector<std::string>(t->args.begin() + 1, t->args.end()));
    if (!link.local_reason.empty() || link.mode != GccCommand::Mode::kLink) return;
    GccCommand libs_only = link;
    libs_only.inputs.clear();  // its objects are not this link's inputs
    libs_only.linker_files.clear();
    Resolver(store_, libs_only, t->effective_workdir(), tc_, lib_path_, &out_, &seen_).Run();
  }

  // A DT_NEEDED name, as ld looks for it to check the shared library.
  void FindNeeded(const std::string& soname, const std::vector<std::string>& own) {
    std::vector<std::string> dirs = rpath_link_;
    dirs.insert(dirs.end(), own.begin(), own.end());
    dirs.insert(dirs.end(), dirs_.begin(), dirs_.end());
    FindIn(soname, dirs);
  }

  void FindIn(const std::string& file, const std::vector<std::string>& dirs) {
    for (const auto& d : dirs) {
      std::string f = d + "/" + file;
      if (access(f.c_str(), F_OK) == 0) {
        AddFile(f);
        return;
      }
    }
  }

  LocalStore* store_;
  const GccCommand& c_;
  std::string cwd_;
  const Toolchain& tc_;
  std::string lib_path_;
  std::vector<std::string> dirs_;
  std::vector<std::string> rpath_link_;
  std::set<std::string> env_dirs_;
  LinkInputs& out_;
  std::set<std::string>& seen_;
  std::set<std::string> followed_;
};

}  // namespace

bool ReadElfDynamic(const std::string& path, ElfDynamic* out) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  struct Closer {
    int fd;
    ~Closer() { close(fd); }
  } closer{fd};
  Elf64_Ehdr eh;
  if (!ReadAt(fd, &eh, sizeof eh, 0) || std::memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 ||
      eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_ident[EI_DATA] != ELFDATA2LSB || eh.e_shentsize != sizeof(Elf64_Shdr) ||
      eh.e_shnum == 0 || eh.e_shnum > 4096) {
    return false;
  }
  std::vector<Elf64_Shdr> sh(eh.e_shnum);
  if (!ReadAt(fd, sh.data(), sh.size() * sizeof(Elf64_Shdr), static_cast<off_t>(eh.e_shoff))) return false;
  for (const auto& s : sh) {
    if (s.sh_type != SHT_DYNAMIC || s.sh_link >= sh.size()) continue;
    const Elf64_Shdr& strtab = sh[s.sh_link];
    if (s.sh_size > (64u << 20) || strtab.sh_size > (64u << 20)) return false;
    std::string str(strtab.sh_size, '\0');
    std::vector<Elf64_Dyn> dyn(s.sh_size / sizeof(Elf64_Dyn));
    if (!ReadAt(fd, str.data(), str.size(), static_cast<off_t>(strtab.sh_offset)) ||
        !ReadAt(fd, dyn.data(), dyn.size() * sizeof(Elf64_Dyn), static_cast<off_t>(s.sh_offset))) {
      return false;
    }
    auto at = [&](uint64_t off) { return off < str.size() ? std::string(str.c_str() + off) : std::string(); };
    std::string origin = DirName(path);
    for (const auto& d : dyn) {
      if (d.d_tag == DT_NULL) break;
      if (d.d_tag == DT_NEEDED) out->needed.push_back(at(d.d_un.d_val));
      else if (d.d_tag == DT_SONAME) out->soname = at(d.d_un.d_val);
      else if (d.d_tag == DT_RUNPATH || d.d_tag == DT_RPATH) {
        for (auto dir : SplitColons(at(d.d_un.d_val))) {
          for (const char* o : {"$ORIGIN", "${ORIGIN}"}) {
            if (dir.starts_with(o)) dir = origin + dir.substr(std::strlen(o));
          }
          out->runpath.push_back(dir);
        }
      }
    }
    return true;
  }
  return false;
}

std::vector<std::string> ThinArchiveMembers(std::string_view bytes) {
  std::vector<std::string> out;
  if (!bytes.starts_with("!<thin>\n")) return out;
  std::string_view names;  // the "//" member: long names, each ending "/\n"
  size_t at = 8;
  while (at + 60 <= bytes.size()) {
    std::string_view h = bytes.substr(at, 60);
    if (h.substr(58, 2) != "`\n") break;
    std::string_view name = h.substr(0, 16);
    while (!name.empty() && name.back() == ' ') name.remove_suffix(1);
    size_t size = 0;  // decimal, space-padded: from_chars stops at the padding
    std::from_chars(h.data() + 48, h.data() + 58, size);
    at += 60;
    // The symbol tables and the name table are stored; members are not.
    bool stored = name == "/" || name == "/SYM64/" || name == "//";
    if (stored) {
      if (at + size > bytes.size()) break;
      if (name == "//") names = bytes.substr(at, size);
      at += size + (size & 1);
      continue;
    }
    std::string member;
    if (name.size() > 1 && name[0] == '/' && name[1] >= '0' && name[1] <= '9') {
      // "/OFFSET" into the name table; binutils may end the field with
      // another "/" ("/0             /" in Meson's libpixman-sse2.a).
      size_t off = 0;
      std::from_chars(name.data() + 1, name.data() + name.size(), off);
      if (off >= names.size()) break;
      size_t end = names.find("/\n", off);
      member = std::string(names.substr(off, end == std::string_view::npos ? std::string_view::npos : end - off));
    } else if (name.ends_with("/")) {
      member = std::string(name.substr(0, name.size() - 1));
    } else {
      member = std::string(name);
    }
    if (!member.empty()) out.push_back(member);
  }
  return out;
}

std::vector<std::string> LinkerScriptInputs(const std::string& text) {
  // Comments out, then tokens split at blanks, commas and parentheses.
  std::string clean;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text.compare(i, 2, "/*") == 0) {
      size_t end = text.find("*/", i + 2);
      if (end == std::string::npos) break;
      i = end + 1;
      clean += ' ';
    } else {
      clean += text[i];
    }
  }
  std::vector<std::string> tokens;
  std::string cur;
  for (char ch : clean) {
    if (ch == '(' || ch == ')' || ch == ',' || isspace(static_cast<unsigned char>(ch))) {
      if (!cur.empty()) tokens.push_back(cur);
      cur.clear();
      if (ch == '(' || ch == ')') tokens.push_back(std::string(1, ch));
    } else {
      cur += ch;
    }
  }
  if (!cur.empty()) tokens.push_back(cur);
  std::vector<std::string> out;
  int depth = 0;  // inside GROUP( or INPUT(
  for (size_t i = 0; i < tokens.size(); ++i) {
    const std::string& t = tokens[i];
    if (depth == 0) {
      if ((t == "GROUP" || t == "INPUT") && i + 1 < tokens.size() && tokens[i + 1] == "(") {
        depth = 1;
        ++i;
      }
      continue;
    }
    if (t == "(") ++depth;
    else if (t == ")") --depth;
    else if (t != "AS_NEEDED") out.push_back(t);
  }
  return out;
}

LinkInputs ResolveLinkInputs(LocalStore* store, const GccCommand& c, const std::string& cwd,
                             const Toolchain& toolchain, const std::string& lib_path) {
  LinkInputs out;
  std::set<std::string> seen;
  Resolver(store, c, cwd, toolchain, lib_path, &out, &seen).Run();
  return out;
}

}  // namespace gg::models
