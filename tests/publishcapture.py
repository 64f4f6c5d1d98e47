"""Small synthetic captures for the publishing commands (bundle, letter, batch).

``write_student_capture(path)`` writes a capture of "Quillpad" (``quillpad.example``) in which a
test student's values leave the device in every place a published file could leak them: the
URL, a Referer, custom headers, a user agent, cookies, bearer tokens, JSON, form and base64
bodies. ``SECRETS`` lists every value that must never appear in a published file, in any
encoding. ``write_app_capture(path, app, trackers)`` writes a short session of one app for the
comparison tests.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Sequence
from pathlib import Path

from edscan.capture.capture_file import CaptureWriter
from edscan.models import Body, Flow

T0 = 1767258000.0  # 2026-01-01 09:00 UTC

EMAIL = "quillon.zarbetta.4f2a@example.org"
NAME = "Quillon Zarbetta"
SID = "88A7Q31"
STATE_ID = "9000012345"
PASSWORD = "Tr0ub4dor&3-canary"
AD_ID = "6d92078a-8246-4ba4-ae5b-76104861e7dc"
ESSAY = "My grandmother crossed the Dnieper on a raft in 1943"
SESSION_COOKIE = "s3cr3t-sess-9f8e7d6c5b4a"
TRACKER_COOKIE = "fb.1.1767258000.4815162342"
API_KEY = "sk-test-abcdef1234567890abcdef"
JWT = (
    "eyJhbGciOiJIUzI1NiJ9."
    + base64.urlsafe_b64encode(json.dumps({"sub": "session-7", "iat": 1767258000}).encode())
    .decode()
    .rstrip("=")
    + ".c2lnbmF0dXJlLXRlc3Q"
)

PERSONA_TOML = f"""
[student]
first_name = "Quillon"
last_name = "Zarbetta"
email = "{EMAIL}"
student_id = "{SID}"
state_id = "{STATE_ID}"
password = "{PASSWORD}"
advertising_id = "{AD_ID}"

[custom]
essay = "{ESSAY}"
"""

# persona values, and the auditor's own cookies and tokens
SECRETS = (
    EMAIL,
    NAME,
    "Zarbetta",
    SID,
    STATE_ID,
    PASSWORD,
    AD_ID,
    ESSAY,
    SESSION_COOKIE,
    TRACKER_COOKIE,
    API_KEY,
    JWT,
)


def flow(
    i: int,
    method: str,
    url: str,
    body: bytes | None = None,
    *,
    headers: Sequence[tuple[str, str]] = (),
    ctype: str = "application/json",
    phase: str = "login",
) -> Flow:
    hs = [("User-Agent", "Mozilla/5.0 (X11; Linux x86_64) Chrome/126.0"), ("Accept", "*/*")]
    hs += list(headers)
    if body is not None:
        hs.append(("Content-Type", ctype))
    return Flow(
        index=i,
        id=f"f{i}",
        method=method,
        url=url,
        scheme=url.split(":")[0],
        http_version="HTTP/1.1",
        request_start=T0 + i,
        response_end=T0 + i + 0.2,
        request_headers=tuple(hs),
        request_body=Body(content=body, size=len(body)) if body is not None else None,
        status=200,
        reason="OK",
        phase=phase,
    )


def write_student_capture(path: Path) -> Path:
    mixpanel = base64.b64encode(
        json.dumps({"event": "login", "properties": {"name": NAME}}).encode()
    ).decode()
    email_sha = hashlib.sha256(EMAIL.encode()).hexdigest()
    flows = [
        flow(0, "GET", "https://app.quillpad.example/", phase="launch"),
        flow(
            1,
            "POST",
            "https://app.quillpad.example/api/login",
            json.dumps({"email": EMAIL, "password": PASSWORD}).encode(),
            headers=[("Cookie", f"session={SESSION_COOKIE}")],
        ),
        flow(
            2,
            "GET",
            f"https://www.facebook.com/tr/?id=1234&ev=PageView&ud[em]={email_sha}",
            headers=[
                ("Cookie", f"_fbp={TRACKER_COOKIE}"),
                ("Referer", f"https://app.quillpad.example/students/{SID}?email={EMAIL}"),
                ("X-User-Email", EMAIL),
                ("X-Device", AD_ID),
                ("X-Trace", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"),
                ("X-Platform", "web"),
            ],
        ),
        flow(
            3,
            "POST",
            f"https://www.google-analytics.com/g/collect?v=2&tid=G-QP1&en=login&uid={SID}",
            headers=[
                ("Authorization", f"Bearer {JWT}"),
                ("X-Student", NAME),
                ("User-Agent", f"QuillpadApp/2.1 (ifa {AD_ID}; sid {STATE_ID})"),
            ],
        ),
        flow(
            4,
            "POST",
            "https://api.mixpanel.com/track",
            f"data={mixpanel}".encode(),
            ctype="application/x-www-form-urlencoded",
        ),
        flow(
            5,
            "POST",
            "https://api.openai.com/v1/chat/completions",
            json.dumps(
                {"model": "gpt-4o", "messages": [{"role": "user", "content": ESSAY}]}
            ).encode(),
            headers=[("Authorization", f"Bearer {API_KEY}")],
            phase="essay",
        ),
        flow(
            6,
            "GET",
            "https://idsync.rlcdn.com/712345.gif?partner_uid="
            + hashlib.md5(EMAIL.encode()).hexdigest(),
            phase="essay",
        ),
        flow(
            7,
            "GET",
            f"https://app.quillpad.example/api/students/{SID}/profile?state_id={STATE_ID}",
            phase="essay",
        ),
    ]
    with CaptureWriter(path, {"test": True}) as w:
        for f in flows:
            w.write(f)
    return path


# what each kind of tracker receives in write_app_capture
TRACKERS = {
    "meta": lambda i: flow(
        i,
        "GET",
        "https://www.facebook.com/tr/?id=1&ev=PageView&ud[em]="
        + hashlib.sha256(EMAIL.encode()).hexdigest(),
    ),
    "ga": lambda i: flow(
        i, "POST", f"https://www.google-analytics.com/g/collect?v=2&tid=G-1&en=login&uid={SID}"
    ),
    "rlcdn": lambda i: flow(
        i,
        "GET",
        "https://idsync.rlcdn.com/1.gif?partner_uid=" + hashlib.md5(EMAIL.encode()).hexdigest(),
    ),
    "sentry": lambda i: flow(
        i,
        "POST",
        "https://o1.ingest.sentry.io/api/1/envelope/",
        json.dumps({"user": {"email": EMAIL}}).encode(),
    ),
}


def write_app_capture(path: Path, app: str, trackers: Sequence[str]) -> Path:
    """A session of ``app`` (``app.<app>.example``) that contacts ``trackers`` (TRACKERS keys)."""
    site = f"https://app.{app}.example"
    flows = [
        flow(0, "GET", f"{site}/", phase="launch"),
        flow(1, "POST", f"{site}/api/login", json.dumps({"email": EMAIL}).encode()),
        flow(2, "GET", f"{site}/api/home"),
    ]
    for name in trackers:
        flows.append(TRACKERS[name](len(flows)))
    flows.append(flow(len(flows), "GET", f"{site}/api/logout", phase="logout"))
    with CaptureWriter(path, {"test": True}) as w:
        for f in flows:
            w.write(f)
    return path
