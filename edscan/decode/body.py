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

from edscan.decode import compress, formats
from edscan.decode.context import (
    MAX_BODY_BYTES,
    MAX_INBOUND_BODY_BYTES,
    MAX_PARTS,
    MAX_TEXT_BODY_CHARS,
    Ctx,
)
from edscan.decode.sniff import MAX_JSON_ELEMENTS, JsonTooLarge, looks_like_form, parse_json, seg
from edscan.decode.walk import (
    Enc,
    account,
    emit_graphql,
    emit_str,
    emit_tree,
    loads_reporting,
)

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
_DISPOSITION_PARAM = re.compile(r';\s*([\w*-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;\s]*))')
_WS = b" \t\r\n"
_WS_DELETE = str.maketrans("", "", "\t\r\n")
MAX_NESTED_BODIES = 4  # a body inside a body (multipart part, envelope item) this deep
MAX_MULTIPART_PARTS = 10_000


_CONTENT_TYPES: dict[str, tuple[str, dict[str, str]]] = {}  # the same few, on every flow


def content_type(value: str | None) -> tuple[str, dict[str, str]]:
    """``("application/json", {"charset": "utf-8"})`` from a Content-Type header (or from a
    Content-Disposition header: ``("form-data", {"name": ...})``). Do not modify the result."""
    if not value:
        return "", {}
    known = _CONTENT_TYPES.get(value)
    if known is not None:
        return known
    mime, _, rest = value.partition(";")
    params: dict[str, str] = {}
    if rest:
        for m in _DISPOSITION_PARAM.finditer(";" + rest):
            params[m.group(1).lower()] = m.group(2) if m.group(2) is not None else m.group(3)
    result = mime.strip().lower(), params
    if len(_CONTENT_TYPES) < 1024 and len(value) <= 200:
        _CONTENT_TYPES[value] = result
    return result


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
            ndjson(ctx, data, tree, enc, layer, depth)
        elif mime in _JSON or mime.endswith("+json") or _first(data) in (b"{", b"["):
            _json(ctx, data, loc, tree, enc, layer, depth)
        return

    if mime.startswith("multipart/") and params.get("boundary"):
        multipart(ctx, data, params["boundary"], tree, enc, layer, depth)
        return
    if (mime in _JSON or mime.endswith("+json")) and _json(ctx, data, loc, tree, enc, layer, depth):
        return
    if mime in _NDJSON:
        ndjson(ctx, data, tree, enc, layer, depth)
        return
    if mime == _FORM:  # some SDKs declare it for anything (Firebase: gzipped protobuf)
        text = text_of(data, params)
        if text is not None and _printable(text[:4096]):
            formats.form(ctx, text, loc, tree, enc, layer)
            return
    if mime in _MSGPACK and formats.msgpack_body(ctx, data, tree, enc, layer, strict=False):
        return
    grpc = mime.startswith("application/grpc")
    if (mime in _PROTOBUF or grpc) and formats.protobuf_body(
        ctx, data, tree, enc, layer, grpc=grpc
    ):
        return
    if mime == "application/graphql":
        text = text_of(data, params)
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
    codings = [c.strip().lower() for c in cenc.split(",", 8)[:8]]  # stacked: a few at most
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


def text_of(data: bytes, params: dict[str, str]) -> str | None:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    charset = params.get("charset", "")
    if charset and charset.lower() not in ("utf-8", "utf8"):
        try:
            return data.decode(charset)
        except (LookupError, ValueError):  # unknown, not a text codec, "undefined", bad bytes
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
    if _first(data) in (b"{", b"[") and _json(ctx, data, loc, tree, enc, layer, depth):
        return
    text = None
    head = data[:4096].decode("utf-8", "replace")
    if _printable(head):  # look at the head before decoding a large binary body whole
        text = text_of(data, params)
        if text is None:
            # mostly text with a few invalid bytes: keep it as text rather than lose it
            candidate = data.decode("utf-8", "replace")
            if candidate.count("\ufffd", 0, 65536) * 20 < min(len(candidate), 65536):
                text = candidate
        elif not _printable(text[:4096]):
            text = None  # a legacy charset decoded it into control characters
    if text is not None:
        if looks_like_form(text):
            formats.form(ctx, text, loc, tree, enc, layer)
        else:
            emit_str(ctx, text, loc, "", enc, layer, MAX_TEXT_BODY_CHARS)
        return
    if data[0] in formats.MSGPACK_START and formats.msgpack_body(
        ctx, data, tree, enc, layer, strict=True
    ):
        return
    if formats.protobuf_body(ctx, data, tree, enc, layer, strict=True):
        return
    formats.strings(ctx, data, loc, enc)


def _printable(sample: str) -> bool:
    return sample.isprintable() or sample.translate(_WS_DELETE).isprintable()


def _first(data: bytes) -> bytes:
    """The first byte that is not white space (looking at the head only: no copy of a body)."""
    return data[:256].lstrip(_WS)[:1]


_JSON_START = frozenset(b'{["-0123456789tfnNI')  # NaN and Infinity: json accepts them


def _json(ctx: Ctx, data: bytes, loc: str, tree: str, enc: Enc, layer: int, depth: int) -> bool:
    start = _first(data)
    if not start or start[0] not in _JSON_START:
        return False  # not JSON whatever the header says: no need to let a parser find out
    try:
        try:
            obj = parse_json(data)
        except UnicodeDecodeError:
            obj = parse_json(data.decode("utf-8", "replace"))
    except RecursionError:
        ctx.limit("JSON nested too deep to parse; kept as text")
        return False
    except JsonTooLarge:
        ctx.limit(f"JSON with more than {MAX_JSON_ELEMENTS} elements not parsed; kept as text")
        return False
    except ValueError as e:
        if getattr(e, "msg", "") == "Extra data":  # one document per line
            ndjson(ctx, data, tree, enc, layer, depth)
            return True
        return False
    emit_tree(ctx, obj, tree, "", (*enc, "json"), 0, layer)
    return True


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
            if depth < MAX_NESTED_BODIES:
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
            text = text_of(content, {})
        if text is not None:
            emit_str(ctx, text, here, name, enc, layer)
        elif depth < MAX_NESTED_BODIES:
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
