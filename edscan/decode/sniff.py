"""Pure helpers that recognise and take apart encoded strings; no emission, no state.

Each guard is ordered cheapest first (length, first character, ``str`` methods implemented in C)
so that the ordinary values of analytics traffic (words, numbers, UUIDs, timestamps) are
rejected before any decoding is tried.
"""

from __future__ import annotations

import binascii
import json
import re
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import unquote

# ---------------------------------------------------------------- JSONPath-ish segments

_SAFE_KEY = re.compile(r"[A-Za-z0-9_$@-]+")
_SEG_CACHE: dict[str, str] = {}


def seg(key: str) -> str:
    """The path segment for an object key: ``.email`` or ``['page title']``."""
    s = _SEG_CACHE.get(key)
    if s is not None:
        return s
    if key and (key.isidentifier() or _SAFE_KEY.fullmatch(key)):
        s = "." + key
    else:
        s = "['" + key.replace("\\", "\\\\").replace("'", "\\'").replace(">", "%3E") + "']"
    if len(_SEG_CACHE) < 50_000 and len(key) <= 64:
        _SEG_CACHE[key] = s
    return s


def name_part(name: str) -> str:
    """A query, cookie or header name as written in a location (``>`` would split it)."""
    return name.replace(">", "%3E") if ">" in name else name


def inner_key(name: str) -> str:
    """The innermost key of a bracketed form name: ``ud[em]`` -> ``em``, ``expv2[]`` -> ``expv2``."""
    if name.endswith("]"):
        i = name.rfind("[")
        if i > 0:
            inner = name[i + 1 : -1]
            if inner and not inner.isdigit():
                return inner
            return inner_key(name[:i])
    return name


# ---------------------------------------------------------------- form / query strings


# Percent-decoded values remembered (page URLs in dl=, referrers): urllib's unquote is written
# in Python and these repeat on every hit of a page. Two generations, bounded.
_UNQUOTED: dict[str, str] = {}
_UNQUOTED_OLD: dict[str, str] = {}
_UNQUOTED_MAX = 4096


def unquote_form(s: str) -> str:
    """A form or query value or name, decoded: ``+`` is a space, ``%xx`` a byte of UTF-8."""
    if "%" not in s:
        return s.replace("+", " ") if "+" in s else s
    if len(s) < 24:
        return unquote(s.replace("+", " ") if "+" in s else s, errors="replace")
    u = _UNQUOTED.get(s)
    if u is None:
        u = _UNQUOTED_OLD.get(s)
        if u is None:
            u = unquote(s.replace("+", " ") if "+" in s else s, errors="replace")
        if len(s) <= 2048:
            if len(_UNQUOTED) >= _UNQUOTED_MAX:
                _UNQUOTED_OLD.clear()
                _UNQUOTED_OLD.update(_UNQUOTED)
                _UNQUOTED.clear()
            _UNQUOTED[s] = u
    return u


def iter_pairs(s: str, sep: str = "&") -> Iterator[tuple[str, str, bool]]:
    """``(name, value, had_equals)`` of a form-encoded string, names and values unquoted."""
    for part in s.split(sep, 200_000):  # bounded like Ctx.split (no Ctx here: pure helpers)
        if not part:
            continue
        name, eq, value = part.partition("=")
        yield unquote_form(name), unquote_form(value), bool(eq)


_FORM_START = re.compile(r"[A-Za-z0-9_.\[\]%$~*:@!-]{1,200}=")


def form_start(s: str) -> bool:
    """``s`` starts like ``name=``: a form, not prose that happens to hold ``=`` and ``&``."""
    return _FORM_START.match(s) is not None


def looks_like_form(text: str) -> bool:
    """``key=value&...``: a name of name characters, then ``=``, and no raw spaces."""
    head = text[:1024]
    nl = head.find("\n")
    if nl >= 0:
        head = head[:nl]
    return " " not in head and _FORM_START.match(head) is not None


# ---------------------------------------------------------------- JSON


_fast_loads: Callable[[str | bytes], Any]
try:  # a few times faster than json on the small bodies that dominate analytics traffic
    from orjson import loads as _fast_loads
except ImportError:  # pragma: no cover - orjson is a dependency; stay correct without it
    _fast_loads = json.loads


MAX_JSON_ELEMENTS = 200_000  # see JsonTooLarge
_JSON_CHECK_FROM = 1 << 20


class JsonTooLarge(Exception):
    """A JSON text whose parse would build more than ``MAX_JSON_ELEMENTS`` objects (judged by
    its count of ``,`` ``[`` ``{``): 16 MiB of ``[{},{},...]`` would be gigabytes of dicts."""


def parse_json(text: str | bytes) -> Any:
    """``json.loads``, faster: what orjson refuses (NaN, huge integers, deep nesting, invalid
    UTF-8, trailing documents) goes to ``json`` so the error (or result) is the standard one.
    Raises ValueError, RecursionError (absurd nesting) or JsonTooLarge."""
    if len(text) > _JSON_CHECK_FROM:
        comma, bracket, brace = (",", "[", "{") if isinstance(text, str) else (b",", b"[", b"{")
        if (
            text.count(comma) + text.count(bracket) + text.count(brace)  # type: ignore[arg-type]
            > MAX_JSON_ELEMENTS
        ):
            raise JsonTooLarge
    try:
        return _fast_loads(text)
    except ValueError:
        return json.loads(text)


def loads(text: str | bytes) -> Any:
    """``parse_json`` or None; RecursionError and JsonTooLarge propagate to be reported."""
    try:
        return parse_json(text)
    except ValueError:
        return None


# ---------------------------------------------------------------- text-ness

_TEXT_PUNCT = frozenset(" @.-_:/,;+'\"!?()&=#%$*[]{}<>|~^\t\n\r")


def is_texty(text: str) -> bool:
    """Whether decoded bytes read as text a person or program wrote (not random bytes that
    happen to be printable): printable, and mostly letters, digits and common punctuation."""
    if len(text) < 3:
        return False
    if len(text) < 12:
        # a few random bytes are printable often enough: short text must look like a word, a
        # name, an address or an id (ASCII, no brackets or other line noise)
        return (
            text.isascii()
            and all(ch.isalnum() or ch in _SHORT_PUNCT for ch in text)
            and sum(ch.isalnum() for ch in text) >= 0.6 * len(text)
        )
    sample = text[:256]
    if not (sample.isprintable() or sample.translate(_WS_DELETE).isprintable()):
        return False
    good = sum(1 for ch in sample if ch.isalnum() or ch in _TEXT_PUNCT)
    alnum = sum(1 for ch in sample if ch.isalnum())
    return good >= 0.9 * len(sample) and alnum >= 0.5 * len(sample)


_SHORT_PUNCT = frozenset(" @.-_:/,+='!?&")
_WS_DELETE = str.maketrans("", "", "\t\n\r")

# ---------------------------------------------------------------- base64 / hex

_B64 = re.compile(r"[A-Za-z0-9+/_-]+={0,2}")
_HEX = re.compile(r"[0-9a-fA-F]+")
_URLSAFE = str.maketrans("-_", "+/")


def b64_candidate(s: str) -> bool:
    """Could ``s`` be base64 of something worth decoding? Hashes, words and ids say no."""
    if not _B64.fullmatch(s):
        return False
    core = s.rstrip("=")
    if len(core) % 4 == 1 or core.isdigit():
        return False
    # base64 of text or of a structure mixes upper and lower case; words, hex hashes and
    # upper-case ids do not
    return not (core.islower() or core.isupper())


def b64decode(s: str) -> tuple[bytes, str] | None:
    """``(bytes, "base64" | "base64url")``, padded or not."""
    core = s.rstrip("=")
    name = "base64"
    if "-" in core or "_" in core:
        if "+" in core or "/" in core:
            return None
        core = core.translate(_URLSAFE)
        name = "base64url"
    try:
        return binascii.a2b_base64(core + "=" * (-len(core) % 4)), name
    except ValueError:  # binascii.Error, or a character outside ASCII (a JWT-shaped string)
        return None


def hex_candidate(s: str) -> bool:
    """Hex of at least 6 bytes (shorter hex is more often an id than text)."""
    return len(s) >= 12 and len(s) % 2 == 0 and not s.isdigit() and _HEX.fullmatch(s) is not None


def is_uuid(s: str) -> bool:
    return len(s) == 36 and s[8] == "-" and s[13] == "-" and s[18] == "-" and s[23] == "-"


# ---------------------------------------------------------------- JWT


def jwt(s: str) -> dict[str, Any] | None:
    """``{"header": {...}, "payload": {...}}`` of a JWS compact token; the signature is ignored."""
    parts = s.split(".")
    if len(parts) != 3:
        return None
    out: dict[str, Any] = {}
    for name, part in (("header", parts[0]), ("payload", parts[1])):
        decoded = b64decode(part) if part else None
        if decoded is None:
            return None
        raw = decoded[0]
        try:
            value = loads(raw) if raw[:1] in (b"{", b"[") else None
        except (RecursionError, JsonTooLarge):
            return None
        if value is None:
            if name == "header":
                return None
            try:
                value = raw.decode("utf-8")
            except UnicodeDecodeError:
                return out  # a binary payload: the header alone
        if name == "header" and not isinstance(value, dict):
            return None
        out[name] = value
    return out


# ---------------------------------------------------------------- URLs


def split_url(url: str) -> tuple[str, str | None, str | None]:
    """``(path, query, fragment)`` of an absolute, scheme-relative or path-relative URL."""
    fragment = None
    i = url.find("#")
    if i >= 0:
        fragment = url[i + 1 :]
        url = url[:i]
    query = None
    i = url.find("?")
    if i >= 0:
        query = url[i + 1 :]
        url = url[:i]
    if url.startswith("/"):
        if url.startswith("//"):
            j = url.find("/", 2)
            url = url[j:] if j >= 0 else ""
    else:
        j = url.find("://")
        if j >= 0:
            k = url.find("/", j + 3)
            url = url[k:] if k >= 0 else ""
    return url, query, fragment


# ---------------------------------------------------------------- GraphQL

GRAPHQL_STARTS = ("query", "mutation", "subscription", "fragment", "{")
_GQL_LITERAL = re.compile(r'(\w+)\s*:\s*("(?:[^"\\\n]|\\.)*"|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?\b)')


def looks_graphql(s: str) -> bool:
    t = s.lstrip()
    return t.startswith(GRAPHQL_STARTS) and "{" in t


def graphql_literals(s: str) -> Iterator[tuple[str, str]]:
    """``(argument, value)`` for each literal argument written into a GraphQL document."""
    for m in _GQL_LITERAL.finditer(s):
        name, literal = m.group(1), m.group(2)
        if literal.startswith('"'):
            try:
                literal = json.loads(literal)
            except ValueError:
                literal = literal[1:-1]
        if literal:
            yield name, literal
