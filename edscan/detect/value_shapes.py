"""Value shapes for the persona-less detectors: e-mail addresses, UUIDs, MACs, digests, phones,
JWTs, coordinates, dates, IP addresses, and the vocabularies that say a value is empty or boolean."""

from __future__ import annotations

import datetime as dt
import ipaddress
import re

from edscan.detect.taxonomy import ELEMENTS

# --------------------------------------------------------------------------- value shapes

EMAIL = re.compile(
    r"[A-Za-z0-9._%+\-]{1,64}@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+"
    r"[A-Za-z]{2,24}(?![A-Za-z0-9@-])"
)
_FILE_TLDS = frozenset(
    [
        "png",
        "jpg",
        "jpeg",
        "gif",
        "svg",
        "webp",
        "ico",
        "js",
        "mjs",
        "css",
        "map",
        "json",
        "html",
        "htm",
        "woff",
        "woff2",
        "ttf",
        "mp4",
        "mp3",
    ]
)
UUID = re.compile(r"^[0-9A-Fa-f]{8}-(?:[0-9A-Fa-f]{4}-){3}[0-9A-Fa-f]{12}$")
_ZERO_UUID = "00000000-0000-0000-0000-000000000000"
HEX16 = re.compile(r"^[0-9A-Fa-f]{16}$")
MAC = re.compile(r"^[0-9A-Fa-f]{2}([:-])(?:[0-9A-Fa-f]{2}\1){4}[0-9A-Fa-f]{2}$")
_PLACEHOLDER_MACS = frozenset({"00:00:00:00:00:00", "02:00:00:00:00:00", "ff:ff:ff:ff:ff:ff"})
DIGEST = re.compile(r"^(?:[0-9A-Fa-f]{32}|[0-9A-Fa-f]{40}|[0-9A-Fa-f]{64}|[0-9A-Fa-f]{128})$")
B64_DIGEST = re.compile(r"^(?=.*\d)[A-Za-z0-9+/_-]{22,88}={0,2}$")
# MD5, SHA-1, SHA-256, SHA-512 digests in base64, padded or not
_B64_DIGEST_LENGTHS = frozenset({22, 24, 27, 28, 43, 44, 86, 88})
# +CC then 8 to 14 more digits, optionally grouped; or a NANP number with punctuation
PHONE_INTL = re.compile(r"^\+\d{1,3}(?:[\s.-]?\(?\d{1,4}\)?){2,5}$")
PHONE_NANP = re.compile(r"^(?:\+?1[\s.-]?)?(?:\(\d{3}\)\s?|\d{3}[\s.-])\d{3}[\s.-]\d{4}$")
JWT = re.compile(r"^(?:Bearer\s+)?(eyJ[A-Za-z0-9_-]{4,}\.eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*)$")
COORD = re.compile(r"^-?\d{1,3}\.(\d{1,15})$")
COORD_PAIR = re.compile(r"^\s*(-?\d{1,2}\.(\d+))\s*[,;\s]\s*(-?\d{1,3}\.(\d+))\s*$")
ID_LIKE = re.compile(r"^[A-Za-z0-9_$][A-Za-z0-9._:$\-]{2,127}$")
STREET = re.compile(r"^\d{1,6}[A-Za-z]?\s+\S+(?:\s+\S+){0,6}$")
US_ZIP = re.compile(r"^\d{5}(?:-\d{4})?$")
_DATE_FORMATS = (
    (re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ][\d:.]+(?:Z|[+-][\d:]+)?)?$"), "ymd"),
    (re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$"), "mdy"),
    (re.compile(r"^(\d{4})(\d{2})(\d{2})$"), "ymd"),
    (re.compile(r"^(\d{1,2})\.(\d{1,2})\.(\d{4})$"), "dmy"),
)
_EMPTY = frozenset({"", "null", "none", "nil", "undefined", "n/a", "na", "-", "[]", "{}"})
_BOOLISH = frozenset({"y", "n", "yes", "no", "true", "false", "0", "1", "t", "f"})
_VOCAB: dict[str, frozenset[str]] = {
    "si.low_income": frozenset(
        {"free", "reduced", "paid", "full", "free/reduced", "eligible", "ineligible", "other"}
    ),
    "demo.race_ethnicity": frozenset(
        {
            "american indian or alaska native",
            "asian",
            "black or african american",
            "native hawaiian or other pacific islander",
            "white",
            "two or more races",
            "multiracial",
            "hispanic",
            "hispanic or latino",
            "not hispanic or latino",
        }
    ),
    "si.disability": frozenset(
        {
            "autism",
            "deaf-blindness",
            "deafness",
            "developmental delay",
            "emotional disturbance",
            "hearing impairment",
            "intellectual disability",
            "multiple disabilities",
            "orthopedic impairment",
            "other health impairment",
            "specific learning disability",
            "speech or language impairment",
            "traumatic brain injury",
            "visual impairment",
        }
    ),
    "demo.gender": frozenset(
        {"m", "f", "x", "male", "female", "other", "unspecified", "nonbinary", "non-binary"}
    ),
}
_INDICATORS = frozenset(
    e.id
    for e in ELEMENTS.values()
    if (e.category in ("si", "cond") and e.id != "si.other")
    or e.id in ("demo.race_ethnicity", "demo.gender", "si.other")
)
_VERSIONISH = re.compile(r"(^|_)(v|ver|version|build|sdk|av|sv|osv|vn|release|rev)(_|$)")
_OAUTH_HINTS = ("oauth", "callback", "/auth", "sso", "login", "signin", "authorize")
_IDPS = (
    ("clever.com", "Clever"),
    ("classlink", "ClassLink"),
    ("accounts.google", "Google"),
    ("googleapis.com", "Google"),
    ("login.microsoftonline", "Microsoft"),
    ("login.live.com", "Microsoft"),
)


_IPV6_CHARS = re.compile(r"^[0-9A-Fa-f:.]+$")


def _luhn(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def _is_empty(v: str) -> bool:
    return v.strip().lower() in _EMPTY


def _date(v: str) -> dt.date | None:
    s = v.strip()
    for rx, order in _DATE_FORMATS:
        m = rx.match(s)
        if not m:
            continue
        a, b, c = (int(x) for x in m.groups()[:3])
        y, mo, d = (a, b, c) if order == "ymd" else (c, a, b) if order == "mdy" else (c, b, a)
        try:
            date = dt.date(y, mo, d)
        except ValueError:
            if order == "mdy":  # maybe DD/MM/YYYY
                try:
                    date = dt.date(y, d, mo)
                except ValueError:
                    return None
            else:
                return None
        return date if 1900 <= date.year <= dt.date.today().year else None
    return None


def _ip(v: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    s = v.strip()
    if not 3 <= len(s) <= 45 or not (s[0].isdigit() or s[0] in ":abcdefABCDEF"):
        return None
    if ":" in s:
        if not _IPV6_CHARS.match(s):
            return None
    elif s.count(".") != 3:
        return None
    try:
        ip = ipaddress.ip_address(s)
    except ValueError:
        return None
    if ip.is_loopback or ip.is_unspecified or ip.is_multicast or ip.is_link_local:
        return None
    if isinstance(ip, ipaddress.IPv4Address) and s.count(".") != 3:
        return None
    return ip
