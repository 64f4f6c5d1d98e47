"""Bounded decompression: gzip, zlib, raw deflate, brotli and zstd.

Every function takes the most bytes it may produce (``cap``) and never materialises more than
about one chunk beyond it, so a zip bomb costs at most ``cap`` bytes of memory and the time to
produce them. A stream that ends early (a truncated capture) yields what it had.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

_CHUNK = 1 << 20
_MAX_GZIP_MEMBERS = 16  # concatenated gzip members (allowed by RFC 1952) decoded per stream
GZIP_MAGIC = b"\x1f\x8b\x08"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"


@dataclass(frozen=True, slots=True)
class Inflated:
    data: bytes
    complete: bool  # the stream ended properly (not cut short, not cut at the cap)
    capped: bool  # output was cut at ``cap``


def is_zlib_header(data: bytes) -> bool:
    """An RFC 1950 header: deflate method, a window of at most 32 KiB, and a valid check value."""
    if len(data) < 3:
        return False
    b0, b1 = data[0], data[1]
    return (b0 & 0x0F) == 8 and (b0 >> 4) <= 7 and ((b0 << 8) | b1) % 31 == 0 and not b1 & 0x20


def sniff(data: bytes) -> str | None:
    """The compression format ``data`` starts with, by magic number: gzip, zstd or zlib."""
    if data.startswith(GZIP_MAGIC):
        return "gzip"
    if data.startswith(ZSTD_MAGIC):
        return "zstd"
    if is_zlib_header(data):
        return "zlib"
    return None


def _capped(out: list[bytes], total: int, cap: int) -> Inflated:
    """The output cut at ``cap`` bytes, trimming the last chunk before joining (one copy)."""
    out[-1] = out[-1][: len(out[-1]) - (total - cap)]
    return Inflated(data=b"".join(out), complete=False, capped=True)


def maybe_raw_deflate(data: bytes) -> bool:
    """Whether ``data`` can start a raw deflate stream: a valid block type, and for a stored
    block a length that matches its complement. Rules out most random bytes for free."""
    if not data:
        return False
    btype = (data[0] >> 1) & 3
    if btype == 3:
        return False
    if btype == 0:
        if len(data) < 5:
            return False
        length = data[1] | data[2] << 8
        return length ^ (data[3] | data[4] << 8) == 0xFFFF
    return True


def _inflate(data: bytes, wbits: int, cap: int) -> Inflated | None:
    out: list[bytes] = []
    total = 0
    members = 0
    d = zlib.decompressobj(wbits)
    buf = data
    complete = False
    try:
        while True:
            want = min(cap + 1 - total, _CHUNK)
            chunk = d.decompress(buf, want)
            total += len(chunk)
            out.append(chunk)
            if total > cap:
                return _capped(out, total, cap)
            if d.eof:
                members += 1
                rest = d.unused_data
                if wbits > 16 and rest.startswith(GZIP_MAGIC) and members < _MAX_GZIP_MEMBERS:
                    d = zlib.decompressobj(wbits)
                    buf = rest
                    continue
                complete = True
                break
            buf = d.unconsumed_tail
            if not buf and len(chunk) < want:
                break  # input used up before the end of the stream: truncated
    except zlib.error:
        if total == 0:
            return None
    return Inflated(data=b"".join(out), complete=complete, capped=False)


def gunzip(data: bytes, cap: int) -> Inflated | None:
    return _inflate(data, 16 + zlib.MAX_WBITS, cap)


def unzlib(data: bytes, cap: int) -> Inflated | None:
    return _inflate(data, zlib.MAX_WBITS, cap)


def inflate_raw(data: bytes, cap: int) -> Inflated | None:
    return _inflate(data, -zlib.MAX_WBITS, cap)


def unbrotli(data: bytes, cap: int) -> Inflated | None:
    import brotlicffi

    d = brotlicffi.Decompressor()
    out: list[bytes] = []
    total = 0
    # a small first buffer: the library allocates the whole limit up front
    step = min(cap + 1, max(64 << 10, 8 * len(data)))
    try:
        chunk = d.decompress(data, output_buffer_limit=step)
        while True:
            total += len(chunk)
            out.append(chunk)
            if total > cap:
                return _capped(out, total, cap)
            if d.is_finished():
                return Inflated(data=b"".join(out), complete=True, capped=False)
            if d.can_accept_more_data():
                break  # all input consumed, stream not finished: truncated
            step = min(cap + 1 - total, step * 2)
            chunk = d.decompress(b"", output_buffer_limit=step)
    except brotlicffi.error:
        if total == 0:
            return None
    if total == 0:
        return None
    return Inflated(data=b"".join(out), complete=False, capped=False)


def unzstd(data: bytes, cap: int) -> Inflated | None:
    import zstandard

    # a frame may ask for a window of up to 128 MiB; refuse more than a body may hold
    dctx = zstandard.ZstdDecompressor(max_window_size=1 << 24)
    out: list[bytes] = []
    total = 0
    try:
        with dctx.stream_reader(data, read_across_frames=True) as reader:
            while True:
                chunk = reader.read(min(cap + 1 - total, _CHUNK))
                if not chunk:
                    break
                total += len(chunk)
                out.append(chunk)
                if total > cap:
                    return _capped(out, total, cap)
    except zstandard.ZstdError:
        if total == 0:
            return None
        return Inflated(data=b"".join(out), complete=False, capped=False)
    if total == 0:
        return None
    return Inflated(data=b"".join(out), complete=True, capped=False)


def decompress(name: str, data: bytes, cap: int) -> Inflated | None:
    """Decompress ``data`` as ``name`` (gzip, zlib, deflate, br, zstd); None if it is not that.

    ``deflate`` is tried as zlib first (RFC 9110 says zlib) and raw deflate second (what some
    servers and SDKs send under that name).
    """
    if name == "gzip":
        return gunzip(data, cap) if data.startswith(GZIP_MAGIC) else None
    if name == "zlib":
        return unzlib(data, cap)
    if name == "deflate":
        if is_zlib_header(data):
            return unzlib(data, cap)
        return inflate_raw(data, cap)
    if name == "br":
        return unbrotli(data, cap)
    if name == "zstd":
        return unzstd(data, cap) if data.startswith(ZSTD_MAGIC) else None
    return None
