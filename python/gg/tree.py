"""Trees: a directory listing stored as one object (``D...``), materialized
once per machine and mounted read-only into the thunks that use it."""
from __future__ import annotations

from . import _wire
from .errors import CorruptError, InvalidError
from .names import TREE_MAGIC, name_of, parse_name
from .thunk import is_clean_relative

DIR, FILE, SYMLINK = "dir", "file", "symlink"


class TreeEntry:
    """One path in a tree: a directory, a file (`name` of its content,
    `executable`), or a symbolic link (`target`)."""
    __slots__ = ("path", "kind", "name", "executable", "target")

    def __init__(self, path: str, kind: str = FILE, name: str = "", executable: bool = False,
                 target: str = "") -> None:
        self.path, self.kind, self.name, self.executable, self.target = path, kind, name, executable, target

    def _key(self) -> tuple[str, str, str, bool, str]:
        return (self.path, self.kind, self.name, self.executable, self.target)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, TreeEntry) and self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        return "TreeEntry" + repr(self._key())

    def mode(self) -> int:
        if self.kind == DIR:
            return 0o40755
        if self.kind == SYMLINK:
            return 0o120777
        return 0o100755 if self.executable else 0o100644


class Tree:
    """A directory listing; build one with add_*, or store.collect(dir)."""

    def __init__(self, entries: list[TreeEntry] | None = None) -> None:
        self.entries: list[TreeEntry] = list(entries or [])

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Tree) and self.entries == other.entries

    def __repr__(self) -> str:
        return f"Tree({self.entries!r})"

    def add_file(self, path: str, name: str, executable: bool = False) -> "Tree":
        self.entries.append(TreeEntry(path, FILE, name, executable))
        return self

    def add_dir(self, path: str) -> "Tree":
        self.entries.append(TreeEntry(path, DIR))
        return self

    def add_symlink(self, path: str, target: str) -> "Tree":
        self.entries.append(TreeEntry(path, SYMLINK, target=target))
        return self

    def serialize(self) -> bytes:
        """Entries sorted by path (byte order, as in C++), each with its mode;
        raises InvalidError for a tree gg would refuse to read."""
        fb = _wire.field_bytes
        parts = [TREE_MAGIC, b"\x08\x01"]
        entries = sorted(self.entries, key=lambda e: e.path.encode())
        problem = _problem(entries)
        if problem:
            raise InvalidError(f"malformed tree: {problem}")
        for e in entries:
            body = fb(1, e.path.encode()) + _wire.field_varint(2, e.mode())
            if e.kind == FILE:
                body += fb(3, e.name.encode())
            elif e.kind == SYMLINK and e.target:
                body += fb(4, e.target.encode())
            parts.append(fb(2, body))
        return b"".join(parts)

    @property
    def name(self) -> str:
        return name_of(self.serialize())

    @staticmethod
    def parse(data: bytes) -> "Tree":
        if not data.startswith(TREE_MAGIC):
            raise CorruptError("not a tree: the tree magic header is missing")
        what = "tree"
        t = Tree()
        version = 0
        for f, v in _wire.parse(data[len(TREE_MAGIC):], what):
            if f == 1:
                version = _wire.number(v, what)
            elif f == 2:
                if not isinstance(v, bytes):
                    raise CorruptError("malformed tree: an entry is not a message")
                path, mode, name, target = "", 0, "", ""
                for g, w in _wire.parse(v, what):
                    if g == 1:
                        path = _wire.text(w, what)
                    elif g == 2:
                        mode = _wire.number(w, what)
                    elif g == 3:
                        name = _wire.text(w, what)
                    elif g == 4:
                        target = _wire.text(w, what)
                kind = {0o040000: DIR, 0o100000: FILE, 0o120000: SYMLINK}.get(mode & 0o170000)
                if kind is None:
                    raise CorruptError(f"malformed tree: bad mode for '{path}'")
                t.entries.append(TreeEntry(path, kind, name if kind == FILE else "",
                                           kind == FILE and bool(mode & 0o111), target))
        if version != 1:
            raise CorruptError(f"tree format version {version} is not supported")
        # Stored order, not sorted: gg refuses entries out of order too.
        problem = _problem(t.entries)
        if problem:
            raise CorruptError(f"malformed tree: {problem}")
        return t


def _problem(entries: list[TreeEntry]) -> str | None:
    """What gg's own parser refuses (src/core/tree.cc): every entry's parent is
    a directory entry before it and paths strictly ascend, so a tree can never
    place a file below one of its own symlinks however it is materialized."""
    dirs: set[str] = set()
    previous = b""
    for i, e in enumerate(entries):
        if not is_clean_relative(e.path):
            return f"the entry '{e.path}' is not a clean relative path (empty, absolute, or with '.' or '..')"
        key = e.path.encode()
        if i and key <= previous:
            return f"the entry '{e.path}' " + ("appears twice" if key == previous else "is out of order")
        previous = key
        parent = e.path.rpartition("/")[0]
        if parent and parent not in dirs:
            return (f"the entry '{e.path}' is below '{parent}', which is not a directory of the tree "
                    "(a symlink, a file, or missing)")
        if e.kind == DIR:
            dirs.add(e.path)
        elif e.kind == FILE:
            try:
                parse_name(e.name)
            except InvalidError as err:
                return str(err)
        elif not e.target or "\0" in e.target:
            return f"the symlink '{e.path}' has an empty or NUL-bearing target"
    return None
