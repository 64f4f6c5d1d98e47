"""The recursive core: emit a value as a field, then look inside it (JSON, JWT, URL, form,
percent-encoding, base64, hex, compressed bytes, protobuf), up to ``Ctx.layers`` layers deep.

``layer`` counts how many values-inside-values a field sits in: the containers a flow is made of
(URL, headers, cookies, a body and its Content-Encoding) are layer 0; a base64 string in a query
parameter decodes to layer 1; a JWT inside that JSON to layer 2. Percent-decoding and the
decompression of decoded bytes do not count as layers (they are bounded separately).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import unquote

from edscan.decode import compress, protobuf
from edscan.decode.context import (
    INLINE_MAX_CHARS,
    MAX_DEPTH,
    MAX_FLOW_DECOMPRESSED,
    MAX_VALUE_CHARS,
    Ctx,
)
from edscan.decode.sniff import (
    _SEG_CACHE,
    MAX_JSON_ELEMENTS,
    JsonTooLarge,
    b64_candidate,
    b64decode,
    form_start,
    graphql_literals,
    hex_candidate,
    inner_key,
    is_texty,
    is_uuid,
    jwt,
    loads,
    looks_graphql,
    name_part,
    seg,
    split_url,
    unquote_form,
)
from edscan.decode.url import (
    _PATH_CACHE_MAX,
    _PATH_ROWS,
    _PATH_ROWS_OLD,
    _URL_CACHE_MAX,
    _URL_CACHE_MAX_LEN,
    _URL_PARTS,
    _URL_PARTS_OLD,
    RAW,
    RAW_AND_DECODED,
    Part,
    _fragment_into,
    _path_into,
    url_parts,
)

Enc = tuple[str, ...]
_MAX_URL_DECODES = 2  # percent-decoding applied to one value (beyond the container's own)
_MAX_DECOMPRESSIONS = 2  # decompressions in one chain of decoded bytes


def _layer_cap(ctx: Ctx, s: str) -> None:
    """Report the layer cap only for values that plainly had more inside (outbound: inbound
    data is decoded one layer deep by design)."""
    if ctx.inbound:
        return
    c = s[0]
    if c in "{[" or s.startswith(("eyJ", "http://", "https://")) or b64_candidate(s):
        ctx.limit(
            f"decoding layer cap ({ctx.layers}) reached; values nested deeper were kept as sent"
        )


def emit_str(
    ctx: Ctx,
    s: str,
    loc: str,
    key: str,
    enc: Enc,
    layer: int,
    max_chars: int = MAX_VALUE_CHARS,
) -> None:
    """Emit ``s`` (the value as found at ``loc``), then whatever decodes out of it."""
    if not s:
        return
    n = len(s)
    out = ctx.out
    if n <= INLINE_MAX_CHARS and len(out) < ctx.max_fields:  # ctx.emit, inlined
        out.append((loc, key, s, enc))
    else:
        ctx.emit(loc, key, s, enc, max_chars)
    if n >= 8 and s not in PLAIN:
        decode_more(ctx, s, loc, key, enc, layer)


def decode_more(ctx: Ctx, s: str, loc: str, key: str, enc: Enc, layer: int) -> None:
    """Decode ``s``, found at ``layer``, into ``layer + 1`` if the layer cap allows."""
    if layer >= ctx.layers:
        _layer_cap(ctx, s)
    elif key == "query" and looks_graphql(s):  # a GraphQL document, in JSON or a GET query
        _graphql(ctx, s, loc, enc, layer + 1)
    elif _single_case_text(s):
        # nothing decodes out of it: remembered as decode_plain_cached would, without trying
        if len(s) <= PLAIN_MAX_LEN and ctx.budget > MAX_FLOW_DECOMPRESSED // 2:
            _remember(s)
    else:
        decode_plain_cached(ctx, s, loc, key, enc, layer + 1)


def _single_case_text(s: str) -> bool:
    """Whether ``decode_str`` finds nothing in ``s`` by its shape alone: ids, slugs and words in
    one case (``stu_b4c1364fe5``, a lower-case UUID, ``PAGE_VIEW``), which are most of the
    one-off values of analytics traffic. Base64 mixes cases; JSON, URLs, ``data:``, forms and
    percent-encoding start or hold characters excluded here; hex is all letters and digits."""
    return (
        (s.islower() or s.isupper())
        and s[0] not in "{[/hd"
        and "%" not in s
        and not s.isalnum()
        and not ("=" in s and "&" in s)
    )


# Values that decode to nothing, remembered: analytics traffic repeats the same user agents,
# titles, ids and event names thousands of times. Two generations, so a stream of one-off values
# (message ids, timestamps) cannot flush the recurring ones: a full current generation becomes
# the old one, and a value found in the old one moves back. Bounded: memory stays flat.
PLAIN: set[str] = set()
PLAIN_OLD: set[str] = set()
PLAIN_MAX = 32_768
PLAIN_MAX_LEN = 256


def decode_plain_cached(ctx: Ctx, s: str, loc: str, key: str, enc: Enc, layer: int) -> None:
    """``decode_str``, skipping (and learning) values known to decode to nothing."""
    if s.isdigit():  # counters, timestamps, ids: never encoded, and too many to remember
        return
    if s in PLAIN_OLD:
        _remember(s)
        return
    out = ctx.out
    before = len(out)
    hits = ctx.hits
    decode_str(ctx, s, loc, key, enc, layer)
    if (
        len(out) == before
        and ctx.hits == hits  # a value that hit a limit must hit it again in the next flow
        and len(s) <= PLAIN_MAX_LEN
        and "%" not in s  # its decoding depends on how often it was percent-decoded already
        and ctx.budget > MAX_FLOW_DECOMPRESSED // 2  # not a verdict of an exhausted budget
    ):
        _remember(s)


def _remember(s: str) -> None:
    if len(PLAIN) >= PLAIN_MAX:
        PLAIN_OLD.clear()
        PLAIN_OLD.update(PLAIN)
        PLAIN.clear()
    PLAIN.add(s)


def decode_str(ctx: Ctx, s: str, loc: str, key: str, enc: Enc, layer: int) -> None:
    """Emit what ``s`` decodes to (its results live at ``layer``); nothing if it is plain."""
    c = s[0]
    if c == "{" or c == "[":
        t = s.rstrip()
        if t[-1] in "}]":
            tree = loads_reporting(ctx, t)
            if type(tree) is dict or type(tree) is list:
                emit_tree(ctx, tree, loc + ">$", key, (*enc, "json"), 0, layer)
        return
    if c == "e" and s.startswith("eyJ") and s.count(".") == 2:
        token = jwt(s)
        if token:
            emit_tree(ctx, token, loc + ">$", key, (*enc, "jwt"), 0, layer)
            return
    if (c == "h" and s.startswith(("https://", "http://"))) or (
        c == "/" and len(s) > 1 and s[1] != " " and ("/" in s[2:] or "?" in s)
    ):
        if " " not in s and not s.startswith("/9j/"):  # /9j/: base64 of a JPEG, not a path
            emit_url(ctx, s, loc + ">", enc, layer)
        return
    if c == "d" and s.startswith("data:"):
        _data_uri(ctx, s, loc, key, enc, layer)
        return
    if s.isalnum():  # the common case: no punctuation at all
        if s.isascii() and not s.isdigit():
            if hex_candidate(s):
                decode_bytes(
                    ctx, bytes.fromhex(s), loc, key, (*enc, "hex"), layer, strict=True, binary=False
                )
            elif b64_candidate(s):
                _base64(ctx, s, loc, key, enc, layer)
        return
    if "=" in s and "&" in s and form_start(s):
        emit_pairs(ctx, s, loc + ">$", (*enc, "form"), layer, tree=True)
        return
    if "%" in s:
        u = unquote(s, errors="replace")
        if u != s and enc.count("url") < _MAX_URL_DECODES:
            emit_str(ctx, u, loc, key, (*enc, "url"), layer - 1)  # not a layer of its own
        return
    if " " in s:
        # a form parser turned the '+' of base64 into spaces; undo that, once
        if len(s) >= 16 and "\n" not in s and "  " not in s:
            t = s.replace(" ", "+")
            if b64_candidate(t):
                _base64(ctx, t, loc, key, enc, layer)
        return
    if s.isascii() and not is_uuid(s) and b64_candidate(s):
        _base64(ctx, s, loc, key, enc, layer)


def loads_reporting(ctx: Ctx, text: str | bytes) -> Any:
    """``sniff.loads``, reporting JSON too deep or too large to parse (None then)."""
    try:
        return loads(text)
    except RecursionError:
        ctx.limit("JSON nested too deep to parse; kept as text")
    except JsonTooLarge:
        ctx.limit(f"JSON with more than {MAX_JSON_ELEMENTS} elements not parsed; kept as text")
    return None


def _data_uri(ctx: Ctx, s: str, loc: str, key: str, enc: Enc, layer: int) -> None:
    """``data:[type][;base64],payload``: text and JSON payloads are decoded, media is not."""
    head, comma, payload = s.partition(",")
    media = head[5:].split(";", 1)[0].lower()
    if not comma or not (media in ("", "application/json") or media.startswith("text/")):
        return
    if head.endswith(";base64"):
        _base64(ctx, payload, loc, key, enc, layer)
    else:
        emit_str(ctx, unquote(payload, errors="replace"), loc, key, (*enc, "url"), layer)


def _base64(ctx: Ctx, s: str, loc: str, key: str, enc: Enc, layer: int) -> None:
    decoded = b64decode(s)
    if decoded is not None:
        raw, name = decoded
        decode_bytes(ctx, raw, loc, key, (*enc, name), layer, strict=True)


def decode_bytes(
    ctx: Ctx,
    b: bytes,
    loc: str,
    key: str,
    enc: Enc,
    layer: int,
    *,
    strict: bool,
    zdepth: int = 0,
    binary: bool = True,
) -> bool:
    """Emit what decoded bytes hold: compressed data, JSON, text or protobuf.

    ``strict`` (bytes from a sniffed base64/hex string) keeps only text that reads as text and
    protobuf that parses cleanly into strings; otherwise nothing is emitted and False returned.
    ``binary``: also try schema-less protobuf and raw deflate (not for hex: hex strings are
    mostly hashes and tokens, and hex-encoded protobuf is not something SDKs send).
    """
    if len(b) < 3:
        return False
    kind = compress.sniff(b)
    if kind is not None and zdepth < _MAX_DECOMPRESSIONS:
        inflated = compress.decompress(kind, b, ctx.decompress_cap(len(b)))
        if inflated is not None and inflated.data:
            account(ctx, kind, inflated)
            return decode_bytes(
                ctx, inflated.data, loc, key, (*enc, kind), layer, strict=False, zdepth=zdepth + 1
            )
    first = b[0]
    if first == 0x7B or first == 0x5B:  # { [
        tree = loads_reporting(ctx, b)
        if type(tree) is dict or type(tree) is list:
            emit_tree(ctx, tree, loc + ">$", key, (*enc, "json"), 0, layer)
            return True
    text = protobuf.printable_text(b)
    if text is not None:
        if strict and not is_texty(text):
            return False
        emit_str(ctx, text, loc, key, enc, layer)
        return True
    if not binary:
        return False
    tree = protobuf.parse(b, strict=strict)
    if tree:
        emit_tree(ctx, tree, loc + ">$", key, (*enc, "protobuf"), 0, layer)
        return True
    if zdepth == 0 and len(b) >= 16 and compress.maybe_raw_deflate(b):
        # raw deflate has no magic number; believe it only if it ends cleanly in text or JSON
        inflated = compress.inflate_raw(b, ctx.decompress_cap(len(b)))
        # and grows: random bytes that happen to inflate cleanly come out shorter, not longer
        if inflated is not None and inflated.complete and len(inflated.data) >= len(b):
            data = inflated.data
            if data[:1] in (b"{", b"[") or is_texty(protobuf.printable_text(data) or ""):
                account(ctx, "deflate", inflated)
                return decode_bytes(
                    ctx, data, loc, key, (*enc, "deflate"), layer, strict=True, zdepth=1
                )
    return False


def account(ctx: Ctx, kind: str, inflated: compress.Inflated) -> None:
    """Charge a decompression to the flow's budget and report a cap hit."""
    ctx.budget -= len(inflated.data)
    if inflated.capped:
        ctx.limit(
            f"decompressed size cap hit ({kind}): output is limited to 16 MiB per body and "
            "100:1 beyond 1 MiB; the rest was not decoded"
        )


_INDEX = tuple(f"[{i}]" for i in range(256))  # list index segments, built once


def emit_tree(ctx: Ctx, node: Any, loc: str, key: str, enc: Enc, depth: int, layer: int) -> None:
    """Emit every scalar of a decoded structure (JSON, msgpack, protobuf, JWT) by its path.

    The hottest loop of decoding: scalars are emitted inline (see ``context.INLINE_MAX_CHARS``),
    and objects and lists have a loop each, so that each item costs as few steps as possible.
    """
    t = type(node)
    if t is not dict and t is not list and t is not tuple:
        _emit_scalar(ctx, node, loc, key, enc, layer)
        return
    if depth >= MAX_DEPTH:
        ctx.limit(f"nesting depth cap ({MAX_DEPTH}) hit; deeper values were skipped")
        return
    depth += 1
    out = ctx.out
    cap = ctx.max_fields
    plain = PLAIN
    if t is dict:
        seg_of = _SEG_CACHE.get
        for k, v in node.items():
            if type(k) is not str:
                k = str(k)
            tv = type(v)
            if tv is str:
                if not v:
                    continue
                here = loc + (seg_of(k) or seg(k))
                n = len(v)
                if n <= INLINE_MAX_CHARS and len(out) < cap:  # ctx.emit, inlined
                    out.append((here, k, v, enc))
                else:
                    ctx.emit(here, k, v, enc)
                if n >= 8 and v not in plain:
                    decode_more(ctx, v, here, k, enc, layer)
            elif tv is int or tv is float or tv is bool:
                value = ("true" if v else "false") if tv is bool else str(v)
                here = loc + (seg_of(k) or seg(k))
                if len(value) <= INLINE_MAX_CHARS and len(out) < cap:
                    out.append((here, k, value, enc))
                else:
                    ctx.emit(here, k, value, enc)
            elif v is not None:
                emit_tree(ctx, v, loc + (seg_of(k) or seg(k)), k, enc, depth, layer)
        return
    for i, v in enumerate(node):  # a list element keeps the key of its list
        tv = type(v)
        if tv is str:
            if not v:
                continue
            here = loc + (_INDEX[i] if i < 256 else f"[{i}]")
            n = len(v)
            if n <= INLINE_MAX_CHARS and len(out) < cap:
                out.append((here, key, v, enc))
            else:
                ctx.emit(here, key, v, enc)
            if n >= 8 and v not in plain:
                decode_more(ctx, v, here, key, enc, layer)
        elif tv is int or tv is float or tv is bool:
            value = ("true" if v else "false") if tv is bool else str(v)
            here = loc + (_INDEX[i] if i < 256 else f"[{i}]")
            if len(value) <= INLINE_MAX_CHARS and len(out) < cap:
                out.append((here, key, value, enc))
            else:
                ctx.emit(here, key, value, enc)
        elif v is not None:
            emit_tree(ctx, v, loc + (_INDEX[i] if i < 256 else f"[{i}]"), key, enc, depth, layer)


def _emit_scalar(ctx: Ctx, node: Any, loc: str, key: str, enc: Enc, layer: int) -> None:
    t = type(node)
    if t is str:
        emit_str(ctx, node, loc, key, enc, layer)
    elif t is int or t is float:
        ctx.emit(loc, key, str(node), enc)
    elif t is bool:
        ctx.emit(loc, key, "true" if node else "false", enc)
    elif t is bytes and layer < ctx.layers:  # msgpack bin; protobuf bytes, not text nor message
        decode_bytes(ctx, node, loc, key, enc, layer + 1, strict=True)


def _graphql(ctx: Ctx, document: str, loc: str, enc: Enc, layer: int) -> None:
    enc = (*enc, "graphql")
    base = loc + ">$"
    for name, value in graphql_literals(document):
        emit_str(ctx, value, base + seg(name), name, enc, layer)


def emit_graphql(ctx: Ctx, document: str, tree: str, enc: Enc, layer: int) -> None:
    """The literal arguments of a GraphQL document sent as a whole body."""
    for name, value in graphql_literals(document):
        emit_str(ctx, value, tree + seg(name), name, (*enc, "graphql"), layer)


def emit_pairs(ctx: Ctx, s: str, prefix: str, enc: Enc, layer: int, *, tree: bool) -> None:
    """Emit the pairs of a form-encoded string.

    ``tree``: locations are ``<prefix>.name`` (form bodies and forms inside values); otherwise
    ``<prefix>name`` (``query:``, ``fragment:``). A bare token without ``=`` is emitted at the
    prefix itself (without its colon), without a key.
    """
    bare = prefix if tree else prefix[:-1]
    emit = ctx.emit
    out = ctx.out
    cap = ctx.max_fields
    plain = PLAIN
    for part in ctx.split(s, "&"):
        if not part:
            continue
        name, eq, value = part.partition("=")
        if "+" in name or "%" in name:
            name = unquote_form(name)
        if not eq:
            emit_str(ctx, name, bare, "", enc, layer)
            continue
        if not value:
            continue
        if "+" in value or "%" in value:
            value = unquote_form(value)
        if tree:
            here = prefix + (_SEG_CACHE.get(name) or seg(name))
        else:
            here = prefix + (name_part(name) if ">" in name else name)
        key = inner_key(name) if name[-1:] == "]" else name
        n = len(value)
        if n <= INLINE_MAX_CHARS and len(out) < cap:  # ctx.emit, inlined
            out.append((here, key, value, enc))
        else:
            emit(here, key, value, enc)
        if n >= 8 and value not in plain:
            decode_more(ctx, value, here, key, enc, layer)


def emit_url(ctx: Ctx, url: str, prefix: str, enc: Enc, layer: int) -> None:
    """Emit a URL's parts; ``prefix`` is "" for the flow's own URL, ``<location>>`` inside values."""
    if prefix:
        parts = _URL_PARTS.get(url)
        if parts is None:
            parts = _URL_PARTS_OLD.get(url)
            if parts is None:
                parts = url_parts(url, inner=True)
            if len(url) <= _URL_CACHE_MAX_LEN:
                if len(_URL_PARTS) >= _URL_CACHE_MAX:  # two generations, as for PLAIN
                    _URL_PARTS_OLD.clear()
                    _URL_PARTS_OLD.update(_URL_PARTS)
                    _URL_PARTS.clear()
                _URL_PARTS[url] = parts
        _emit_parts(ctx, parts, prefix, enc, layer)
        return
    # a flow's own URL rarely repeats whole, its path does: the fields of a path are remembered
    path, query, fragment = split_url(url)
    if len(path) > 1:
        _own_path(ctx, path, enc, layer)
    if query:
        emit_pairs(ctx, query, "query:", enc, layer, tree=False)
    if fragment:
        own: list[Part] = []
        _fragment_into(own, fragment)
        _emit_parts(ctx, own, "", enc, layer)


def _own_path(ctx: Ctx, path: str, enc: Enc, layer: int) -> None:
    out = ctx.out
    rows = _PATH_ROWS.get(path)
    if rows is None:
        rows = _PATH_ROWS_OLD.get(path)
    if rows is not None and not out and len(rows) <= ctx.max_fields:
        out.extend(rows)
        return
    before, hits, chars, budget = len(out), ctx.hits, ctx.chars, ctx.budget
    parts: list[Part] = []
    _path_into(parts, path, RAW_AND_DECODED)
    _emit_parts(ctx, parts, "", enc, layer)
    if (
        not before
        and not enc
        and ctx.hits == hits
        and ctx.chars == chars
        and ctx.budget == budget
        and len(path) <= _URL_CACHE_MAX_LEN
    ):
        if len(_PATH_ROWS) >= _PATH_CACHE_MAX:
            _PATH_ROWS_OLD.clear()
            _PATH_ROWS_OLD.update(_PATH_ROWS)
            _PATH_ROWS.clear()
        _PATH_ROWS[path] = tuple(out)


def _emit_parts(ctx: Ctx, parts: Sequence[Part], prefix: str, enc: Enc, layer: int) -> None:
    for suffix, key, value, mode in parts:
        if not value:
            continue
        if mode == RAW_AND_DECODED:
            emit_str(ctx, value, prefix + suffix, key, enc, layer)
        elif mode == RAW:
            ctx.emit(prefix + suffix, key, value, enc)
        elif len(value) >= 8 and value not in PLAIN:
            decode_more(ctx, value, prefix + suffix, key, enc, layer)
