"""The local store (a ``.gg`` directory, docs/store_format.md): objects named
by their content, and what each forced thunk reduced to.

Objects are written here directly (to ``tmp/`` and renamed, mode 0444, as
gg itself does), so storing thousands of thunks costs no process per thunk.
"""
from __future__ import annotations

import itertools
import os

TYPE_CHECKING = False  # typing is not imported at run time: thunks written in Python start faster
if TYPE_CHECKING:
    from typing import Iterable, Sequence

from .errors import CorruptError, InvalidError, NotFoundError
from .names import Hasher, name_of, object_of
from .thunk import Thunk
from .tree import Tree

_SMALL = 1 << 20  # files below this are read whole; larger ones streamed
_PLACEHOLDER_FIRST_LINE = "#!/bin/sh\n# gg-placeholder "


def find_store_dir() -> str:
    """$GG_DIR, else the nearest ``.gg`` from the working directory upwards."""
    env = os.environ.get("GG_DIR")
    if env:
        return os.path.abspath(env)
    d = os.getcwd()
    while True:
        if os.path.isdir(os.path.join(d, ".gg")):
            return os.path.join(d, ".gg")
        parent = os.path.dirname(d)
        if parent == d:
            raise NotFoundError(f"no .gg directory in {os.getcwd()} or above it: run 'gg init' or set GG_DIR")
        d = parent


class Store:
    """A gg store. ``Store.open()`` finds the usual one; ``Store.init(dir)``
    creates one."""

    _LAYOUT = ("blobs", "blobs-x", "trees", "reductions", "tmp")

    def __init__(self, dir: str) -> None:
        if not os.path.isdir(os.path.join(dir, "blobs")):
            raise NotFoundError(f"{dir} is not a gg store (no blobs/ inside): run 'gg init' there")
        self.dir = os.path.abspath(dir)
        self._blobs = os.path.join(self.dir, "blobs")
        self._tmp = os.path.join(self.dir, "tmp")
        self._suffix = f"{os.getpid()}.{os.urandom(4).hex()}"
        self._counter = itertools.count(1)  # next() is atomic: put() may be called from threads

    @classmethod
    def open(cls, dir: str | None = None) -> "Store":
        return cls(dir if dir else find_store_dir())

    @classmethod
    def init(cls, dir: str) -> "Store":
        for sub in cls._LAYOUT:
            os.makedirs(os.path.join(dir, sub), exist_ok=True)
        return cls(dir)

    # Putting things in.
    def _blob_path(self, name: str) -> str:
        return os.path.join(self._blobs, object_of(name))

    def _temp_path(self) -> str:
        return os.path.join(self._tmp, f"py-put.{self._suffix}.{next(self._counter)}")

    def put(self, content: bytes | str) -> str:
        """Stores bytes (str is encoded as UTF-8); returns their name."""
        data = content.encode() if isinstance(content, str) else bytes(content)
        name = name_of(data)
        path = self._blob_path(name)
        if not os.path.exists(path):
            tmp = self._temp_path()
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o444)
            try:
                with os.fdopen(fd, "wb") as f:
                    f.write(data)
                os.rename(tmp, path)
            except BaseException:
                _unlink(tmp)
                raise
            if len(data) >= _SMALL:
                self._remember(path, name)
        return name

    def put_parts(self, parts: Sequence[bytes | memoryview], one_pass: bool = False) -> str:
        """Stores the concatenation of `parts` (bytes, or any buffer: a
        memoryview of an mmap'd file ...) without joining them in memory.
        Hashing and writing run outside Python's lock, so threads may put in
        parallel.

        By default the data is hashed in one pass, then written (unless
        already stored) in one more. With `one_pass` each piece of 1 MB is
        written right after it is hashed, while it is still in the CPU's
        cache: about half the CPU time for data that is not stored yet (a
        second pass reads it from memory again), but data that is stored
        already is written for nothing, then removed."""
        if not one_pass:
            h = Hasher()
            for part in parts:
                h.update(part)
            name = h.name()
            if os.path.exists(self._blob_path(name)):
                return name
            return self._write_parts(parts, name, h.size)
        return self._write_parts(parts, None, 0)

    def _write_parts(self, parts: Sequence[bytes | memoryview], name: str | None, size: int) -> str:
        """Writes `parts` to a temporary file and renames it to the blob;
        hashes them on the way when `name` is None."""
        h = Hasher() if name is None else None
        tmp = self._temp_path()
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o444)
        try:
            try:
                for part in parts:
                    view = memoryview(part).cast("B")
                    while view:
                        piece = view[:_SMALL]
                        if h is not None:
                            h.update(piece)
                        while piece:
                            piece = piece[os.write(fd, piece):]
                        view = view[_SMALL:]
            finally:
                os.close(fd)
            if h is not None:
                name, size = h.name(), h.size
                if os.path.exists(self._blob_path(name)):
                    _unlink(tmp)
                    return name
            os.rename(tmp, self._blob_path(name))
        except BaseException:
            _unlink(tmp)
            raise
        if size >= _SMALL:
            self._remember(self._blob_path(name), name)
        return name

    def _remember(self, path: str, name: str) -> None:
        """Records in the store's hash cache (docs/store_format.md) that the
        blob just written at `path` is `name`, hashed as it was written: gg
        then verifies it with one stat, not by reading it again, when a
        thunk takes it as input. Only for large blobs (small ones cost little
        to hash, and every gg process reads the whole log). One O_APPEND
        write, as gg's own lines. Best effort: without the line gg hashes
        the blob itself, as it would have anyway."""
        try:
            st = os.stat(path)
            line = f"{st.st_dev} {st.st_ino} {st.st_size} {st.st_mtime_ns} {st.st_ctime_ns} {name}\n"
            fd = os.open(os.path.join(self.dir, "hashcache"), os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC,
                         0o644)
        except OSError:
            return
        try:
            os.write(fd, line.encode())
        except OSError:
            pass
        finally:
            os.close(fd)

    def put_file(self, path: str) -> str:
        """Stores a file's content, streaming large files."""
        if os.path.getsize(path) < _SMALL:
            with open(path, "rb") as f:
                return self.put(f.read())
        tmp = self._temp_path()
        h = Hasher()
        try:
            with open(path, "rb") as src, open(tmp, "xb") as dst:
                while chunk := src.read(_SMALL):
                    h.update(chunk)
                    dst.write(chunk)
            os.chmod(tmp, 0o444)
            name = h.name()
            if os.path.exists(self._blob_path(name)):
                _unlink(tmp)
            else:
                os.rename(tmp, self._blob_path(name))
                self._remember(self._blob_path(name), name)
            return name
        except BaseException:
            _unlink(tmp)
            raise

    def put_thunk(self, thunk: Thunk) -> str:
        """Validates and stores a thunk; returns its name (T...)."""
        return self.put(thunk.serialize())

    def put_tree(self, tree: Tree) -> str:
        """Stores a tree whose files are already in the store."""
        for e in tree.entries:
            if e.kind == "file" and not self.has(e.name):
                raise NotFoundError(f"tree entry {e.path}: object {e.name} is not in the store {self.dir} "
                                    "(put or collect it first)")
        return self.put(tree.serialize())

    def collect(self, path: str, exclude: Iterable[str] = ()) -> str:
        """Stores a file as a value, or a directory (recursively) as a tree;
        symbolic links inside are kept as links. Entries whose file name is
        in `exclude` (e.g. ``__pycache__``) are left out."""
        if not os.path.isdir(path):
            if not os.path.exists(path):
                raise NotFoundError(f"cannot collect {path}: no such file or directory")
            return self.put_file(path)
        skip = set(exclude)
        tree = Tree()

        def walk(rel: str) -> None:
            with os.scandir(os.path.join(path, rel)) as it:
                for entry in it:
                    if entry.name in skip:
                        continue
                    sub = f"{rel}/{entry.name}" if rel else entry.name
                    if entry.is_symlink():
                        tree.add_symlink(sub, os.readlink(entry.path))
                    elif entry.is_dir():
                        tree.add_dir(sub)
                        walk(sub)
                    elif entry.is_file():
                        mode = entry.stat().st_mode
                        tree.add_file(sub, self.put_file(entry.path), bool(mode & 0o111))

        walk("")
        return self.put(tree.serialize())

    # Reading.
    def has(self, name: str) -> bool:
        return os.path.exists(self._blob_path(name))

    def get(self, name: str) -> bytes:
        """An object's content, checked against its name."""
        if "#" in name:
            raise InvalidError(f"{name} names a thunk's output: force it (or use output()) first")
        try:
            with open(self._blob_path(name), "rb") as f:
                data = f.read()
        except FileNotFoundError:
            raise NotFoundError(f"object {name} is not in the store {self.dir} "
                                "(collect it, or pull it from a shared store)") from None
        if name_of(data) != name:
            raise CorruptError(f"object {name} in {self._blobs} does not match its name (the file was "
                               "changed or damaged); delete it and collect or pull it again")
        return data

    def get_thunk(self, name: str) -> Thunk:
        """A stored thunk, parsed and validated."""
        try:
            return Thunk.parse(self.get(object_of(name)))
        except CorruptError as e:
            raise CorruptError(f"thunk {object_of(name)}: {e}") from None

    def get_tree(self, name: str) -> Tree:
        return Tree.parse(self.get(name))

    def reduced_to(self, thunk: str) -> str | None:
        """What a thunk (or ``T...#tag``) reduced to when it was forced: a
        value, or for a tail call the thunk in its place; None if not yet."""
        obj, _, tag = thunk.partition("#")
        try:
            with open(os.path.join(self.dir, "reductions", obj)) as f:
                lines = f.read().splitlines()
        except FileNotFoundError:
            return None
        if not lines or not lines[0].startswith("gg-reduction "):
            return None  # a damaged record counts as a miss, as in gg itself
        outs = [ln.split(" ", 3) for ln in lines[1:] if ln.startswith("out ")]
        for i, parts in enumerate(outs):
            if len(parts) == 4 and (parts[3] == tag or (not tag and i == 0)):
                return parts[1]
        return None

    def output(self, target: str) -> bytes | None:
        """The content a forced target stands for, following tail calls, or
        None if it has not been forced (see gg.force)."""
        if not target.startswith("T"):
            return self.get(target)
        name = self.reduced_to(target)
        # A first output that is a thunk is a tail call: follow it. Other
        # outputs that are thunks are values like any other.
        while name is not None and name.startswith("T") and "#" not in target:
            name = self.reduced_to(name)
        return None if name is None else self.get(name)

    def copy_out(self, name: str, path: str, executable: bool = False) -> None:
        """Writes an object to `path`, atomically replacing what is there."""
        data = self.get(name)
        tmp = f"{path}.tmp.{self._suffix}"
        with open(tmp, "wb") as f:
            f.write(data)
        os.chmod(tmp, 0o755 if executable else 0o644)
        os.rename(tmp, path)

    def write_placeholder(self, path: str, target: str) -> None:
        """A placeholder file standing for `target`; ``gg force FILE``
        replaces it by the output."""
        content = (f"{_PLACEHOLDER_FIRST_LINE}{target}\n"
                   "echo \"$0 is a gg placeholder: run 'gg force $0' to compute it\" >&2\nexit 1\n")
        tmp = f"{path}.tmp.{self._suffix}"
        with open(tmp, "w") as f:
            f.write(content)
        os.rename(tmp, path)

    def force(self, targets: Iterable[str] | str, **options: object) -> list[str]:
        """Forces targets in this store: see gg.force."""
        from .force import force
        return force(self, targets, **options)  # type: ignore[arg-type]


def read_placeholder(path: str) -> str | None:
    """The target a placeholder file names, or None if it is not one."""
    with open(path, "rb") as f:
        head = f.read(4097)
    text = head.decode(errors="replace")
    if not text.startswith(_PLACEHOLDER_FIRST_LINE) or len(head) > 4096:
        return None
    return text[len(_PLACEHOLDER_FIRST_LINE):].split("\n", 1)[0]


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


__all__ = ["Store", "find_store_dir", "read_placeholder"]
