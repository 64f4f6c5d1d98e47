"""How fast ``decode_flow`` runs on a realistic mix of small analytics flows.

Baseline, measured in the same run: a bare ``json.loads`` of the same bodies (what any tool that
looks inside JSON bodies must at least pay). Rounds alternate A and B; the median is reported.
The later target is >= 20,000 flows/s for decode + detect together, so decode alone should
stay well under ~30 microseconds per typical flow.

    python benchmarks/decode_speed.py [--flows 3000] [--rounds 7]
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import gzip
import json
import os
import random
import statistics
import time
from urllib.parse import urlencode

from edscan.decode import decode_flow
from edscan.models import Body, Flow

_HEADERS = (
    ("Host", "www.google-analytics.com"),
    (
        "User-Agent",
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/126.0 Safari/537.36",
    ),
    ("Accept", "*/*"),
    ("Accept-Language", "en-US,en;q=0.9"),
    ("Accept-Encoding", "gzip, deflate, br"),
    ("Origin", "https://classroom.example.edu"),
    ("Referer", "https://classroom.example.edu/class/4521/assignments?tab=open"),
    ("Sec-Fetch-Site", "cross-site"),
    ("Sec-Fetch-Mode", "no-cors"),
    ("Cookie", "_ga=GA1.1.1234567890.1700000000; _gid=GA1.1.987654321.1700000000"),
)


def _event(rng: random.Random, i: int) -> dict[str, object]:
    return {
        "type": "track",
        "event": rng.choice(["Page Viewed", "Assignment Opened", "Video Played"]),
        "messageId": f"ajs-{rng.getrandbits(64):016x}",
        "anonymousId": "1b7c9c1e-6e0b-4f1e-9d7b-2f0a9b8c7d6e",
        "userId": f"student-{i % 97}",
        "timestamp": "2026-03-01T10:15:00.123Z",
        "properties": {
            "assignment_id": rng.randrange(10**6),
            "course": "Grade 5 Mathematics - Fractions",
            "title": "Adding fractions with unlike denominators",
            "path": "/class/4521/assignments/88121",
            "url": "https://classroom.example.edu/class/4521/assignments/88121?view=student",
            "score": rng.random(),
            "completed": rng.random() < 0.5,
        },
        "context": {
            "library": {"name": "analytics.js", "version": "next-1.64.0"},
            "locale": "en-US",
            "page": {"referrer": "https://classroom.example.edu/home", "title": "Assignments"},
            "userAgent": "Mozilla/5.0 (X11; Linux x86_64) Chrome/126.0",
        },
        "writeKey": "aBcDeFgHiJkLmNoPqRsTuVwX",
        "sentAt": "2026-03-01T10:15:00.456Z",
    }


def synthetic_flows(n: int, seed: int = 7) -> list[Flow]:
    rng = random.Random(seed)
    flows = []
    for i in range(n):
        kind = i % 10
        query = urlencode(
            {
                "v": "2",
                "tid": "G-ABCD123456",
                "gtm": "45je4a20v9",
                "_p": str(rng.getrandbits(30)),
                "cid": f"{rng.getrandbits(31)}.1700000000",
                "ul": "en-us",
                "sr": "1920x1080",
                "uid": f"student-{i % 97}",
                "_s": str(i % 9 + 1),
                "sid": "1700001234",
                "sct": "3",
                "seg": "1",
                "dl": "https://classroom.example.edu/class/4521/assignments?tab=open",
                "dt": "Assignments - Grade 5",
                "en": "page_view",
            }
        )
        url = f"https://www.google-analytics.com/g/collect?{query}"
        body = None
        headers = _HEADERS
        if kind < 6:  # JSON event (Segment-like), ~1 KB
            body = json.dumps(_event(rng, i)).encode()
            url = "https://api.segment.io/v1/t"
            headers = (*_HEADERS, ("Content-Type", "application/json"))
        elif kind < 8:  # Mixpanel form with base64 JSON
            payload = base64.b64encode(json.dumps([_event(rng, i)]).encode()).decode()
            body = urlencode({"data": payload}).encode()
            headers = (*_HEADERS, ("Content-Type", "application/x-www-form-urlencoded"))
            url = f"https://api-js.mixpanel.com/track/?verbose=1&ip=1&_={i}"
        elif kind == 8:  # gzip JSON batch
            body = gzip.compress(json.dumps({"batch": [_event(rng, i)]}).encode())
            headers = (
                *_HEADERS, ("Content-Type", "application/json"), ("Content-Encoding", "gzip")
            )  # fmt: skip
        # kind 9: a GA4 GET with everything in the URL
        flows.append(
            Flow(
                index=i,
                id=str(i),
                method="POST" if body else "GET",
                url=url,
                request_headers=headers,
                request_body=Body(content=body, size=len(body)) if body else None,
            )
        )
    return flows


def _bare_json(flows: list[Flow]) -> None:
    for f in flows:
        b = f.request_body
        if b is not None:
            data = b.content
            if data[:2] == b"\x1f\x8b":
                data = gzip.decompress(data)
            with contextlib.suppress(ValueError):
                json.loads(data)


def _decode(flows: list[Flow]) -> None:
    for f in flows:
        decode_flow(f)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--flows", type=int, default=3000)
    ap.add_argument("--rounds", type=int, default=7)
    args = ap.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {0})  # one core: less noise from the scheduler
    flows = synthetic_flows(args.flows)
    fields = sum(len(decode_flow(f).fields) for f in flows)
    rates: dict[str, list[float]] = {"decode": [], "json": []}
    for _ in range(args.rounds):
        for name, fn in (("decode", _decode), ("json", _bare_json)):
            t0 = time.perf_counter()
            fn(flows)
            rates[name].append(len(flows) / (time.perf_counter() - t0))
    decode = statistics.median(rates["decode"])
    bare = statistics.median(rates["json"])
    print(f"flows: {len(flows)} (mix: 60% JSON, 20% base64 form, 10% gzip JSON, 10% GET)")
    print(f"fields per flow: {fields / len(flows):.1f}")
    print(f"decode_flow:     {decode:10.0f} flows/s  ({1e6 / decode:.1f} us/flow)")
    print(f"bare json.loads: {bare:10.0f} flows/s  ({1e6 / bare:.1f} us/flow)")
    print(f"ratio decode / bare json.loads: {decode / bare:.3f}")


if __name__ == "__main__":
    main()
