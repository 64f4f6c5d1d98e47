"""Key handlers: for a key that names an element, whether its value has the agreeing shape (a
UUID under ``idfa``, a date under ``birthDate``), and the table from key names to handlers."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from edscan.decode.context import Row
from edscan.detect.detection import KEYNAME, LOW, MEDIUM, PATTERN, Detection
from edscan.detect.taxonomy import ELEMENTS, normalise_key
from edscan.detect.value_shapes import (
    _B64_DIGEST_LENGTHS,
    _BOOLISH,
    _EMPTY,
    _IDPS,
    _INDICATORS,
    _OAUTH_HINTS,
    _VERSIONISH,
    _VOCAB,
    _ZERO_UUID,
    B64_DIGEST,
    DIGEST,
    HEX16,
    ID_LIKE,
    JWT,
    PHONE_INTL,
    PHONE_NANP,
    STREET,
    US_ZIP,
    UUID,
    _date,
    _ip,
    _luhn,
)
from edscan.models import Confidence, Detector, Flow

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
