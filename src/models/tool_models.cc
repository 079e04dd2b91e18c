#include "models/tool_models.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <map>
#include <optional>
#include <set>
#include <filesystem>

#include "core/path_util.h"
#include "core/placeholder.h"
#include "core/tree.h"
#include "core/substitute.h"
#include "models/discovery.h"
#include "models/gcc_command.h"
#include "models/known_failures.h"
#include "models/link_inputs.h"
#include "models/project_view.h"
#include "models/system_sources.h"

namespace gg::models {
namespace {

std::string Cwd() {
  char buf[PATH_MAX];
  return getcwd(buf, sizeof buf) ? std::string(buf) : std::string("/");
}

std::string Absolute(const std::string& cwd, const std::string& p) {
  std::string a = p.starts_with("/") ? p : cwd + "/" + p;
  return std::filesystem::path(a).lexically_normal().string();
}

// The tag of an output under the work dir, or empty if it is elsewhere.
std::string TagOf(const std::string& cwd, const std::string& abs) {
  if (!IsUnder(abs, cwd) || abs == cwd) return "";
  std::string tag = abs.substr(cwd == "/" ? 1 : cwd.size() + 1);
  return IsCleanRelativePath(tag) ? tag : "";
}

std::vector<std::string> BaseEnv() {
  std::vector<std::string> env = {"PATH=/usr/bin:/bin"};
  for (const char* v : {"SOURCE_DATE_EPOCH", "LC_ALL", "LANG"}) {
    if (const char* val = getenv(v)) env.push_back(std::string(v) + "=" + val);
  }
  return env;
}

// A thunk input for a file the command reads: its placeholder's target, or
// nothing (the view shows real files).
struct Dependency {
  std::string abs;
  Name target;
};

std::optional<Dependency> PlaceholderDep(const std::string& cwd, const std::string& path) {
  std::string abs = Absolute(cwd, path);
  struct stat st {};
  if (stat(abs.c_str(), &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > 4096) return std::nullopt;
  auto p = ReadPlaceholder(abs);
  if (!p.ok() || !p->has_value()) return std::nullopt;
  return Dependency{abs, **p};
}

std::string ShellQuote(const std::string& w) {
  std::string q = "'";
  for (char ch : w) q += ch == '\'' ? std::string("'\\''") : std::string(1, ch);
  return q + "'";
}

std::string InputPath(const std::string& cwd, const std::string& abs) {
  std::string tag = TagOf(cwd, abs);
  return tag.empty() ? abs : tag;
}

// Where the command writes each output the thunk writes under another tag
// (RelocatedOutputTag): tag -> absolute path.
using MovedOutputs = std::map<std::string, std::string>;

// Stores `t` and leaves a placeholder for each of `outputs` (`t`'s own, or
// those of the thunk `t` reduces to): the first names `t`, the others `t#tag`;
// at `cwd/tag`, or where `moved` says.
Result<ModelResult> Finish(LocalStore* store, const Session& s, const Thunk& t,
                           const std::vector<std::string>& outputs, const std::string& cwd,
                           const std::vector<int>& modes, const MovedOutputs& moved = {}) {
  GG_RETURN_IF_ERROR(t.Validate());
  Thunk mapped = t;
  s.paths.Apply(&mapped);
  GG_ASSIGN_OR_RETURN(Name name, store->Put(mapped.Serialize()));
  ModelResult r;
  if (KnownFailure(*store, name)) {
    r.local_reason = "an earlier gg build found that this command fails, so it runs for real";
    return r;
  }
  for (size_t i = 0; i < outputs.size(); ++i) {
    Name target = i == 0 ? name : name.WithTag(outputs[i]);
    auto m = moved.find(outputs[i]);
    std::string path = m != moved.end() ? m->second : cwd + "/" + outputs[i];
    GG_RETURN_IF_ERROR(MakeDirs(DirName(path)));
    GG_RETURN_IF_ERROR(WritePlaceholder(path, target, i < modes.size() ? modes[i] : 0644));
    s.LogThunk(target.str(), path);
    r.placeholders.push_back(path);
  }
  return r;
}

Result<ModelResult> Finish(LocalStore* store, const Session& s, const Thunk& t, const std::string& cwd,
                           const std::vector<int>& modes) {
  return Finish(store, s, t, t.outputs, cwd, modes);
}

// Where the discovery thunk finds its pieces in the sandbox.
constexpr char kDiscoverPath[] = "/gg/discover";
constexpr char kTemplatePath[] = "/gg/compile-template";
constexpr char kDepFile[] = "/tmp/gg-deps.d";
// The preprocessed-text form's cold run and its first split run after it
// (StageCompile, gg-discover --files-template, --same-text).
constexpr char kFilesTemplatePath[] = "/gg/compile-template-files";
constexpr char kOldTextPath[] = "/gg/old-text";
constexpr char kOldCompilePath[] = "/gg/old-compile";

// files-forms/<text-form template>: the substitute whose cold run compiled
// that template's command in the files form (docs/store_format.md).
ReductionStore FilesForms(const LocalStore& store) { return ReductionStore(store.dir() + "/files-forms"); }

// The extension of `source`'s preprocessed text, if the compile can take it
// instead of the source with the same bytes out: one C or C++ source, no
// debug info (with -g the compile of preprocessed text differs: macro
// expansion columns, label numbering), no dependency file (it would name the
// preprocessed file), no -x (it would apply to the preprocessed file).
std::string PreprocessedExtension(const std::string& kind, const GccCommand& c) {
  if (c.inputs.size() != 1) return "";
  for (const auto& a : c.args) {
    if ((a.starts_with("-g") && a != "-g0") || a.starts_with("-M") || a.starts_with("-Wp,") ||
        a.starts_with("-x") || a.starts_with("-fdirectives-only") || a.starts_with("-traditional")) {
      return "";
    }
  }
  const std::string& f = c.inputs[0];
  for (const char* e : {".cc", ".cpp", ".cxx", ".c++", ".C", ".cp", ".CPP"}) {
    if (f.ends_with(e)) return ".ii";
  }
  if (f.ends_with(".c")) return kind == "cxx" || kind == "clangxx" ? ".ii" : ".i";
  return "";
}

// gg-discover's options that make a discovery thunk's substitute compile too
// (discover_main.cc). Where the compile can list every file it reads, it runs
// alone: the command's own -MD file (one source: gcc writes each source's
// list over the last one's), or $SUNPRO_DEPENDENCIES when it asks for no
// list. Otherwise (the preprocessed-text form, -MMD, which leaves out system
// headers that may be the project's own, -MM, -MG, several sources with -MD)
// the discovery's own preprocessor runs first in the same sandbox: a second
// preprocessing, still cheaper than a second sandbox.
std::vector<std::string> CombinedCompileArgs(const GccCommand& c, const std::string& text, const std::string& cwd) {
  // Assembler sources: no list at all, so the discovery's own (sources, below) first.
  if (!text.empty() || !c.assembler_sources.empty()) return {"--compile"};
  // -MT, -MQ, -MF and -MP name the list's target, file and phony rules:
  // still the full list (CMake's Ninja generator: -MD -MT x.o -MF x.o.d).
  bool full = false, partial = false;
  auto consider = [&](const std::string& a) {
    if (a == "-MD") full = true;
    else if (a.starts_with("-M") && !a.starts_with("-MT") && !a.starts_with("-MQ") && !a.starts_with("-MF") &&
             a != "-MP") {
      partial = true;
    }
  };
  for (size_t i = 0; i < c.args.size(); ++i) {
    const std::string& a = c.args[i];
    if (a == "-MT" || a == "-MQ" || a == "-MF") ++i;  // its value may start with -M
    else if (a.starts_with("-Wp,")) {
      for (size_t start = 4;;) {  // -Wp,-MD,file or -Wp,-D_FORTIFY_SOURCE=2
        size_t comma = a.find(',', start);
        consider(a.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
        if (comma == std::string::npos) break;
        start = comma + 1;
      }
    } else consider(a);
  }
  if (partial || (full && c.inputs.size() != 1) || (full && c.outputs.size() < 2)) return {"--compile"};
  std::vector<std::string> args = {"--compile", "--compile-deps"};
  if (full) {
    args.push_back(c.outputs[1]);  // the dependency file (ParseGccCommand)
    return args;
  }
  args.insert(args.end(), {kDepFile, "--sunpro"});
  for (const auto& f : c.inputs) args.insert(args.end(), {"--read", Absolute(cwd, f)});
  return args;
}

// A compile's output outside its work dir (`-c ../src/x.c -o ../obj/x.o`,
// as ncurses and many hand-written Makefiles do) but in the project: the
// thunk writes it in the work dir instead, under a tag of its own, and its
// placeholder stays where the build expects it. gcc puts no output name in
// what it writes for `-c` (checked with -g, -g3, -frecord-gcc-switches);
// the options whose files are named after the output (-save-temps,
// --coverage, -gsplit-dwarf, -fstack-usage, -fdump-*, -flto...) run for
// real already or add outputs, and keep the command local. A dependency
// file moves too, and lets the object move, only when -MF names it and -MT
// or -MQ its targets (automake's `-MT $@ -MD -MP -MF $(DEPDIR)/x.Tpo`,
// c-ares' and curl's `../lib/x.o`): then nothing in it comes from the -o
// name; with gcc's default target (the -o name) the file would differ.
// `index` is the output's place in c.outputs: 0 the object (its `-o` is
// rewritten), 1 the dependency file (its `-MF`). Rewrites `args` and
// returns the tag; empty if the command cannot be so moved.
std::string RelocatedOutputTag(const GccCommand& c, const std::vector<std::string>& roots, const std::string& abs,
                               size_t index, std::vector<std::string>* args) {
  if (c.mode != GccCommand::Mode::kCompile || c.default_output) return "";
  if (c.outputs.size() != 1 && !(c.outputs.size() == 2 && c.dep_file_named)) return "";
  if (std::none_of(roots.begin(), roots.end(), [&](const std::string& r) { return IsUnder(abs, r); })) return "";
  std::string tag = ".gg-out." + BaseName(abs);
  if (!IsCleanRelativePath(tag)) return "";
  const std::string option = index == 0 ? "-o" : "-MF";
  const std::string& value = c.outputs[index];
  size_t found = 0, at = 0;
  for (size_t i = 1; i < args->size(); ++i) {
    const std::string& a = (*args)[i];
    if ((a == option && i + 1 < args->size() && (*args)[i + 1] == value) || a == option + value) {
      ++found;
      at = i;
    }
  }
  if (found != 1) return "";  // in a response file, or twice
  if ((*args)[at] == option) (*args)[at + 1] = tag;
  else (*args)[at] = option + tag;
  return tag;
}

// A text-form discovery `d` whose command's cold run compiled in the files
// form (StageCompile): that run recorded d's cold self -> the files-form
// compile F, never the text-form compile this discovery outputs, so after an
// edit F would not be found through the text. Unless d is memoized, it gets
// the text F's inputs give (P: the preprocessor alone over exactly what F
// read, one run per command and memoized after) and F itself, and outputs F
// when its own text is the same: the cut-off kept, for one preprocessor run
// on the first edit instead of one in every cold compile.
Result<Thunk> CheckAgainstFilesForm(LocalStore* store, const Session& s, Thunk d, const Name& tmpl_name,
                                    const Name& discover, const std::string& text) {
  Thunk mapped_d = d;
  s.paths.Apply(&mapped_d);
  GG_ASSIGN_OR_RETURN(auto own, store->reductions().Get(Name::ForContent(mapped_d.Serialize())));
  if (own.has_value()) return d;
  GG_ASSIGN_OR_RETURN(auto form, FilesForms(*store).Get(tmpl_name));
  if (!form.has_value() || form->outputs.size() != 1) return d;
  // The cold run's record: its first output is F (none if it declined or failed).
  GG_ASSIGN_OR_RETURN(auto cold, store->reductions().Get(form->outputs[0].name));
  if (!cold.has_value() || cold->outputs.empty() || !cold->outputs[0].name.is_thunk()) return d;
  auto recorded_bytes = store->Get(cold->outputs[0].name);
  if (!recorded_bytes.ok()) return d;  // collected since: the split run compiles
  GG_ASSIGN_OR_RETURN(Thunk recorded, Thunk::Parse(*recorded_bytes));
  // What F read must still be here (gg gc may have dropped it): else P could
  // not run, and the split run compiles as it would have.
  for (const auto& in : recorded.inputs) {
    GG_ASSIGN_OR_RETURN(Name n, Name::Parse(in.name));
    if (n.is_thunk()) {
      GG_ASSIGN_OR_RETURN(auto r, store->reductions().Get(n));
      if (!r.has_value()) return d;
    } else if (!store->Has(n)) {
      return d;
    }
  }
  Thunk p;
  p.function = discover.str();
  p.workdir = d.workdir;
  p.env = d.env;
  p.args = {kDiscoverPath, "--text-only"};
  p.args.insert(p.args.end(), std::find(d.args.begin(), d.args.end(), "--"), d.args.end());
  p.outputs = {text};
  s.paths.Apply(&p);
  p.inputs = recorded.inputs;  // mapped when F was made
  p.inputs.push_back({discover.str(), kDiscoverPath, true});
  GG_RETURN_IF_ERROR(p.Validate());
  GG_ASSIGN_OR_RETURN(Name p_name, store->Put(p.Serialize()));
  GG_ASSIGN_OR_RETURN(Name old_compile, store->Put(std::string(kOldCompileMagic) + *recorded_bytes));
  d.args.insert(d.args.begin() + 1, {"--same-text", kOldTextPath, "--old-compile", kOldCompilePath});
  d.inputs.push_back({p_name.str(), kOldTextPath, false});
  d.inputs.push_back({old_compile.str(), kOldCompilePath, false});
  return d;
}

// A compile as two thunks (discovery.h): the discovery thunk sees the
// project view and outputs the compile thunk: `compile` completed with the
// files it reads, or, where the bytes allow, made to compile the
// preprocessed text (an edit that leaves that text alone recompiles nothing).
Result<ModelResult> StageCompile(LocalStore* store, const Session& s, const std::string& kind, Thunk compile,
                                 const GccCommand& c, std::vector<ThunkInput> view,
                                 const std::vector<ThunkInput>& deps, const std::string& cwd,
                                 const std::vector<int>& modes, const MovedOutputs& moved) {
  std::vector<std::string> args(compile.args.begin() + 1, compile.args.end());
  std::string out = compile.outputs[0] + ".gg-compile";
  std::vector<std::string> discover_args = {kDiscoverPath, kTemplatePath, out};
  std::vector<std::string> outputs = {out};
  CompileTemplate tmpl;
  std::string ext = PreprocessedExtension(kind, c);
  auto source = std::find(compile.args.begin() + 1, compile.args.end(), c.inputs[0]);
  compile.inputs = s.toolchain.InputsFor(kind);
  const std::vector<std::string> env = compile.env;
  // The files form's search directories: each that exists is given to the
  // compile (empty if nothing in it is read).
  auto search_dirs = [&](CompileTemplate* t) {
    for (const auto& d : c.include_dirs) t->search_dirs.push_back(Absolute(cwd, d));
    for (const auto& f : c.inputs) t->search_dirs.push_back(DirName(Absolute(cwd, f)));
    for (const auto& f : c.include_files) t->search_dirs.push_back(DirName(Absolute(cwd, f)));
    return std::none_of(t->search_dirs.begin(), t->search_dirs.end(),
                        [](const std::string& d) { return d.find('\n') != std::string::npos; });
  };
  // The text form's compile in the files form: what its cold run compiles.
  std::optional<CompileTemplate> files_tmpl;
  std::string text;
  if (!ext.empty() && std::count(compile.args.begin() + 1, compile.args.end(), c.inputs[0]) == 1) {
    text = compile.outputs[0] + ".gg" + ext;
    if (c.assembler_sources.empty()) {
      files_tmpl.emplace();
      files_tmpl->compile = compile;
      files_tmpl->compile.inputs.insert(files_tmpl->compile.inputs.end(), deps.begin(), deps.end());
      if (!search_dirs(&*files_tmpl)) return ModelResult{"a directory name holds a newline", {}};
    }
    *source = text;
    // Without -o, gcc would name the output after x.o.gg.i (x.o.gg.o).
    if (c.default_output) compile.args.insert(compile.args.end(), {"-o", compile.outputs[0]});
    discover_args.insert(discover_args.end(), {"--reads", text, "--", compile.args[0]});
    for (auto& a : PreprocessorArgs(args)) discover_args.push_back(std::move(a));
    discover_args.insert(discover_args.end(), {"-E", "-o", text});
    outputs.push_back(text);
  } else {
    compile.inputs.insert(compile.inputs.end(), deps.begin(), deps.end());
    if (!search_dirs(&tmpl)) return ModelResult{"a directory name holds a newline", {}};
    // gcc lists no assembler source (`x.s`) and writes no -MF file for one.
    for (const auto& f : c.assembler_sources) {
      discover_args.insert(discover_args.begin() + 1, {"--read", Absolute(cwd, f)});
    }
    if (c.inputs.size() > 1 || !c.assembler_sources.empty()) {
      // gcc writes each source's list over the last one's -MF file: take
      // them all from stdout.
      discover_args.insert(discover_args.end(), {"--deps-stdout", kDepFile, "--", compile.args[0]});
      for (auto& a : PreprocessorArgs(args)) discover_args.push_back(std::move(a));
      discover_args.push_back("-M");
    } else {
      discover_args.insert(discover_args.end(), {"--deps", kDepFile, "--", compile.args[0]});
      for (auto& a : DependencyArgs(args, kDepFile)) discover_args.push_back(std::move(a));
    }
  }
  std::vector<std::string> combined = CombinedCompileArgs(c, ext.empty() ? "" : compile.outputs[0], cwd);
  tmpl.compile = std::move(compile);
  GG_RETURN_IF_ERROR(tmpl.compile.Validate());
  std::vector<std::string> outputs_here = tmpl.compile.outputs;
  s.paths.Apply(&tmpl.compile);
  for (auto& dir : tmpl.search_dirs) dir = s.paths.Map(dir);
  std::string tmpl_bytes = tmpl.Serialize();
  // A command compiled before (its template is in the store) likely finds
  // its compile memoized after an edit: discovery alone, then the cut-off.
  if (store->Has(Name::ForContent(tmpl_bytes))) combined.clear();
  GG_ASSIGN_OR_RETURN(Name tmpl_name, store->Put(tmpl_bytes));
  // The compile may get empty directories and empty files (what
  // __has_include finds) as inputs; they must be in the store.
  GG_RETURN_IF_ERROR(store->Put(Tree{}.Serialize()).status());
  GG_RETURN_IF_ERROR(store->Put("").status());
  std::string exe = DirName(s.config.gg_exe) + "/gg-discover";
  auto discover = store->PutFile(exe);
  if (!discover.ok()) return discover.status().Prefix("the discovery program (built beside gg)");

  Thunk d;
  d.function = discover->str();
  d.workdir = cwd;
  d.env = env;
  d.args = std::move(discover_args);
  d.inputs = s.toolchain.InputsFor(kind);
  for (auto& in : view) d.inputs.push_back(std::move(in));
  d.inputs.insert(d.inputs.end(), deps.begin(), deps.end());
  d.inputs.push_back({discover->str(), kDiscoverPath, true});
  d.inputs.push_back({tmpl_name.str(), kTemplatePath, false});
  d.outputs = std::move(outputs);
  if (!combined.empty()) {
    // Its substitute: discovery and compile in one sandbox (substitute.h).
    Thunk both = d;
    std::optional<Name> files_tmpl_name;
    if (files_tmpl.has_value()) {
      // The text form's cold run compiles once, in the files form (the
      // preprocessor would cost a second cc1 per compile); the first split
      // run after it checks the text (CheckAgainstFilesForm).
      GG_RETURN_IF_ERROR(files_tmpl->compile.Validate());
      s.paths.Apply(&files_tmpl->compile);
      for (auto& dir : files_tmpl->search_dirs) dir = s.paths.Map(dir);
      GG_ASSIGN_OR_RETURN(files_tmpl_name, store->Put(files_tmpl->Serialize()));
      combined = {"--compile", "--compile-deps", kDepFile, "--sunpro", "--files-template", kFilesTemplatePath};
      for (const auto& f : c.inputs) combined.insert(combined.end(), {"--read", Absolute(cwd, f)});
      both.inputs.push_back({files_tmpl_name->str(), kFilesTemplatePath, false});
    }
    both.args.insert(both.args.begin() + 1, combined.begin(), combined.end());
    for (const auto& o : tmpl.compile.outputs) both.outputs.push_back(kTailClaimPrefix + o);
    GG_RETURN_IF_ERROR(both.Validate());
    Thunk mapped_d = d, mapped_both = both;
    s.paths.Apply(&mapped_d);
    s.paths.Apply(&mapped_both);
    GG_ASSIGN_OR_RETURN(Name both_name, store->Put(mapped_both.Serialize()));
    GG_RETURN_IF_ERROR(RecordSubstitute(*store, Name::ForContent(mapped_d.Serialize()), both_name));
    if (files_tmpl_name.has_value()) {
      GG_RETURN_IF_ERROR(MakeDirs(FilesForms(*store).dir()));
      Reduction r;
      r.outputs.push_back({"", both_name, false});
      GG_RETURN_IF_ERROR(FilesForms(*store).Put(tmpl_name, r));
    }
  } else if (!text.empty()) {
    GG_ASSIGN_OR_RETURN(d, CheckAgainstFilesForm(store, s, std::move(d), tmpl_name, *discover, text));
  }
  return Finish(store, s, d, outputs_here, cwd, modes, moved);
}

}  // namespace

Result<ModelResult> ModelGcc(LocalStore* store, const Session& s, const std::string& kind,
                             const std::vector<std::string>& raw_args, const std::string& argv0) {
  ModelResult local;
  for (const char* v : {"CPATH", "C_INCLUDE_PATH", "CPLUS_INCLUDE_PATH", "GCC_EXEC_PREFIX", "COMPILER_PATH",
                        "DEPENDENCIES_OUTPUT", "SUNPRO_DEPENDENCIES"}) {
    if (getenv(v)) {
      local.local_reason = std::string("$") + v + " is set";
      return local;
    }
  }
  GG_ASSIGN_OR_RETURN(auto args, ExpandResponseFiles(raw_args));
  GccCommand c = ParseGccCommand(args);
  if (!c.local_reason.empty()) {
    local.local_reason = c.local_reason;
    return local;
  }
  std::string cwd = Cwd();
  GG_ASSIGN_OR_RETURN(ThunkInput fn, s.toolchain.ToolInput(kind));

  Thunk t;
  t.function = fn.name;
  t.workdir = cwd;
  t.env = BaseEnv();
  // clang++ is clang called by another name, and clang finds gcc's files
  // (libstdc++ headers, crt files) from the directory it was called from:
  // argv[0] as the user's build gave it, made absolute (the same bytes).
  std::string exe = fn.path;
  if (Toolchain::IsClang(kind)) {
    exe = argv0.find('/') != std::string::npos ? Absolute(cwd, argv0) : FindInPath(argv0);
    if (exe.empty()) exe = DirName(fn.path) + (kind == "clangxx" ? "/clang++" : "/clang");
  }
  t.args.push_back(exe);
  t.args.insert(t.args.end(), args.begin(), args.end());

  ViewRequest view;
  view.roots = s.config.roots;
  view.workdir = cwd;
  std::vector<int> modes;
  MovedOutputs moved;
  for (size_t i = 0; i < c.outputs.size(); ++i) {
    const std::string o = c.outputs[i];
    std::string abs = Absolute(cwd, o);
    std::string tag = TagOf(cwd, abs);
    if (tag.empty()) tag = RelocatedOutputTag(c, s.config.roots, abs, i, &t.args);
    if (tag.empty()) {
      local.local_reason = "output " + o + " is outside the working directory";
      return local;
    }
    if (TagOf(cwd, abs).empty()) {
      // Two outputs moved to one name (`-o ../a/x.o -MF ../b/x.o`) would be one.
      if (moved.contains(tag) || std::find(t.outputs.begin(), t.outputs.end(), tag) != t.outputs.end()) {
        local.local_reason = "outputs " + c.outputs[0] + " and " + o + " are outside the working directory";
        return local;
      }
      moved[tag] = abs;
      view.exclude.insert(Absolute(cwd, tag));
      c.outputs[i] = tag;  // where the command now writes it (the combined run reads the dependency file there)
    }
    if (std::find(t.outputs.begin(), t.outputs.end(), tag) != t.outputs.end()) continue;
    t.outputs.push_back(tag);
    modes.push_back(c.mode == GccCommand::Mode::kLink && t.outputs.size() == 1 ? 0755 : 0644);
    view.exclude.insert(abs);
    view.expand.insert(DirName(abs));
  }
  // Placeholders the command reads become dependencies on their thunks.
  std::vector<Dependency> deps;
  auto consider = [&](const std::string& path) {
    if (auto d = PlaceholderDep(cwd, path)) deps.push_back(*d);
  };
  for (const auto& in : c.inputs) consider(in);
  for (const auto& f : c.include_files) {
    consider(f);
    consider(f + ".gch");  // a precompiled -include (CMake's) still being made
  }
  for (const auto& lib : c.libs) {
    for (const auto& dir : c.lib_dirs) {
      for (const char* pattern : {"lib%s.so", "lib%s.a"}) {
        std::string name = pattern;
        name.replace(name.find("%s"), 2, lib);
        consider(dir + "/" + name);
      }
    }
  }
  // What ld reads beyond objects and the toolchain (link_inputs.h).
  LinkInputs link;
  if (c.mode == GccCommand::Mode::kLink) {
    const char* lib_path = getenv("LIBRARY_PATH");
    link = ResolveLinkInputs(store, c, cwd, s.toolchain, lib_path ? lib_path : "");
    if (!link.local_reason.empty()) {
      local.local_reason = link.local_reason;
      return local;
    }
  }
  for (const auto& d : deps) {
    view.exclude.insert(d.abs);
    view.expand.insert(DirName(d.abs));
  }
  for (const auto& f : link.project_files) {
    view.exclude.insert(f);
    view.expand.insert(DirName(f));
  }
  for (const auto& d : link.needed_dirs) view.needed.push_back(d);
  for (const auto& in : c.inputs) view.needed.push_back(DirName(Absolute(cwd, in)));
  for (const auto& f : c.include_files) view.needed.push_back(DirName(Absolute(cwd, f)));
  for (const auto& d : c.include_dirs) view.needed.push_back(Absolute(cwd, d));
  for (const auto& d : c.lib_dirs) view.needed.push_back(Absolute(cwd, d));
  // A --root is shown to every compile and link: a file it holds may be read
  // by an absolute #include or path that names no directory above.
  for (const auto& r : s.config.roots) view.needed.push_back(r);
  GG_ASSIGN_OR_RETURN(auto view_inputs, BuildView(store, view));

  // Sources under /usr the toolchain does not hold (system_sources.h) are
  // part of what the command sees, like the project view.
  GG_ASSIGN_OR_RETURN(auto system_trees, SystemSourceTrees(store, s.toolchain, c, cwd));
  view_inputs.insert(view_inputs.begin(), system_trees.begin(), system_trees.end());
  std::vector<ThunkInput> dep_inputs;
  std::set<std::string> seen;
  for (const auto& f : link.project_files) {
    struct stat st {};
    GG_ASSIGN_OR_RETURN(Name name, store->PutFile(f));
    stat(f.c_str(), &st);
    seen.insert(InputPath(cwd, f));
    dep_inputs.push_back({name.str(), InputPath(cwd, f), (st.st_mode & 0111) != 0});
  }
  for (const auto& d : deps) {
    std::string path = InputPath(cwd, d.abs);
    if (!seen.insert(path).second) continue;
    dep_inputs.push_back({d.target.str(), path, false});
  }
  if (c.mode == GccCommand::Mode::kCompile) {
    // Where the build reads it, also when the thunk writes it elsewhere (moved).
    std::string dep_file = c.dep_file.empty() ? "" : Absolute(cwd, c.dep_file);
    GG_ASSIGN_OR_RETURN(ModelResult r, StageCompile(store, s, kind, std::move(t), c, std::move(view_inputs),
                                                    dep_inputs, cwd, modes, moved));
    if (r.local_reason.empty()) r.dep_file = std::move(dep_file);
    return r;
  }
  GG_ASSIGN_OR_RETURN(t.inputs, s.toolchain.InputsWith(store, link.system_files, kind));
  for (auto& in : view_inputs) t.inputs.push_back(std::move(in));
  t.inputs.insert(t.inputs.end(), dep_inputs.begin(), dep_inputs.end());
  return Finish(store, s, t, cwd, modes);
}

Result<ModelResult> ModelAr(LocalStore* store, const Session& s, const std::vector<std::string>& args) {
  ModelResult local;
  size_t i = 0;
  while (i < args.size() && args[i].starts_with("--")) ++i;  // --plugin etc.: keep simple
  if (i > 0 || args.size() < 2) {
    local.local_reason = "ar options";
    return local;
  }
  std::string ops = args[0];
  if (!ops.empty() && ops[0] == '-') ops = ops.substr(1);
  bool create = ops.find_first_of("rq") != std::string::npos;
  if (!create || ops.find_first_of("dmptxTabiPlNoO") != std::string::npos) {
    local.local_reason = "ar " + args[0];
    return local;
  }
  std::string cwd = Cwd();
  std::string archive = Absolute(cwd, args[1]);
  std::string tag = TagOf(cwd, archive);
  if (tag.empty()) {
    local.local_reason = "archive outside the working directory";
    return local;
  }
  bool update = access(archive.c_str(), F_OK) == 0;
  GG_ASSIGN_OR_RETURN(ThunkInput fn, s.toolchain.ToolInput("ar"));
  Thunk t;
  t.function = fn.name;
  t.workdir = cwd;
  t.env = BaseEnv();
  t.args = {fn.path};
  t.args.insert(t.args.end(), args.begin(), args.end());
  t.inputs = s.toolchain.inputs;
  t.outputs = {tag};
  std::set<std::string> seen;
  if (update) {
    // ar changes an archive in place (libtool re-running, `ar r` adding to
    // a library): the old archive, placeholder or real, is copied in first.
    if (s.toolchain.shell.empty()) {
      local.local_reason = "ar updates an existing archive (no shell captured)";
      return local;
    }
    std::string quoted;
    for (const auto& a : args) quoted += " " + ShellQuote(a);
    t.function = s.toolchain.shell;
    t.args = {"/gg/sh", "-c", "cp .gg-in/" + ShellQuote(tag) + " " + ShellQuote(tag) + " && chmod u+w " +
                                  ShellQuote(tag) + " && exec " + ShellQuote(fn.path) + quoted};
    t.inputs.push_back({s.toolchain.shell, "/gg/sh", true});
    if (auto d = PlaceholderDep(cwd, archive)) {
      t.inputs.push_back({d->target.str(), ".gg-in/" + tag, false});
    } else {
      GG_ASSIGN_OR_RETURN(Name old, store->PutFile(archive));
      t.inputs.push_back({old.str(), ".gg-in/" + tag, false});
    }
  }
  for (size_t m = 2; m < args.size(); ++m) {
    std::string abs = Absolute(cwd, args[m]);
    std::string path = InputPath(cwd, abs);
    if (!seen.insert(path).second) continue;
    if (auto d = PlaceholderDep(cwd, args[m])) {
      t.inputs.push_back({d->target.str(), path, false});
    } else {
      auto name = store->PutFile(abs);
      if (!name.ok()) {
        local.local_reason = "member " + args[m] + " unreadable";
        return local;
      }
      t.inputs.push_back({name->str(), path, false});
    }
  }
  return Finish(store, s, t, cwd, {0644});
}

Result<ModelResult> ModelInPlace(LocalStore* store, const Session& s, const std::string& kind,
                                 const std::vector<std::string>& args) {
  ModelResult local;
  // Only `TOOL [-options] FILE`: options without values, one file.
  std::vector<std::string> opts;
  std::string file;
  for (const auto& a : args) {
    if (a.starts_with("-")) {
      if (a == "-o" || a == "-R" || a == "-K" || a == "-N" || a == "-F" || a == "-I" || a == "-O") {
        local.local_reason = kind + " " + a;
        return local;
      }
      opts.push_back(a);
    } else if (file.empty()) {
      file = a;
    } else {
      local.local_reason = kind + " of several files";
      return local;
    }
  }
  std::string cwd = Cwd();
  auto dep = file.empty() ? std::nullopt : PlaceholderDep(cwd, file);
  std::string tag = dep ? TagOf(cwd, dep->abs) : "";
  if (!dep || tag.empty() || s.toolchain.shell.empty()) {
    local.local_reason = kind + " of a real file";
    return local;
  }
  GG_ASSIGN_OR_RETURN(ThunkInput tool, s.toolchain.ToolInput(kind));
  auto shell_quote = ShellQuote;
  std::string script = "cp .gg-in/" + shell_quote(tag) + " " + shell_quote(tag) + " && chmod u+w " +
                       shell_quote(tag) + " && exec " + shell_quote(tool.path);
  for (const auto& o : opts) script += " " + shell_quote(o);
  script += " " + shell_quote(tag);
  struct stat st {};
  stat(dep->abs.c_str(), &st);
  Thunk t;
  t.function = s.toolchain.shell;
  t.workdir = cwd;
  t.env = BaseEnv();
  t.args = {"/bin/sh", "-c", script};
  t.inputs = s.toolchain.inputs;
  t.inputs.push_back({s.toolchain.shell, "/gg/sh", true});
  t.args[0] = "/gg/sh";
  t.inputs.push_back({dep->target.str(), ".gg-in/" + tag, false});
  t.outputs = {tag};
  return Finish(store, s, t, cwd, {static_cast<int>(st.st_mode & 07777)});
}

}  // namespace gg::models
