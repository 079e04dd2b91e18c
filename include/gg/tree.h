// A tree object: a directory listing (paths, modes, file names, link
// targets) stored as one object, so a toolchain or a set of system headers
// can be named, shipped and materialized as a single input.
#pragma once

#include <string>
#include <vector>

#include "gg/name.h"
#include "gg/status.h"

namespace gg {

struct TreeEntry {
  enum class Kind { kDir, kFile, kSymlink };
  std::string path;     ///< relative to the tree's root
  Kind kind = Kind::kFile;
  bool executable = false;
  Name name;            ///< files only
  std::string target;   ///< symlinks only
  bool operator==(const TreeEntry&) const = default;
};

struct Tree {
  std::vector<TreeEntry> entries;  ///< sorted by path
  std::string Serialize() const;
  static Result<Tree> Parse(std::string_view bytes);
  /// The tree's name: the hash of Serialize().
  Name name() const { return Name::ForContent(Serialize()); }
};

/// The name of the tree with no entries. As a thunk input it stands for an
/// empty directory, which the sandbox creates instead of mounting.
const Name& EmptyTreeName();

}  // namespace gg
