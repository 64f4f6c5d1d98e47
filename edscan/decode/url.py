"""URLs and form-encoded strings: a flow's URL, URLs inside values (Referer, ``dl=``, page
URLs in JSON), query strings and form bodies.

A URL yields its path segments (``path[i]``), query parameters (``query:name``) and fragment
(``fragment`` / ``fragment:name``). Path segments of a URL found *inside a value* are not emitted
on their own (the URL already is, whole); only what decodes out of them is
(``query:u>path[4]>$.key``).
"""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import unquote

from edscan.decode import walk
from edscan.decode.context import (
    INLINE_MAX_CHARS,
    MAX_PARTS,
    Ctx,
    Row,
)
from edscan.decode.sniff import (
    _SEG_CACHE,
    inner_key,
    iter_pairs,
    name_part,
    seg,
    split_url,
    unquote_form,
)

Enc = tuple[str, ...]


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
    plain = walk.PLAIN
    for part in ctx.split(s, "&"):
        if not part:
            continue
        name, eq, value = part.partition("=")
        if "+" in name or "%" in name:
            name = unquote_form(name)
        if not eq:
            walk.emit_str(ctx, name, bare, "", enc, layer)
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
            walk.decode_more(ctx, value, here, key, enc, layer)


# How a URL part is emitted: as found only, as found and decoded further, or only what decodes
# out of it (path segments of a URL inside a value: the URL itself is a field already).
RAW, RAW_AND_DECODED, DECODED_ONLY = 0, 1, 2
Part = tuple[str, str, str, int]  # (location suffix, key, value, mode)

# Parts of URLs seen inside values: page URLs and referrers repeat on every hit of a page.
# Two generations, as for walk.PLAIN. Bounded, so memory stays flat.
_URL_PARTS: dict[str, tuple[Part, ...]] = {}
_URL_PARTS_OLD: dict[str, tuple[Part, ...]] = {}
_URL_CACHE_MAX = 2048
_URL_CACHE_MAX_LEN = 1024


def url_parts(url: str, *, inner: bool = False) -> tuple[Part, ...]:
    """The path segments, query parameters and fragment of a URL (absolute or relative).
    ``inner``: a URL inside a value, whose plain path segments are not emitted on their own."""
    path, query, fragment = split_url(url)
    parts: list[Part] = []
    _path_into(parts, path, DECODED_ONLY if inner else RAW_AND_DECODED)
    if query:
        _pairs_into(parts, query, "query")
    if fragment:
        _fragment_into(parts, fragment)
    return tuple(p for p in parts if p[2])


def _path_into(parts: list[Part], path: str, mode: int) -> None:
    if len(path) <= 1:
        return
    i = 0
    for part in path.split("/", MAX_PARTS):
        if not part:
            continue
        if "%" in part:
            part = unquote(part, errors="replace")
        here = f"path[{i}]"
        i += 1
        if ";" in part and "=" in part:  # matrix parameters (Floodlight: ;u1=...;ord=...)
            head, *params = part.split(";")
            parts.append((here, "", head, mode))
            for param in params:
                name, _, value = param.partition("=")
                parts.append((f"{here};{name_part(name)}", name, value, RAW_AND_DECODED))
            continue
        parts.append((here, "", part, mode))


def _fragment_into(parts: list[Part], fragment: str) -> None:
    if "=" in fragment:
        parts.append(("fragment", "", fragment, RAW))
        _pairs_into(parts, fragment[fragment.find("?") + 1 :], "fragment")
    else:
        parts.append(("fragment", "", fragment, RAW_AND_DECODED))


def _pairs_into(parts: list[Part], s: str, base: str) -> None:
    for name, value, had_eq in iter_pairs(s):
        if had_eq:
            parts.append((f"{base}:{name_part(name)}", inner_key(name), value, RAW_AND_DECODED))
        else:
            parts.append((base, "", name, RAW_AND_DECODED))


def emit_url(ctx: Ctx, url: str, prefix: str, enc: Enc, layer: int) -> None:
    """Emit a URL's parts; ``prefix`` is "" for the flow's own URL, ``<location>>`` inside values."""
    if prefix:
        parts = _URL_PARTS.get(url)
        if parts is None:
            parts = _URL_PARTS_OLD.get(url)
            if parts is None:
                parts = url_parts(url, inner=True)
            if len(url) <= _URL_CACHE_MAX_LEN:
                if len(_URL_PARTS) >= _URL_CACHE_MAX:  # two generations, as for walk.PLAIN
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


# The fields of a flow's own URL path: apps and SDKs call the same endpoints again and again,
# and what a path yields depends on the path alone. Remembered (the rows themselves, shared by
# the flows that send the path) when decoding it touched no budget and hit no limit. Two
# generations, as for walk.PLAIN; bounded, so memory stays flat.
_PATH_ROWS: dict[str, tuple[Row, ...]] = {}
_PATH_ROWS_OLD: dict[str, tuple[Row, ...]] = {}
_PATH_CACHE_MAX = 2048


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
            walk.emit_str(ctx, value, prefix + suffix, key, enc, layer)
        elif mode == RAW:
            ctx.emit(prefix + suffix, key, value, enc)
        elif len(value) >= 8 and value not in walk.PLAIN:
            walk.decode_more(ctx, value, prefix + suffix, key, enc, layer)
