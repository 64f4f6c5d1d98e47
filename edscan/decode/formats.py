"""Body formats beyond plain JSON and text: NDJSON and Sentry envelopes, form bodies and GA4
newline-batched lines, multipart, MessagePack, protobuf and gRPC framing, and the printable runs of
a binary body nothing else could read. Nested bodies (a multipart part, an envelope item) go back
through ``body.decode_body``.
"""

from __future__ import annotations

import contextlib
import re

from edscan.decode import body, compress, protobuf
from edscan.decode.context import MAX_MSGPACK_BYTES, MAX_PARTS, MAX_TEXT_BODY_CHARS, Ctx
from edscan.decode.sniff import looks_like_form, seg
from edscan.decode.url import emit_pairs
from edscan.decode.walk import Enc, account, emit_str, emit_tree, loads_reporting

MAX_NESTED_BODIES = 4  # a body inside a body (multipart part, envelope item) this deep
_MAX_STRINGS = 2000
MAX_MULTIPART_PARTS = 10_000
_PRINTABLE_RUN = re.compile(rb"[\x20-\x7e]{8,}")


def ndjson(ctx: Ctx, data: bytes, tree: str, enc: Enc, layer: int, depth: int) -> None:
    """One document per line; a Sentry envelope item header with ``length`` announces a payload
    of that many bytes (which may hold newlines) instead of a line."""
    enc = (*enc, "ndjson")
    pos, i, n = 0, 0, len(data)
    lines = 0
    while pos < n:
        lines += 1
        if lines > MAX_PARTS:
            ctx.limit(f"split cap ({MAX_PARTS} pieces) hit; the rest of a long value was skipped")
            return
        nl = data.find(b"\n", pos)
        end = n if nl < 0 else nl
        line = data[pos:end].strip()
        pos = end + 1
        if not line:
            continue
        here = f"{tree}[{i}]"
        i += 1
        obj = None
        if line[:1] in (b"{", b"["):
            obj = loads_reporting(ctx, line)
        if obj is None:
            if depth < MAX_NESTED_BODIES:
                body.decode_body(
                    ctx,
                    line,
                    ctype=None,
                    cenc=None,
                    loc=here,
                    tree=here,
                    enc=enc,
                    layer=layer,
                    depth=depth + 1,
                )
            continue
        emit_tree(ctx, obj, here, "", enc, 0, layer)
        length = obj.get("length") if type(obj) is dict else None
        if type(length) is int and length >= 0 and "type" in obj:
            payload = data[pos : pos + length]
            pos += length
            if data[pos : pos + 1] == b"\n":
                pos += 1
            here = f"{tree}[{i}]"
            i += 1
            ctype = obj.get("content_type")
            if depth < MAX_NESTED_BODIES:
                body.decode_body(
                    ctx,
                    payload,
                    ctype=ctype if type(ctype) is str else None,
                    cenc=None,
                    loc=here,
                    tree=here,
                    enc=enc,
                    layer=layer,
                    depth=depth + 1,
                )


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


def multipart(
    ctx: Ctx, data: bytes, boundary: str, tree: str, enc: Enc, layer: int, depth: int
) -> None:
    enc = (*enc, "multipart")
    delimiter = b"--" + boundary.encode("latin-1", "replace")
    for index, chunk in enumerate(ctx.split(data, delimiter)[1:]):
        if chunk.startswith(b"--"):
            break  # the closing delimiter
        if index >= MAX_MULTIPART_PARTS:
            ctx.limit(f"multipart part cap ({MAX_MULTIPART_PARTS}) hit; later parts skipped")
            break
        if chunk.startswith(b"\r\n"):
            chunk = chunk[2:]
        elif chunk.startswith(b"\n"):
            chunk = chunk[1:]
        head, sep, content = chunk.partition(b"\r\n\r\n")
        if not sep:
            head, sep, content = chunk.partition(b"\n\n")
        if content.endswith(b"\r\n"):
            content = content[:-2]
        elif content.endswith(b"\n"):
            content = content[:-1]
        headers: dict[str, str] = {}
        for line in head[:8192].decode("utf-8", "replace").splitlines():  # part headers
            hname, _, hvalue = line.partition(":")
            headers[hname.strip().lower()] = hvalue.strip()
        _, disposition = body.content_type(headers.get("content-disposition"))
        name = disposition.get("name") or f"part{index}"
        filename = disposition.get("filename") or disposition.get("filename*")
        here = tree + seg(name)
        if filename:
            emit_str(ctx, filename, here + ";filename", "filename", enc, layer)
        if headers.get("content-transfer-encoding", "").lower() == "base64":
            import binascii

            with contextlib.suppress(binascii.Error):
                content = binascii.a2b_base64(content)
        ptype = headers.get("content-type")
        text = None
        if not filename and (not ptype or ptype.lower().startswith("text/")):
            text = body.text_of(content, {})
        if text is not None:
            emit_str(ctx, text, here, name, enc, layer)
        elif depth < MAX_NESTED_BODIES:
            body.decode_body(
                ctx,
                content,
                ctype=ptype,
                cenc=headers.get("content-encoding"),
                loc=here,
                tree=here + ">$",
                enc=enc,
                layer=layer,
                depth=depth + 1,
            )


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
