"""Student data found without a persona: value shapes, agreeing keys, and key names alone.

Confidence says how much the evidence supports the element:

- **medium**: a value of the right shape under an agreeing key (a UUID under ``idfa``, a
  date under ``birthDate``, ``Y`` under ``iep_status``, a 64-hex digest under ``ud[em]``), or
  a shape that means one thing wherever it is (an e-mail address, a formatted phone number,
  a MAC address, a JSON Web Token, a lat/lon pair);
- **low**: a key name alone (``first_name``, ``user_id``, ``disability`` with a free value),
  or an IP address under a key that says nothing;
- the seeded persona (``edscan.detect.persona_match``) is the only source of **high**.

Known traps stay quiet: ``lang``/``hl``/``locale`` are the UI locale, not language
information; dates are only birth dates under birth keys (so version strings and build numbers
that look like dates are not); bare 10- or 13-digit numbers are timestamps, not phones; hex
digests are identifiers only under a key that says what was hashed; UUIDs are advertising ids
only under an advertising-id key. Cookies are searched for e-mail addresses and value shapes
under agreeing keys, not for key names alone.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from edscan.decode.context import Row
from edscan.detect.persona_match import FlowText
from edscan.detect.taxonomy import ELEMENTS, normalise_key
from edscan.models import Confidence, Detector, Flow

MEDIUM, LOW = Confidence.MEDIUM, Confidence.LOW
PATTERN, KEYNAME = Detector.PATTERN, Detector.KEYNAME


@dataclass(frozen=True, slots=True)
class Detection:
    """One element found in field ``field`` (an index into the flow's outbound fields)."""

    field: int
    element: str
    detector: Detector
    confidence: Confidence
    detail: str
    value: str


def parent_location(location: str) -> str:
    """``body:$.user.email`` -> ``body:$.user``; ``query:lat`` -> ``query``."""
    if location.endswith("]"):
        i = location.rfind("[")
        if i > 0:
            return location[:i]
    j = max(location.rfind("."), location.rfind(":"))
    return location[:j] if j > 0 else ""


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


# --------------------------------------------------------------------------- key handlers

# (ctx, field index, location, key, value, element)
Handler = Callable[["_Ctx", int, str, str, str, str], None]


@dataclass(slots=True)
class _Ctx:
    flow: Flow
    fields: Sequence[Row]
    out: list[Detection]

    def add(self, i: int, element: str, detector: Detector, conf: Confidence, detail: str) -> None:
        self.out.append(Detection(i, element, detector, conf, detail, self.fields[i][2]))


def _parentish(location: str) -> bool:
    loc = location.lower()
    return "parent" in loc or "guardian" in loc


def _h_email(ctx: _Ctx, i: int, loc: str, key: str, value: str, element: str) -> None:
    v = value.strip()
    if DIGEST.match(v) or (len(v) in _B64_DIGEST_LENGTHS and B64_DIGEST.match(v)):
        ctx.add(i, element, PATTERN, MEDIUM, "hashed e-mail under an e-mail key")
    # clear-text addresses are found by the e-mail pattern over all fields


def _h_phone(ctx: _Ctx, i: int, loc: str, key: str, value: str, element: str) -> None:
    v = value.strip()
    if DIGEST.match(v):
        ctx.add(i, element, PATTERN, MEDIUM, "hashed phone number under a phone key")
        return
    if PHONE_INTL.match(v) or PHONE_NANP.match(v):
        return  # reported by the shape check
    digits = v.lstrip("+")
    if digits.isdigit() and 7 <= len(digits) <= 15:
        ctx.add(i, element, PATTERN, MEDIUM, "phone digits under a phone key")


def _h_uuid(ctx: _Ctx, i: int, loc: str, key: str, value: str, element: str) -> None:
    v = value.strip()
    if UUID.match(v) and v != _ZERO_UUID:
        ctx.add(i, element, PATTERN, MEDIUM, "UUID under an advertising/device id key")
    elif DIGEST.match(v):
        ctx.add(i, element, PATTERN, MEDIUM, "hashed id under an advertising/device id key")


def _h_android_id(ctx: _Ctx, i: int, loc: str, key: str, value: str, element: str) -> None:
    v = value.strip()
    if HEX16.match(v) and v.strip("0"):
        ctx.add(i, element, PATTERN, MEDIUM, "16 hex digits under an Android ID key")


def _h_imei(ctx: _Ctx, i: int, loc: str, key: str, value: str, element: str) -> None:
    v = value.strip()
    if len(v) == 15 and v.isdigit() and _luhn(v):
        ctx.add(i, element, PATTERN, MEDIUM, "15 digits with a valid Luhn check under an IMEI key")
    elif DIGEST.match(v):
        ctx.add(i, element, PATTERN, MEDIUM, "hashed IMEI")


def _h_mac(ctx: _Ctx, i: int, loc: str, key: str, value: str, element: str) -> None:
    v = value.strip()
    if DIGEST.match(v):
        ctx.add(i, element, PATTERN, MEDIUM, "hashed MAC address")
    # clear MAC addresses are found by shape


def _h_ip(ctx: _Ctx, i: int, loc: str, key: str, value: str, element: str) -> None:
    first = value.split(",", 1)[0]
    if _ip(first) is not None:
        ctx.add(i, element, PATTERN, MEDIUM, "IP address under an IP key")


def _h_dob(ctx: _Ctx, i: int, loc: str, key: str, value: str, element: str) -> None:
    v = value.strip()
    nk = normalise_key(key)
    if nk in ("yob", "birth_year", "year_of_birth", "user_yob"):
        if v.isdigit() and len(v) == 4 and 1900 <= int(v) <= dt.date.today().year:
            ctx.add(i, element, PATTERN, MEDIUM, "year of birth")
        return
    if nk == "age":
        if v.isdigit() and 3 <= int(v) <= 120:
            ctx.add(i, element, PATTERN, MEDIUM, "age")
        return
    if DIGEST.match(v):
        ctx.add(i, element, PATTERN, MEDIUM, "hashed date of birth under a birth key")
        return
    if _date(v) is not None:
        ctx.add(i, element, PATTERN, MEDIUM, "date under a birth-date key")
    elif v.isdigit() and 9 <= len(v) <= 13 and nk not in ("db", "bd"):
        secs = int(v) / (1000 if len(v) == 13 else 1)
        if -2208988800 <= secs <= dt.datetime.now(tz=dt.UTC).timestamp():
            ctx.add(i, element, PATTERN, MEDIUM, "epoch time under a birth-date key")


def _h_student_id(ctx: _Ctx, i: int, loc: str, key: str, value: str, element: str) -> None:
    v = value.strip()
    if element == "sid.state" and len(v) == 10 and v.isdigit():
        ctx.add(i, element, PATTERN, MEDIUM, "10-digit state id (SASID-like)")
    elif ID_LIKE.match(v) and v.lower() not in _BOOLISH:
        ctx.add(i, element, PATTERN, MEDIUM, "id under a student-id key")


def _h_indicator(ctx: _Ctx, i: int, loc: str, key: str, value: str, element: str) -> None:
    v = value.strip().lower()
    if v in _EMPTY:
        return
    if v in _BOOLISH or v in _VOCAB.get(element, ()):
        ctx.add(i, element, PATTERN, MEDIUM, "indicator value under a sensitive key")
    elif not loc.startswith("cookie:"):
        ctx.add(i, element, KEYNAME, LOW, "sensitive key name")


def _h_token(ctx: _Ctx, i: int, loc: str, key: str, value: str, element: str) -> None:
    v = value.strip()
    if normalise_key(key) == "authorization":
        if " " not in v:
            return  # the decoded credential itself (user:password), reported by its keys
        scheme = v.split(None, 1)[0].lower()
        if scheme == "basic":
            ctx.add(i, "sid.password", PATTERN, MEDIUM, "HTTP Basic credentials")
        elif scheme == "bearer" and len(v) > 16:
            ctx.add(i, element, PATTERN, MEDIUM, "bearer token")
        elif v:
            ctx.add(i, element, KEYNAME, LOW, "Authorization header")
        return
    if JWT.match(v):
        return  # reported by the shape check
    if len(v) >= 16 and " " not in v:
        ctx.add(i, element, PATTERN, MEDIUM, "opaque token under a token key")


def _h_oauth_code(ctx: _Ctx, i: int, loc: str, key: str, value: str, element: str) -> None:
    v = value.strip()
    if not (10 <= len(v) <= 2048) or " " in v:
        return
    where = (loc + " " + ctx.flow.url).lower()
    state = any(normalise_key(g[1]) in ("state", "scope", "session_state") for g in ctx.fields)
    if not (state or any(h in where for h in _OAUTH_HINTS)):
        return
    referer = ctx.flow.request_header("referer") or ""
    haystack = (where + " " + referer).lower()
    idp = next((name for hint, name in _IDPS if hint in haystack), "")
    ctx.add(i, element, PATTERN, MEDIUM, f"OAuth authorization code{f' ({idp})' if idp else ''}")


def _h_address(ctx: _Ctx, i: int, loc: str, key: str, value: str, element: str) -> None:
    v = value.strip()
    if STREET.match(v) and any(c.isalpha() for c in v):
        ctx.add(i, element, PATTERN, MEDIUM, "street address under an address key")


def _h_zip(ctx: _Ctx, i: int, loc: str, key: str, value: str, element: str) -> None:
    v = value.strip()
    if US_ZIP.match(v):
        ctx.add(i, element, PATTERN, MEDIUM, "ZIP code under a ZIP key")
    elif DIGEST.match(v):
        ctx.add(i, element, PATTERN, MEDIUM, "hashed ZIP code under a ZIP key")


def _h_keyname(ctx: _Ctx, i: int, loc: str, key: str, value: str, element: str) -> None:
    v = value.strip()
    if v.lower() in _EMPTY or loc.startswith("cookie:"):
        return
    e = ELEMENTS[element]
    if e.category == "st_name" or element == "pg.name":
        if not any(c.isalpha() for c in v) or v.lower() in _BOOLISH:
            return
    elif (e.category in ("work", "comm") and len(v) < 20) or (
        element.startswith(("sid.", "dev."))
        and (not ID_LIKE.match(v) or v.lower() in _BOOLISH or v == _ZERO_UUID)
    ):
        return
    ctx.add(i, element, KEYNAME, LOW, "key name")


_VALUE_ELEMENTS: dict[str, Handler] = {
    "st_contact.email": _h_email,
    "pg_contact.email": _h_email,
    "st_contact.phone": _h_phone,
    "pg_contact.phone": _h_phone,
    "dev.idfa": _h_uuid,
    "dev.gaid": _h_uuid,
    "dev.ad_id": _h_uuid,
    "dev.idfv": _h_uuid,
    "dev.android_id": _h_android_id,
    "dev.imei": _h_imei,
    "dev.mac": _h_mac,
    "net.ip": _h_ip,
    "demo.dob": _h_dob,
    "sid.local": _h_student_id,
    "sid.state": _h_student_id,
    "cred.access_token": _h_token,
    "cred.oauth_code": _h_oauth_code,
}
# key names that agree with a value shape but would say nothing alone
_GEO_LAT = frozenset({"lat", "latitude", "geo_lat"})
_GEO_LON = frozenset({"lon", "lng", "long", "longitude", "geo_lon"})
_GEO_PAIR = frozenset(
    {"ll", "latlng", "lat_lng", "coords", "coordinates", "location", "geo", "gps"}
)
_SKIP_KEYNAME = frozenset({"geo.precise", "geo.coarse", "fp.signals", "atm.ip_cookies"})
_FP_KEYS = frozenset(normalise_key(k) for k in ELEMENTS["fp.signals"].keys)
_FP_MIN = 4  # distinct fingerprinting keys in one flow before it counts


def _key_table() -> dict[str, tuple[str, Handler]]:
    table: dict[str, tuple[str, Handler]] = {}
    for e in ELEMENTS.values():
        if e.id in _SKIP_KEYNAME:
            continue
        handler = _VALUE_ELEMENTS.get(e.id)
        if handler is None:
            handler = _h_indicator if e.id in _INDICATORS else _h_keyname
        for k in e.keys:
            table.setdefault(normalise_key(k), (e.id, handler))
    # weak keys whose values have a telling shape
    for k in ("age", "db", "bd"):
        table.setdefault(k, ("demo.dob", _h_dob))
    table["code"] = ("cred.oauth_code", _h_oauth_code)
    for k in ("address", "street", "street_address", "home_address", "address1", "address_line1"):
        table[k] = ("st_contact.address", _h_address)
    for k in ("zip", "zipcode", "zip_code", "postal_code", "postcode", "zp"):
        table[k] = ("st_contact.address", _h_zip)
    table["ph"] = ("st_contact.phone", _h_phone)
    table["pn"] = ("st_contact.phone", _h_phone)
    return table


_KEYS = _key_table()
_FP, _LAT, _LON, _PAIR, _CONTENT = 1, 2, 3, 4, 5
_SHAPE_START = frozenset("0123456789+(:")
_HEX_LETTERS = frozenset("abcdefABCDEF")
KeyInfo = tuple[str, tuple[str, Handler] | None, int, bool]
_INFO: dict[str, KeyInfo] = {}


def _key_info(key: str) -> KeyInfo:
    """What a raw key name means here, computed once per distinct name (keys repeat a lot)."""
    nk = normalise_key(key)
    kind = (
        _FP
        if nk in _FP_KEYS
        else _LAT
        if nk in _GEO_LAT
        else _LON
        if nk in _GEO_LON
        else _PAIR
        if nk in _GEO_PAIR
        else _CONTENT
        if nk == "content"
        else 0
    )
    info = (nk, _KEYS.get(nk), kind, bool(_VERSIONISH.search(nk)))
    if len(_INFO) >= 50_000:  # hostile captures with endless distinct keys: stay bounded
        _INFO.clear()
    _INFO[key] = info
    return info


_STUDENT_TO_PARENT = {
    "st_contact.email": "pg_contact.email",
    "st_contact.phone": "pg_contact.phone",
    "st.name": "pg.name",
}


class PatternDetector:
    """Stateless: ``detect(flow, fields)`` returns what the shapes and key names show."""

    def detect(
        self, flow: Flow, fields: Sequence[Row], text: FlowText | None = None
    ) -> list[Detection]:
        found, gathered, emails = self.detect_parts(flow, fields, text)
        return found + gathered + emails

    def detect_parts(
        self,
        flow: Flow,
        fields: Sequence[Row],
        text: FlowText | None = None,
        only: Sequence[int] | None = None,
    ) -> tuple[list[Detection], list[Detection], list[Detection]]:
        """``detect`` in three parts: what each field's value and key show, in field order;
        what is judged across fields (coordinates, fingerprinting keys); e-mail addresses, in
        field order. ``only`` (ascending field indices) limits which fields are examined;
        ``text`` then holds those fields alone, in that order (``edscan.detect.detector`` leaves out the
        fields whose findings it knows)."""
        out: list[Detection] = []
        ctx = _Ctx(flow, fields, out)
        info_of = _INFO.get
        fp_seen: dict[str, int] = {}
        lat: dict[str, tuple[int, int]] = {}  # parent location -> (field, decimals)
        lon: dict[str, tuple[int, int]] = {}
        for i in range(len(fields)) if only is None else only:
            loc, key, v, _ = fields[i]
            if key:
                info = info_of(key) or _key_info(key)
                entry = info[1]
                if entry is not None:
                    element, handler = entry
                    if element in _STUDENT_TO_PARENT and _parentish(loc):
                        element = _STUDENT_TO_PARENT[element]
                    handler(ctx, i, loc, key, v, element)
                kind = info[2]
                if kind:
                    if kind == _FP:
                        fp_seen.setdefault(info[0], i)
                    elif kind in (_LAT, _LON):
                        m = COORD.match(v.strip())
                        if m:
                            (lat if kind == _LAT else lon)[parent_location(loc)] = (
                                i,
                                len(m.group(1)),
                            )
                    elif kind == _PAIR:
                        self._pair(ctx, i, v)
                    elif ".messages[" in loc and len(v) >= 40:  # _CONTENT
                        ctx.add(i, "work.content", KEYNAME, LOW, "chat message text (AI API shape)")
                if info[3]:
                    continue  # version and build strings are never ids, IPs or phones
            # cheap guards first: most values are short words, numbers, URLs or user agents
            n = len(v)
            if n < 7:
                continue
            c = v[0]
            if (
                n == 17
                or (c == "e" and v.startswith("eyJ"))
                or (c == "B" and v.startswith("Bearer eyJ"))
                or (n <= 45 and (c in _SHAPE_START or (c in _HEX_LETTERS and ":" in v)))
            ) and not v.isdigit():
                self._shapes(ctx, i, loc, key, v)
        per_field = len(out)
        for parent, (i, d1) in lat.items():
            pair = lon.get(parent)
            if pair is not None:
                self._coordinates(ctx, i, fields[i][2], fields[pair[0]][2], max(d1, pair[1]))
            elif d1 >= 3:
                ctx.add(i, "geo.precise", PATTERN, LOW, f"latitude at {d1} decimals, no longitude")
        for parent, (k, d2) in lon.items():
            if parent not in lat and d2 >= 3:
                ctx.add(k, "geo.precise", PATTERN, LOW, f"longitude at {d2} decimals, no latitude")
        if len(fp_seen) >= _FP_MIN:
            first = min(fp_seen.values())
            names = ", ".join(sorted(fp_seen)[:8])
            ctx.add(
                first, "fp.signals", KEYNAME, LOW, f"{len(fp_seen)} fingerprinting keys: {names}"
            )
        across = len(out)
        if text is None:
            text = FlowText(fields if only is None else [fields[i] for i in only])
        self._emails(ctx, text, only)
        return out[:per_field], out[per_field:across], out[across:]

    @staticmethod
    def standalone(key: str) -> bool:
        """Whether a field under ``key`` is judged on its own: no coordinates, fingerprinting
        key or chat message (counted across a flow's fields) and no OAuth code (judged with the
        flow's URL and other keys). What such a field yields depends on its location, key and
        value alone."""
        info = _INFO.get(key) or _key_info(key)
        entry = info[1]
        return not info[2] and (entry is None or entry[1] is not _h_oauth_code)

    @staticmethod
    def _coordinates(ctx: _Ctx, i: int, la: str, lo: str, decimals: int) -> None:
        try:
            x, y = float(la), float(lo)
        except ValueError:
            return
        if not (-90 <= x <= 90 and -180 <= y <= 180) or (x == 0 and y == 0):
            return
        element = "geo.precise" if decimals >= 3 else "geo.coarse"
        ctx.add(i, element, PATTERN, MEDIUM, f"lat/lon at {decimals} decimals")

    def _pair(self, ctx: _Ctx, i: int, value: str) -> None:
        m = COORD_PAIR.match(value)
        if m:
            decimals = max(len(m.group(2)), len(m.group(4)))
            self._coordinates(ctx, i, m.group(1), m.group(3), decimals)

    @staticmethod
    def _shapes(ctx: _Ctx, i: int, loc: str, key: str, v: str) -> None:
        """Values whose shape alone says what they are (whole field values only)."""
        n = len(v)
        if n < 7 or n > 2048:
            return
        c = v[0]
        if n == 17 and MAC.match(v):
            if v.lower().replace("-", ":") not in _PLACEHOLDER_MACS:
                ctx.add(i, "dev.mac", PATTERN, MEDIUM, "MAC address")
            return
        if c == "e" or c == "B":
            if JWT.match(v):
                ctx.add(i, "cred.access_token", PATTERN, MEDIUM, "JSON Web Token")
            return
        if n <= 45 and (c.isdigit() or c == ":" or c in "abcdefABCDEF"):
            ip = _ip(v)
            if ip is not None:
                nk = normalise_key(key) if key else ""
                if _KEYS.get(nk, ("",))[0] != "net.ip":
                    private = ip.is_private and not _documentation(ip)
                    if not private:
                        ctx.add(i, "net.ip", PATTERN, LOW, "IP address (no agreeing key)")
                return
        if n <= 24 and (c == "+" or c == "(" or c.isdigit()):
            s = v.strip()
            if PHONE_INTL.match(s) or PHONE_NANP.match(s):
                digits = sum(ch.isdigit() for ch in s)
                if 10 <= digits <= 15:
                    element = "pg_contact.phone" if _parentish(loc) else "st_contact.phone"
                    ctx.add(i, element, PATTERN, MEDIUM, "phone number")

    @staticmethod
    def _emails(ctx: _Ctx, text: FlowText, only: Sequence[int] | None) -> None:
        """E-mail addresses in ``text`` (the values of fields ``only``, or of all fields)."""
        joined = text.joined
        if "@" not in joined:
            return
        seen: set[tuple[int, str]] = set()
        for m in EMAIL.finditer(joined):
            s = m.start()
            if joined[max(0, s - 2) : s] == "//":
                continue  # URL user info (e.g. a Sentry DSN key), not an address
            if s and joined[s - 1] == "@":
                continue  # a chain of key@value pairs, not an address
            address = m.group()
            labels = address.rsplit("@", 1)[1].split(".")
            if labels[-2].isdigit():
                continue  # "x@0.clicks": a number is not a domain name
            if address.rsplit(".", 1)[1].lower() in _FILE_TLDS:
                continue  # icon@2x.png
            j, offset = text.locate(s)
            i = j if only is None else only[j]
            loc, key, _, _ = ctx.fields[i]
            element = "st_contact.email"
            nk = normalise_key(key) if key else ""
            before = text.values[j][max(0, offset - 24) : offset].lower()  # "parent_email=..."
            if (
                _parentish(loc)
                or _KEYS.get(nk, ("",))[0] == "pg_contact.email"
                or "parent" in before
                or "guardian" in before
            ):
                element = "pg_contact.email"
            if (i, address.lower()) in seen:
                continue
            seen.add((i, address.lower()))
            ctx.out.append(Detection(i, element, PATTERN, MEDIUM, "e-mail address", address))


def _documentation(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """Documentation ranges (RFC 5737, 3849): test personas use them; treat as public."""
    nets = (
        ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24")
        if ip.version == 4
        else ("2001:db8::/32",)
    )
    return any(ip in ipaddress.ip_network(n) for n in nets)
