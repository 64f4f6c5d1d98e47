"""Small synthetic captures of one fictional app, written with the real capture writer.

``write_app_capture(path, tracker=True)`` records a student session of "Quillpond" (its own
API on ``api.quillpond.test``) that also sends page views to Google Analytics 4 and, when
``tracker``, the student's hashed e-mail to the Meta Pixel: version 1 of the app, and with
``tracker=False`` version 2, after the vendor removed the pixel.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from edscan.capture.capture_file import CaptureWriter
from edscan.models import Body, Flow

FIRST_PARTY = "quillpond.test"
EMAIL = "ivo.quillfeather@example.org"
T0 = 1767258000.0


def app_flows(*, tracker: bool = True, email: str = EMAIL) -> list[Flow]:
    hashed = hashlib.sha256(email.encode()).hexdigest()
    specs: list[tuple[str, str, bytes | None, str]] = [
        (
            "POST",
            "https://api.quillpond.test/v1/login",
            json.dumps({"email": email, "grade": "6"}).encode(),
            "login",
        ),
        (
            "GET",
            "https://www.google-analytics.com/g/collect?v=2&tid=G-TEST1&cid=555.666&en=page_view",
            None,
            "login",
        ),
    ]
    if tracker:
        specs.append(
            (
                "GET",
                f"https://www.facebook.com/tr?id=1&ev=PageView&ud[em]={hashed}",
                None,
                "login",
            )
        )
    specs.append(("GET", "https://api.quillpond.test/v1/assignments", None, "assignment"))
    flows = []
    for i, (method, url, body, phase) in enumerate(specs):
        headers: tuple[tuple[str, str], ...] = ()
        if body is not None:
            headers = (("content-type", "application/json"),)
        flows.append(
            Flow(
                index=i,
                id=f"f{i}",
                method=method,
                url=url,
                scheme="https",
                request_headers=headers,
                request_body=Body(content=body, size=len(body)) if body is not None else None,
                status=200,
                request_start=T0 + i,
                phase=phase,
            )
        )
    return flows


def write_app_capture(path: Path, *, tracker: bool = True, email: str = EMAIL) -> Path:
    with CaptureWriter(path) as w:
        for f in app_flows(tracker=tracker, email=email):
            w.write(f)
    return path
