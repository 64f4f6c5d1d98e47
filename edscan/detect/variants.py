"""Every form a persona value can take on the wire, computed once when the persona is loaded.

A value yields *forms* (the value as given, its normalisations: e-mail trimmed and lower-cased,
phone digits and E.164, dates in common formats, names in both orders, coordinates at 2 to 6
decimals) and each form yields *encodings* (URL-encoded once and twice, HTML entities, JSON
escapes, base64 standard/url-safe/unpadded and inside a longer base64 text at any offset, hex,
MD5/SHA-1/SHA-256/SHA-512 in hex and base64, and hashes of hashes: any two of MD5, SHA-1 and
SHA-256, e.g. the SHA-256 of an MD5 hex digest).
Matching is case-insensitive (the haystack is lower-cased once), which covers case folds.

Plain short values (grade "5", a ZIP code, coordinates at 2-3 decimals) are *gated*: they
count only as a whole field value under a key that agrees. Their hashes are not gated: a
SHA-256 of a ZIP code is 64 hex digits that mean nothing else.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import html
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal, InvalidOperation
from urllib.parse import quote, quote_plus

from edscan.detect.persona import Persona, spec_for

MIN_LEN = 6  # shorter plain values are gated (counted only under an agreeing key)
MIN_HASHED = 3  # shorter values are not worth hashing (sha256 of "5" could be anything's)
_HASHES = ("md5", "sha1", "sha256", "sha512")
_NONWORD = re.compile(r"[^\w]+", re.UNICODE)


@dataclass(frozen=True, slots=True)
class Variant:
    """One searchable form of one persona value."""

    text: str  # as searched: lower-cased
    field: str  # persona key, "student.email"
    element: str  # taxonomy element id
    encodings: tuple[str, ...]  # what was applied to the form: ("sha256",), ("base64url",)
    detail: str  # "sha256 of the normalised e-mail (trimmed, lower-cased)"
    shown: str  # the variant in its own case, to tell a case fold from an exact match
    gated: bool  # only a whole field value under an agreeing key counts
    inside: bool = False  # a base64 fragment: it continues the encoded text on both sides


@dataclass(frozen=True, slots=True)
class _Form:
    text: str
    detail: str
    hashed: bool = True  # worth hashing (identity-like)
    encoded: bool = True  # worth URL/HTML/JSON/base64/hex forms
    gated: bool | None = None  # None: decided by length and the field's spec
    element: str = ""  # overrides the field's element (coordinates at 2 decimals are coarse)


def _b64(data: bytes) -> Iterator[tuple[str, tuple[str, ...], str]]:
    std = base64.b64encode(data).decode("ascii")
    url = base64.urlsafe_b64encode(data).decode("ascii")
    yield std, ("base64",), "base64"
    yield url, ("base64url",), "base64url"
    yield std.rstrip("="), ("base64",), "base64 (unpadded)"
    yield url.rstrip("="), ("base64url",), "base64url (unpadded)"


def _encodings(text: str) -> Iterator[tuple[str, tuple[str, ...], str]]:
    """(encoded text, encoding chain, description) for the non-hash encodings of ``text``."""
    once = quote(text, safe="")
    yield once, ("url",), "URL-encoded"
    yield quote_plus(text, safe=""), ("url",), "URL-encoded (form)"
    yield quote(text, safe="@"), ("url",), "URL-encoded"
    yield quote(once, safe=""), ("url", "url"), "URL-encoded twice"
    yield html.escape(text), ("html",), "HTML-escaped"
    if "@" in text:  # mailto obfuscation: every character as a numeric entity
        yield "".join(f"&#{ord(c)};" for c in text), ("html",), "HTML numeric entities"
    yield json.dumps(text)[1:-1], ("json-escape",), "JSON-escaped"
    yield json.dumps(text, ensure_ascii=False)[1:-1], ("json-escape",), "JSON-escaped"
    yield text.replace("/", "\\/"), ("json-escape",), "JSON-escaped (slashes)"
    data = text.encode("utf-8")
    yield from _b64(data)
    if not text.isalpha():
        # a word alone (a last name) inside a longer encoded text may be part of another word
        # (``zarbetta`` in the username ``qzarbetta``), which the encoded text cannot show
        yield from _b64_inside(data)
    yield data.hex(), ("hex",), "hex"


_DOUBLE = ("md5", "sha1", "sha256")  # SDKs and ad platforms hash a hash (sha256 of an md5 ...)
_B64_MIN = 8  # characters a base64 fragment needs to say anything


def _hashes(text: str) -> Iterator[tuple[str, tuple[str, ...], str]]:
    data = text.encode("utf-8")
    for name in _HASHES:
        digest = hashlib.new(name, data).digest()
        yield digest.hex(), (name,), name
        if name in _DOUBLE:
            for enc, chain, desc in _b64(digest):
                yield enc, (name, *chain), f"{name} in {desc}"
            # hashes of the hex digest: "any two of md5, sha1, sha256" in either order
            inner = digest.hex().encode("ascii")
            for outer in _DOUBLE:
                twice = hashlib.new(outer, inner).hexdigest()
                yield twice, (name, outer), f"{outer} of the {name}"


def _b64_inside(data: bytes) -> Iterator[tuple[str, tuple[str, ...], str]]:
    """The base64 characters ``data`` always yields when it sits inside a longer encoded text,
    at each of the three byte alignments (0, 1 or 2 bytes of something else before it).

    Only the characters whose 6 bits all come from ``data`` are kept: the first one or two of
    an unaligned start and the last partial one depend on the neighbouring bytes.
    """
    n = len(data)
    for k in (0, 1, 2):
        for alphabet, chain in (
            (base64.b64encode, "base64"),
            (base64.urlsafe_b64encode, "base64url"),
        ):
            enc = alphabet(b"\0" * k + data).decode("ascii")
            start = -(-8 * k // 6)  # ceil(8k / 6)
            end = (8 * (k + n)) // 6
            piece = enc[start:end]
            if len(piece) >= _B64_MIN:
                yield piece, (chain,), f"{chain} inside a longer value (offset {k})"


# --------------------------------------------------------------------------- forms per kind


def _email_forms(v: str) -> list[_Form]:
    norm = v.strip().lower()
    forms = [_Form(v, "value as given"), _Form(norm, "normalised e-mail (trimmed, lower-cased)")]
    local, _, domain = norm.rpartition("@")
    if domain in ("gmail.com", "googlemail.com"):
        g = local.split("+", 1)[0].replace(".", "")
        forms.append(_Form(f"{g}@{domain}", "gmail-normalised e-mail (dots and +tag removed)"))
    return forms


def _phone_forms(v: str) -> list[_Form]:
    digits = "".join(c for c in v if c.isdigit())
    if v.strip().startswith("00"):
        digits = digits[2:]
    if len(digits) == 10:  # a national NANP number: assume country code 1
        national, full = digits, "1" + digits
    elif len(digits) == 11 and digits.startswith("1"):
        national, full = digits[1:], digits
    else:
        national, full = digits, digits
    forms = [
        _Form(v, "value as given"),
        _Form(full, "phone as digits with country code"),
        _Form("+" + full, "phone as E.164"),
        _Form(national, "phone as national digits"),
    ]
    if len(national) == 10 and full.startswith("1"):
        a, b, c = national[:3], national[3:6], national[6:]
        for text in (
            f"({a}) {b}-{c}",
            f"({a}){b}-{c}",
            f"{a}-{b}-{c}",
            f"{a}.{b}.{c}",
            f"{a} {b} {c}",
            f"+1 {a}-{b}-{c}",
            f"+1 ({a}) {b}-{c}",
            f"+1 {a} {b} {c}",
            f"+1-{a}-{b}-{c}",
            f"1-{a}-{b}-{c}",
            f"+1.{a}.{b}.{c}",
            f"1.{a}.{b}.{c}",
            f"1 ({a}) {b}-{c}",
            f"({a})-{b}-{c}",
            f"{a} {b}-{c}",
            f"{a}/{b}-{c}",
            f"+1 {a}.{b}.{c}",
            f"+1{a}{b}{c}",
            f"001{a}{b}{c}",
            f"+1 ({a}) {b} {c}",
        ):
            forms.append(_Form(text, "formatted phone", hashed=False))
    return forms


def _name_forms(v: str) -> list[_Form]:
    forms = [_Form(v, "value as given")]
    lower = v.lower()
    forms.append(_Form(lower, "lower-cased name", encoded=False))
    bare = _NONWORD.sub("", lower)
    if bare != lower:
        forms.append(_Form(bare, "name without spaces or punctuation", encoded=False))
    tokens = v.split()
    if len(tokens) >= 2:
        first, last = tokens[0], tokens[-1]
        for text, what in (
            (f"{last} {first}", "name as last first"),
            (f"{last}, {first}", "name as last, first"),
            (f"{first}{last}", "names joined"),
            (f"{last}{first}", "names joined, last first"),
        ):
            forms.append(_Form(text, what))
    return forms


def _dob_forms(v: str) -> list[_Form]:
    d = dt.date.fromisoformat(v)
    y, m, day = f"{d.year:04d}", f"{d.month:02d}", f"{d.day:02d}"
    midnight = dt.datetime(d.year, d.month, d.day, tzinfo=dt.UTC)
    epoch = int(midnight.timestamp())
    forms = [
        _Form(v, "date as YYYY-MM-DD"),
        _Form(f"{m}/{day}/{y}", "date as MM/DD/YYYY"),
        _Form(f"{day}/{m}/{y}", "date as DD/MM/YYYY"),
        _Form(f"{y}{m}{day}", "date as YYYYMMDD"),
        _Form(f"{d.month}/{d.day}/{y}", "date as M/D/YYYY"),
        _Form(f"{day}.{m}.{y}", "date as DD.MM.YYYY"),
        _Form(str(epoch), "date as epoch seconds (UTC midnight)", hashed=False, encoded=False),
        _Form(str(epoch * 1000), "date as epoch ms (UTC midnight)", hashed=False, encoded=False),
    ]
    return forms


def _coordinate_forms(v: str, what: str) -> list[_Form]:
    try:
        x = Decimal(v)
    except InvalidOperation:
        return [_Form(v, f"{what} as given", hashed=False, encoded=False)]
    forms: list[_Form] = []
    exponent = x.as_tuple().exponent
    given = -exponent if isinstance(exponent, int) else 0
    if given > 6:
        forms.append(_Form(v, f"{what} at {given} decimals", hashed=False, encoded=False))
    for d in range(6, 1, -1):
        q = Decimal(1).scaleb(-d)
        for rounding in (ROUND_HALF_UP, ROUND_DOWN):
            text = str(x.quantize(q, rounding=rounding))
            for t in {text, text.rstrip("0").rstrip(".")}:
                decimals = len(t.partition(".")[2])
                if decimals < 2:
                    continue
                forms.append(
                    _Form(
                        t,
                        f"{what} at {decimals} decimals",
                        hashed=False,
                        encoded=False,
                        gated=decimals <= 3,
                        element="geo.coarse" if decimals < 3 else "",
                    )
                )
    return forms


def _id_forms(v: str) -> list[_Form]:
    forms = [_Form(v, "value as given"), _Form(v.upper(), "upper-cased value")]
    if re.fullmatch(r"[0-9A-Fa-f]{8}(-[0-9A-Fa-f]{4}){3}-[0-9A-Fa-f]{12}", v):
        forms.append(_Form(v.lower(), "lower-cased value"))
        forms.append(_Form(v.replace("-", ""), "UUID without dashes"))
        forms.append(_Form(v.replace("-", "").upper(), "UUID without dashes, upper-cased"))
    return forms


def _text_forms(v: str, hashed: bool) -> list[_Form]:
    forms = [_Form(v, "value as given", hashed=hashed)]
    lower = v.strip().lower()
    if hashed:
        forms.append(_Form(lower, "lower-cased value", encoded=False))
        bare = _NONWORD.sub("", lower)
        if bare and bare != lower:  # Meta hashes cities without spaces or punctuation
            forms.append(_Form(bare, "value without spaces or punctuation", encoded=False))
    return forms


def _forms(key: str, value: str) -> list[_Form]:
    spec = spec_for(key)
    kind = spec.kind
    if kind == "email":
        return _email_forms(value)
    if kind == "phone":
        return _phone_forms(value)
    if kind == "name":
        return _name_forms(value)
    if kind == "dob":
        return _dob_forms(value)
    if kind in ("lat", "lon"):
        return _coordinate_forms(value, "latitude" if kind == "lat" else "longitude")
    if kind in ("id", "ip"):
        return _id_forms(value)
    # free text: custom essays and notes are not worth hashing; short identity-like text is
    return _text_forms(value, hashed=not key.startswith("custom."))


def value_variants(key: str, value: str) -> list[Variant]:
    """Every searchable variant of one persona value, most telling first, no duplicates."""
    spec = spec_for(key)
    seen: set[str] = set()
    out: list[Variant] = []

    def add(text: str, chain: tuple[str, ...], detail: str, gated: bool, element: str) -> None:
        # one variant per exact text: forms that differ only in case share a search pattern,
        # and the one whose case matches what was sent names the form in the observation
        low = text.lower()
        if not low or text in seen:
            return
        seen.add(text)
        out.append(
            Variant(
                text=low,
                field=key,
                element=element or spec.element,
                encodings=chain,
                detail=detail,
                shown=text,
                gated=gated,
                inside="inside a longer value" in detail,
            )
        )

    forms = _forms(key, value)
    for form in forms:
        gated = form.gated if form.gated is not None else spec.gated or len(form.text) < MIN_LEN
        add(form.text, (), form.detail, gated, form.element)
    for form in forms:
        if not form.encoded:
            continue
        gated = form.gated if form.gated is not None else spec.gated or len(form.text) < MIN_LEN
        for text, chain, desc in _encodings(form.text):
            add(text, chain, f"{desc}, {form.detail}", gated or len(text) < MIN_LEN, form.element)
    for form in forms:
        if not form.hashed or len(form.text) < MIN_HASHED:
            continue
        for text, chain, desc in _hashes(form.text):
            add(text, chain, f"{desc} of the {form.detail}", False, form.element)
    return out


def persona_variants(persona: Persona) -> list[Variant]:
    """All variants of all values of a persona."""
    out: list[Variant] = []
    for key, value in persona.values.items():
        out.extend(value_variants(key, value))
    return out
