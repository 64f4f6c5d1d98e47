"""How fast ``decode_flow`` runs on a realistic mix of small analytics flows.

Baseline, measured in the same run: a bare ``json.loads`` of the same bodies (gunzipped where
they are gzip), i.e. the least any tool that looks inside JSON bodies pays. Rounds alternate A
and B; medians are reported. The later target is >= 20,000 flows/s for decode + detect together,
so decode alone should stay well under ~30 microseconds per typical flow (a URL with 15 query
parameters, 10 headers and a ~1 KB JSON body).

    python benchmarks/decode_speed.py [--flows 4000] [--rounds 7]
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
from collections.abc import Callable
from urllib.parse import urlencode

from edscan.decode.flow import decode_flow
from edscan.models import Body, Flow

UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36"


def _page(rng: random.Random) -> str:
    """A page of the app: a session visits a few hundred pages, each hit many times."""
    return f"https://classroom.example.edu/class/{rng.randrange(20)}/assignments/{rng.randrange(10)}?tab=open"


def _headers(
    rng: random.Random, extra: tuple[tuple[str, str], ...] = ()
) -> tuple[tuple[str, str], ...]:
    return (
        ("Host", "collector.example.com"),
        ("User-Agent", UA),
        ("Accept", "*/*"),
        ("Accept-Language", "en-US,en;q=0.9"),
        ("Accept-Encoding", "gzip, deflate, br"),
        ("Origin", "https://classroom.example.edu"),
        ("Referer", _page(rng)),
        ("Sec-Fetch-Site", "cross-site"),
        ("Sec-Fetch-Mode", "no-cors"),
        ("Cookie", f"_ga=GA1.1.{rng.getrandbits(31)}.1700000000; _gid=GA1.1.{rng.getrandbits(31)}.1700000000"),
        *extra,
    )  # fmt: skip


def _query(rng: random.Random, i: int) -> str:
    return urlencode(
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
            "sid": str(1700001234 + i // 50),
            "sct": "3",
            "seg": "1",
            "en": rng.choice(["page_view", "scroll", "click"]),
            "dl": _page(rng),
            "dt": "Assignments - Grade 5",
        }
    )


def _event(rng: random.Random, i: int) -> dict[str, object]:
    return {
        "type": "track",
        "event": rng.choice(["Page Viewed", "Assignment Opened", "Video Played"]),
        "messageId": f"ajs-next-{rng.getrandbits(64):016x}",
        "anonymousId": "1b7c9c1e-6e0b-4f1e-9d7b-2f0a9b8c7d6e",
        "userId": f"student-{i % 97}",
        "timestamp": f"2026-03-01T10:{i // 60 % 60:02d}:{i % 60:02d}.123Z",
        "properties": {
            "assignment_id": rng.randrange(10**6),
            "course": "Grade 5 Mathematics - Fractions",
            "title": "Adding fractions with unlike denominators",
            "path": f"/class/4521/assignments/{rng.randrange(200)}",
            "url": _page(rng),
            "score": round(rng.random(), 3),
            "completed": rng.random() < 0.5,
        },
        "context": {
            "library": {"name": "analytics.js", "version": "next-1.64.0"},
            "locale": "en-US",
            "page": {"referrer": "https://classroom.example.edu/home", "title": "Assignments"},
            "userAgent": UA,
        },
        "writeKey": "aBcDeFgHiJkLmNoPqRsTuVwX",
        "sentAt": f"2026-03-01T10:{i // 60 % 60:02d}:{i % 60:02d}.456Z",
    }


def _sentry(rng: random.Random, i: int) -> bytes:
    head = {"event_id": f"{rng.getrandbits(128):032x}", "sent_at": "2026-03-01T10:00:00Z"}
    event = {
        "level": "error",
        "user": {"id": f"student-{i % 97}"},
        "request": {"url": "https://classroom.example.edu/class/4521"},
        "breadcrumbs": [{"category": "fetch", "data": {"url": "/api/v1/grades?student=4521"}}],
        "contexts": {"browser": {"name": "Chrome", "version": "126"}},
    }
    return b"\n".join(
        [json.dumps(head).encode(), b'{"type":"event"}', json.dumps(event).encode(), b""]
    )


def synthetic_flows(n: int, seed: int = 7) -> list[tuple[str, Flow]]:
    """``(kind, flow)`` pairs in a fixed mix; every flow has the 15-parameter URL and 10 headers."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        r = i % 20
        url = f"https://collector.example.com/g/collect?{_query(rng, i)}"
        body: bytes | None
        if r < 10:
            kind, body = (
                "typical: 15 params, 10 headers, 1 KB JSON",
                json.dumps(_event(rng, i)).encode(),
            )
            headers = _headers(rng, (("Content-Type", "text/plain;charset=UTF-8"),))
        elif r < 13:
            payload = base64.b64encode(json.dumps([_event(rng, i)]).encode()).decode()
            kind, body = "form data= base64 JSON (Mixpanel)", urlencode({"data": payload}).encode()
            headers = _headers(rng, (("Content-Type", "application/x-www-form-urlencoded"),))
        elif r < 15:
            kind, body = (
                "gzip JSON batch",
                gzip.compress(json.dumps({"batch": [_event(rng, i)]}).encode()),
            )
            headers = _headers(
                rng, (("Content-Type", "application/json"), ("Content-Encoding", "gzip"))
            )
        elif r < 17:
            kind, body = "Sentry envelope", _sentry(rng, i)
            headers = _headers(rng, (("Content-Type", "text/plain;charset=UTF-8"),))
        else:
            kind, body = "GET pixel, no body", None
            headers = _headers(rng)
        out.append((kind, Flow(
            index=i, id=str(i), method="POST" if body else "GET", url=url, request_headers=headers,
            request_body=Body(content=body, size=len(body)) if body else None,
        )))  # fmt: skip
    return out


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


def _rates(
    flows: list[Flow], rounds: int, runs: dict[str, Callable[[list[Flow]], None]]
) -> dict[str, float]:
    rates: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(rounds):
        for name, fn in runs.items():  # A, B, A, B, ...
            # CPU time of this process: on a shared machine, wall time mostly measures the others
            t0 = time.process_time()
            fn(flows)
            rates[name].append(len(flows) / (time.process_time() - t0))
    return {name: statistics.median(r) for name, r in rates.items()}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--flows", type=int, default=4000)
    ap.add_argument("--rounds", type=int, default=7)
    args = ap.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {0})  # one core: less noise from the scheduler
    pairs = synthetic_flows(args.flows)
    flows = [f for _, f in pairs]
    _decode(flows)  # warm up (the decoder remembers plain values and page URLs)
    fields = sum(len(decode_flow(f).fields) for f in flows)
    both = _rates(flows, args.rounds, {"decode": _decode, "json": _bare_json})
    print(f"mix of {len(flows)} flows, {fields / len(flows):.1f} fields per flow")
    print(f"  decode_flow      {both['decode']:9.0f} flows/s  {1e6 / both['decode']:6.1f} us/flow")
    print(f"  bare json.loads  {both['json']:9.0f} flows/s  {1e6 / both['json']:6.1f} us/flow")
    print(f"  ratio decode / bare json.loads: {both['decode'] / both['json']:.3f}")
    print("by kind (decode_flow):")
    for kind in dict.fromkeys(k for k, _ in pairs):
        group = [f for k, f in pairs if k == kind]
        rate = _rates(group, args.rounds, {"decode": _decode})["decode"]
        per = sum(len(decode_flow(f).fields) for f in group) / len(group)
        print(f"  {kind:42} {1e6 / rate:6.1f} us/flow  {per:5.1f} fields")


if __name__ == "__main__":
    main()
