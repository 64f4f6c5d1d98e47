"""Requests shaped the way each third-party SDK sends them (hosts, paths, fields, encodings):
Google, advertising and measurement here; analytics, engagement, monitoring and AI services in
``services.py``.

Each builder returns a ``Beacon`` (method, URL, headers, body) for the scripted client to send.
Shapes follow the vendors' public wire formats: GA4 ``/g/collect`` with batched lines, Meta
Pixel ``/tr`` with SHA-256 advanced matching, a Firebase protobuf batch, an OpenRTB 2.5 bid
request, a LiveRamp ID sync. IDs (pixel ids, write keys, DSNs) are made up.
"""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from dataclasses import dataclass, field
from urllib.parse import urlencode

from edscan.demo.manifest import APP_HOST, APP_PACKAGE

WEBVIEW_UA = (
    "Mozilla/5.0 (Linux; Android 13; SM-T220 Build/TP1A.220624.014; wv) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Version/4.0 Chrome/126.0.6478.122 Safari/537.36"
)
NATIVE_UA = "Dalvik/2.1.0 (Linux; U; Android 13; SM-T220 Build/TP1A.220624.014)"
ORIGIN = f"https://{APP_HOST}"


@dataclass(frozen=True, slots=True, kw_only=True)
class Beacon:
    method: str
    url: str
    headers: dict[str, str] = field(default_factory=dict)
    content: bytes | None = None


def _sha256(value: str) -> str:
    return hashlib.sha256(value.strip().lower().encode()).hexdigest()


def web_headers(extra: dict[str, str] | None = None, referer: str = ORIGIN + "/") -> dict[str, str]:
    """Headers a request from the app's Android web view carries."""
    headers = {
        "User-Agent": WEBVIEW_UA,
        "Origin": ORIGIN,
        "Referer": referer,
        "X-Requested-With": APP_PACKAGE,
    }
    headers.update(extra or {})
    return headers


@dataclass(slots=True, kw_only=True)
class Device:
    """The tablet's and the SDKs' identifiers, fixed for one session."""

    aaid: str  # the Android advertising ID (resettable)
    android_id: str  # the Android ID (SSAID; not resettable)
    app_instance_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    firebase_fid: str = field(default_factory=lambda: "c" + uuid.uuid4().hex[:21])
    ga_cid: str = field(default_factory=lambda: f"{uuid.uuid4().int % 10**10}.{int(time.time())}")
    fbp: str = field(
        default_factory=lambda: f"fb.1.{int(time.time() * 1000)}.{uuid.uuid4().int % 10**10}"
    )
    ttp: str = field(default_factory=lambda: uuid.uuid4().hex[:27])
    anonymous_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    session_ms: int = field(default_factory=lambda: int(time.time() * 1000))


# --------------------------------------------------------------------------- Google


def ga4(
    device: Device, *, page: str, title: str, events: list[dict[str, str]], uid: str | None = None
) -> Beacon:
    """GA4 gtag.js: shared parameters in the query, one event per body line."""
    query = {
        "v": "2",
        "tid": "G-BW7D3M0X5Q",
        "gtm": "45je4cc0v9176744929",
        "_p": str(device.session_ms),
        "cid": device.ga_cid,
        "ul": "en-us",
        "sr": "800x1280",
        "sid": str(device.session_ms // 1000),
        "sct": "1",
        "seg": "1",
        "dl": page,
        "dt": title,
    }
    if uid:
        query["uid"] = uid
    body = "\r\n".join(urlencode(e) for e in events)
    url = "https://www.google-analytics.com/g/collect?" + urlencode(query)
    return Beacon(
        method="POST",
        url=url,
        headers=web_headers({"Content-Type": "text/plain;charset=UTF-8"}),
        content=body.encode(),
    )


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _pb(field_no: int, value: int | str | bytes) -> bytes:
    if isinstance(value, int):
        return _varint(field_no << 3) + _varint(value)
    raw = value.encode() if isinstance(value, str) else value
    return _varint(field_no << 3 | 2) + _varint(len(raw)) + raw


def firebase(device: Device, *, events: list[str], user_id: str | None = None) -> Beacon:
    """Google Analytics for Firebase: a protobuf Batch of one Bundle to ``app-measurement.com/a``."""
    now = int(time.time() * 1000)
    bundle = _pb(1, 1)
    for name in events:
        param = _pb(1, "_o") + _pb(2, "auto")
        bundle += _pb(2, _pb(1, param) + _pb(2, name) + _pb(3, now))
    if user_id:
        bundle += _pb(3, _pb(1, now) + _pb(2, "_id") + _pb(3, user_id))
    bundle += _pb(4, now) + _pb(5, now) + _pb(6, now)
    bundle += _pb(8, "android") + _pb(9, "13") + _pb(10, "SM-T220") + _pb(11, "en-us")
    bundle += _pb(14, APP_PACKAGE) + _pb(16, "4.12.0")
    bundle += _pb(19, device.aaid) + _pb(21, device.app_instance_id)
    bundle += _pb(25, "1:448612213318:android:5c2e0d1f0b8a4d6e") + _pb(30, device.firebase_fid)
    return Beacon(
        method="POST",
        url="https://app-measurement.com/a",
        headers={"User-Agent": NATIVE_UA, "Content-Type": "application/x-www-form-urlencoded"},
        content=_pb(1, bundle),
    )


# --------------------------------------------------------------------------- advertising pixels


def meta_pixel(
    device: Device, *, event: str, page: str, matching: dict[str, str] | None = None
) -> Beacon:
    """Meta Pixel ``/tr``; ``matching`` is hashed client-side like ``fbq('init', id, {...})``."""
    query = {
        "id": "718204953321877",
        "ev": event,
        "dl": page,
        "rl": "",
        "if": "false",
        "ts": str(int(time.time() * 1000)),
        "sw": "800",
        "sh": "1280",
        "v": "2.9.179",
        "r": "stable",
        "ec": "0",
        "o": "4126",
        "fbp": device.fbp,
        "it": str(device.session_ms),
        "coo": "false",
        "rqm": "GET",
    }
    for key, value in (matching or {}).items():
        query[f"ud[{key}]"] = _sha256(value)
    return Beacon(
        method="GET", url="https://www.facebook.com/tr/?" + urlencode(query), headers=web_headers()
    )


def tiktok(device: Device, *, event: str, page: str, email: str, external_id: str) -> Beacon:
    """TikTok Pixel event with advanced matching (SHA-256), JSON sent as text/plain."""
    body = {
        "event": event,
        "message_id": f"messageId-{device.session_ms}-1",
        "event_id": "",
        "is_onsite": False,
        "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime()),
        "context": {
            "ad": {"sdk_env": "external", "jsb_status": 2},
            "user": {
                "anonymous_id": device.ttp,
                "email": _sha256(email),
                "external_id": _sha256(external_id),
            },
            "pixel": {"code": "CQ4BWD3C77U1RSTV0MJ0", "runtime": "1"},
            "page": {"url": page, "referrer": ORIGIN + "/"},
            "library": {"name": "pixel.js", "version": "2.2.1"},
            "device": {"platform": "android"},
            "session_id": f"sid_{device.session_ms}",
            "userAgent": WEBVIEW_UA,
        },
        "properties": {},
        "signal_diagnostic_labels": {"hashed_email": {"label": "valid"}},
    }
    return Beacon(
        method="POST",
        url="https://analytics.tiktok.com/api/v2/pixel",
        headers=web_headers({"Content-Type": "text/plain;charset=UTF-8"}),
        content=json.dumps(body).encode(),
    )


def cookie_sync(*, partner_uid: str) -> Beacon:
    """A LiveRamp ID-sync pixel passing the app's user id to a data broker."""
    query = urlencode({"partner_uid": partner_uid, "gdpr": "0", "us_privacy": "1---"})
    return Beacon(
        method="GET", url=f"https://idsync.rlcdn.com/712345.gif?{query}", headers=web_headers()
    )


def openrtb(
    device: Device, *, page: str, user_id: str, birth_year: int, lat: float, lon: float
) -> Beacon:
    """A Prebid.js OpenRTB 2.5 video bid request to an SSP, COPPA flag off."""
    body = {
        "id": uuid.uuid4().hex,
        "imp": [
            {
                "id": "1",
                "tagid": "bw-video-preroll",
                "video": {"mimes": ["video/mp4"], "w": 640, "h": 360, "protocols": [2, 3, 5, 6]},
                "bidfloor": 1.5,
                "bidfloorcur": "USD",
            }
        ],
        "site": {
            "domain": APP_HOST,
            "page": page,
            "ref": ORIGIN + "/",
            "publisher": {"id": "160123"},
            "cat": ["IAB5"],
        },
        "device": {
            "ua": WEBVIEW_UA,
            "ifa": device.aaid,
            # the hashed Android ID next to the ad ID: the pair defeats an ad-ID reset
            "dpidsha1": hashlib.sha1(device.android_id.encode()).hexdigest(),
            "make": "Samsung",
            "model": "SM-T220",
            "os": "Android",
            "osv": "13",
            "devicetype": 5,
            "language": "en",
            "geo": {"lat": lat, "lon": lon, "type": 1, "country": "USA", "region": "CT"},
            "ext": {"ifa_type": "aaid"},
        },
        "user": {"id": user_id, "yob": birth_year},
        "regs": {"coppa": 0, "ext": {"us_privacy": "1---"}},
        "at": 1,
        "tmax": 1000,
        "cur": ["USD"],
    }
    return Beacon(
        method="POST",
        url="https://hbopenbid.pubmatic.com/translator?source=prebid-client",
        headers=web_headers({"Content-Type": "text/plain;charset=UTF-8"}),
        content=json.dumps(body).encode(),
    )


def comscore_http(*, page: str, title: str) -> Beacon:
    """An audience-measurement beacon sent over plain HTTP with the page title."""
    query = urlencode(
        {
            "c1": "2",
            "c2": "39871234",
            "ns_type": "hidden",
            "c7": page,
            "c8": title,
            "c9": ORIGIN + "/",
        }
    )
    return Beacon(
        method="GET",
        url=f"http://b.scorecardresearch.com/p?{query}",
        headers=web_headers({}, referer=page),
    )
