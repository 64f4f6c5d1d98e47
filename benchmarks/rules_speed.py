"""How much the per-flow ``signals`` and the whole-capture rules and score cost.

1. ``signals(flow, decoded)`` runs once per flow, after ``decode_flow``. Baseline in the same
   run: ``decode_flow`` itself on the same flows. Reported: signals time as a fraction of decode
   time (target: well under 0.2), and microseconds per flow.
2. ``run_rules`` + ``score`` on a 100k-flow ScanResult. Baseline in the same run: one bare pass
   over every flow's signals (classifying each with ``kind_of``) and every observation, the
   least any rule engine must do. Reported: the ratio, and seconds per 100k flows.

Rounds alternate A and B; medians are reported.

    python benchmarks/rules_speed.py [--flows 3000] [--summaries 100000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import random
import statistics
import time
from collections.abc import Callable
from urllib.parse import urlencode

from edscan.decode.flow import Decoded, decode_flow
from edscan.models import (
    Body,
    CaptureInfo,
    Confidence,
    Detector,
    Flow,
    FlowSummary,
    Observation,
    Party,
    Recipient,
    ScanResult,
)
from edscan.rules import run_rules
from edscan.rules.score import score
from edscan.rules.signals import kind_of, signals

_UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/126.0 Safari/537.36"
_REQ = (
    ("User-Agent", _UA),
    ("Accept", "*/*"),
    ("Origin", "https://classroom.example.edu"),
    ("Referer", "https://classroom.example.edu/class/4521/assignments?tab=open"),
    ("Cookie", "_ga=GA1.1.1234567890.1700000000; _fbp=fb.1.1700000000000.123"),
)
_RESP = (
    ("Date", "Sun, 01 Mar 2026 10:15:00 GMT"),
    ("Content-Type", "image/gif"),
    ("Set-Cookie", "IDE=AHWqTUk; Max-Age=34128000; Path=/; Secure; SameSite=None"),
    ("Set-Cookie", "test_cookie=CheckForPermission; Expires=Sun, 01 Mar 2026 10:30:00 GMT"),
)


def synthetic_flows(n: int, seed: int = 11) -> list[Flow]:
    rng = random.Random(seed)
    flows = []
    for i in range(n):
        kind = i % 5
        body: bytes | None = None
        if kind == 0:  # GA4 hit, everything in the URL
            url = "https://www.google-analytics.com/g/collect?" + urlencode(
                {
                    "v": "2",
                    "tid": "G-ABCD123456",
                    "cid": f"{rng.getrandbits(31)}.1700000000",
                    "gcs": "G111",
                    "npa": "0",
                    "dl": "https://classroom.example.edu/class/4521/assignments?tab=open",
                    "dt": "Assignments",
                    "en": "page_view",
                }
            )
        elif kind == 1:  # Meta pixel with advanced matching
            url = "https://www.facebook.com/tr/?" + urlencode(
                {
                    "id": "172748793147724",
                    "ev": "PageView",
                    "dl": "https://classroom.example.edu/home",
                    "ud[em]": f"{rng.getrandbits(256):064x}",
                    "fbp": "fb.1.1700000000000.123",
                }
            )
        elif kind == 2:  # OpenRTB bid request
            url = "https://hbopenbid.pubmatic.com/translator?source=prebid-client"
            body = json.dumps(
                {
                    "id": str(i),
                    "imp": [{"id": "1", "banner": {"w": 300, "h": 250}}],
                    "site": {"page": "https://classroom.example.edu/quiz"},
                    "device": {"ua": _UA, "ifa": "38400000-8cf0-11bd-b23e-10b96e40000d"},
                    "user": {"id": f"u{i % 97}"},
                    "regs": {"coppa": 0, "ext": {"gdpr": 0, "us_privacy": "1YNN"}},
                }
            ).encode()
        elif kind == 3:  # the app's own API
            url = f"https://api.classroom.example.edu/v1/assignments/{i}"
            body = json.dumps({"answer": "3/4", "student_id": f"s{i % 97}", "time": 12}).encode()
        else:  # a Segment batch
            url = "https://api.segment.io/v1/batch"
            body = json.dumps(
                {
                    "batch": [
                        {
                            "type": "track",
                            "event": "Quiz Answered",
                            "anonymousId": "1b7c9c1e-6e0b-4f1e-9d7b-2f0a9b8c7d6e",
                            "properties": {"quiz": 7, "url": "https://classroom.example.edu/q"},
                            "context": {"consent": {"categoryPreferences": {"ads": False}}},
                        }
                    ]
                }
            ).encode()
        flows.append(
            Flow(
                index=i,
                id=str(i),
                method="POST" if body else "GET",
                url=url,
                scheme="https",
                request_headers=(*_REQ, ("Content-Type", "application/json")) if body else _REQ,
                request_body=Body(content=body, size=len(body)) if body else None,
                status=200,
                response_headers=_RESP,
            )
        )
    return flows


def _rounds(fns: dict[str, Callable[[], None]], rounds: int) -> dict[str, float]:
    times: dict[str, list[float]] = {k: [] for k in fns}
    for _ in range(rounds):
        for name, fn in fns.items():
            t0 = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t0)
    return {k: statistics.median(v) for k, v in times.items()}


def _summaries(flows: list[Flow], decoded: list[Decoded], n: int) -> ScanResult:
    base = [(f, signals(f, d)) for f, d in zip(flows, decoded, strict=True)]
    rng = random.Random(3)
    summaries = []
    observations = []
    elements = ("dev.install_id", "st_contact.email", "sid.provider", "dev.gaid", "si.ell")
    for i in range(n):
        f, sig = base[i % len(base)]
        summaries.append(
            FlowSummary(
                index=i,
                host=f.host,
                method=f.method,
                url=f.url,
                scheme="https",
                status=200,
                phase=("launch", "login", "quiz")[min(2, i * 3 // n)],
                time=1772360100.0 + i,
                request_bytes=f.request_body.size if f.request_body else 0,
                response_bytes=43,
                tls_intercepted=True,
                error=None,
                signals=sig,
            )
        )
        if rng.random() < 0.3:
            observations.append(
                Observation(
                    flow=i,
                    host=f.host,
                    element=rng.choice(elements),
                    detector=Detector.PATTERN,
                    confidence=Confidence.MEDIUM,
                    location="body:$.x",
                    party=Party.FIRST if "classroom" in f.host else Party.THIRD,
                )
            )
    cats = {
        "google-analytics.com": ("analytics",),
        "facebook.com": ("advertising", "social network"),
        "pubmatic.com": ("advertising",),
        "segment.io": ("analytics",),
        "example.edu": (),
    }
    recipients = []
    for domain, c in cats.items():
        hosts = sorted({s.host for s in summaries[: len(base)] if s.host.endswith(domain)})
        recipients.append(
            Recipient(
                domain=domain,
                hosts=tuple(hosts),
                organization=None,
                parent=None,
                categories=c,
                party=Party.FIRST if domain == "example.edu" else Party.THIRD,
                sdk=(),
                sources=("bundled:bench",) if c else (),
                flows=0,
            )
        )
    return ScanResult(
        tool_version="bench",
        capture=CaptureInfo(path="bench", sha256="", format="edscan", flows=n),
        first_party=("example.edu",),
        first_party_inferred=False,
        flows=tuple(summaries),
        observations=tuple(observations),
        recipients=tuple(recipients),
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--flows", type=int, default=3000)
    ap.add_argument("--summaries", type=int, default=100_000)
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {0})  # one core: less noise from the scheduler

    flows = synthetic_flows(args.flows)
    decoded = [decode_flow(f) for f in flows]
    pairs = list(zip(flows, decoded, strict=True))

    def decode_all() -> None:
        for f in flows:
            decode_flow(f)

    def signals_all() -> None:
        for f, d in pairs:
            signals(f, d)

    t = _rounds({"decode": decode_all, "signals": signals_all}, args.rounds)
    kept = sum(len(signals(f, d)) for f, d in pairs) / len(pairs)
    fields = sum(len(d.fields) for d in decoded) / len(decoded)
    print(f"flows: {len(flows)}; decoded fields per flow {fields:.1f}; signals kept {kept:.1f}")
    print(f"decode_flow: {1e6 * t['decode'] / len(flows):8.1f} us/flow")
    print(f"signals:     {1e6 * t['signals'] / len(flows):8.1f} us/flow")
    print(f"ratio signals / decode_flow: {t['signals'] / t['decode']:.3f}")

    result = _summaries(flows, decoded, args.summaries)

    def rules_and_score() -> None:
        findings = run_rules(result)
        score(dataclasses.replace(result, findings=tuple(findings)))

    def bare_pass() -> None:
        n = 0
        for f in result.flows:
            for s in f.signals:
                if kind_of(s) is not None:
                    n += 1
        for o in result.observations:
            n += o.flow
        del n

    t = _rounds({"rules": rules_and_score, "bare": bare_pass}, args.rounds)
    per = 100_000 / len(result.flows)
    print(
        f"summaries: {len(result.flows)}; observations {len(result.observations)}; "
        f"findings {len(run_rules(result))}"
    )
    print(f"run_rules + score: {t['rules'] * per:6.2f} s per 100k flows")
    print(f"bare pass:         {t['bare'] * per:6.2f} s per 100k flows")
    print(f"ratio rules / bare pass: {t['rules'] / t['bare']:.2f}")


if __name__ == "__main__":
    main()
