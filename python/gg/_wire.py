"""The protobuf wire format of the thunk and tree messages (src/core/gg.proto),
written by hand: the schema is eight scalar and repeated fields, so this is
short, needs no package (the machine's python3 has no protobuf module), and
emits exactly what the C++ side emits (fields in number order, proto3
defaults left out, repeated strings always written) — the golden cases in
src/sdk/testdata/golden.txt check that.
"""
from __future__ import annotations

from .errors import CorruptError


_ONE_BYTE = [bytes((i,)) for i in range(128)]


def varint(n: int) -> bytes:
    if n < 128:
        return _ONE_BYTE[n]
    out = bytearray()
    while n > 0x7F:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def field_bytes(field: int, data: bytes) -> bytes:
    """A length-delimited field (strings, sub-messages)."""
    return varint(field << 3 | 2) + varint(len(data)) + data


def field_varint(field: int, n: int) -> bytes:
    return varint(field << 3) + varint(n)


def parse(data: bytes, what: str) -> list[tuple[int, int | bytes]]:
    """(field number, value) pairs of a message: ints for varints, bytes for
    length-delimited fields. Fixed-width fields (none in the schema) are skipped."""
    out: list[tuple[int, int | bytes]] = []
    pos, end = 0, len(data)

    def read_varint() -> int:
        nonlocal pos
        shift = result = 0
        while True:
            if pos >= end or shift > 63:
                raise CorruptError(f"malformed {what}: the protobuf message does not parse")
            b = data[pos]
            pos += 1
            result |= (b & 0x7F) << shift
            if b < 0x80:
                return result
            shift += 7

    while pos < end:
        key = read_varint()
        field, wire = key >> 3, key & 7
        if wire == 0:
            out.append((field, read_varint()))
        elif wire == 2:
            n = read_varint()
            if pos + n > end:
                raise CorruptError(f"malformed {what}: the protobuf message does not parse")
            out.append((field, data[pos:pos + n]))
            pos += n
        elif wire == 1:
            pos += 8
        elif wire == 5:
            pos += 4
        else:
            raise CorruptError(f"malformed {what}: the protobuf message does not parse")
        if field == 0 or pos > end:
            raise CorruptError(f"malformed {what}: the protobuf message does not parse")
    return out


def text(value: int | bytes, what: str) -> str:
    if not isinstance(value, bytes):
        raise CorruptError(f"malformed {what}: a string field holds a number")
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError:
        raise CorruptError(f"malformed {what}: a string field is not UTF-8") from None


def number(value: int | bytes, what: str) -> int:
    if not isinstance(value, int):
        raise CorruptError(f"malformed {what}: a number field holds bytes")
    return value
