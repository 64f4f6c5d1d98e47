"""Protocol Buffers wire format without a schema: field numbers, strings and nested messages.

A length-delimited field is read as text when it is printable UTF-8, else as a nested message
when it parses cleanly, else kept as bytes. The result is a tree keyed by field number
(``{"1": [...], "2": "text"}``; a repeated field becomes a list) so the walker can give it
JSONPath-ish locations such as ``$.2[0].1``.

Any byte sequence can look like protobuf by accident, so a sniffed parse (``strict=True``) is
accepted only if every byte is consumed, every tag is sane and at least one string of text
comes out.
"""

from __future__ import annotations

import struct
from typing import Any

MAX_MESSAGE_BYTES = 4 << 20  # larger blobs are not sniffed as protobuf
MAX_WIRE_FIELDS = 100_000  # fields read (failed nested attempts included): bounds the time
_STRICT_MAX_WIRE_FIELDS = 20_000  # for a guess at unlabelled bytes
MAX_NESTING = 16
_STRICT_MAX_FIELD_NUMBER = 1 << 16  # real schemas stay far below; random bytes do not
_MAX_FIELD_NUMBER = (1 << 29) - 1
_unpack_double = struct.Struct("<d").unpack_from
_unpack_float = struct.Struct("<f").unpack_from


class _Bad(Exception):
    pass


def printable_text(raw: bytes) -> str | None:
    """``raw`` as text if it is UTF-8 with no control characters other than tab and newlines."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if text.isprintable():
        return text
    if text.replace("\n", "").replace("\r", "").replace("\t", "").isprintable():
        return text
    return None


class _Parser:
    __slots__ = ("count", "max_count", "max_field", "texts")

    def __init__(self, strict: bool) -> None:
        self.count = 0
        self.texts = 0  # strings of 4+ characters seen
        self.max_field = _STRICT_MAX_FIELD_NUMBER if strict else _MAX_FIELD_NUMBER
        self.max_count = _STRICT_MAX_WIRE_FIELDS if strict else MAX_WIRE_FIELDS

    def message(self, b: bytes, depth: int) -> dict[str, Any]:
        out: dict[str, Any] = {}
        repeated: set[str] = set()
        i = 0
        n = len(b)
        while i < n:
            tag, i = _varint(b, i, n)
            number = tag >> 3
            wire = tag & 7
            if number == 0 or number > self.max_field:
                raise _Bad
            self.count += 1
            if self.count > self.max_count:
                raise _Bad
            value: Any
            if wire == 0:
                value, i = _varint(b, i, n)
            elif wire == 2:
                size, i = _varint(b, i, n)
                end = i + size
                if end > n:
                    raise _Bad
                value = self.length_delimited(b[i:end], depth)
                i = end
            elif wire == 1:
                if i + 8 > n:
                    raise _Bad
                value = _fixed64(b, i)
                i += 8
            elif wire == 5:
                if i + 4 > n:
                    raise _Bad
                value = _fixed32(b, i)
                i += 4
            else:  # 3 and 4 (groups) are long deprecated; 6 and 7 do not exist
                raise _Bad
            key = str(number)
            old = out.get(key)
            if old is None:
                out[key] = value
            elif key in repeated:
                old.append(value)
            else:  # a repeated field: its values become a list (messages hold no other lists)
                out[key] = [old, value]
                repeated.add(key)
        return out

    def length_delimited(self, raw: bytes, depth: int) -> Any:
        if not raw:
            return ""
        text = printable_text(raw)
        if text is not None and raw[0] >= 0x20:
            if len(text) >= 4:
                self.texts += 1
            return text
        # text starting with a tab or newline is more likely a message: 0x0a is the tag of
        # field 1 as a string, 0x09 and 0x0d of fields 1 as fixed64 and 1 as fixed32
        if depth < MAX_NESTING:
            texts = self.texts
            try:
                return self.message(raw, depth + 1)
            except _Bad:
                # ``count`` keeps the fields of the failed attempt: it bounds the work done, and
                # nested failing attempts would otherwise re-read the same bytes at every level
                self.texts = texts
        if text is not None:
            if len(text) >= 4:
                self.texts += 1
            return text
        return raw  # bytes: opaque


def _varint(b: bytes, i: int, n: int) -> tuple[int, int]:
    result = 0
    shift = 0
    while True:
        if i >= n or shift > 63:
            raise _Bad
        byte = b[i]
        i += 1
        result |= (byte & 0x7F) << shift
        if byte < 0x80:
            return result, i
        shift += 7


def _fixed64(b: bytes, i: int) -> int | float:
    (x,) = _unpack_double(b, i)
    if x == x and 1e-7 <= abs(x) <= 1e12:  # a plausible double (coordinates, amounts)
        return float(x)
    return int.from_bytes(b[i : i + 8], "little")


def _fixed32(b: bytes, i: int) -> int | float:
    (x,) = _unpack_float(b, i)
    if x == x and 1e-5 <= abs(x) <= 1e9:
        return float(f"{x:.7g}")  # float32 carries about 7 significant digits
    return int.from_bytes(b[i : i + 4], "little")


def parse(data: bytes, *, strict: bool) -> dict[str, Any] | None:
    """The message tree of ``data``, or None if it is not (believably) protobuf."""
    if not data or len(data) > MAX_MESSAGE_BYTES:
        return None
    first = data[0]
    if first < 0x08 or (first & 7) not in (0, 1, 2, 5):
        return None
    p = _Parser(strict)
    try:
        tree = p.message(data, 0)
    except (_Bad, RecursionError):
        return None
    if strict and p.texts == 0:
        return None
    return tree
