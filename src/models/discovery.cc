#include "models/discovery.h"

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <set>

#include "core/path_util.h"
#include "core/tree.h"

namespace gg::models {
namespace {

constexpr std::string_view kTemplateMagic = "gg-compile-template 1\n";

std::string Normalize(const std::string& workdir, const std::string& path) {
  std::string abs = path.starts_with("/") ? path : workdir + "/" + path;
  std::string n = std::filesystem::path(abs).lexically_normal().string();
  if (n.size() > 1 && n.back() == '/') n.pop_back();
  return n;
}

bool IsUnderOrSame(const std::string& path, const std::string& dir) {
  if (dir == "/") return true;
  return path == dir || (path.starts_with(dir) && path[dir.size()] == '/');
}

}  // namespace

std::string CompileTemplate::Serialize() const {
  std::string out(kTemplateMagic);
  for (const auto& d : search_dirs) out += "dir " + d + "\n";
  out += "\n";
  out += compile.Serialize();
  return out;
}

Result<CompileTemplate> CompileTemplate::Parse(std::string_view bytes) {
  if (!bytes.starts_with(kTemplateMagic)) return Status::Corrupt("not a compile template (magic line missing)");
  bytes.remove_prefix(kTemplateMagic.size());
  CompileTemplate t;
  while (true) {
    size_t nl = bytes.find('\n');
    if (nl == std::string_view::npos) return Status::Corrupt("compile template: header not terminated");
    std::string_view line = bytes.substr(0, nl);
    bytes.remove_prefix(nl + 1);
    if (line.empty()) break;
    if (!line.starts_with("dir /")) return Status::Corrupt("compile template: bad line '" + std::string(line) + "'");
    t.search_dirs.emplace_back(line.substr(4));
  }
  GG_ASSIGN_OR_RETURN(t.compile, Thunk::Parse(bytes));
  return t;
}

Result<std::vector<std::string>> ParseDepFile(std::string_view text) {
  std::vector<std::string> files;
  std::set<std::string> seen;
  bool in_targets = true;
  std::string word;
  auto finish_word = [&] {
    if (word.empty()) return;
    if (!in_targets && seen.insert(word).second) files.push_back(word);
    word.clear();
  };
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '\\' && i + 1 < text.size()) {
      char n = text[i + 1];
      if (n == '\n') {  // continuation
        finish_word();
        ++i;
        continue;
      }
      if (n == ' ' || n == '#' || n == '\\') {
        word += n;
        ++i;
        continue;
      }
      word += c;
      continue;
    }
    if (c == '$' && i + 1 < text.size() && text[i + 1] == '$') {
      word += '$';
      ++i;
      continue;
    }
    if (c == ':' && in_targets && (i + 1 == text.size() || text[i + 1] == ' ' || text[i + 1] == '\n' ||
                                   text[i + 1] == '\t')) {
      word.clear();
      in_targets = false;
      continue;
    }
    if (c == '\n') {
      finish_word();
      in_targets = true;  // a new rule
      continue;
    }
    if (c == ' ' || c == '\t' || c == '\r') {
      finish_word();
      continue;
    }
    word += c;
  }
  if (!in_targets) finish_word();
  if (files.empty() && !text.empty()) return Status::Corrupt("dependency file lists no prerequisites");
  return files;
}

std::vector<std::string> PreprocessorArgs(const std::vector<std::string>& args) {
  std::vector<std::string> out;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    // Options that take the next argument as their value.
    if (a == "-o" || a == "-MF" || a == "-MT" || a == "-MQ") {
      ++i;
      continue;
    }
    if (a == "-c" || a == "-MD" || a == "-MMD" || a == "-MP" || a.starts_with("-Wp,-MD,") ||
        a.starts_with("-Wp,-MMD,") || (a.starts_with("-o") && a.size() > 2) ||
        (a.size() > 3 && (a.starts_with("-MF") || a.starts_with("-MT") || a.starts_with("-MQ")))) {
      continue;
    }
    out.push_back(a);
  }
  return out;
}

std::vector<std::string> DependencyArgs(const std::vector<std::string>& args, const std::string& dep_file) {
  std::vector<std::string> out = PreprocessorArgs(args);
  out.insert(out.end(), {"-M", "-MF", dep_file});
  return out;
}

Result<Thunk> CompleteCompile(const CompileTemplate& t, const std::vector<std::string>& read,
                              const DiscoveryHost& host, std::string* unnamed_read) {
  Thunk c = t.compile;
  const std::string wd = c.effective_workdir();
  std::set<std::string> files, trees;  // sandbox paths already inputs
  for (const auto& in : c.inputs) {
    auto n = Name::Parse(in.name);
    if (!n.ok()) return n.status();
    (n->type() == ObjectType::kTree ? trees : files).insert(c.SandboxPath(in));
  }
  auto covered = [&](const std::string& abs) {
    if (files.contains(abs)) return true;
    return std::any_of(trees.begin(), trees.end(), [&](const std::string& d) { return IsUnderOrSame(abs, d); });
  };
  // Relative to the work dir where possible, as the original thunk names them.
  auto input_path = [&](const std::string& abs) {
    return IsUnderOrSame(abs, wd) && abs != wd ? abs.substr(wd.size() + 1) : abs;
  };

  // What __has_include may ask about: names in the files read and in the
  // command's macros (-D), looked up only if one of them uses it.
  bool has_include = false;
  std::set<std::string> candidates;
  auto scan = [&](std::string_view text) {
    if (text.find("__has_include") != std::string_view::npos) has_include = true;
    for (auto& name : HasIncludeCandidates(text)) candidates.insert(std::move(name));
  };
  for (const auto& a : c.args) {
    if (a.starts_with("-D")) scan("#define " + a.substr(2) + "\n");
  }

  std::set<std::string> added, read_dirs;
  std::vector<ThunkInput> extra;
  // The assembler's reads, by the file naming them; the files already
  // inputs (the source itself) are looked at too.
  std::vector<std::pair<std::string, std::string>> asm_reads;
  std::string unnamed;
  auto scan_asm = [&](const std::string& abs, std::string_view text) {
    AssemblerReads a = FindAssemblerReads(text);
    if (a.unnamed && unnamed.empty()) unnamed = abs + " mentions the assembler's 'incbin' or '.include' without a file name gg can read";
    for (auto& n : a.names) asm_reads.emplace_back(abs, std::move(n));
  };
  for (const auto& r : read) {
    std::string abs = Normalize(wd, r);
    if (!added.insert(abs).second) continue;
    if (covered(abs)) {
      if (!files.contains(abs)) continue;
      auto content = host.read(abs);
      if (!content.ok()) return content.status().Prefix("reading " + abs + ", which the preprocessor read");
      scan_asm(abs, *content);
      continue;
    }
    auto content = host.read(abs);
    if (!content.ok()) return content.status().Prefix("reading " + abs + ", which the preprocessor read");
    scan(*content);
    scan_asm(abs, *content);
    read_dirs.insert(DirName(abs));
    extra.push_back({Name::ForContent(*content).str(), input_path(abs), false});
  }
  // gcc looks for X.gch beside each header X it includes and, if valid,
  // reads it instead (CMake's target_precompile_headers); `gcc -M` lists
  // only X, so the .gch is added, at its path. Not for the compile that
  // makes a precompiled header: its own output is no input.
  const bool makes_pch = std::any_of(c.args.begin(), c.args.end(), [](const std::string& a) {
    return a.ends_with("-header") || a.ends_with(".gch");
  });
  for (const auto& dir_file : std::vector<std::string>(added.begin(), added.end())) {
    std::string gch = dir_file + ".gch";
    if (makes_pch || covered(gch) || added.contains(gch) || !host.is_file(gch)) continue;
    auto content = host.read(gch);
    if (!content.ok()) return content.status().Prefix("reading " + gch + ", a precompiled header");
    added.insert(gch);
    extra.push_back({Name::ForContent(*content).str(), input_path(gch), false});
  }
  // gas looks a relative name up in its working directory (then in its -I
  // dirs, which gg does not follow: such a name is reported as unnamed).
  for (const auto& [from, name] : asm_reads) {
    std::string abs = Normalize(wd, name);
    if (covered(abs) || added.contains(abs)) continue;
    if (!host.is_file(abs)) {
      if (unnamed.empty()) unnamed = from + " has the assembler read '" + name + "', which is no file in " + wd;
      continue;
    }
    auto content = host.read(abs);
    if (!content.ok()) return content.status().Prefix("reading " + abs + ", which the assembler reads");
    added.insert(abs);
    extra.push_back({Name::ForContent(*content).str(), input_path(abs), false});
  }
  if (unnamed_read != nullptr) *unnamed_read = unnamed;
  if (has_include) {
    // A file __has_include finds changes the compile although gcc does not
    // list it (it is not read): it must exist in the compile's sandbox too.
    // Empty, since only its existence can matter: editing it recompiles
    // nothing, adding or removing it does. Every search dir and the dir of
    // every file read ("x.h" is looked up beside the includer first).
    std::set<std::string> dirs(read_dirs);
    for (const auto& d : t.search_dirs) dirs.insert(Normalize(wd, d));
    const std::string empty = Name::ForContent("").str();
    for (const auto& name : candidates) {
      std::vector<std::string> paths;
      if (name.starts_with("/")) paths.push_back(Normalize(wd, name));
      else for (const auto& d : dirs) paths.push_back(Normalize(wd, d + "/" + name));
      for (const auto& p : paths) {
        if (covered(p) || added.contains(p) || !host.is_file(p)) continue;
        added.insert(p);
        extra.push_back({empty, input_path(p), false});
      }
    }
  }
  std::sort(extra.begin(), extra.end(), [](const ThunkInput& a, const ThunkInput& b) { return a.path < b.path; });
  std::vector<std::string> dirs;
  for (const auto& d : t.search_dirs) {
    std::string abs = Normalize(wd, d);
    if (IsUnderOrSame(wd, abs) || covered(abs) || added.contains(abs) || !host.is_directory(abs)) continue;
    added.insert(abs);
    dirs.push_back(abs);
  }
  std::sort(dirs.begin(), dirs.end());
  for (auto& e : extra) c.inputs.push_back(std::move(e));
  for (const auto& d : dirs) c.inputs.push_back({EmptyTreeName().str(), input_path(d), false});
  GG_RETURN_IF_ERROR(c.Validate());
  return c;
}

namespace {

bool IsBlank(char c) { return c == ' ' || c == '\t'; }

// Whether content[from, to) holds only blanks and backslash-newlines.
bool OnlyBlanks(std::string_view content, size_t from, size_t to) {
  for (size_t k = from; k < to; ++k) {
    char c = content[k];
    if (IsBlank(c) || c == '\n' || (c == '\\' && k + 1 < to && content[k + 1] == '\n')) continue;
    return false;
  }
  return true;
}

// Where the logical line holding `pos` starts: after the last newline
// before it that no backslash continues.
size_t LogicalLineStart(std::string_view content, size_t pos) {
  size_t start = pos;
  while (start > 0) {
    size_t nl = content.rfind('\n', start - 1);
    if (nl == std::string_view::npos) return 0;
    if (nl == 0 || content[nl - 1] != '\\') return nl + 1;
    start = nl - 1;  // continued from the line before
  }
  return 0;
}

}  // namespace

std::vector<std::string> HasIncludeCandidates(std::string_view content) {
  std::vector<std::string> names;
  // Directives only: each '#' that begins a logical line (blanks and
  // backslash-newlines before it). The texts scanned are mostly code or
  // preprocessed text, so finding the '#'s is much cheaper than copying
  // every line (openssh's sshkey.c preprocessed, 800 kB: 0.13 ms, was 1.6 ms).
  // `pos` is always where a logical line starts, so each byte is looked at
  // a bounded number of times.
  size_t pos = 0;
  std::string line;
  while (pos < content.size()) {
    size_t hash = content.find('#', pos);
    if (hash == std::string_view::npos) break;
    const bool directive = OnlyBlanks(content, LogicalLineStart(content, hash), hash);
    // The rest of the logical line, its backslash-newlines removed (kept
    // only for a directive); no '#' after this one in it begins one.
    line.clear();
    pos = hash;
    while (pos < content.size()) {
      size_t nl = content.find('\n', pos);
      std::string_view part = content.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
      pos = nl == std::string_view::npos ? content.size() : nl + 1;
      bool continued = !part.empty() && part.back() == '\\';
      if (continued) part.remove_suffix(1);
      if (directive) line.append(part);
      if (!continued) break;
    }
    if (!directive) continue;
    size_t i = line.find_first_not_of(" \t");
    if (i == std::string::npos || line[i] != '#') continue;
    i = line.find_first_not_of(" \t", i + 1);
    if (i == std::string::npos) continue;
    std::string_view rest = std::string_view(line).substr(i);
    if (!rest.starts_with("if") && !rest.starts_with("elif") && !rest.starts_with("define")) continue;
    if (rest.starts_with("ifdef") || rest.starts_with("ifndef")) continue;
    for (size_t k = 0; k < rest.size(); ++k) {
      char open = rest[k];
      if (open != '<' && open != '"') continue;
      size_t end = rest.find(open == '<' ? '>' : '"', k + 1);
      if (end == std::string_view::npos) break;
      std::string_view name = rest.substr(k + 1, end - k - 1);
      // A header name has no blanks (`#if A < B && C > D` is no name).
      if (!name.empty() && name.find_first_of(" \t") == std::string_view::npos) names.emplace_back(name);
      k = open == '"' ? end : k;  // `<` may be a comparison: its `>` may open nothing
    }
  }
  return names;
}

AssemblerReads FindAssemblerReads(std::string_view content) {
  AssemblerReads r;
  const char* end = content.data() + content.size();
  for (std::string_view word : {"incbin", ".include"}) {
    const char* p = content.data();
    // memmem, not string_view::find, which stops at every 'i' and '.' of a
    // preprocessed text: 1.1 ms for sshkey.c's 800 kB, 0.5 ms with memmem.
    while (const void* hit = memmem(p, static_cast<size_t>(end - p), word.data(), word.size())) {
      const char* q = static_cast<const char*>(hit) + word.size();
      p = q;
      while (q < end && (*q == ' ' || *q == '\t')) ++q;
      const bool escaped = q < end && *q == '\\';  // inside a C string: \"f\"
      if (escaped) ++q;
      if (q >= end || *q != '"') {
        r.unnamed = true;
        continue;
      }
      const char* name = ++q;
      while (q < end && *q != '"' && *q != '\\' && *q != '\n') ++q;
      const bool closed = escaped ? q + 1 < end && q[0] == '\\' && q[1] == '"' : q < end && *q == '"';
      if (!closed || q == name) {
        r.unnamed = true;
        continue;
      }
      r.names.emplace_back(name, q);
    }
  }
  return r;
}

}  // namespace gg::models
