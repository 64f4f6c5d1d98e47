"""How fast edscan reads a capture: flows per second over a 100k-flow capture.

Readers over the same flows, in one run:

  edscan   ``open_source(path)`` iterated: parse each line and build the ``Flow`` records
  bare     a bare ``json.loads`` loop over the same lines (the baseline)
  orjson   a bare ``orjson.loads`` loop over the same lines (what edscan parses with: the floor)
  mitm     ``mitmproxy.io.FlowReader`` over the same flows saved as a ``.mitm`` dump

The flows are generated (seeded) as mitmproxy flows, written to a ``.mitm`` dump with
``FlowWriter`` and, through ``flow_from_mitmproxy``, to an edscan capture, so both files hold
the same traffic. The mix: JSON API calls with query strings and cookies, form posts, analytics
beacons, gzip-compressed and binary responses (base64 in the capture), failed flows and a few
WebSocket connections.

Rounds alternate the readers (rotating which goes first); each reader's rate is the median over
the rounds, and the ratio is the median of the per-round ratios. Rates are flows per second of
this process's CPU time, pinned to one core: on a shared machine wall-clock time also counts the
time other processes held the core (``--wall`` to measure wall-clock time instead).
Target: edscan >= 0.5 x bare.

    python benchmarks/read_capture.py [--flows 100000] [--rounds 5] [--keep DIR]
"""

from __future__ import annotations

import argparse
import gc
import gzip
import json
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import orjson
from mitmproxy import connection, flow, http, websocket
from mitmproxy.io import FlowReader, FlowWriter
from wsproto.frame_protocol import Opcode

from edscan.capture.capture_file import CaptureWriter
from edscan.capture.mitm import flow_from_mitmproxy
from edscan.capture.source import open_source

HOSTS = [
    "api.classroom.example.test",
    "cdn.classroom.example.test",
    "www.google-analytics.com",
    "graph.facebook.com",
    "api.mixpanel.com",
    "sessions.bugsnag.com",
    "firebaselogging-pa.googleapis.com",
    "analytics.tiktok.com",
]
UA = "Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124"


def _json_body(rng: random.Random, size: int) -> bytes:
    props: dict[str, object] = {}
    length = 120  # about the size of the fixed part below
    while length < size:
        key = f"k{len(props)}"
        value = rng.choice(
            [rng.randrange(10**6), f"value-{rng.getrandbits(32):x}", True, None, 3.25]
        )
        props[key] = value
        length += len(key) + len(json.dumps(value)) + 4
    event = {
        "event": rng.choice(["page_view", "quiz_answer", "video_progress", "login"]),
        "user_id": f"u-{rng.randrange(10**8):08d}",
        "session": f"{rng.getrandbits(64):016x}",
        "props": props,
    }
    return json.dumps(event, separators=(",", ":")).encode()


def make_flow(rng: random.Random, i: int, t: float) -> http.HTTPFlow:
    host = rng.choice(HOSTS)
    client = connection.Client(
        peername=("10.0.0.23", 40000 + i % 20000), sockname=("10.0.0.1", 8080), timestamp_start=t
    )
    server = connection.Server(address=(host, 443))
    client.timestamp_tls_setup = t  # TLS was intercepted
    client.tls_version = "TLSv1.3"
    client.sni = host
    f = http.HTTPFlow(client, server)
    kind = rng.random()
    method = "GET" if kind < 0.55 else "POST"
    query = "&".join(f"q{j}={rng.getrandbits(24):x}" for j in range(rng.randrange(0, 6)))
    path = (
        f"/v{rng.randrange(1, 4)}/{rng.choice(['events', 'collect', 'assignments', 'me', 'batch'])}"
    )
    headers = [
        (b"Host", host.encode()),
        (b"User-Agent", UA.encode()),
        (b"Accept", b"application/json, text/plain, */*"),
        (b"Accept-Language", b"en-US,en;q=0.9"),
        (b"Accept-Encoding", b"gzip, deflate, br"),
        (
            b"Cookie",
            f"sid={rng.getrandbits(96):x}; _ga=GA1.2.{rng.getrandbits(31)}.{int(t)}".encode(),
        ),
        (b"Referer", b"https://www.classroom.example.test/quiz"),
    ] + [
        (f"X-Trace-{j}".encode(), f"{rng.getrandbits(48):x}".encode())
        for j in range(rng.randrange(0, 5))
    ]
    body = b""
    if method == "POST":
        if rng.random() < 0.2:
            headers.append((b"Content-Type", b"application/x-www-form-urlencoded"))
            body = "&".join(
                f"f{j}=v{rng.getrandbits(20)}" for j in range(rng.randrange(3, 12))
            ).encode()
        else:
            headers.append((b"Content-Type", b"application/json"))
            body = _json_body(rng, rng.randrange(80, 900))
    f.request = http.Request(
        host, 443, method.encode(), b"https", host.encode(), (path + ("?" + query if query else "")).encode(),
        b"HTTP/2.0", http.Headers(headers), body, None, t, t + 0.002,
    )  # fmt: skip
    if rng.random() < 0.02:
        f.error = flow.Error("connection reset by peer")
        return f
    r = rng.random()
    if r < 0.15:
        ctype, content, extra = (
            b"image/gif",
            b"GIF89a" + bytes(rng.getrandbits(8) for _ in range(30)),
            [],
        )
    elif r < 0.45:
        ctype, content = (
            b"application/json",
            gzip.compress(_json_body(rng, rng.randrange(200, 3000)), 6),
        )
        extra = [(b"Content-Encoding", b"gzip")]
    elif r < 0.6:
        ctype, content, extra = b"text/plain", b"", []
    else:
        ctype, content, extra = b"application/json", _json_body(rng, rng.randrange(30, 1500)), []
    resp_headers = [
        (b"Date", b"Mon, 06 May 2024 08:00:00 GMT"),
        (b"Content-Type", ctype),
        (b"Cache-Control", b"no-store"),
        (b"Set-Cookie", f"sid={rng.getrandbits(96):x}; Path=/; Secure; HttpOnly".encode()),
        *extra,
    ]
    f.response = http.Response(
        b"HTTP/2.0", 200 if content else 204, b"", http.Headers(resp_headers), content, None,
        t + 0.03, t + 0.05,
    )  # fmt: skip
    if rng.random() < 0.005:
        f.response.status_code = 101
        f.websocket = websocket.WebSocketData()
        for j in range(rng.randrange(2, 12)):
            f.websocket.messages.append(
                websocket.WebSocketMessage(Opcode.TEXT, j % 2 == 0, _json_body(rng, 120), t + j)
            )
    return f


def generate(folder: Path, n: int) -> tuple[Path, Path]:
    rng = random.Random(20240506)
    cap, dump = folder / "bench.edscan.jsonl", folder / "bench.mitm"
    t = 1714982400.0
    with CaptureWriter(cap, {"max_body": None}) as w, dump.open("wb") as fo:
        fw = FlowWriter(fo)
        for i in range(n):
            t += rng.random() * 0.05
            f = make_flow(rng, i, t)
            fw.add(f)
            w.write(flow_from_mitmproxy(f, index=i, phase=("login", "quiz", "essay")[i * 3 // n]))
    return cap, dump


def read_edscan(cap: Path, dump: Path) -> int:
    n = 0
    for _ in open_source(cap):
        n += 1
    return n


def read_bare(cap: Path, dump: Path) -> int:
    n = 0
    loads = json.loads
    with cap.open("rb") as f:
        f.readline()  # the header
        for line in f:
            loads(line)
            n += 1
    return n


def read_orjson(cap: Path, dump: Path) -> int:
    n = 0
    loads = orjson.loads
    with cap.open("rb") as f:
        f.readline()
        for line in f:
            loads(line)
            n += 1
    return n


def read_mitm(cap: Path, dump: Path) -> int:
    n = 0
    with dump.open("rb") as fo:
        for _ in FlowReader(fo).stream():
            n += 1
    return n


READERS: dict[str, Callable[[Path, Path], int]] = {
    "edscan": read_edscan,
    "bare": read_bare,
    "orjson": read_orjson,
    "mitm": read_mitm,
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--flows", type=int, default=100_000)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--keep", type=Path, help="generate into (or reuse) this folder")
    ap.add_argument("--wall", action="store_true", help="measure wall-clock time, not CPU time")
    args = ap.parse_args()
    try:
        os.sched_setaffinity(0, {max(os.sched_getaffinity(0))})
        pinned = f"pinned to core {max(os.sched_getaffinity(0))}"
    except (AttributeError, OSError):
        pinned = "not pinned"

    folder = args.keep or Path(tempfile.mkdtemp(prefix="edscan-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    cap, dump = folder / "bench.edscan.jsonl", folder / "bench.mitm"
    if not (cap.exists() and dump.exists()):
        t0 = time.perf_counter()
        cap, dump = generate(folder, args.flows)
        print(f"generated {args.flows} flows in {time.perf_counter() - t0:.0f} s", file=sys.stderr)
    size = cap.stat().st_size
    flows = read_bare(cap, dump)
    print(
        f"capture: {flows} flows, {size / 2**20:.0f} MiB ({size / flows:.0f} bytes a line); "
        f".mitm: {dump.stat().st_size / 2**20:.0f} MiB; {pinned}"
    )

    clock = time.perf_counter if args.wall else time.process_time
    print(f"rates: flows per second of {'wall-clock' if args.wall else 'CPU'} time")
    rates: dict[str, list[float]] = {name: [] for name in READERS}
    names = list(READERS)
    for r in range(args.rounds):
        order = names[r % len(names) :] + names[: r % len(names)]
        for name in order:
            gc.collect()
            t0 = clock()
            n = READERS[name](cap, dump)
            dt = clock() - t0
            assert n == flows, (name, n, flows)
            rates[name].append(n / dt)
        print(
            f"round {r + 1}: " + ", ".join(f"{k} {rates[k][-1]:,.0f}/s" for k in names),
            file=sys.stderr,
        )

    print(f"{'reader':<8} {'flows/s (median)':>17}")
    for name in names:
        print(f"{name:<8} {statistics.median(rates[name]):>17,.0f}")
    for name in ("edscan", "orjson", "mitm"):
        ratio = statistics.median(a / b for a, b in zip(rates[name], rates["bare"], strict=True))
        print(f"{name} / bare = {ratio:.2f}" + ("   (target >= 0.5)" if name == "edscan" else ""))
    ratio = statistics.median(a / b for a, b in zip(rates["edscan"], rates["orjson"], strict=True))
    print(f"edscan / orjson = {ratio:.2f}")
    ratio = statistics.median(a / b for a, b in zip(rates["edscan"], rates["mitm"], strict=True))
    print(f"edscan / mitm = {ratio:.2f}")
    if not args.keep:
        for p in (cap, dump):
            p.unlink()
        folder.rmdir()


if __name__ == "__main__":
    main()
