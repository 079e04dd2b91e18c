#include "models/gcc_command.h"

#include <set>
#include <string_view>

#include "core/path_util.h"

namespace gg::models {
namespace {

bool IsSourceFile(const std::string& f, const std::string& lang) {
  if (!lang.empty() && lang != "none") return true;
  static const char* const kExt[] = {".c", ".cc", ".cpp", ".cxx", ".c++", ".C", ".cp", ".CPP",
                                     ".i", ".ii", ".s", ".S", ".sx", ".m", ".mm", ".M"};
  for (const char* e : kExt) {
    if (f.ends_with(e)) return true;
  }
  return false;
}

// gcc runs no preprocessor on these: `.s`, or any file after `-x assembler`.
bool IsAssemblerSource(const std::string& f, const std::string& lang) {
  if (!lang.empty() && lang != "none") return lang == "assembler";
  return f.ends_with(".s");
}

std::string StripSuffix(const std::string& f) {
  size_t slash = f.rfind('/');
  size_t dot = f.rfind('.');
  if (dot == std::string::npos || (slash != std::string::npos && dot < slash)) return f;
  return f.substr(0, dot);
}

// Options whose value is the next argument.
const std::set<std::string_view> kSeparate = {
    "-o", "-I", "-iquote", "-isystem", "-idirafter", "-include", "-imacros", "-D", "-U", "-L", "-l",
    "-x", "-Xlinker", "-Xassembler", "-Xpreprocessor", "-MF", "-MT", "-MQ", "-T", "-u", "-e",
    "-aux-info", "-dumpbase", "-dumpdir", "-dumpbase-ext", "-iprefix", "-iwithprefix",
    "-iwithprefixbefore", "-isysroot", "-imultilib", "-z", "--param", "-A"};

// Options that make gcc do something other than compile or link files into
// files: these run for real.
bool RunsLocally(const std::string& a, std::string* why) {
  static const char* const kExact[] = {
      "-E", "-S", "-M", "-MM", "-###", "-v", "--version", "-dumpversion", "-dumpfullversion",
      "-dumpmachine", "-dumpspecs", "--help", "-save-temps", "--coverage", "-fprofile-arcs",
      "-ftest-coverage", "-gsplit-dwarf", "-fstack-usage", "-pipe-no", "-", "-fsyntax-only",
      "-print-multiarch", "--target-help", "-Q",
      // They write files named by the option (-aux-info FILE) or under a
      // directory of their own (C++ modules: gcm.cache/) that the thunk
      // would not declare.
      "-aux-info", "-fmodules-ts", "-da"};
  for (const char* e : kExact) {
    if (a == e) {
      *why = a;
      return true;
    }
  }
  static const char* const kPrefix[] = {"-print-", "-save-temps=", "-fprofile-generate", "-fdump-",
                                        "-fcallgraph-info", "-flto", "-wrapper", "-fplugin", "-B",
                                        "-specs", "--sysroot", "-fauto-profile", "-fprofile-use",
                                        "-fprofile-dir", "--help=", "-fmodule-mapper", "-fdeps-"};
  for (const char* p : kPrefix) {
    if (a.starts_with(p) && a != "-flto=auto-no") {
      *why = a;
      return true;
    }
  }
  if (a.starts_with("-fopt-info") && a.find('=') != std::string::npos) {  // -fopt-info-vec=FILE
    *why = a;
    return true;
  }
  return false;
}

// Splits a response file's text into arguments like libiberty's buildargv.
std::vector<std::string> SplitResponse(const std::string& text) {
  std::vector<std::string> out;
  std::string cur;
  bool have = false;
  char quote = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '\\' && i + 1 < text.size()) {
      cur += text[++i];
      have = true;
    } else if (quote) {
      if (c == quote) quote = 0;
      else cur += c;
    } else if (c == '\'' || c == '"') {
      quote = c;
      have = true;
    } else if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') {
      if (have) out.push_back(cur);
      cur.clear();
      have = false;
    } else {
      cur += c;
      have = true;
    }
  }
  if (have) out.push_back(cur);
  return out;
}

// Files and dirs named in the arguments gcc passes on to ld.
void ParseLinkerArgs(const std::vector<std::string>& ld, GccCommand* c) {
  for (size_t i = 0; i < ld.size(); ++i) {
    const std::string& a = ld[i];
    auto value = [&](std::string_view opt, std::vector<std::string>* into) {
      std::string o(opt);
      if (a == o || a == "-" + o) {
        if (i + 1 < ld.size()) into->push_back(ld[++i]);
        return true;
      }
      for (const std::string& p : {o + "=", "-" + o + "="}) {
        if (a.starts_with(p) && a.size() > p.size()) {
          into->push_back(a.substr(p.size()));
          return true;
        }
      }
      return false;
    };
    if (value("-rpath-link", &c->linker_dirs) || value("-version-script", &c->linker_files) ||
        value("-dynamic-list", &c->linker_files) || value("-script", &c->linker_files)) {
      continue;
    }
    if (a == "-L" || a == "-T") {
      if (i + 1 < ld.size()) (a == "-L" ? c->linker_dirs : c->linker_files).push_back(ld[++i]);
    } else if (a.starts_with("-L") && a.size() > 2) {
      c->linker_dirs.push_back(a.substr(2));
    } else if (a.starts_with("-T") && a.size() > 2 && a != "-Tbss" && a != "-Tdata" && a != "-Ttext") {
      c->linker_files.push_back(a.substr(2));
    }
  }
}

// -Wl,a,b and -Wa,a,b: the words the tool gets.
void SplitCommas(const std::string& list, std::vector<std::string>* out) {
  for (size_t start = 0;;) {
    size_t comma = list.find(',', start);
    out->push_back(list.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
}

// A file the assembler or the linker writes besides the output (a listing,
// a map, a dependency list): the thunk would not declare it, so the build
// would lack it. Such commands run for real.
std::string ToolSideOutput(const std::vector<std::string>& as, const std::vector<std::string>& ld, bool link) {
  for (const std::string& a : as) {
    // -a[cdghlmns]=FILE writes a listing (without =FILE it goes to stdout).
    if ((a.starts_with("-a") && a.find('=') != std::string::npos) || a.starts_with("--MD")) {
      return "-Wa," + a + " (the assembler writes another file)";
    }
  }
  if (!link) return "";
  for (const std::string& a : ld) {
    for (const char* o : {"-Map", "--Map", "--dependency-file", "--out-implib"}) {
      std::string opt = o;
      if (a == opt || a.starts_with(opt + "=")) return "-Wl," + a + " (the linker writes another file)";
    }
  }
  return "";
}

// No input file and no -o: gcc can only print (or fail).
bool IsQuery(const std::vector<std::string>& args) {
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "-" || a.starts_with("-o") || (!a.empty() && a[0] != '-')) {
      // A value of a separate option is not an input.
      if (i > 0 && kSeparate.count(args[i - 1]) && args[i - 1] != "-o") continue;
      return false;
    }
  }
  return true;
}

}  // namespace

std::string DefaultOutputName(char stage, const std::string& source) {
  switch (stage) {
    case 'c': return StripSuffix(BaseName(source)) + ".o";
    case 'S': return StripSuffix(BaseName(source)) + ".s";
    case 'E': return "";
    default: return "a.out";
  }
}

Result<std::vector<std::string>> ExpandResponseFiles(const std::vector<std::string>& args) {
  std::vector<std::string> out;
  for (const auto& a : args) {
    if (a.size() > 1 && a[0] == '@') {
      auto text = ReadFile(a.substr(1));
      if (!text.ok()) {
        out.push_back(a);  // gcc keeps an unreadable @file as an argument
        continue;
      }
      GG_ASSIGN_OR_RETURN(auto inner, ExpandResponseFiles(SplitResponse(*text)));
      out.insert(out.end(), inner.begin(), inner.end());
    } else {
      out.push_back(a);
    }
  }
  return out;
}

GccCommand ParseGccCommand(const std::vector<std::string>& args) {
  GccCommand c;
  c.args = args;
  std::string output, dep_file, lang;
  std::vector<std::string> linker_args, assembler_args;
  bool compile = false, dep = false, have_target = false, dep_file_by_mf = false;
  std::vector<std::string> sources;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    std::string why;
    if (RunsLocally(a, &why)) {
      c.local_reason = why;
      c.query = IsQuery(args);
      return c;
    }
    if (a.size() > 1 && a[0] == '-') {
      std::string opt = a, value;
      bool separate = kSeparate.count(a) > 0;
      if (separate) {
        if (i + 1 >= args.size()) {
          c.local_reason = "missing value after " + a;
          return c;
        }
        value = args[++i];
      }
      auto joined = [&](std::string_view prefix) {
        if (separate && opt == prefix) return true;
        if (!separate && a.starts_with(prefix) && a.size() > prefix.size()) {
          value = a.substr(prefix.size());
          return true;
        }
        return false;
      };
      if (a == "-c") compile = true;
      else if (a == "-shared") c.shared = true;
      else if (a == "-static") c.static_link = true;
      else if (a.starts_with("-Wl,")) SplitCommas(a.substr(4), &linker_args);
      else if (a.starts_with("-Wa,")) SplitCommas(a.substr(4), &assembler_args);
      else if (opt == "-Xassembler") assembler_args.push_back(value);
      else if (opt == "-Xlinker") linker_args.push_back(value);
      else if (opt == "-T") c.linker_files.push_back(value);
      else if (a == "-MD" || a == "-MMD") dep = true;
      else if (joined("-MT") || joined("-MQ")) have_target = true;
      else if (joined("-MF")) {
        dep_file = value;
        dep_file_by_mf = true;
      } else if (a.starts_with("-Wp,-MD,") || a.starts_with("-Wp,-MMD,")) {
        dep = true;
        dep_file = a.substr(a.find(',', 4) + 1);
        dep_file_by_mf = false;
      } else if (joined("-o")) output = value;
      else if (joined("-x")) lang = value;
      else if (joined("-isystem") || joined("-iquote") || joined("-idirafter") || joined("-I")) {
        c.include_dirs.push_back(value);
      } else if (joined("-include") || joined("-imacros")) c.include_files.push_back(value);
      else if (joined("-L")) c.lib_dirs.push_back(value);
      else if (joined("-l")) c.libs.push_back(value);
      continue;
    }
    c.inputs.push_back(a);
    if (IsSourceFile(a, lang)) sources.push_back(a);
    if (IsAssemblerSource(a, lang)) c.assembler_sources.push_back(a);
  }
  ParseLinkerArgs(linker_args, &c);
  c.local_reason = ToolSideOutput(assembler_args, linker_args, !compile);
  if (!c.local_reason.empty()) return c;
  if (c.inputs.empty()) {
    c.local_reason = "no input files";
    c.query = IsQuery(args);
    return c;
  }
  if (compile) {
    c.mode = GccCommand::Mode::kCompile;
    if (sources.empty()) {
      c.local_reason = "-c without sources";
      return c;
    }
    if (!output.empty() && sources.size() > 1) {
      c.local_reason = "-o with several sources";
      return c;
    }
    c.default_output = output.empty();
    for (const auto& s : sources) c.outputs.push_back(output.empty() ? DefaultOutputName('c', s) : output);
    // gcc writes no dependency file for a compile of assembler sources alone.
    if (dep && c.assembler_sources.size() < sources.size()) {
      if (dep_file.empty()) {
        if (sources.size() > 1) {
          c.local_reason = "-MD with several sources";
          return c;
        }
        dep_file = (output.empty() ? StripSuffix(BaseName(sources[0])) : StripSuffix(output)) + ".d";
      }
      c.outputs.push_back(dep_file);
      c.dep_file = dep_file;
      c.dep_file_named = have_target && dep_file_by_mf;
    }
  } else {
    c.mode = GccCommand::Mode::kLink;
    c.default_output = output.empty();
    c.outputs.push_back(output.empty() ? DefaultOutputName('l', "") : output);
    if (dep && !dep_file.empty()) c.outputs.push_back(dep_file);
  }
  return c;
}

}  // namespace gg::models
