// Staged compiles. `gg infer` does not preprocess on the user's machine: a
// compile becomes a *discovery* thunk that runs the preprocessor (`gcc -M`)
// inside the sandbox over the project's include trees and outputs the
// *compile* thunk, whose inputs are exactly the files the preprocessor read
// (tail recursion). An edit to a file that a compile does not read changes
// its discovery thunk only, which outputs the same compile thunk as before:
// memoized, nothing recompiled. See docs/models.md.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "gg/name.h"
#include "gg/status.h"
#include "gg/thunk.h"

namespace gg::models {

/// Starts the file that hands a discovery the files-form compile recorded for
/// its text (gg-discover --old-compile): the thunk after it is a value to
/// the store, an input and not a thunk to force.
inline constexpr std::string_view kOldCompileMagic = "gg-old-compile\n";


/// What the discovery thunk completes: the compile thunk without the files
/// it reads, and the directories the compiler searches (they must exist in
/// the compile's sandbox wherever they existed for the preprocessor, or a
/// lookup through `dir/..` or the search order could change).
struct CompileTemplate {
  Thunk compile;
  std::vector<std::string> search_dirs;  ///< absolute

  /// A value (not a thunk: a different magic) that gg-discover reads.
  std::string Serialize() const;
  static Result<CompileTemplate> Parse(std::string_view bytes);
};

/// The file names in a make-style dependency file (`gcc -M` output), targets
/// left out, in order of appearance, each once.
Result<std::vector<std::string>> ParseDepFile(std::string_view text);

/// A compile's arguments (argv[1..]) without what makes it compile and write
/// files: -c, -o and the dependency-file options. Add -E or -M to use them.
std::vector<std::string> PreprocessorArgs(const std::vector<std::string>& compile_args);
/// PreprocessorArgs writing the list of every file read to `dep_file`.
std::vector<std::string> DependencyArgs(const std::vector<std::string>& compile_args,
                                        const std::string& dep_file);

struct DiscoveryHost {
  std::function<Result<std::string>(const std::string& path)> read;  ///< a file's content
  std::function<bool(const std::string& path)> is_directory;
  std::function<bool(const std::string& path)> is_file;  ///< a regular file (after symlinks)
};

/// The compile thunk: the template's thunk plus each file in `read` (as
/// `gcc -M` names it, relative to the work dir or absolute) that no input
/// already covers, each file `__has_include` may find without reading it
/// (HasIncludeCandidates: as an empty file, since only its existence can
/// matter), each file the assembler reads by name (`.incbin`, `.include`:
/// AssemblerReads) in a file read, and an empty directory for each search
/// dir that exists but holds nothing else the compile sees. `unnamed_read`,
/// if given, is set to why an assembler read could not be added (a name the
/// scan cannot read, or no such file), naming the file that holds it; empty
/// if none.
Result<Thunk> CompleteCompile(const CompileTemplate& t, const std::vector<std::string>& read,
                              const DiscoveryHost& host, std::string* unnamed_read = nullptr);

/// The header names (`<x.h>` or `"x.h"`, without the delimiters) that
/// `__has_include` may be asked about in `content`: every one on an `#if`,
/// `#elif` or `#define` line (wrappers such as fmt's `FMT_HAS_INCLUDE(x)`
/// take the name elsewhere than `__has_include(` itself). A superset: names
/// that are no file cost a `stat` each.
std::vector<std::string> HasIncludeCandidates(std::string_view content);

/// The files the assembler reads that the preprocessor does not list:
/// `.incbin "f"` and `.include "f"`, in assembler text or escaped in a C
/// string (inline asm, `\"f\"`). A plain substring search, so a comment
/// saying `incbin` counts too; a mention whose file name cannot be read
/// from the text (a name built by macros, no quotes) sets `unnamed`.
struct AssemblerReads {
  std::vector<std::string> names;
  bool unnamed = false;
};
AssemblerReads FindAssemblerReads(std::string_view content);

}  // namespace gg::models
