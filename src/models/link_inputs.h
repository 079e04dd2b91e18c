// What a link reads besides its object files and the captured toolchain:
// the libraries `-lNAME` finds (in -L dirs, then the linker's system dirs),
// what they lead the linker to (symlink chains, linker scripts such as
// Debian's libncurses.so, the DT_NEEDED libraries of shared ones, found by
// soname), system files named directly, and real build products the project
// view leaves out (an archive a local `ar` made, a .so in .libs).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/local_store.h"
#include "models/gcc_command.h"
#include "models/toolchain.h"

namespace gg::models {

struct LinkInputs {
  std::vector<std::string> system_files;   ///< absolute host files for Toolchain::InputsWith
  std::vector<std::string> project_files;  ///< absolute real files to add one by one
  std::vector<std::string> needed_dirs;    ///< absolute dirs of files ld reads (-T, version scripts)
  std::string local_reason;                ///< non-empty: the link cannot be a thunk
};

/// Resolves a link's inputs as ld would find them, from the working dir
/// `cwd`. `lib_path` is $LIBRARY_PATH (a library found there makes the link
/// run locally: the thunk's environment does not carry it). A shared
/// library that is still a placeholder cannot be read for its DT_NEEDED
/// entries: the libraries its own link thunk (in `store`) names stand in.
LinkInputs ResolveLinkInputs(LocalStore* store, const GccCommand& c, const std::string& cwd,
                             const Toolchain& toolchain, const std::string& lib_path);

/// The DT_SONAME ("" if none) and DT_NEEDED names of an ELF shared object,
/// and its DT_RUNPATH/DT_RPATH dirs ($ORIGIN expanded); false if `path` is
/// not a 64-bit little-endian ELF file with a dynamic section.
struct ElfDynamic {
  std::string soname;
  std::vector<std::string> needed;
  std::vector<std::string> runpath;
};
bool ReadElfDynamic(const std::string& path, ElfDynamic* out);

/// The member paths a thin archive (`!<thin>`, `ar T`) records, as written
/// (relative to the archive's directory unless absolute); empty for any
/// other file.
std::vector<std::string> ThinArchiveMembers(std::string_view bytes);

/// The files and -l names a GNU ld script names (GROUP, INPUT, AS_NEEDED);
/// -l names keep their "-l" prefix.
std::vector<std::string> LinkerScriptInputs(const std::string& text);

}  // namespace gg::models
