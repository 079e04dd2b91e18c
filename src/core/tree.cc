#include "core/tree.h"

#include <algorithm>
#include <set>

#include "core/gg.pb.h"
#include "core/path_util.h"

namespace gg {

std::string Tree::Serialize() const {
  proto::Tree p;
  p.set_version(1);
  std::vector<const TreeEntry*> sorted;
  for (const auto& e : entries) sorted.push_back(&e);
  std::sort(sorted.begin(), sorted.end(), [](auto* a, auto* b) { return a->path < b->path; });
  for (const auto* e : sorted) {
    auto* pe = p.add_entries();
    pe->set_path(e->path);
    switch (e->kind) {
      case TreeEntry::Kind::kDir: pe->set_mode(040755); break;
      case TreeEntry::Kind::kFile:
        pe->set_mode(e->executable ? 0100755 : 0100644);
        pe->set_name(e->name.str());
        break;
      case TreeEntry::Kind::kSymlink:
        pe->set_mode(0120777);
        pe->set_target(e->target);
        break;
    }
  }
  std::string out(kTreeMagic);
  std::string body;
  p.SerializeToString(&body);
  return out + body;
}

Result<Tree> Tree::Parse(std::string_view bytes) {
  if (!bytes.starts_with(kTreeMagic)) return Status::Corrupt("not a tree: the tree magic header is missing");
  bytes.remove_prefix(kTreeMagic.size());
  proto::Tree p;
  if (!p.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return Status::Corrupt("malformed tree: the protobuf message does not parse");
  }
  if (p.version() != 1) return Status::Corrupt("tree format version " + std::to_string(p.version()) + " is not supported");
  Tree t;
  // Every entry's parent must be a directory entry before it, and names
  // strictly ascending (so none repeats): a tree can then never place a file
  // below one of its own symlinks, however it is materialized.
  std::set<std::string_view> dirs;
  for (const auto& pe : p.entries()) {
    TreeEntry e;
    e.path = pe.path();
    if (!IsCleanRelativePath(e.path)) {
      return Status::Corrupt("malformed tree: the entry '" + e.path +
                             "' is not a clean relative path (empty, absolute, or with '.' or '..')");
    }
    if (!t.entries.empty() && e.path <= t.entries.back().path) {
      return Status::Corrupt("malformed tree: the entry '" + e.path + "' " +
                             (e.path == t.entries.back().path ? "appears twice" : "is out of order"));
    }
    if (size_t slash = e.path.rfind('/'); slash != std::string::npos) {
      std::string_view parent = std::string_view(pe.path()).substr(0, slash);
      if (!dirs.contains(parent)) {
        return Status::Corrupt("malformed tree: the entry '" + e.path + "' is below '" + std::string(parent) +
                               "', which is not a directory of the tree (a symlink, a file, or missing)");
      }
    }
    switch (pe.mode() & 0170000) {
      case 0040000:
        e.kind = TreeEntry::Kind::kDir;
        dirs.insert(pe.path());
        break;
      case 0100000: {
        e.kind = TreeEntry::Kind::kFile;
        e.executable = (pe.mode() & 0111) != 0;
        auto n = Name::Parse(pe.name());
        if (!n.ok()) return Status::Corrupt("malformed tree: " + n.status().message());
        e.name = *n;
        break;
      }
      case 0120000:
        e.kind = TreeEntry::Kind::kSymlink;
        e.target = pe.target();
        if (e.target.empty() || e.target.find('\0') != std::string::npos) {
          return Status::Corrupt("malformed tree: the symlink '" + e.path + "' has an empty or NUL-bearing target");
        }
        break;
      default: return Status::Corrupt("malformed tree: bad mode for '" + e.path + "'");
    }
    t.entries.push_back(std::move(e));
  }
  return t;
}

const Name& EmptyTreeName() {
  static const Name name = Name::ForContent(Tree{}.Serialize());
  return name;
}

}  // namespace gg
