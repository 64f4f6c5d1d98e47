"""Requests shaped as product-analytics, engagement, monitoring, replay and AI SDKs send them.

Segment's batch, Mixpanel's base64 ``data=``, Amplitude HTTP V2, Braze ``/api/v3/data``, a
Sentry envelope, a gzip'd FullStory bundle and an OpenAI chat completion (see ``beacons.py``
for the shared ``Beacon`` and ``Device``). IDs and keys are made up.
"""

from __future__ import annotations

import base64
import gzip
import json
import time
import uuid
from typing import Any
from urllib.parse import urlencode

from edscan.demo.beacons import NATIVE_UA, ORIGIN, WEBVIEW_UA, Beacon, Device, web_headers

# --------------------------------------------------------------------------- product analytics


def segment_batch(device: Device, *, messages: list[dict[str, Any]], page: str) -> Beacon:
    now = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())
    context = {
        "library": {"name": "analytics.js", "version": "next-1.70.0"},
        "page": {"url": page, "referrer": ORIGIN + "/"},
        "userAgent": WEBVIEW_UA,
        "locale": "en-US",
    }
    batch = [
        {
            "anonymousId": device.anonymous_id,
            "messageId": f"ajs-{uuid.uuid4().hex}",
            "timestamp": now,
            "context": context,
            **m,
        }
        for m in messages
    ]
    body = {"batch": batch, "sentAt": now, "writeKey": "bWdemoK3yS3gm3ntWr1te0"}
    return Beacon(
        method="POST",
        url="https://api.segment.io/v1/batch",
        headers=web_headers({"Content-Type": "text/plain"}),
        content=json.dumps(body).encode(),
    )


def mixpanel(
    device: Device, *, event: str, distinct_id: str, page: str, properties: dict[str, Any]
) -> Beacon:
    """Mixpanel JS ``/track/``: form body ``data=`` holding base64 JSON."""
    payload = [
        {
            "event": event,
            "properties": {
                "token": "5b1e0d7c9a2f4e3b8c6d1a0f9e8b7c6d",
                "distinct_id": distinct_id,
                "$device_id": device.anonymous_id,
                "$user_id": distinct_id,
                "$current_url": page,
                "$os": "Android",
                "mp_lib": "web",
                "time": time.time(),
                **properties,
            },
        }
    ]
    data = base64.b64encode(json.dumps(payload).encode()).decode()
    return Beacon(
        method="POST",
        url=f"https://api-js.mixpanel.com/track/?verbose=1&ip=1&_={int(time.time() * 1000)}",
        headers=web_headers({"Content-Type": "application/x-www-form-urlencoded"}),
        content=urlencode({"data": data}).encode(),
    )


def amplitude(
    device: Device,
    *,
    user_id: str,
    event_type: str,
    event_properties: dict[str, Any],
    user_properties: dict[str, Any],
) -> Beacon:
    """Amplitude's Android SDK (the app's native shell logs web-view events through it)."""
    body = {
        "api_key": "a1b2c3d4e5f60718293a4b5c6d7e8f90",
        "events": [
            {
                "user_id": user_id,
                "device_id": device.anonymous_id,
                "session_id": device.session_ms,
                "event_type": event_type,
                "time": int(time.time() * 1000),
                "event_properties": event_properties,
                "user_properties": {"$set": user_properties},
                "platform": "Android",
                "os_name": "android",
                "os_version": "13",
                "device_brand": "samsung",
                "device_model": "SM-T220",
                "language": "en",
                # the SDK's default tracking options collect both: resettable and not
                "adid": device.aaid,
                "android_id": device.android_id,
                "library": "amplitude-android-kotlin/1.16.7",
            }
        ],
        "options": {},
        "client_upload_time": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime()),
    }
    return Beacon(
        method="POST",
        url="https://api2.amplitude.com/2/httpapi",
        headers={"User-Agent": NATIVE_UA, "Content-Type": "application/json"},
        content=json.dumps(body).encode(),
    )


# --------------------------------------------------------------------------- engagement, monitoring


def braze(device: Device, *, user_id: str, attributes: dict[str, str]) -> Beacon:
    body = {
        "api_key": "7d1f0c2e-5b3a-4c9d-8e6f-0a1b2c3d4e5f",
        "time": int(time.time()),
        "sdk_version": "30.4.0",
        "app_version": "4.12.0",
        "device_id": device.anonymous_id,
        "user_id": user_id,
        "attributes": [{"user_id": user_id, **attributes}],
        "events": [
            {"name": "ss", "data": {}, "time": time.time(), "session_id": str(device.session_ms)}
        ],
        "device": {"os_version": "Android 13", "model": "SM-T220", "locale": "en_US"},
        "respond_with": {"config": {"config_time": 0}},
    }
    return Beacon(
        method="POST",
        url="https://sdk.iad-01.braze.com/api/v3/data/",
        headers={"User-Agent": NATIVE_UA, "Content-Type": "application/json"},
        content=json.dumps(body).encode(),
    )


def sentry(*, page: str, user: dict[str, str], extra: dict[str, Any], message: str) -> Beacon:
    """A Sentry browser-SDK error envelope: header, item header, event payload."""
    event_id = uuid.uuid4().hex
    now = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())
    dsn = "https://4f1e2d3c4b5a69788796a5b4c3d2e1f0@o450123.ingest.sentry.io/5501234"
    event = {
        "event_id": event_id,
        "platform": "javascript",
        "level": "error",
        "exception": {"values": [{"type": "TypeError", "value": message}]},
        "user": {**user, "ip_address": "{{auto}}"},
        "request": {"url": page, "headers": {"User-Agent": WEBVIEW_UA}},
        "breadcrumbs": [
            {"category": "navigation", "data": {"from": "/assignments", "to": "/quiz"}}
        ],
        "extra": extra,
        "environment": "production",
        "release": "brindlewick-web@4.12.0",
    }
    payload = json.dumps(event)
    lines = [
        json.dumps(
            {
                "event_id": event_id,
                "sent_at": now,
                "sdk": {"name": "sentry.javascript.browser", "version": "8.33.1"},
                "dsn": dsn,
            }
        ),
        json.dumps({"type": "event"}),
        payload,
    ]
    query = urlencode(
        {
            "sentry_key": "4f1e2d3c4b5a69788796a5b4c3d2e1f0",
            "sentry_version": "7",
            "sentry_client": "sentry.javascript.browser/8.33.1",
        }
    )
    return Beacon(
        method="POST",
        url=f"https://o450123.ingest.sentry.io/api/5501234/envelope/?{query}",
        headers=web_headers({"Content-Type": "text/plain;charset=UTF-8"}),
        content="\n".join(lines).encode(),
    )


def fullstory(
    device: Device, *, user_id: str, identity: dict[str, str], typed: list[str], page: str
) -> Beacon:
    """A FullStory recording bundle: identify plus the keystrokes of the essay box, gzip'd."""
    when = 0
    events: list[dict[str, Any]] = [
        {"When": when, "Kind": 37, "Args": [page]},
        {"When": when + 5, "Kind": 39, "Args": [user_id, identity]},
    ]
    for i, text in enumerate(typed):
        events.append({"When": when + 200 * (i + 1), "Kind": 22, "Args": ["#essay-body", text]})
    bundle = {"Seq": 1, "When": when, "Evts": events}
    query = urlencode(
        {
            "OrgId": "o-1BWD3M-na1",
            "UserId": "5468391520862208",
            "SessionId": str(device.session_ms),
            "PageId": "1",
            "Seq": "1",
            "ClientTime": str(int(time.time() * 1000)),
            "ContentEncoding": "gzip",
        }
    )
    return Beacon(
        method="POST",
        url=f"https://rs.fullstory.com/rec/bundle/v2?{query}",
        headers=web_headers({"Content-Type": "text/plain"}),
        content=gzip.compress(json.dumps(bundle).encode(), mtime=0),
    )


def openai_chat(*, student_line: str, essay: str, user: str) -> Beacon:
    """The app's essay-feedback feature calling the model straight from the client."""
    body = {
        "model": "gpt-4o-mini",
        "messages": [
            {
                "role": "system",
                "content": "You are a friendly writing tutor for a grade 7 class. Give one suggestion.",
            },
            {"role": "user", "content": f"{student_line}\n\nEssay:\n{essay}"},
        ],
        "user": user,
        "temperature": 0.4,
    }
    return Beacon(
        method="POST",
        url="https://api.openai.com/v1/chat/completions",
        headers=web_headers(
            {
                "Content-Type": "application/json",
                "Authorization": "Bearer sk-proj-bwDEMO0000000000000000000000000000000000000000",
            }
        ),
        content=json.dumps(body).encode(),
    )


def _wav(seconds: float = 0.25, rate: int = 16000) -> bytes:
    """A mono 16-bit PCM WAV of silence: what a read-aloud recorder uploads, minus the voice."""
    import struct

    frames = b"\x00\x00" * int(seconds * rate)
    fmt = struct.pack("<HHIIHH", 1, 1, rate, rate * 2, 2, 16)
    return (
        b"RIFF"
        + struct.pack("<I", 36 + len(frames))
        + b"WAVEfmt "
        + struct.pack("<I", len(fmt))
        + fmt
        + b"data"
        + struct.pack("<I", len(frames))
        + frames
    )


def deepgram_listen() -> Beacon:
    """The read-aloud check: the student's recording, sent raw to a speech-to-text service."""
    return Beacon(
        method="POST",
        url="https://api.deepgram.com/v1/listen?model=nova-2&language=en-US&smart_format=true",
        headers=web_headers({"Content-Type": "audio/wav"}),
        content=_wav(),
    )
