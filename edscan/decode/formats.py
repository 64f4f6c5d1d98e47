"""Body formats beyond plain JSON and text that hold no nested body: form bodies and GA4
newline-batched lines, MessagePack, protobuf and gRPC framing, and the printable runs of a binary
body nothing else could read. The containers of nested bodies (NDJSON and Sentry envelopes,
multipart) live in ``body``, beside the ``decode_body`` they recurse into.
"""

from __future__ import annotations

import re

from edscan.decode import compress, protobuf
from edscan.decode.context import MAX_MSGPACK_BYTES, MAX_TEXT_BODY_CHARS, Ctx
from edscan.decode.sniff import looks_like_form
from edscan.decode.walk import Enc, account, emit_pairs, emit_str, emit_tree

_MAX_STRINGS = 2000
_PRINTABLE_RUN = re.compile(rb"[\x20-\x7e]{8,}")


def form(ctx: Ctx, text: str, loc: str, tree: str, enc: Enc, layer: int) -> None:
    text = text.strip()
    if "\n" in text:
        lines = [line.strip() for line in ctx.split(text, "\n") if line.strip()]
        if all(looks_like_form(line) for line in lines[:8]):
            enc = (*enc, "lines", "form")
            for i, line in enumerate(lines):
                emit_pairs(ctx, line, f"{tree}[{i}]", enc, layer, tree=True)
            return
        emit_str(ctx, text, loc, "", enc, layer, MAX_TEXT_BODY_CHARS)
        return
    emit_pairs(ctx, text, tree, (*enc, "form"), layer, tree=True)


MSGPACK_START = frozenset([*range(0x80, 0xA0), 0xDC, 0xDD, 0xDE, 0xDF])


def msgpack_body(ctx: Ctx, data: bytes, tree: str, enc: Enc, layer: int, *, strict: bool) -> bool:
    import msgpack

    if len(data) > MAX_MSGPACK_BYTES:  # every byte may be an object: a 16 MiB bomb of them
        if not strict:
            ctx.limit(f"MessagePack larger than {MAX_MSGPACK_BYTES >> 20} MiB not unpacked")
        return False
    try:
        obj = msgpack.unpackb(data, raw=False, strict_map_key=False, unicode_errors="replace")
    except Exception:  # msgpack raises a zoo of types (ValueError, TypeError, its own)
        return False
    if strict and not _msgpack_plausible(obj):
        return False
    emit_tree(ctx, obj, tree, "", (*enc, "msgpack"), 0, layer)
    return True


def _msgpack_plausible(obj: object) -> bool:
    """A sniffed MessagePack parse is believed if it is a map of string keys (or a list of them)."""
    if type(obj) is list and obj:
        obj = obj[0]
    return type(obj) is dict and bool(obj) and all(type(k) is str for k in obj)


def protobuf_body(
    ctx: Ctx,
    data: bytes,
    tree: str,
    enc: Enc,
    layer: int,
    *,
    grpc: bool = False,
    strict: bool = False,
) -> bool:
    if len(data) > protobuf.MAX_MESSAGE_BYTES:
        if not strict:  # declared protobuf; a sniffed guess at a large binary says nothing
            ctx.limit("protobuf body larger than 4 MiB not parsed")
        return False
    enc = (*enc, "protobuf")
    if not grpc:
        message = protobuf.parse(data, strict=strict)
        if message is None:
            return False
        emit_tree(ctx, message, tree, "", enc, 0, layer)
        return True
    # gRPC / gRPC-Web: frames of [flags:1][length:4 big-endian][message]
    pos, i, found = 0, 0, False
    while pos + 5 <= len(data):
        flags = data[pos]
        size = int.from_bytes(data[pos + 1 : pos + 5], "big")
        payload = data[pos + 5 : pos + 5 + size]
        pos += 5 + size
        if flags & 0x80:  # gRPC-Web trailers
            continue
        if flags & 1 and payload.startswith(compress.GZIP_MAGIC):
            inflated = compress.gunzip(payload, ctx.decompress_cap(len(payload)))
            if inflated is not None:
                account(ctx, "gzip", inflated)
                payload = inflated.data
        message = protobuf.parse(payload, strict=False)
        if message is not None:
            emit_tree(ctx, message, f"{tree}[{i}]", "", enc, 0, layer)
            found = True
        i += 1
    return found


def strings(ctx: Ctx, data: bytes, loc: str, enc: Enc) -> None:
    """Printable runs of an undecodable binary body, so text in an unknown format is seen."""
    enc = (*enc, "strings")
    for count, m in enumerate(_PRINTABLE_RUN.finditer(data)):
        if count >= _MAX_STRINGS:
            ctx.limit(f"printable-run cap ({_MAX_STRINGS}) hit in a binary body")
            break
        ctx.emit(loc, "", m.group().decode("ascii"), enc)
