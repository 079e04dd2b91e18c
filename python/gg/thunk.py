"""Thunks: a program, its argv and environment, the named objects it may see,
the output tags it must leave, and a timeout. A thunk is named by the hash of
its serialized bytes, which are the same whether built here or in C++
(docs/thunk_format.md)."""
from __future__ import annotations

TYPE_CHECKING = False  # typing is not imported at run time: thunks written in Python start faster
if TYPE_CHECKING:
    from typing import Iterable, Mapping

from . import _wire
from .errors import CorruptError, InvalidError
from .names import THUNK_MAGIC, name_of, parse_name

FORMAT_VERSION = 1
DEFAULT_WORKDIR = "/work"
MAX_TIMEOUT_MS = 30 * 24 * 3600 * 1000   # 30 days
MAX_LIMIT_BYTES = 1 << 50                # 1 PiB: beyond this a size means nothing to the kernel
MIN_MEMORY_LIMIT = 16 << 20              # no program starts in less
MAX_PROCESSES = 1 << 22                  # the kernel's pid maximum


def placeholder(name: str) -> str:
    """``@{GG:NAME}``: in a thunk's args and env, replaced by the absolute path
    where input NAME is seen in its sandbox."""
    return "@{GG:" + name + "}"


def _clean_components(path: str) -> bool:
    return all(c not in ("", ".", "..") for c in path.split("/"))


def is_clean_relative(path: str) -> bool:
    return bool(path) and not path.startswith("/") and _clean_components(path)


def is_clean_absolute(path: str) -> bool:
    return path.startswith("/") and (path == "/" or _clean_components(path[1:]))


class Input:
    """An object the thunk may see: `name` is a value (V...), a tree (D...) or
    a thunk's output (T..., or T...#tag); `path` is where it is seen
    (relative: under the working directory). Immutable."""
    __slots__ = ("name", "path", "executable")
    name: str
    path: str
    executable: bool

    def __init__(self, name: str, path: str, executable: bool = False) -> None:
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "path", path)
        object.__setattr__(self, "executable", executable)

    def __setattr__(self, key: str, value: object) -> None:
        raise AttributeError("gg.Input is immutable")

    def _key(self) -> tuple[str, str, bool]:
        return (self.name, self.path, self.executable)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Input) and self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        return f"Input(name={self.name!r}, path={self.path!r}, executable={self.executable!r})"


class Limits:
    """What one run of the thunk may use; 0 leaves a limit to the force
    (`gg force --limit-*`, then GG_LIMIT_*, then the default: docs/sandbox.md,
    "Limits"). Limits are part of the thunk's name; with none set the thunk's
    bytes are those of a thunk without the field."""
    _FIELDS = ("memory_bytes", "processes", "tmp_bytes", "file_bytes", "workdir_bytes")  # protobuf fields 1-5
    __slots__ = _FIELDS

    def __init__(self, memory_bytes: int = 0, processes: int = 0, tmp_bytes: int = 0, file_bytes: int = 0,
                 workdir_bytes: int = 0) -> None:
        self.memory_bytes = memory_bytes    # address space
        self.processes = processes          # processes at once
        self.tmp_bytes = tmp_bytes          # size of /tmp and of /dev/shm, each
        self.file_bytes = file_bytes        # largest file it may write
        self.workdir_bytes = workdir_bytes  # total size of what it writes in its working directory

    def any(self) -> bool:
        return any(getattr(self, f) for f in self._FIELDS)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Limits) and all(getattr(self, f) == getattr(other, f) for f in self._FIELDS)

    def __repr__(self) -> str:
        return "Limits(" + ", ".join(f"{f}={getattr(self, f)!r}" for f in self._FIELDS if getattr(self, f)) + ")"

    def _problem(self) -> str | None:
        for f in self._FIELDS:
            v = getattr(self, f)
            if not isinstance(v, int) or v < 0:
                return f"limit {f} must be a non-negative integer, not {v!r}"
        for f in ("memory_bytes", "tmp_bytes", "file_bytes", "workdir_bytes"):
            if getattr(self, f) > MAX_LIMIT_BYTES:
                return f"the {f[:-6]} limit of {getattr(self, f)} bytes is above the maximum of 1 PiB"
        if 0 < self.memory_bytes < MIN_MEMORY_LIMIT:
            return (f"a memory limit of {self.memory_bytes} bytes is too small for any program to start "
                    "(at least 16 MiB)")
        if self.processes > MAX_PROCESSES:
            return f"the process limit of {self.processes} is above the maximum of {MAX_PROCESSES}"
        return None

    def _encode(self) -> bytes:
        return b"".join(_wire.field_varint(i + 1, getattr(self, f)) for i, f in enumerate(self._FIELDS)
                        if getattr(self, f))

    @staticmethod
    def _parse(data: bytes, what: str) -> "Limits":
        limits = Limits()
        for f, v in _wire.parse(data, what):
            if 1 <= f <= len(Limits._FIELDS):
                setattr(limits, Limits._FIELDS[f - 1], _wire.number(v, what))
        if not limits.any():
            raise CorruptError(f"malformed {what}: its limits message sets no limit")
        return limits


class Thunk:
    """A thunk under construction, or parsed from a store.

    >>> t = Thunk(args=["sh", "-c", "echo hi > out"], outputs=["out"])
    >>> t.set_function(busybox, "/bin/sh")      # doctest: +SKIP
    """
    _FIELDS = ("args", "outputs", "inputs", "env", "function", "timeout_ms", "workdir", "limits")

    def __init__(self, args: Iterable[str] = (), outputs: Iterable[str] = (), inputs: Iterable[Input] = (),
                 env: Iterable[str] = (), function: str = "", timeout_ms: int = 0, workdir: str = "",
                 limits: Limits | None = None) -> None:
        self.args: list[str] = list(args)
        self.outputs: list[str] = list(outputs)
        self.inputs: list[Input] = list(inputs)
        self.env: list[str] = list(env)
        self.function = function
        self.timeout_ms = timeout_ms
        self.workdir = workdir
        self.limits = limits if limits is not None else Limits()

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Thunk) and all(getattr(self, f) == getattr(other, f) for f in self._FIELDS)

    def __repr__(self) -> str:
        return "Thunk(" + ", ".join(f"{f}={getattr(self, f)!r}" for f in self._FIELDS) + ")"

    # Building. Each returns self, so calls chain.
    def set_function(self, exe: str, path: str) -> "Thunk":
        """Makes the value `exe` the program to run, seen (executable) at `path`."""
        self.function = exe
        return self.add_input(exe, path, executable=True)

    def add_input(self, name: str, path: str, executable: bool = False) -> "Thunk":
        """Lets the thunk see `name` (a value, tree, or thunk output) at `path`."""
        self.inputs.append(Input(name, path, executable))
        return self

    def set_env(self, env: Mapping[str, str] | Iterable[str]) -> "Thunk":
        """The whole environment, from a mapping or NAME=VALUE strings."""
        items = getattr(env, "items", None)
        self.env = [f"{k}={v}" for k, v in items()] if items is not None else list(env)  # type: ignore[union-attr]
        return self

    # The format.
    def serialize(self) -> bytes:
        """The magic header followed by the protobuf message; raises
        InvalidError if the thunk is malformed."""
        self.validate()
        return self._encode()

    def _encode(self) -> bytes:
        fb = _wire.field_bytes
        parts = [THUNK_MAGIC, b"\x08\x01", fb(2, self.function.encode())]
        parts += [fb(3, a.encode()) for a in self.args]
        parts += [fb(4, e.encode()) for e in self.env]
        for i in self.inputs:
            body = b""
            if i.name:
                body += fb(1, i.name.encode())
            if i.path:
                body += fb(2, i.path.encode())
            if i.executable:
                body += b"\x18\x01"
            parts.append(fb(5, body))
        parts += [fb(6, o.encode()) for o in self.outputs]
        if self.timeout_ms:
            parts.append(_wire.field_varint(7, self.timeout_ms))
        if self.workdir and self.workdir != DEFAULT_WORKDIR:
            parts.append(fb(8, self.workdir.encode()))
        if self.limits.any():
            parts.append(fb(9, self.limits._encode()))
        return b"".join(parts)

    @property
    def name(self) -> str:
        """The thunk's name: the hash of serialize()."""
        return name_of(self.serialize())

    def output(self, tag: str | None = None) -> str:
        """The name of one of this thunk's outputs (the first by default)."""
        n = self.name
        return n if tag is None or (self.outputs and tag == self.outputs[0]) else f"{n}#{tag}"

    @staticmethod
    def parse(data: bytes) -> "Thunk":
        """Parses and validates serialized bytes; raises CorruptError."""
        if not data.startswith(THUNK_MAGIC):
            raise CorruptError("not a thunk: the thunk magic header is missing")
        what = "thunk"
        t = Thunk()
        version = 0
        for f, v in _wire.parse(data[len(THUNK_MAGIC):], what):
            if f == 1:
                version = _wire.number(v, what)
            elif f == 2:
                t.function = _wire.text(v, what)
            elif f == 3:
                t.args.append(_wire.text(v, what))
            elif f == 4:
                t.env.append(_wire.text(v, what))
            elif f == 5:
                name, path, executable = "", "", False
                for g, w in _wire.parse(_wire_bytes(v, what, "an input"), what):
                    if g == 1:
                        name = _wire.text(w, what)
                    elif g == 2:
                        path = _wire.text(w, what)
                    elif g == 3:
                        executable = _wire.number(w, what) != 0
                t.inputs.append(Input(name, path, executable))
            elif f == 6:
                t.outputs.append(_wire.text(v, what))
            elif f == 7:
                t.timeout_ms = _wire.number(v, what)
            elif f == 8:
                t.workdir = _wire.text(v, what)
            elif f == 9:
                t.limits = Limits._parse(_wire_bytes(v, what, "its limits"), what)
        if version != FORMAT_VERSION:
            raise CorruptError(f"thunk format version {version} is not supported (this SDK reads version "
                               f"{FORMAT_VERSION}); upgrade gg")
        try:
            t.validate()
        except InvalidError as e:
            raise CorruptError(f"malformed thunk: {e}") from None
        return t

    def validate(self) -> None:
        """Checks what every reader checks (docs/thunk_format.md); raises
        InvalidError naming the problem."""
        fn = self.function or "(none)"

        def bad(why: str) -> InvalidError:
            return InvalidError(f"malformed thunk (function {fn}): {why}")

        if not self.args:
            raise bad("argv is empty (argv[0] is required)")
        # A NUL would silently cut the string where the kernel reads it.
        for n, a in enumerate(self.args):
            if "\0" in a:
                raise bad(f"argument {n} contains a NUL byte, which a program cannot receive")
        if "\0" in self.function:
            raise bad("the function name contains a NUL byte")
        if not isinstance(self.timeout_ms, int) or self.timeout_ms < 0 or self.timeout_ms > MAX_TIMEOUT_MS:
            raise bad(f"timeout_ms {self.timeout_ms!r} must be from 0 (no limit) to {MAX_TIMEOUT_MS} (30 days)")
        problem = self.limits._problem()
        if problem:
            raise bad(problem)
        wd = self.workdir or DEFAULT_WORKDIR
        if not is_clean_absolute(wd) or wd == "/":
            raise bad(f"working directory '{wd}' must be a clean absolute path other than /")
        seen: set[str] = set()
        for i in self.inputs:
            parse_name(i.name)
            if not i.path:
                raise bad(f"input {i.name} has no path")
            if not (is_clean_relative(i.path) or (is_clean_absolute(i.path) and i.path != "/")):
                raise bad(f"input path '{i.path}' must be a clean relative path or an absolute path other than /")
            where = i.path if i.path.startswith("/") else wd + "/" + i.path
            if where in seen:
                raise bad(f"two inputs share the path '{i.path}'")
            seen.add(where)
        if not any(i.name == self.function and i.executable for i in self.inputs):
            raise bad(f"the function {fn} is not among the executable inputs (use set_function)")
        if not self.outputs:
            raise bad("a thunk needs at least one output")
        if len(set(self.outputs)) != len(self.outputs):
            raise bad("an output tag appears twice")
        for o in self.outputs:
            if not is_clean_relative(o):
                raise bad(f"output tag '{o}' must be a clean relative path")
        for e in self.env:
            if "\0" in e:
                raise bad(f"environment entry '{e.split(chr(0))[0]}...' contains a NUL byte")
            if "=" not in e:
                raise bad(f"environment entry '{e}' has no '=' (write NAME=VALUE)")
            if e.startswith("="):
                raise bad(f"environment entry '{e}' has an empty name (write NAME=VALUE)")

    def dependencies(self) -> list[str]:
        """The thunk outputs this thunk consumes."""
        return [i.name for i in self.inputs if i.name.startswith("T")]


def _wire_bytes(v: int | bytes, what: str, field: str) -> bytes:
    if not isinstance(v, bytes):
        raise CorruptError(f"malformed {what}: {field} is not a message")
    return v
