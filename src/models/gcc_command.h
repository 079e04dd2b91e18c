// What a gcc/g++ command line means to the model: what it reads, what it
// writes, and whether the model can turn it into a thunk at all.
#pragma once

#include <string>
#include <vector>

#include "gg/status.h"

namespace gg::models {

struct GccCommand {
  enum class Mode { kCompile, kLink };
  Mode mode = Mode::kLink;
  std::vector<std::string> args;          ///< argv[1..] with @files expanded
  std::vector<std::string> inputs;        ///< positional files, as written
  std::vector<std::string> outputs;       ///< files written, as written (first: main)
  std::vector<std::string> include_dirs;  ///< -I -iquote -isystem -idirafter
  std::vector<std::string> include_files; ///< -include -imacros
  std::vector<std::string> lib_dirs;      ///< -L
  std::vector<std::string> libs;          ///< -lNAME: NAME
  std::vector<std::string> linker_dirs;   ///< -Wl,-L / -Wl,-rpath-link dirs
  std::vector<std::string> linker_files;  ///< -T, -Wl,--version-script= and such: files ld reads
  /// Sources gcc hands to the assembler unpreprocessed (`x.s`, `-x
  /// assembler`): no dependency list names them (-M, -MD and
  /// $SUNPRO_DEPENDENCIES write nothing for them), so discovery adds them.
  std::vector<std::string> assembler_sources;
  bool shared = false;
  bool static_link = false;               ///< -static: ld takes only lib*.a
  /// No -o: outputs are the compiler's default names (DefaultOutputName), so
  /// a rewritten command (another input file) must name them itself.
  bool default_output = false;
  /// The dependency file (outputs[1]) is named by -MF and its targets by -MT
  /// or -MQ (automake's `-MT $@ -MD -MP -MF $(DEPDIR)/x.Tpo`): neither its
  /// name nor its content comes from the -o output, so both files may be
  /// written elsewhere with the same bytes (RelocatedOutputTag).
  bool dep_file_named = false;
  /// The dependency file gcc writes (-MD, -MMD, -MF, -Wp,-MD,f; also in
  /// outputs), as written; "" if none.
  std::string dep_file;
  std::string local_reason;               ///< non-empty: run it for real, and why
  /// With local_reason: the command has no input file and no -o (-dumpmachine,
  /// -print-*, --version, probes), so it can write nothing; it runs for real
  /// and is counted, not listed.
  bool query = false;
};

/// Expands @file arguments (recursively, as gcc does; quoting with ' " \).
Result<std::vector<std::string>> ExpandResponseFiles(const std::vector<std::string>& args);

/// The file gcc writes without -o, in the cwd: for `stage` 'c' (-c) and
/// 'S' (-S) the source's name without its directory and suffix plus .o or
/// .s (`-c dir/x.c` writes ./x.o); 'E' writes to stdout (""); a link
/// (any other stage) writes a.out.
std::string DefaultOutputName(char stage, const std::string& source);

/// Parses gcc's arguments (without argv[0]).
GccCommand ParseGccCommand(const std::vector<std::string>& args);

}  // namespace gg::models
