"""URLs and form-encoded strings: a flow's URL, URLs inside values (Referer, ``dl=``, page
URLs in JSON), query strings and form bodies.

A URL yields its path segments (``path[i]``), query parameters (``query:name``) and fragment
(``fragment`` / ``fragment:name``). Path segments of a URL found *inside a value* are not emitted
on their own (the URL already is, whole); only what decodes out of them is
(``query:u>path[4]>$.key``).

This module splits URLs into parts and holds their caches; emitting the parts (which recurses
into whatever decodes out of them) lives in ``walk``, so that the two do not import each other.
"""

from __future__ import annotations

from urllib.parse import unquote

from edscan.decode.context import (
    MAX_PARTS,
    Row,
)
from edscan.decode.sniff import (
    inner_key,
    iter_pairs,
    name_part,
    split_url,
)

Enc = tuple[str, ...]


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


# The fields of a flow's own URL path: apps and SDKs call the same endpoints again and again,
# and what a path yields depends on the path alone. Remembered (the rows themselves, shared by
# the flows that send the path) when decoding it touched no budget and hit no limit. Two
# generations, as for walk.PLAIN; bounded, so memory stays flat.
_PATH_ROWS: dict[str, tuple[Row, ...]] = {}
_PATH_ROWS_OLD: dict[str, tuple[Row, ...]] = {}
_PATH_CACHE_MAX = 2048
