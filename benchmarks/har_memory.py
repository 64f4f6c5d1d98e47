"""Peak memory of ``edscan scan`` on a large HAR (read as a stream) against a small one.

Writes a HAR of about ``--mb`` MiB (default 1024): a classroom session of page loads, the app's
JSON API with ~16 KiB responses, and tracker hits, in the shape a browser exports (pages
first, entries with base64 and text bodies). Then, each in a fresh process, the peak RSS
(``RUSAGE_CHILDREN``) of:

- the baseline, measured in the same run: ``edscan scan`` of the first ~8 MiB of the same
  session (read whole, as every HAR under 32 MiB is);
- ``edscan scan`` of the whole HAR (streamed).

Printed: both peaks, the big one as a ratio of the baseline, and the time. Target: peak RSS
< 400 MB for a 1 GiB HAR. (Before streaming, a 197 MB HAR peaked at 640 MB, and over 1 GiB was
refused.)

    python benchmarks/har_memory.py [--mb N]
"""

from __future__ import annotations

import argparse
import base64
import json
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

EDSCAN = str(Path(sys.executable).with_name("edscan"))
TARGET_MB = 400.0
_PEAK = (
    "import resource, subprocess, sys\n"
    "rc = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)\n"
    "sys.stderr.write(rc.stderr.decode()[-500:]) if rc.returncode else None\n"
    "print(rc.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
)


def _entry(rng: random.Random, i: int) -> dict[str, object]:
    kind = i % 4
    if kind == 0:
        url = f"https://class.example-app.test/api/v1/lessons/{rng.randint(1, 10**6)}"
        body = json.dumps(
            {"items": [{"id": j, "text": "x" * 120, "score": rng.random()} for j in range(110)]}
        )
        content = {"size": len(body), "mimeType": "application/json", "text": body}
    elif kind == 1:
        url = f"https://www.google-analytics.com/g/collect?v=2&tid=G-ABC&cid={rng.random()}&en=view"
        content = {"size": 0, "mimeType": "text/plain"}
    elif kind == 2:
        url = f"https://class.example-app.test/static/app.{i}.png"
        raw = rng.randbytes(12_000)
        content = {
            "size": len(raw),
            "mimeType": "image/png",
            "text": base64.b64encode(raw).decode(),
            "encoding": "base64",
        }
    else:
        url = "https://api.segment.io/v1/t"
        content = {"size": 2, "mimeType": "application/json", "text": "{}"}
    return {
        "pageref": "page_1" if i < 50 else "page_2",
        "startedDateTime": f"2026-03-01T09:{(i // 600) % 60:02d}:{(i // 10) % 60:02d}.{i % 10}00Z",
        "time": 12,
        "request": {
            "method": "GET" if kind != 3 else "POST",
            "url": url,
            "httpVersion": "HTTP/2.0",
            "headers": [{"name": "user-agent", "value": "Mozilla/5.0 (X11; Linux x86_64)"}],
            "queryString": [],
            "cookies": [],
            "headersSize": -1,
            "bodySize": 0,
            **(
                {"postData": {"mimeType": "application/json", "text": '{"event":"page"}'}}
                if kind == 3
                else {}
            ),
        },
        "response": {
            "status": 200,
            "statusText": "",
            "httpVersion": "HTTP/2.0",
            "headers": [{"name": "content-type", "value": str(content["mimeType"])}],
            "cookies": [],
            "content": content,
            "redirectURL": "",
            "headersSize": -1,
            "bodySize": -1,
        },
        "cache": {},
        "timings": {"send": 1, "wait": 10, "receive": 1},
    }


def write_har(path: Path, mib: float) -> int:
    """A HAR of about ``mib`` MiB, written entry by entry; returns the entry count."""
    rng = random.Random(13)
    limit = int(mib * (1 << 20))
    head = {
        "version": "1.2",
        "creator": {"name": "WebInspector", "version": "537.36"},
        "pages": [
            {"id": "page_1", "title": "launch", "startedDateTime": "2026-03-01T09:00:00Z"},
            {"id": "page_2", "title": "quiz", "startedDateTime": "2026-03-01T09:01:00Z"},
        ],
    }
    n = 0
    with path.open("w", encoding="utf-8") as f:
        f.write('{"log": ' + json.dumps(head)[:-1] + ', "entries": [\n')
        written = 0
        while written < limit:
            line = ("," if n else "") + json.dumps(_entry(rng, n)) + "\n"
            f.write(line)
            written += len(line)
            n += 1
        f.write("]}}\n")
    return n


def peak_mb(har: Path) -> tuple[float, float]:
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", _PEAK, EDSCAN, "scan", str(har)],
        check=True,
        capture_output=True,
        text=True,
    )
    rc, kib = done.stdout.split()
    if rc != "0":
        raise SystemExit(f"edscan scan {har.name} failed (exit {rc}): {done.stderr}")
    return int(kib) / 1024, time.perf_counter() - started


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--mb", type=float, default=1024)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="edscan-bench-har-") as tmp:
        small, big = Path(tmp) / "small.har", Path(tmp) / "big.har"
        n_small = write_har(small, 8)
        started = time.perf_counter()
        n_big = write_har(big, args.mb)
        size = big.stat().st_size / (1 << 20)
        print(
            f"wrote a {size:.0f} MiB HAR, {n_big} entries ({time.perf_counter() - started:.0f} s)"
        )
        base, _ = peak_mb(small)
        print(f"baseline: edscan scan of 8 MiB ({n_small} entries, read whole): {base:6.0f} MB")
        peak, took = peak_mb(big)
        verdict = "meets" if peak < TARGET_MB else "misses"
        print(
            f"edscan scan of {size:.0f} MiB (streamed): peak RSS {peak:6.0f} MB, "
            f"{peak / base:4.2f}× baseline, {took:.0f} s, {size / took:.1f} MiB/s "
            f"({verdict} the target < {TARGET_MB:.0f} MB)"
        )


if __name__ == "__main__":
    main()
