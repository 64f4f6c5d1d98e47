"""Message bodies: Content-Encoding, then the format by Content-Type or, failing that, by sniffing.

Formats: JSON, NDJSON and Sentry envelopes (honouring item ``length``), form-urlencoded and
newline-batched form lines (GA4), multipart (fields and file names), GraphQL documents,
MessagePack, protobuf (and gRPC framing), text, and for undecodable binary the printable runs
in it. A ``Content-Encoding`` that does not decode (HAR files store bodies already decoded) falls
back to the bytes as they are.
"""

from __future__ import annotations

import contextlib
import re

from edscan.decoders import compress, protobuf
from edscan.decoders.context import (
    MAX_BODY_BYTES,
    MAX_INBOUND_BODY_BYTES,
    MAX_TEXT_BODY_CHARS,
    Ctx,
)
from edscan.decoders.sniff import looks_like_form, parse_json, seg
from edscan.decoders.walk import Enc, account, emit_graphql, emit_pairs, emit_str, emit_tree

_JSON = frozenset({"application/json", "text/json", "application/javascript+json"})
_NDJSON = frozenset(
    {
        "application/x-ndjson",
        "application/ndjson",
        "application/jsonl",
        "application/x-jsonlines",
        "application/json-seq",
        "application/x-sentry-envelope",
    }
)
_FORM = "application/x-www-form-urlencoded"
_MSGPACK = frozenset({"application/msgpack", "application/x-msgpack", "application/vnd.msgpack"})
_PROTOBUF = frozenset(
    {
        "application/x-protobuf",
        "application/protobuf",
        "application/x-protobuffer",
        "application/vnd.google.protobuf",
        "application/octet-stream+protobuf",
    }
)
_SKIP_PREFIXES = ("image/", "audio/", "video/", "font/")
_CODINGS = {"gzip": "gzip", "x-gzip": "gzip", "deflate": "deflate", "br": "br", "zstd": "zstd"}
_MAX_NESTED_BODIES = 4  # a body inside a body (multipart part, envelope item) this deep
_MAX_STRINGS = 2000
_PRINTABLE_RUN = re.compile(rb"[\x20-\x7e]{8,}")
_DISPOSITION_PARAM = re.compile(r';\s*([\w*-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;\s]*))')
_WS = b" \t\r\n"
_WS_DELETE = str.maketrans("", "", "\t\r\n")


def content_type(value: str | None) -> tuple[str, dict[str, str]]:
    """``("application/json", {"charset": "utf-8"})`` from a Content-Type header."""
    if not value:
        return "", {}
    mime, _, rest = value.partition(";")
    params: dict[str, str] = {}
    if rest:
        for m in _DISPOSITION_PARAM.finditer(";" + rest):
            params[m.group(1).lower()] = m.group(2) if m.group(2) is not None else m.group(3)
    return mime.strip().lower(), params


def decode_body(
    ctx: Ctx,
    data: bytes,
    *,
    ctype: str | None,
    cenc: str | None,
    loc: str,
    tree: str,
    enc: Enc = (),
    layer: int = 0,
    truncated: bool = False,
    depth: int = 0,
) -> None:
    """Emit the fields of one body. ``loc`` names it as text (``body``), ``tree`` is the prefix of
    paths into it once parsed (``body:$``)."""
    if not data:
        return
    if ctx.inbound and len(data) > MAX_INBOUND_BODY_BYTES:
        ctx.limit("inbound body larger than 4 MiB not parsed")
        return
    max_out = MAX_INBOUND_BODY_BYTES if ctx.inbound else MAX_BODY_BYTES
    if cenc:
        data, enc = _content_decode(ctx, data, cenc, enc, truncated, max_out)
    for _ in range(2):  # compressed although no header says so (Clarity, FullStory, replays)
        kind = compress.sniff(data)
        if kind is None:
            break
        inflated = compress.decompress(kind, data, ctx.decompress_cap(len(data), max_out))
        if inflated is None or not inflated.data:
            break
        account(ctx, kind, inflated)
        data, enc = inflated.data, (*enc, kind)
    if data.startswith(b"\xef\xbb\xbf"):  # a UTF-8 byte order mark
        data = data[3:]
    mime, params = content_type(ctype)

    if ctx.inbound:  # responses only teach derived ids: structured data, nothing else
        if mime in _NDJSON:
            _ndjson(ctx, data, tree, enc, layer, depth)
        elif mime in _JSON or mime.endswith("+json") or data.lstrip(_WS)[:1] in (b"{", b"["):
            _json(ctx, data, loc, tree, enc, layer, depth)
        return

    if mime.startswith("multipart/") and params.get("boundary"):
        _multipart(ctx, data, params["boundary"], tree, enc, layer, depth)
        return
    if (mime in _JSON or mime.endswith("+json")) and _json(ctx, data, loc, tree, enc, layer, depth):
        return
    if mime in _NDJSON:
        _ndjson(ctx, data, tree, enc, layer, depth)
        return
    if mime == _FORM:  # some SDKs declare it for anything (Firebase: gzipped protobuf)
        text = _text(data, params)
        if text is not None and _printable(text[:4096]):
            _form(ctx, text, loc, tree, enc, layer)
            return
    if mime in _MSGPACK and _msgpack(ctx, data, tree, enc, layer, strict=False):
        return
    grpc = mime.startswith("application/grpc")
    if (mime in _PROTOBUF or grpc) and _protobuf(ctx, data, tree, enc, layer, grpc=grpc):
        return
    if mime == "application/graphql":
        text = _text(data, params)
        if text is not None:
            emit_str(ctx, text, loc, "", enc, layer, MAX_TEXT_BODY_CHARS)
            emit_graphql(ctx, text, tree, enc, layer)
            return
    if mime.startswith(_SKIP_PREFIXES):
        return
    _sniff(ctx, data, params, loc, tree, enc, layer, depth)


def _content_decode(
    ctx: Ctx, data: bytes, cenc: str, enc: Enc, truncated: bool, max_out: int
) -> tuple[bytes, Enc]:
    codings = [c.strip().lower() for c in cenc.split(",")]
    for coding in reversed(codings):
        name = _CODINGS.get(coding)
        if name is None:
            if coding in ("", "identity"):
                continue
            break  # unknown coding: leave the bytes as they are
        inflated = compress.decompress(name, data, ctx.decompress_cap(len(data), max_out))
        if inflated is None or not inflated.data:
            break  # not compressed after all (a HAR body stored decoded): use the bytes as-is
        account(ctx, name, inflated)
        if not inflated.complete and not inflated.capped and not truncated:
            ctx.limit(f"{name} stream ended early; the part present was decoded")
        data, enc = inflated.data, (*enc, name)
    return data, enc


def _text(data: bytes, params: dict[str, str]) -> str | None:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    charset = params.get("charset", "")
    if charset and charset.lower() not in ("utf-8", "utf8"):
        try:
            return data.decode(charset)
        except (LookupError, UnicodeDecodeError):
            return None
    return None


def _sniff(
    ctx: Ctx,
    data: bytes,
    params: dict[str, str],
    loc: str,
    tree: str,
    enc: Enc,
    layer: int,
    depth: int,
) -> None:
    start = data.lstrip(_WS)[:1]
    if start in (b"{", b"[") and _json(ctx, data, loc, tree, enc, layer, depth):
        return
    text = _text(data, params)
    if text is not None and not _printable(text[:4096]):
        text = None  # valid UTF-8 but control bytes: binary
    elif text is None:
        # mostly text with a few invalid bytes: keep it as text rather than lose it
        candidate = data.decode("utf-8", "replace")
        sample = candidate[:4096]
        if sample.count("\ufffd") * 20 < len(sample) and _printable(sample):
            text = candidate
    if text is not None:
        if looks_like_form(text):
            _form(ctx, text, loc, tree, enc, layer)
        else:
            emit_str(ctx, text, loc, "", enc, layer, MAX_TEXT_BODY_CHARS)
        return
    if data[0] in _MSGPACK_START and _msgpack(ctx, data, tree, enc, layer, strict=True):
        return
    if _protobuf(ctx, data, tree, enc, layer, strict=True):
        return
    _strings(ctx, data, loc, enc)


def _printable(sample: str) -> bool:
    return sample.isprintable() or sample.translate(_WS_DELETE).isprintable()


def _json(ctx: Ctx, data: bytes, loc: str, tree: str, enc: Enc, layer: int, depth: int) -> bool:
    try:
        try:
            obj = parse_json(data)
        except UnicodeDecodeError:
            obj = parse_json(data.decode("utf-8", "replace"))
    except RecursionError:
        ctx.limit("JSON nested too deep to parse; kept as text")
        return False
    except ValueError as e:
        if getattr(e, "msg", "") == "Extra data":  # one document per line
            _ndjson(ctx, data, tree, enc, layer, depth)
            return True
        return False
    emit_tree(ctx, obj, tree, "", (*enc, "json"), 0, layer)
    return True


def _ndjson(ctx: Ctx, data: bytes, tree: str, enc: Enc, layer: int, depth: int) -> None:
    """One document per line; a Sentry envelope item header with ``length`` announces a payload
    of that many bytes (which may hold newlines) instead of a line."""
    enc = (*enc, "ndjson")
    pos, i, n = 0, 0, len(data)
    while pos < n:
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
            try:
                obj = parse_json(line)
            except RecursionError:
                ctx.limit("JSON nested too deep to parse; kept as text")
            except ValueError:
                obj = None
        if obj is None:
            if depth < _MAX_NESTED_BODIES:
                decode_body(
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
            if depth < _MAX_NESTED_BODIES:
                decode_body(
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


def _form(ctx: Ctx, text: str, loc: str, tree: str, enc: Enc, layer: int) -> None:
    text = text.strip()
    if "\n" in text:
        lines = [line.strip() for line in text.split("\n") if line.strip()]
        if all(looks_like_form(line) for line in lines[:8]):
            enc = (*enc, "lines", "form")
            for i, line in enumerate(lines):
                emit_pairs(ctx, line, f"{tree}[{i}]", enc, layer, tree=True)
            return
        emit_str(ctx, text, loc, "", enc, layer, MAX_TEXT_BODY_CHARS)
        return
    emit_pairs(ctx, text, tree, (*enc, "form"), layer, tree=True)


def _multipart(
    ctx: Ctx, data: bytes, boundary: str, tree: str, enc: Enc, layer: int, depth: int
) -> None:
    enc = (*enc, "multipart")
    delimiter = b"--" + boundary.encode("latin-1", "replace")
    for index, chunk in enumerate(data.split(delimiter)[1:]):
        if chunk.startswith(b"--"):
            break  # the closing delimiter
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
        for line in head.decode("utf-8", "replace").splitlines():
            hname, _, hvalue = line.partition(":")
            headers[hname.strip().lower()] = hvalue.strip()
        _, disposition = content_type(headers.get("content-disposition"))
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
            text = _text(content, {})
        if text is not None:
            emit_str(ctx, text, here, name, enc, layer)
        elif depth < _MAX_NESTED_BODIES:
            decode_body(
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


_MSGPACK_START = frozenset([*range(0x80, 0xA0), 0xDC, 0xDD, 0xDE, 0xDF])


def _msgpack(ctx: Ctx, data: bytes, tree: str, enc: Enc, layer: int, *, strict: bool) -> bool:
    import msgpack

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


def _protobuf(
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


def _strings(ctx: Ctx, data: bytes, loc: str, enc: Enc) -> None:
    """Printable runs of an undecodable binary body, so text in an unknown format is seen."""
    enc = (*enc, "strings")
    for count, m in enumerate(_PRINTABLE_RUN.finditer(data)):
        if count >= _MAX_STRINGS:
            ctx.limit(f"printable-run cap ({_MAX_STRINGS}) hit in a binary body")
            break
        ctx.emit(loc, "", m.group().decode("ascii"), enc)
