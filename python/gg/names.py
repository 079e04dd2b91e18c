"""Object names: a type letter, the SHA-256 in unpadded base64url (with '-'
written as '.'), and the size in lower-case hex (at least 8 digits). A thunk's
output other than its first is ``T...#tag``. See docs/names.md.

Names are plain ``str`` values throughout the SDK.
"""
from __future__ import annotations

import binascii
import hashlib
import os

from .errors import InvalidError

THUNK_MAGIC = b"\x7fGGTHUNK"
TREE_MAGIC = b"\x7fGGTREES"

_CHUNK = 1 << 20
_URL = str.maketrans("+/", "._")
_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._"


def _type_of(prefix: bytes) -> str:
    if prefix.startswith(THUNK_MAGIC):
        return "T"
    if prefix.startswith(TREE_MAGIC):
        return "D"
    return "V"


def _format(type_letter: str, digest: bytes, size: int) -> str:
    # base64url with '-' written as '.': standard base64's '+' -> '.', '/' -> '_'.
    # (binascii, not base64: that module imports re, slow inside every thunk)
    h = binascii.b2a_base64(digest, newline=False).rstrip(b"=").decode().translate(_URL)
    return f"{type_letter}{h}{size:08x}"


def name_of(content: bytes) -> str:
    """The name of `content`, typed by its magic header."""
    return _format(_type_of(content[:8]), hashlib.sha256(content).digest(), len(content))


class Hasher:
    """Names content given in pieces (for data too large for memory)."""

    def __init__(self) -> None:
        self._sha = hashlib.sha256()
        self._size = 0
        self._prefix = b""

    def update(self, data: bytes | memoryview) -> None:
        if len(self._prefix) < 8:
            self._prefix += bytes(data[: 8 - len(self._prefix)])
        self._sha.update(data)
        self._size += memoryview(data).nbytes

    @property
    def size(self) -> int:
        """Bytes hashed so far."""
        return self._size

    def name(self) -> str:
        return _format(_type_of(self._prefix), self._sha.digest(), self._size)


def name_of_file(path: str | os.PathLike[str]) -> str:
    """The name of a file's content, read in 1 MiB chunks."""
    h = Hasher()
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            h.update(chunk)
    return h.name()


def parse_name(text: str) -> tuple[str, str, int, str]:
    """Checks a name; returns (type letter, hash text, size, tag). Raises
    InvalidError saying what is wrong."""
    obj, sep, tag = text.partition("#")
    letter, h, size_hex = obj[:1], obj[1:44], obj[44:]
    if (letter not in ("V", "T", "D") or len(h) != 43 or any(c not in _ALPHABET for c in h)
            or not 8 <= len(size_hex) <= 16 or any(c not in "0123456789abcdef" for c in size_hex)
            or (sep and not tag)):
        raise InvalidError(f"'{text}' is not an object name (expected V/T/D, 43 hash characters, "
                           "8+ lower-case hex digits of size, and for thunks an optional #tag)")
    if tag and letter != "T":
        raise InvalidError(f"'{text}' is not an object name: only thunk names take a #tag")
    if len(size_hex) > 8 and size_hex[0] == "0":
        raise InvalidError(f"'{text}' is not an object name: size has leading zeros beyond 8 digits")
    if _ALPHABET.index(h[-1]) % 4 != 0:  # the 2 spare bits are zero: one spelling per hash
        raise InvalidError(f"'{text}' is not an object name: bad hash characters")
    return letter, h, int(size_hex, 16), tag


def is_thunk(name: str) -> bool:
    return name.startswith("T")


def with_tag(thunk: str, tag: str) -> str:
    """``T...#tag``: the output `tag` of a thunk (given by name)."""
    if not thunk.startswith("T"):
        raise InvalidError(f"{thunk} is not a thunk name: only thunk outputs have tags")
    return thunk.split("#", 1)[0] + "#" + tag


def object_of(name: str) -> str:
    """The object a name stands for, without its tag."""
    return name.split("#", 1)[0]
