"""A 54-request HAR of a fictional children's math site, shaped like a real browser export.

``write_math_har(path)`` writes the session a reviewer might receive: the site's own pages and
API (``sumsprout.test``), Google on seven domains (tag manager, analytics, ads, fonts …) and
HubSpot on seven, a Meta pixel, and a student e-mail typed into a HubSpot form. No persona: the
data is found by its shape and field names, as in a HAR nobody on the project made.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

FIRST_PARTY = "sumsprout.test"
EMAIL = "maya.pine@example.org"
START = datetime(2026, 11, 30, 14, 0, 0, tzinfo=UTC)

_GOOGLE = [
    ("GET", "https://www.googletagmanager.com/gtag/js?id=G-SUMS01", None),
    ("GET", "https://fonts.googleapis.com/css2?family=Nunito", None),
    ("GET", "https://fonts.gstatic.com/s/nunito/v26/abc.woff2", None),
    (
        "GET",
        "https://www.google-analytics.com/g/collect?v=2&tid=G-SUMS01&cid=1839.1701&en=page_view&dl=https%3A%2F%2Fsumsprout.test%2Fplay",
        None,
    ),
    (
        "GET",
        "https://www.google-analytics.com/g/collect?v=2&tid=G-SUMS01&cid=1839.1701&en=level_up&uid=stu-48213",
        None,
    ),
    (
        "GET",
        "https://googleads.g.doubleclick.net/pagead/viewthroughconversion/98765/?random=1&cv=11&fst=1&guid=ON&u_w=1280",
        None,
    ),
    ("GET", "https://stats.g.doubleclick.net/g/collect?v=2&tid=G-SUMS01&cid=1839.1701", None),
    (
        "GET",
        "https://www.google.com/pagead/1p-user-list/98765/?random=2&cv=11&fmt=3&is_vtc=1",
        None,
    ),
    ("GET", "https://pagead2.googlesyndication.com/pagead/js/adsbygoogle.js", None),
    ("GET", "https://www.googleadservices.com/pagead/conversion/98765/?label=signup", None),
]
_HUBSPOT = [
    ("GET", "https://js.hs-scripts.com/4455667.js", None),
    ("GET", "https://js.hs-analytics.net/analytics/1764500000000/4455667.js", None),
    ("GET", "https://js.hs-banner.com/v2/4455667/banner.js", None),
    ("GET", "https://js.hscollectedforms.net/collectedforms.js", None),
    (
        "GET",
        "https://track.hubspot.com/__ptq.gif?k=1&sd=1280x800&cs=UTF-8&v=1.1&a=4455667&vi=9f1c2e3d4b5a",
        None,
    ),
    ("GET", "https://api.hubapi.com/livechat-public/v1/message/public?portalId=4455667", None),
    ("GET", "https://app.usemessages.com/conversations-embed.js", None),
    (
        "POST",
        "https://forms.hsforms.com/submissions/v3/public/submit/formsnext/multipart/4455667/abc",
        {"email": EMAIL, "firstname": "Maya", "hs_context": '{"hutk":"9f1c2e3d4b5a"}'},
    ),
]
_META = [
    ("GET", "https://connect.facebook.net/en_US/fbevents.js", None),
    (
        "GET",
        "https://www.facebook.com/tr/?id=112233&ev=PageView&dl=https%3A%2F%2Fsumsprout.test%2Fplay",
        None,
    ),
    (
        "GET",
        "https://www.facebook.com/tr/?id=112233&ev=CompleteRegistration&ud[em]=" + "a" * 64,
        None,
    ),
]


def _own(n: int) -> list[tuple[str, str, dict[str, str] | None]]:
    pages = ["/", "/play", "/levels/3", "/levels/4", "/rewards", "/profile"]
    out: list[tuple[str, str, dict[str, str] | None]] = []
    for i in range(n):
        if i % 3 == 0:
            out.append(("GET", f"https://www.sumsprout.test{pages[i % len(pages)]}", None))
        elif i % 3 == 1:
            out.append(("GET", f"https://cdn.sumsprout.test/static/app.{i}.js", None))
        else:
            out.append(
                ("POST", "https://api.sumsprout.test/v1/progress", {"level": str(i), "score": "80"})
            )
    return out


def entries() -> list[tuple[str, str, dict[str, str] | None]]:
    third = _GOOGLE + _HUBSPOT + _META
    own = _own(54 - len(third))
    # interleave as a page load does: the site, then its tags
    out: list[tuple[str, str, dict[str, str] | None]] = []
    while own or third:
        if own:
            out.append(own.pop(0))
        if third:
            out.append(third.pop(0))
    return out


def _entry(i: int, method: str, url: str, form: dict[str, str] | None) -> dict[str, object]:
    when = START + timedelta(seconds=4 * i)
    req: dict[str, object] = {
        "method": method,
        "url": url,
        "httpVersion": "HTTP/2",
        "headers": [
            {"name": "user-agent", "value": "Mozilla/5.0 (X11; Linux x86_64) Chrome/131.0"},
            {"name": "referer", "value": "https://www.sumsprout.test/play"},
        ],
        "queryString": [{"name": k, "value": v} for k, v in parse_qsl(urlsplit(url).query)],
        "cookies": [],
        "headersSize": -1,
        "bodySize": 0,
    }
    if form is not None:
        text = json.dumps(form)
        req["postData"] = {"mimeType": "application/json", "text": text}
        req["bodySize"] = len(text)
    return {
        "startedDateTime": when.isoformat().replace("+00:00", "Z"),
        "time": 42,
        "request": req,
        "response": {
            "status": 200,
            "statusText": "OK",
            "httpVersion": "HTTP/2",
            "headers": [{"name": "content-type", "value": "text/plain"}],
            "cookies": [],
            "content": {"size": 2, "mimeType": "text/plain", "text": "ok"},
            "redirectURL": "",
            "headersSize": -1,
            "bodySize": 2,
        },
        "cache": {},
        "timings": {"send": 1, "wait": 40, "receive": 1},
    }


def write_math_har(path: Path) -> Path:
    log = {
        "log": {
            "version": "1.2",
            "creator": {"name": "Chromium", "version": "131"},
            "pages": [],
            "entries": [_entry(i, m, u, f) for i, (m, u, f) in enumerate(entries())],
        }
    }
    path.write_text(json.dumps(log, indent=1), encoding="utf-8")
    return path
