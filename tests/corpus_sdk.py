"""A labelled corpus of synthetic flows shaped like real SDK calls, for detector accuracy.

Every persona value is carried in every encoding it can take (``CASES``), each in its own flow,
inside a rotating set of SDK request shapes: GA4 ``/g/collect`` (query and batched lines), the
Meta Pixel ``/tr`` with ``ud[...]`` fields, Segment, Mixpanel (base64 ``data=``), Amplitude,
Sentry envelopes, Firebase ``app-measurement.com`` protobuf, Braze, AppsFlyer (JSON in a JSON
string), Adjust (form), FullStory / Hotjar / Clarity gzip uploads, a Pendo-style
base64(zlib(JSON)) beacon, an OpenAI chat call, an OpenRTB bid request, the app's own API, URL
paths, headers, cookies, Referer URLs, WebSocket messages, multipart uploads, JWTs.

Negative flows carry none of the persona's values: static assets, the same SDK shapes with other
people's data, and the known false-positive traps (UI locales, version strings and build numbers
that look like dates, random hashes, timestamps, CSS colours, near misses of persona values).

Each ``Sample`` is labelled with the persona values it carries (``carries``: persona key and the
encoding, e.g. ``("student.email", "sha256")``) and with every student-data element truly in it
(``truth``), including the SDKs' own identifiers, so pattern detectors can be scored too.

The encodings here are written independently of ``edscan.detect.variants`` (plain hashlib,
base64, urllib), so the corpus tests the detector rather than mirroring it. Deterministic: the
same seed gives the same corpus.
"""

from __future__ import annotations

import base64
import datetime as dt
import gzip
import hashlib
import html
import json
import random
import uuid
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from urllib.parse import quote, urlencode

from edscan.models import Body, Flow, WebSocketMessage

# --------------------------------------------------------------------------- the persona

# 30 values. The e-mail has capitals so that "hash of the value" and "hash of the normalised
# value" differ; the note has quotes, an ampersand and an apostrophe so HTML and JSON escapes
# change it.
PERSONA: dict[str, str] = {
    "student.first_name": "Quilul",
    "student.last_name": "Wexuthley",
    "student.full_name": "Quilul Wexuthley",
    "student.email": "Quilul.Wexuthley.7d3b@Example.org",
    "student.username": "qwexuthley93",
    "student.password": "Cnry-qtUfoC499",
    "student.student_id": "78683994",
    "student.state_id": "9725050039",
    "student.dob": "2012-03-28",
    "student.grade": "7",
    "student.school": "Quarnmoor Middle School",
    "student.district": "Wexhamvale Regional School District",
    "student.teacher": "Ms. Mordwickak",
    "student.class_code": "jossjwa",
    "student.phone": "+1 475-555-0139",
    "student.address": "519 Thaskmoor Drive",
    "student.city": "Wexhamvale",
    "student.zip": "06667",
    "student.lat": "41.279024",
    "student.lon": "-72.267439",
    "student.ip": "203.0.113.140",
    "student.advertising_id": "1efe9daf-30d9-4eac-8272-ba2370028a54",
    "student.device_id": "fdfcdca66163780b",
    "parent.name": "Oruito Wexuthley",
    "parent.email": "oruito.wexuthley.7d3bp@example.org",
    "parent.phone": "+1 860-555-0172",
    "custom.essay": "My favourite skelding is the marrowfen tree behind the library, canary 7d3b.",
    "custom.accommodation": 'Extended time & "read-aloud" on Quilul\'s quizzes (7d3b-acc)',
    "custom.nickname": "Skeldwick the Brave",
    "custom.pet": "a hedgehog called Marrowfen Tib",
}

FIRST_PARTY = "api.lessonloop.example"
# what the endpoints document about the request's context (the page viewed and the event: a
# user-interaction element; language, screen, consent flags: technical metadata), labelled on the
# SDK shapes that carry it; benchmarks/pattern_accuracy.py scores it apart from student data
CONTEXT = frozenset({"aus.interaction", "atm.other"})
APP_ORIGIN = "https://app.lessonloop.example"
# the id the app's server assigns the persona (learned from a response, then sent to a tracker)
DERIVED_ID = "usr_5kq82mzt4w"


def persona_toml() -> str:
    """The corpus persona as a persona file."""
    sections: dict[str, list[str]] = {"student": [], "parent": [], "custom": []}
    for key, value in PERSONA.items():
        section, name = key.split(".", 1)
        if name in ("lat", "lon") or name == "dob":
            sections[section].append(f"{name} = {value}")
        else:
            sections[section].append(f"{name} = {json.dumps(value)}")
    return "\n".join(f"[{s}]\n" + "\n".join(lines) + "\n" for s, lines in sections.items())


# --------------------------------------------------------------------------- encodings


def _b64(b: bytes, url: bool = False, pad: bool = True) -> str:
    s = (base64.urlsafe_b64encode(b) if url else base64.b64encode(b)).decode("ascii")
    return s if pad else s.rstrip("=")


def _hash(name: str, s: str) -> str:
    return hashlib.new(name, s.encode("utf-8")).hexdigest()


def _digits(s: str) -> str:
    return "".join(c for c in s if c.isdigit())


def _dob_formats(v: str) -> dict[str, str]:
    d = dt.date.fromisoformat(v)
    epoch = int(dt.datetime(d.year, d.month, d.day, tzinfo=dt.UTC).timestamp())
    return {
        "iso": v,
        "mdy": d.strftime("%m/%d/%Y"),
        "dmy": d.strftime("%d/%m/%Y"),
        "ymd8": d.strftime("%Y%m%d"),
        "epoch-s": str(epoch),
        "epoch-ms": str(epoch * 1000),
        "iso-datetime": f"{v}T00:00:00.000Z",
        "sha256-ymd8": _hash("sha256", d.strftime("%Y%m%d")),
    }


GENERIC = {
    "plain": lambda v: v,
    "upper": lambda v: v.upper(),
    "lower": lambda v: v.lower(),
    "spaced": lambda v: f"  {v} ",
    "url": lambda v: quote(v, safe=""),
    "url2": lambda v: quote(quote(v, safe=""), safe=""),
    "html": html.escape,
    "json-escape": lambda v: json.dumps(v)[1:-1],
    "base64": lambda v: _b64(v.encode()),
    "base64url": lambda v: _b64(v.encode(), url=True),
    "base64-unpadded": lambda v: _b64(v.encode(), pad=False),
    "hex": lambda v: v.encode().hex(),
    "md5": lambda v: _hash("md5", v),
    "sha1": lambda v: _hash("sha1", v),
    "sha256": lambda v: _hash("sha256", v),
    "sha512": lambda v: _hash("sha512", v),
    "sha256-upper-hex": lambda v: _hash("sha256", v).upper(),
    "sha256-base64url": lambda v: _b64(hashlib.sha256(v.encode()).digest(), url=True, pad=False),
    "sha256-base64": lambda v: _b64(hashlib.sha256(v.encode()).digest()),
}
TEXT_TAGS = tuple(GENERIC)
ENCODED_TAGS = ("url", "url2", "html", "json-escape", "base64", "base64url", "base64-unpadded")

# which tags each persona value is sent in, and how each is made
_Enc = Callable[[str], str]


def _email_tags(v: str) -> dict[str, _Enc]:
    norm = v.strip().lower()
    tags: dict[str, _Enc] = dict(GENERIC)
    tags["sha256-norm"] = lambda _: _hash("sha256", norm)
    tags["md5-norm"] = lambda _: _hash("md5", norm)
    tags["sha256-norm-base64url"] = lambda _: _b64(
        hashlib.sha256(norm.encode()).digest(), url=True, pad=False
    )
    tags["mailto-entities"] = lambda _: "".join(f"&#{ord(c)};" for c in v)
    return tags


def _phone_tags(v: str) -> dict[str, _Enc]:
    d = _digits(v)  # with the country code
    nat = d[1:]
    return {
        "plain": lambda _: v,
        "digits": lambda _: d,
        "national": lambda _: nat,
        "e164": lambda _: "+" + d,
        "formatted": lambda _: f"({nat[:3]}) {nat[3:6]}-{nat[6:]}",
        "dashes": lambda _: f"{nat[:3]}-{nat[3:6]}-{nat[6:]}",
        "url": lambda _: quote(v, safe=""),
        "base64": lambda _: _b64(v.encode()),
        "sha256-digits": lambda _: _hash("sha256", d),
        "sha256-e164": lambda _: _hash("sha256", "+" + d),
        "md5-digits": lambda _: _hash("md5", d),
    }


def _name_tags(v: str) -> dict[str, _Enc]:
    first, last = v.split()[0], v.split()[-1]
    return {
        "plain": lambda _: v,
        "upper": lambda _: v.upper(),
        "lower": lambda _: v.lower(),
        "last-first": lambda _: f"{last} {first}",
        "last-comma-first": lambda _: f"{last}, {first}",
        "joined": lambda _: f"{first}{last}",
        "url": lambda _: quote(v, safe=""),
        "url-plus": lambda _: v.replace(" ", "+"),
        "base64": lambda _: _b64(v.encode()),
        "sha256-lower": lambda _: _hash("sha256", v.lower()),
        "in-text": lambda _: f"Great work today, {v}! Keep it up.",
    }


def _single_name_tags(v: str) -> dict[str, _Enc]:
    return {
        "plain": lambda _: v,
        "upper": lambda _: v.upper(),
        "base64": lambda _: _b64(v.encode()),
        "sha256": lambda _: _hash("sha256", v),
        "sha256-lower": lambda _: _hash("sha256", v.lower()),
        "md5-lower": lambda _: _hash("md5", v.lower()),
    }


def _dob_tags(v: str) -> dict[str, _Enc]:
    return {k: (lambda _, s=s: s) for k, s in _dob_formats(v).items()}


def _coord_tags(v: str) -> dict[str, _Enc]:
    from decimal import ROUND_HALF_UP, Decimal

    x = Decimal(v)
    out: dict[str, _Enc] = {}
    for d in (2, 3, 4, 5, 6):
        s = str(x.quantize(Decimal(1).scaleb(-d), rounding=ROUND_HALF_UP))
        out[f"{d}dp"] = lambda _, s=s: s
    out["4dp-truncated"] = lambda _: v[: v.index(".") + 5]
    return out


def _id_tags(v: str) -> dict[str, _Enc]:
    return {
        "plain": lambda _: v,
        "upper": lambda _: v.upper(),
        "url": lambda _: quote(v, safe=""),
        "base64": lambda _: _b64(v.encode()),
        "hex": lambda _: v.encode().hex(),
        "md5": lambda _: _hash("md5", v),
        "sha1": lambda _: _hash("sha1", v),
        "sha256": lambda _: _hash("sha256", v),
    }


def _uuid_tags(v: str) -> dict[str, _Enc]:
    tags = _id_tags(v)
    tags["nodash"] = lambda _: v.replace("-", "")
    tags["sha1-upper"] = lambda _: _hash("sha1", v.upper())
    tags["md5-upper"] = lambda _: _hash("md5", v.upper())
    return tags


def _short_tags(v: str, hashed: bool) -> dict[str, _Enc]:
    tags: dict[str, _Enc] = {"plain": lambda _: v, "spaced": lambda _: f" {v} "}
    if hashed:
        tags["sha256"] = lambda _: _hash("sha256", v)
        tags["sha256-lower-nospace"] = lambda _: _hash("sha256", v.lower().replace(" ", ""))
    return tags


def _text_tags(v: str) -> dict[str, _Enc]:
    return {
        "plain": lambda _: v,
        "url": lambda _: quote(v, safe=""),
        "url-plus": lambda _: quote(v, safe="").replace("%20", "+"),
        "html": html.escape,
        "json-escape": lambda _: json.dumps(v)[1:-1],
        "base64": lambda _: _b64(v.encode()),
        "in-text": lambda _: f"Student wrote: {v} Teacher comment: nice.",
    }


def tags_for(key: str) -> dict[str, _Enc]:
    """The encodings one persona value is sent in across the corpus."""
    v = PERSONA[key]
    name = key.split(".", 1)[1]
    if key.endswith("email"):
        return _email_tags(v)
    if key.endswith("phone"):
        return _phone_tags(v)
    if name in ("full_name", "name"):
        return _name_tags(v)
    if name in ("first_name", "last_name"):
        return _single_name_tags(v)
    if name == "dob":
        return _dob_tags(v)
    if name in ("lat", "lon"):
        return _coord_tags(v)
    if name == "advertising_id":
        return _uuid_tags(v)
    if name in ("grade",):
        return _short_tags(v, hashed=False)
    if name in ("zip", "city"):
        return _short_tags(v, hashed=True)
    if key.startswith("custom."):
        return _text_tags(v)
    if name in ("password",):
        tags = _id_tags(v)
        tags["basic-auth"] = lambda _: (
            "Basic " + _b64(f"{PERSONA['student.username']}:{v}".encode())
        )
        return tags
    if name in ("student_id", "state_id", "device_id", "ip", "class_code", "username"):
        return _id_tags(v)
    return {**_text_tags(v), **{k: GENERIC[k] for k in ("upper", "md5", "sha256")}}


# the key each persona value is sent under: one that agrees, as real SDKs name them
KEYS: dict[str, tuple[str, ...]] = {
    "student.first_name": ("first_name", "fn", "givenName"),
    "student.last_name": ("last_name", "ln", "familyName"),
    "student.full_name": ("name", "student_name", "displayName"),
    "student.email": ("email", "em", "$email", "user_email"),
    "student.username": ("username", "login"),
    "student.password": ("password", "pwd"),
    "student.student_id": ("student_id", "sis_id", "studentNumber"),
    "student.state_id": ("state_id", "sasid"),
    "student.dob": ("dob", "birthDate", "db", "birthday"),
    "student.grade": ("grade", "gradeLevel", "grade_level"),
    "student.school": ("school", "school_name"),
    "student.district": ("district",),
    "student.teacher": ("teacher", "teacher_name"),
    "student.class_code": ("class_code", "classCode"),
    "student.phone": ("phone", "ph", "phone_number"),
    "student.address": ("address", "street"),
    "student.city": ("city", "ct"),
    "student.zip": ("zip", "zp", "postalCode"),
    "student.lat": ("lat", "latitude"),
    "student.lon": ("lon", "lng", "longitude"),
    "student.ip": ("ip", "client_ip", "uip"),
    "student.advertising_id": ("advertisingId", "gps_adid", "idfa", "ifa"),
    "student.device_id": ("android_id", "device_id"),
    "parent.name": ("parent_name", "guardian_name"),
    "parent.email": ("parent_email", "guardian_email"),
    "parent.phone": ("parent_phone", "guardian_phone"),
    "custom.essay": ("essay", "text", "content"),
    "custom.accommodation": ("accommodation_note", "note"),
    "custom.nickname": ("nickname", "alias"),
    "custom.pet": ("pet", "about_me"),
}
# values plain-matched only under an agreeing key: the corpus never sends them keyless
GATED = frozenset({"student.grade", "student.zip", "student.city"})
GATED_TAGS = {"plain", "spaced", "2dp", "3dp"}  # for lat/lon, 2-3 decimals are gated too

ELEMENT = {
    "student.first_name": "st.name",
    "student.last_name": "st.name",
    "student.full_name": "st.name",
    "student.email": "st_contact.email",
    "student.username": "sid.username",
    "student.password": "sid.password",
    "student.student_id": "sid.local",
    "student.state_id": "sid.state",
    "student.dob": "demo.dob",
    "student.grade": "enr.grade",
    "student.school": "enr.school",
    "student.district": "enr.school",
    "student.teacher": "sched.teachers",
    "student.class_code": "sched.courses",
    "student.phone": "st_contact.phone",
    "student.address": "st_contact.address",
    "student.city": "st_contact.address",
    "student.zip": "st_contact.address",
    "student.lat": "geo.precise",
    "student.lon": "geo.precise",
    "student.ip": "net.ip",
    "student.advertising_id": "dev.ad_id",  # refined by the key it is sent under, see truth_element
    "student.device_id": "dev.install_id",
    "parent.name": "pg.name",
    "parent.email": "pg_contact.email",
    "parent.phone": "pg_contact.phone",
    "custom.essay": "work.content",
    "custom.accommodation": "si.iep_504",  # the custom key's name says what it is
    "custom.nickname": "work.content",
    "custom.pet": "work.content",
}


_BY_KEY = {
    "advertisingId": "dev.ad_id",
    "gps_adid": "dev.gaid",
    "idfa": "dev.idfa",
    "ifa": "dev.idfa",
    "android_id": "dev.android_id",
    "device_id": "dev.install_id",
}


def truth_element(key: str, tag: str, sent_under: str, shape: str) -> str:
    """The element a persona value is, given how and where it was sent.

    Coordinates at 2 decimals are coarse; a device id's kind shows only in its key, so where
    the shape drops key names (protobuf, text) it is the generic advertising or device id.
    """
    if key in ("student.lat", "student.lon") and tag == "2dp":
        return "geo.coarse"
    if key in ("student.advertising_id", "student.device_id"):
        if shape in ("firebase", "path"):  # no key names at all
            return "dev.ad_id" if key == "student.advertising_id" else "dev.install_id"
        return _BY_KEY[sent_under]
    return ELEMENT[key]


# --------------------------------------------------------------------------- samples


@dataclass(frozen=True)
class Sample:
    flow: Flow
    carries: frozenset[tuple[str, str]]  # (persona key, tag)
    truth: frozenset[str]  # every student-data element truly in the flow
    label: str
    negative: bool = False
    first_party: bool = False
    implied: frozenset[str] = field(default_factory=frozenset)  # persona keys also fine to find


@dataclass
class _Req:
    method: str
    url: str
    headers: list[tuple[str, str]]
    body: bytes | None = None
    websocket: tuple[WebSocketMessage, ...] = ()
    response_headers: list[tuple[str, str]] = field(default_factory=list)
    response_body: bytes | None = None
    truth: set[str] = field(default_factory=set)  # elements the shape's own noise carries


_UA = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Safari/537.36"
)
_ANDROID_UA = "Dalvik/2.1.0 (Linux; U; Android 13; Pixel 6 Build/TQ3A.230805.001)"


def _browser_headers(extra: list[tuple[str, str]] | None = None) -> list[tuple[str, str]]:
    h = [
        ("user-agent", _UA),
        ("accept", "*/*"),
        ("accept-language", "en-US,en;q=0.9"),
        ("accept-encoding", "gzip, deflate, br"),
        ("origin", APP_ORIGIN),
        ("referer", APP_ORIGIN + "/classes/today"),
        ("sec-fetch-site", "cross-site"),
        ("sec-fetch-mode", "no-cors"),
    ]
    return h + (extra or [])


def _hex(rng: random.Random, n: int) -> str:
    return "".join(rng.choice("0123456789abcdef") for _ in range(n))


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _ts(rng: random.Random) -> int:
    return 1_717_000_000_000 + rng.randint(0, 10**9)


Items = list[tuple[str, str]]


# Each shape places ``items`` (key, value) where its SDK puts custom properties, and adds the
# SDK's own fields (ids, timestamps, versions) around them.


def ga4(items: Items, rng: random.Random) -> _Req:
    q = {
        "v": "2",
        "tid": "G-7QX2K9LM3B",
        "gtm": "45je4580v9",
        "_p": str(rng.randint(10**9, 10**10)),
        "cid": f"{rng.randint(10**8, 10**9)}.{rng.randint(1_700_000_000, 1_720_000_000)}",
        "ul": "en-us",
        "sr": "1512x982",
        "_s": "3",
        "sid": str(rng.randint(1_700_000_000, 1_720_000_000)),
        "dl": APP_ORIGIN + "/classes/today",
        "dt": "Today - LessonLoop",
        "en": "page_view",
    }
    for k, v in items:
        q[f"ep.{k}"] = v
    r = _Req(
        "POST", "https://region1.google-analytics.com/g/collect?" + urlencode(q), _browser_headers()
    )
    r.truth.add("dev.install_id")
    r.truth.update(CONTEXT)  # dl, dt, en: the page viewed; ul, sr: language and screen
    return r


def ga4_lines(items: Items, rng: random.Random) -> _Req:
    cid = f"{rng.randint(10**8, 10**9)}.{rng.randint(1_700_000_000, 1_720_000_000)}"
    url = "https://www.google-analytics.com/g/collect?" + urlencode(
        {"v": "2", "tid": "G-7QX2K9LM3B", "cid": cid, "ul": "en-us", "_s": "4"}
    )
    lines = ["en=scroll&epn.percent_scrolled=90"]
    lines.append("en=select_content&" + urlencode({f"up.{k}": v for k, v in items}))
    lines.append("en=user_engagement&_et=10521")
    r = _Req("POST", url, _browser_headers([("content-type", "text/plain;charset=UTF-8")]))
    r.body = "\r\n".join(lines).encode()
    r.truth.add("dev.install_id")
    r.truth.update(CONTEXT)  # en: the events; ul: the browser's language
    return r


def meta_pixel(items: Items, rng: random.Random) -> _Req:
    q = {
        "id": "172748793147724",
        "ev": "SubscribedButtonClick",
        "dl": APP_ORIGIN + "/",
        "rl": "",
        "if": "false",
        "ts": str(_ts(rng)),
        "sw": "1512",
        "sh": "982",
        "v": "2.9.156",
        "r": "stable",
        "fbp": f"fb.1.{_ts(rng)}.{rng.randint(10**8, 10**9)}",
        "it": str(_ts(rng)),
        "coo": "false",
    }
    for k, v in items:
        q[f"ud[{k}]"] = v
    r = _Req("GET", "https://www.facebook.com/tr/?" + urlencode(q), _browser_headers())
    r.truth.add("dev.install_id")
    r.truth.update(CONTEXT)  # ev, dl: the event and page; sw, sh: the screen
    return r


def segment(items: Items, rng: random.Random) -> _Req:
    body = {
        "batch": [
            {
                "type": "identify",
                "messageId": _uuid(rng),
                "anonymousId": _uuid(rng),
                "traits": dict(items),
                "context": {
                    "library": {"name": "analytics.js", "version": "next-1.70.0"},
                    "locale": "en-US",
                    "page": {"path": "/classes/today", "url": APP_ORIGIN + "/classes/today"},
                    "userAgent": _UA,
                },
                "timestamp": "2024-05-30T14:03:11.512Z",
            }
        ],
        "writeKey": "q8Tz3ZkP0Xw9YbLd",
        "sentAt": "2024-05-30T14:03:11.600Z",
    }
    r = _Req(
        "POST",
        "https://api.segment.io/v1/batch",
        _browser_headers([("content-type", "application/json")]),
        json.dumps(body).encode(),
    )
    r.truth.add("dev.install_id")
    r.truth.update(CONTEXT)  # context.page: the page viewed; context.locale, userAgent
    return r


def mixpanel(items: Items, rng: random.Random) -> _Req:
    props = {
        "token": "7f1e2d3c4b5a69788796a5b4c3d2e1f0",
        "distinct_id": "$device:" + _uuid(rng),
        "$device_id": _uuid(rng),
        "$os": "Mac OS X",
        "$browser": "Chrome",
        "$browser_version": 124,
        "$current_url": APP_ORIGIN + "/classes/today",
        "mp_lib": "web",
        "$lib_version": "2.49.0",
        "time": _ts(rng) / 1000,
    }
    props.update(dict(items))
    data = _b64(json.dumps([{"event": "Lesson Opened", "properties": props}]).encode())
    r = _Req(
        "POST",
        f"https://api-js.mixpanel.com/track/?verbose=1&ip=1&_={_ts(rng)}",
        _browser_headers([("content-type", "application/x-www-form-urlencoded")]),
        urlencode({"data": data}).encode(),
    )
    r.truth.add("dev.install_id")
    r.truth.update(CONTEXT)  # event, $current_url: what and where; mp_lib: the library
    return r


def amplitude(items: Items, rng: random.Random) -> _Req:
    body = {
        "api_key": "a3f1c2b4d5e6f708192a3b4c5d6e7f80",
        "events": [
            {
                "device_id": _uuid(rng),
                "session_id": _ts(rng),
                "time": _ts(rng),
                "platform": "Web",
                "language": "en-US",
                "event_type": "lesson_completed",
                "event_properties": {"lesson": "fractions-3", "duration_s": 312},
                "user_properties": dict(items),
                "library": "amplitude-ts/2.7.4",
                "event_id": rng.randint(1, 500),
                "insert_id": _uuid(rng),
            }
        ],
        "options": {},
    }
    r = _Req(
        "POST",
        "https://api2.amplitude.com/2/httpapi",
        _browser_headers([("content-type", "application/json")]),
        json.dumps(body).encode(),
    )
    r.truth.add("dev.install_id")
    r.truth.update(CONTEXT)  # event_type: the event; platform, language
    return r


def sentry(items: Items, rng: random.Random) -> _Req:
    event_id = _hex(rng, 32)
    header = {
        "event_id": event_id,
        "sent_at": "2024-05-30T14:03:12.100Z",
        "sdk": {"name": "sentry.javascript.browser", "version": "7.91.0"},
    }
    payload = {
        "event_id": event_id,
        "level": "error",
        "platform": "javascript",
        "release": "lessonloop-web@2023.11.02",
        "environment": "production",
        "exception": {
            "values": [
                {
                    "type": "TypeError",
                    "value": "Cannot read properties of undefined (reading 'map')",
                }
            ]
        },
        "user": dict(items),
        "request": {"url": APP_ORIGIN + "/classes/today", "headers": {"User-Agent": _UA}},
        "breadcrumbs": [{"category": "ui.click", "message": "button.submit-answer"}],
    }
    env = "\n".join([json.dumps(header), json.dumps({"type": "event"}), json.dumps(payload)])
    r = _Req(
        "POST",
        "https://o450123.ingest.sentry.io/api/5512345/envelope/?sentry_key=3f2a1b&sentry_version=7",
        _browser_headers([("content-type", "text/plain;charset=UTF-8")]),
        env.encode(),
    )
    r.truth.add("aus.interaction")  # request.url: the page the error happened on
    return r


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def protobuf(fields: list[tuple[int, object]]) -> bytes:
    """Protocol Buffers wire format: ints as varints, str/bytes and nested lists as length-delimited."""
    out = bytearray()
    for num, value in fields:
        if isinstance(value, int):
            out += _varint(num << 3) + _varint(value)
        else:
            data = (
                protobuf(value)  # type: ignore[arg-type]
                if isinstance(value, list)
                else value.encode()
                if isinstance(value, str)
                else value  # type: ignore[assignment]
            )
            assert isinstance(data, bytes | bytearray)
            out += _varint((num << 3) | 2) + _varint(len(data)) + bytes(data)
    return bytes(out)


def firebase(items: Items, rng: random.Random) -> _Req:
    props: list[tuple[int, object]] = [
        (3, [(1, _ts(rng)), (2, "_fot"), (4, 1717002000000)]),
    ]
    for k, v in items:
        props.append((3, [(1, _ts(rng)), (2, k), (3, v)]))
    bundle: list[tuple[int, object]] = [
        (1, 1),
        (2, [(1, [(2, "_o"), (3, "auto")]), (2, "_s"), (3, _ts(rng))]),
        *props,
        (8, "android"),
        (9, "13"),
        (10, "Pixel 6"),
        (14, "com.lessonloop.student"),
        (16, "3.14.0"),
        (21, _hex(rng, 32)),  # app_instance_id
        (25, "1:712345678901:android:0a1b2c3d4e5f6a7b"),
    ]
    body = protobuf([(1, bundle)])
    r = _Req(
        "POST",
        "https://app-measurement.com/a",
        [
            ("user-agent", _ANDROID_UA),
            ("content-type", "application/x-www-form-urlencoded"),
            ("accept-encoding", "gzip"),
        ],
        body,
    )
    r.truth.add("dev.install_id")
    return r


def braze(items: Items, rng: random.Random) -> _Req:
    body = {
        "api_key": _uuid(rng),
        "time": _ts(rng) // 1000,
        "sdk_version": "4.10.2",
        "device_id": _uuid(rng),
        "attributes": [{"user_id": None, **dict(items)}],
        "events": [{"name": "ss", "time": _ts(rng) / 1000, "data": {}, "session_id": _uuid(rng)}],
    }
    r = _Req(
        "POST",
        "https://sdk.iad-03.braze.com/api/v3/data/",
        _browser_headers(
            [("content-type", "application/json"), ("x-braze-api-key", "00000000-a1b2")]
        ),
        json.dumps(body).encode(),
    )
    r.truth.add("dev.install_id")
    return r


def appsflyer(items: Items, rng: random.Random) -> _Req:
    body = {
        "appsflyerKey": "kXzT4mQp9WvR2sLb",
        "uid": f"{_ts(rng)}-{rng.randint(10**18, 10**19)}",
        "advertiserId": _uuid(rng),
        "af_timestamp": str(_ts(rng)),
        "eventName": "af_login",
        "eventValue": json.dumps(dict(items)),
        "deviceType": "user",
        "model": "Pixel 6",
        "sdk": "33",
        "lang": "English",
        "lang_code": "en",
        "app_version_name": "3.14.0",
    }
    r = _Req(
        "POST",
        "https://inapps.appsflyer.com/api/v6.12/androidevent?app_id=com.lessonloop.student&buildnumber=6.12.2",
        [("user-agent", _ANDROID_UA), ("content-type", "application/json")],
        json.dumps(body).encode(),
    )
    r.truth.update({"dev.install_id", "dev.ad_id"})
    r.truth.update(CONTEXT)  # eventName: the event; lang, lang_code: the device's language
    return r


def adjust(items: Items, rng: random.Random) -> _Req:
    form = {
        "app_token": "2fm9gkqubvpc",
        "gps_adid": _uuid(rng),
        "android_uuid": _uuid(rng),
        "created_at": "2024-05-30T14:03:11.512Z+0000",
        "environment": "production",
        "event_token": "f0ob4r",
        "os_name": "android",
        "sdk_version": "android4.38.2",
        "partner_params": json.dumps(dict(items)),
    }
    r = _Req(
        "POST",
        "https://app.adjust.com/event",
        [("user-agent", _ANDROID_UA), ("content-type", "application/x-www-form-urlencoded")],
        urlencode(form).encode(),
    )
    r.truth.update({"dev.gaid", "dev.install_id"})
    r.truth.add("aus.interaction")  # event_token: which event
    return r


def fullstory(items: Items, rng: random.Random) -> _Req:
    evts = [
        {"When": 12, "Kind": 2, "Args": [10, 322, 640]},
        {"When": 58, "Kind": 14, "Args": [210, "input", *(v for _, v in items)]},
        {"When": 60, "Kind": 8192, "Args": [json.dumps(dict(items))]},
    ]
    body = gzip.compress(json.dumps({"Seq": 3, "When": _ts(rng), "Evts": evts}).encode())
    r = _Req(
        "POST",
        f"https://rs.fullstory.com/rec/bundle/v2?OrgId=o-1XYZ-na1&UserId={rng.randint(10**17, 10**18)}&SessionId={rng.randint(10**17, 10**18)}&Seq=3",
        _browser_headers([("content-type", "text/plain")]),
        body,
    )
    r.truth.add("dev.install_id")  # FullStory's own UserId
    return r


def hotjar(items: Items, rng: random.Random) -> _Req:
    body = json.dumps(
        {
            "site_id": 3512345,
            "user_id": _uuid(rng),
            "events": [{"type": "input_change", "data": dict(items)}],
        }
    )
    r = _Req(
        "POST",
        "https://in.hotjar.com/api/v2/client/sites/3512345/visit-data?sv=7",
        _browser_headers([("content-type", "application/json"), ("content-encoding", "gzip")]),
        gzip.compress(body.encode()),
    )
    r.truth.add("dev.install_id")  # Hotjar's own visitor id
    return r


def clarity(items: Items, rng: random.Random) -> _Req:
    # envelope: [version, sequence, start, duration, projectId, userId, sessionId, pageNum,
    # upload, end]; events: [time, type, ...]: 1 dimensions (key, [values] pairs), 9 a click,
    # 27 an input
    payload = {
        "e": ["0.7.34", 1, 0, 612, "m1abcd", "zq8r1c" + _hex(rng, 6), "1k2j3h", 1, 0, 0],
        "a": [
            [600, 1, 1, [APP_ORIGIN + "/classes/today"], 9, ["en-US"]],
            [612, 9, 4, *(f"{k}={v}" for k, v in items)],
            [640, 27, dict(items)],
        ],
    }
    r = _Req(
        "POST",
        "https://k.clarity.ms/collect",
        _browser_headers(
            [("content-type", "application/octet-stream"), ("accept", "application/x-clarity-gzip")]
        ),
        gzip.compress(json.dumps(payload).encode()),
    )
    r.truth.add("dev.install_id")  # the envelope's user and session ids
    r.truth.update(CONTEXT)  # the page viewed, the language, the project id
    return r


def pendo(items: Items, rng: random.Random) -> _Req:
    data = [
        {
            "type": "identify",
            "visitor_id": "_PENDO_T_" + _hex(rng, 10),
            "account_id": "",
            "props": dict(items),
            "url": APP_ORIGIN + "/classes/today",
            "browser_time": _ts(rng),
        }
    ]
    jzb = _b64(zlib.compress(json.dumps(data).encode()), url=True, pad=False)
    r = _Req(
        "GET",
        f"https://app.pendo.io/data/ptm.gif/5b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0?v=2.221.0&ct={_ts(rng)}&jzb={jzb}",
        _browser_headers(),
    )
    r.truth.add("dev.install_id")
    return r


def openai(items: Items, rng: random.Random) -> _Req:
    text = " ".join(v for _, v in items)
    body = {
        "model": "gpt-4o-mini",
        "messages": [
            {
                "role": "system",
                "content": "You are a kind writing tutor for middle-school students.",
            },
            {"role": "user", "content": f"Give feedback on this paragraph: {text}"},
        ],
        "temperature": 0.4,
        "metadata": dict(items),
    }
    r = _Req(
        "POST",
        "https://api.openai.com/v1/chat/completions",
        [
            ("user-agent", "OpenAI/Python 1.30.1"),
            ("content-type", "application/json"),
            ("authorization", "Bearer sk-proj-" + _hex(rng, 40)),
        ],
        json.dumps(body).encode(),
    )
    r.truth.update({"work.content", "cred.access_token"})
    return r


def openrtb(items: Items, rng: random.Random) -> _Req:
    body = {
        "id": _uuid(rng),
        "imp": [{"id": "1", "banner": {"w": 320, "h": 50}, "bidfloor": 0.15}],
        "app": {"bundle": "com.lessonloop.student", "ver": "3.14.0", "publisher": {"id": "8812"}},
        "device": {
            "ua": _ANDROID_UA,
            "ifa": _uuid(rng),
            "make": "Google",
            "model": "Pixel 6",
            "os": "Android",
            "osv": "13",
            "lmt": 0,
            "geo": {"lat": 40.71, "lon": -74.01, "type": 2},
        },
        "user": {"ext": dict(items)},
        "regs": {"coppa": 1},
        "tmax": 500,
    }
    r = _Req(
        "POST",
        "https://bid.adserve-exchange.example/openrtb2/auction",
        [
            ("user-agent", _ANDROID_UA),
            ("content-type", "application/json"),
            ("x-openrtb-version", "2.5"),
        ],
        json.dumps(body).encode(),
    )
    r.truth.update({"dev.idfa", "geo.coarse"})
    return r


def first_party_api(items: Items, rng: random.Random) -> _Req:
    body = {"profile": dict(items), "clientTime": _ts(rng)}
    return _Req(
        "PATCH",
        f"https://{FIRST_PARTY}/v1/me/profile",
        _browser_headers([("content-type", "application/json"), ("x-csrf-token", _hex(rng, 32))]),
        json.dumps(body).encode(),
    )


def url_path(items: Items, rng: random.Random) -> _Req:
    segs = "/".join(quote(v, safe="") for _, v in items)
    return _Req(
        "GET", f"https://cdn.lessonloop-assets.example/avatars/{segs}/thumb.png", _browser_headers()
    )


def header(items: Items, rng: random.Random) -> _Req:
    h = _browser_headers([(f"x-{k.lower().replace('_', '-').lstrip('$')}", v) for k, v in items])
    return _Req("GET", f"https://widget.helpdesk-chat.example/v2/ping?t={_ts(rng)}", h)


def cookie(items: Items, rng: random.Random) -> _Req:
    jar = "; ".join(
        [
            f"_ga=GA1.1.{rng.randint(10**8, 10**9)}.1717000000",
            *(f"{k.lstrip('$')}={v}" for k, v in items),
        ]
    )
    r = _Req(
        "GET",
        f"https://tags.marketing-suite.example/p.gif?e=pv&t={_ts(rng)}",
        _browser_headers([("cookie", jar)]),
    )
    r.truth.add("dev.install_id")  # the _ga cookie holds Google Analytics' client id
    return r


def referer(items: Items, rng: random.Random) -> _Req:
    ref = APP_ORIGIN + "/students/search?" + urlencode(items)
    h = [(k, v) for k, v in _browser_headers() if k != "referer"] + [("referer", ref)]
    return _Req("GET", "https://fonts.example-cdn.example/css2?family=Inter:wght@400;700", h)


def websocket(items: Items, rng: random.Random) -> _Req:
    msgs = (
        WebSocketMessage(
            from_client=False, timestamp=1.0, is_text=True, content=b'{"type":"hello"}'
        ),
        WebSocketMessage(
            from_client=True,
            timestamp=2.0,
            is_text=True,
            content=json.dumps({"type": "user.update", "data": dict(items)}).encode(),
        ),
    )
    r = _Req(
        "GET",
        "wss://realtime.chat-widget.example/socket?v=4",
        _browser_headers([("upgrade", "websocket")]),
    )
    r.websocket = msgs
    return r


def multipart(items: Items, rng: random.Random) -> _Req:
    boundary = "----WebKitFormBoundary" + _hex(rng, 16)
    parts = []
    for k, v in items:
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n')
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="draft.txt"\r\n'
        f"Content-Type: text/plain\r\n\r\n" + "\n".join(v for _, v in items) + "\r\n"
    )
    parts.append(f"--{boundary}--\r\n")
    return _Req(
        "POST",
        "https://uploads.cloud-docs.example/v1/files",
        _browser_headers([("content-type", f"multipart/form-data; boundary={boundary}")]),
        "".join(parts).encode(),
    )


def jwt_auth(items: Items, rng: random.Random) -> _Req:
    head = _b64(b'{"alg":"HS256","typ":"JWT"}', url=True, pad=False)
    claims = _b64(
        json.dumps({"sub": _hex(rng, 12), **dict(items), "iat": 1717000000}).encode(),
        url=True,
        pad=False,
    )
    token = (
        f"{head}.{claims}.{_b64(bytes(rng.getrandbits(8) for _ in range(32)), url=True, pad=False)}"
    )
    r = _Req(
        "GET",
        "https://api.feature-flags.example/sdk/evalx/contexts",
        _browser_headers([("authorization", "Bearer " + token)]),
    )
    r.truth.add("cred.access_token")
    return r


SHAPES: dict[str, Callable[[Items, random.Random], _Req]] = {
    "ga4": ga4,
    "ga4-lines": ga4_lines,
    "meta-pixel": meta_pixel,
    "segment": segment,
    "mixpanel": mixpanel,
    "amplitude": amplitude,
    "sentry": sentry,
    "firebase": firebase,
    "braze": braze,
    "appsflyer": appsflyer,
    "adjust": adjust,
    "fullstory": fullstory,
    "hotjar": hotjar,
    "clarity": clarity,
    "pendo-zlib": pendo,
    "openai": openai,
    "openrtb": openrtb,
    "first-party": first_party_api,
    "path": url_path,
    "header": header,
    "cookie": cookie,
    "referer": referer,
    "websocket": websocket,
    "multipart": multipart,
    "jwt": jwt_auth,
}
# shapes that keep key names (gated values need an agreeing key; protobuf has only numbers)
KEYLESS = frozenset({"firebase", "path", "fullstory"})
# shapes that cannot carry arbitrary bytes in a value (header and cookie values are one line,
# path segments are percent-encoded by the shape itself)
_ONE_LINE = frozenset({"header", "cookie"})


def _flow(index: int, r: _Req, rng: random.Random) -> Flow:
    scheme = r.url.split(":", 1)[0]
    return Flow(
        index=index,
        id=_uuid(rng),
        method=r.method,
        url=r.url,
        scheme="https" if scheme == "wss" else scheme,
        http_version="HTTP/2.0",
        request_start=1717077791.0 + index,
        response_end=1717077791.2 + index,
        request_headers=tuple(r.headers),
        request_body=Body(content=r.body, size=len(r.body)) if r.body is not None else None,
        status=101 if r.websocket else 200,
        response_headers=tuple(r.response_headers) or (("content-type", "application/json"),),
        response_body=Body(content=r.response_body, size=len(r.response_body))
        if r.response_body is not None
        else None,
        websocket=r.websocket,
    )


def cases() -> Iterator[tuple[str, str, str]]:
    """(persona key, tag, encoded value) for every value in every encoding it is sent in."""
    for key in PERSONA:
        for tag, enc in tags_for(key).items():
            yield key, tag, enc(PERSONA[key])


def _gated(key: str, tag: str) -> bool:
    return (key in GATED and not tag.startswith("sha")) or (
        key in ("student.lat", "student.lon") and tag in GATED_TAGS
    )


def positives(rng: random.Random, start: int = 0) -> list[Sample]:
    """One flow per (persona value, encoding), rotating through the SDK shapes."""
    out: list[Sample] = []
    names = list(SHAPES)
    n = 0
    for key, tag, value in cases():
        keys = KEYS[key]
        k = keys[n % len(keys)]
        shape = names[n % len(names)]
        n += 1
        while (_gated(key, tag) and shape in KEYLESS) or (
            shape in _ONE_LINE and any(c in value for c in '\n\r;,"')
        ):
            shape = names[n % len(names)]
            n += 1
        if tag == "basic-auth":
            r = _Req(
                "GET",
                "https://status.partner-widgets.example/api/v1/session",
                _browser_headers([("authorization", value)]),
            )
            shape = "basic-auth"
        else:
            r = SHAPES[shape]([(k, value)], rng)
        truth = set(r.truth) | {truth_element(key, tag, k, shape)}
        # other persona values inside this one (the first name in the full name or a note)
        implied = {o for o in PERSONA if o != key and PERSONA[o].lower() in PERSONA[key].lower()}
        if key.startswith("custom."):  # a name written in a note is the name, as text
            truth |= {ELEMENT[o] for o in implied if o not in GATED}
        if tag == "basic-auth":
            implied.add("student.username")
            truth.add("sid.username")
        out.append(
            Sample(
                flow=_flow(start + len(out), r, rng),
                carries=frozenset({(key, tag)}),
                truth=frozenset(truth),
                label=f"{shape} / {key} / {tag}",
                first_party=shape == "first-party",
                implied=frozenset(implied),
            )
        )
    return out


def derived_pair(rng: random.Random, start: int) -> list[Sample]:
    """The app's API answers with the persona's record and id; later a tracker gets the id."""
    login_response = json.dumps(
        {
            "user": {
                "id": DERIVED_ID,
                "email": PERSONA["student.email"],
                "role": "student",
                "classes": [{"id": "cls_1", "name": "Science 7"}],
            }
        }
    ).encode()
    login = _Req(
        "POST",
        f"https://{FIRST_PARTY}/v1/session",
        _browser_headers([("content-type", "application/json")]),
        json.dumps({"login": PERSONA["student.username"], "password": "x" * 12}).encode(),
        response_headers=[("content-type", "application/json; charset=utf-8")],
        response_body=login_response,
    )
    first = Sample(
        flow=_flow(start, login, rng),
        carries=frozenset({("student.username", "plain")}),
        truth=frozenset({"sid.username", "sid.password"}),
        label="first-party login / student.username / plain",
        first_party=True,
    )
    tracker = segment([("userId", DERIVED_ID)], rng)
    second = Sample(
        flow=_flow(start + 1, tracker, rng),
        carries=frozenset({("derived.id", "plain")}),
        truth=frozenset({"sid.provider"} | tracker.truth),
        label="segment / derived.id / plain",
    )
    return [first, second]


# --------------------------------------------------------------------------- negatives

_OTHER_PEOPLE = {
    "email": "mildred.okonkwo@example.net",
    "first_name": "Mildred",
    "last_name": "Okonkwo",
    "phone": "+1 212-555-0188",
    "birthDate": "2011-09-04",
    "student_id": "55120934",
}
# values no persona detector may report (traps): (key, value, elements truly there)
TRAPS: list[tuple[Items, set[str]]] = [
    ([("lang", "en-US"), ("locale", "en_US"), ("hl", "en"), ("language", "English")], set()),
    ([("version", "2012.03.17"), ("app_version", "2014-03-17"), ("build", "20140317")], set()),
    ([("release", "2023.11.02-rc1"), ("v", "4.10.2024"), ("sdk_version", "2024.1.15")], set()),
    (
        [
            ("checksum", hashlib.sha256(b"lesson-7").hexdigest()),
            ("etag", hashlib.md5(b"x").hexdigest()),
        ],
        set(),
    ),
    ([("hash", hashlib.sha1(b"bundle").hexdigest()), ("em_opt_in", "true")], set()),
    ([("ts", "1700072231"), ("timestamp", "1700072231010"), ("t", "1717077791234")], set()),
    ([("color", "#555555"), ("bg", "#5550139"), ("border", "rgb(85, 85, 85)")], set()),
    ([("build_number", "4155550123"), ("seq", "14155550123")], set()),
    (
        [("page", "7"), ("count", "06667"), ("tab", "Wexhamvale")],
        set(),
    ),  # persona grade/zip/city, wrong keys
    ([("ref", "1" + PERSONA["student.state_id"] + "5")], set()),  # state id inside a longer number
    ([("x", PERSONA["student.lat"] + "7"), ("y", "-72.2674395")], set()),  # longer decimals
    ([("word", PERSONA["student.first_name"] + "ianist")], set()),  # a name inside a longer word
    ([("uuid", _uuid(random.Random(3))), ("request_id", _uuid(random.Random(4)))], set()),
    ([("zero_ifa", "00000000-0000-0000-0000-000000000000")], set()),
    ([("scroll_behavior", "smooth"), ("theme", "dark"), ("level", "info")], set()),
    ([("server", "10.0.3.17"), ("gateway", "192.168.1.1")], set()),
    ([("icon", "logo@2x.png"), ("dsn", "https://3f2a1b@o450123.ingest.sentry.io/5512345")], set()),
    ([("email", _OTHER_PEOPLE["email"])], {"st_contact.email"}),
    (
        [("first_name", _OTHER_PEOPLE["first_name"]), ("last_name", _OTHER_PEOPLE["last_name"])],
        {"st.name"},
    ),
    ([("phone", _OTHER_PEOPLE["phone"])], {"st_contact.phone"}),
    ([("birthDate", _OTHER_PEOPLE["birthDate"])], {"demo.dob"}),
    ([("student_id", _OTHER_PEOPLE["student_id"])], {"sid.local"}),
    ([("idfa", "6D92078A-8246-4BA4-AE5B-76104861E7DC")], {"dev.idfa"}),
    ([("ip_address", "198.51.100.23")], {"net.ip"}),
    (
        [("iep_status", "Y"), ("ell_status", "N"), ("frl_status", "Reduced")],
        {"si.iep_504", "si.ell", "si.low_income"},
    ),
    ([("hispanic_ethnicity", "Y"), ("race", "Asian")], {"demo.race_ethnicity"}),
    ([("imei", "490154203237518")], {"dev.imei"}),
    ([("mac_address", "3c:22:fb:9a:01:7e")], {"dev.mac"}),
    ([("lat", "40.7128"), ("lng", "-74.0060")], {"geo.precise"}),
    ([("em", hashlib.sha256(b"someone.else@example.net").hexdigest())], {"st_contact.email"}),
]


def _static(rng: random.Random) -> _Req:
    path = rng.choice(
        [
            "/static/js/main.3f9a2c1e.js",
            "/static/css/app.8c1d22f0.css",
            "/fonts/Inter-Medium.woff2",
            "/img/badges/star@2x.png",
            "/favicon.ico",
        ]
    )
    return _Req(
        "GET",
        f"https://static.lessonloop-assets.example{path}",
        _browser_headers([("if-none-match", f'W/"{_hex(rng, 16)}"')]),
    )


def negatives(rng: random.Random, start: int) -> list[Sample]:
    """Flows with none of the persona's values: static assets, SDK noise, traps, other people."""
    out: list[Sample] = []
    for _ in range(20):
        r = _static(rng)
        out.append(
            Sample(
                flow=_flow(start + len(out), r, rng),
                carries=frozenset(),
                truth=frozenset(),
                label="static asset",
                negative=True,
            )
        )
    names = list(SHAPES)
    for i, (items, truth) in enumerate(TRAPS * 2):
        shape = names[i % len(names)]
        if shape in KEYLESS:
            shape = "segment"
        if shape in _ONE_LINE and any(c in v for _, v in items for c in ';,"\n'):
            shape = "amplitude"
        r = SHAPES[shape](items, rng)
        label = ", ".join(k for k, _ in items)
        out.append(
            Sample(
                flow=_flow(start + len(out), r, rng),
                carries=frozenset(),
                truth=frozenset(r.truth | truth),
                label=f"{shape} / trap: {label}",
                negative=True,
                first_party=shape == "first-party",
            )
        )
    for name in names:  # every shape once with only its own noise
        r = SHAPES[name]([("plan", "free"), ("theme", "dark")], rng)
        out.append(
            Sample(
                flow=_flow(start + len(out), r, rng),
                carries=frozenset(),
                truth=frozenset(r.truth),
                label=f"{name} / noise only",
                negative=True,
                first_party=name == "first-party",
            )
        )
    return out


def build_corpus(seed: int = 20240530) -> list[Sample]:
    """The whole labelled corpus, flows indexed 0.. in order (derived pair in the middle)."""
    rng = random.Random(seed)
    pos = positives(rng)
    pair = derived_pair(rng, len(pos))
    neg = negatives(rng, len(pos) + len(pair))
    return pos + pair + neg
