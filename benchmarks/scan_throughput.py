"""Decode + detect throughput and memory on a synthetic capture, against the bare JSON loop.

A synthetic capture of ``--flows`` flows (default 100,000) is written with ``CaptureWriter``:
a classroom-app session mix of static assets, the app's own JSON API (responses that teach the
detector the persona's server id) and SDK calls shaped like the labelled corpus
(``tests/corpus_sdk.py``: GA4, Meta Pixel, Segment, Mixpanel, Sentry, Firebase protobuf,
gzip session replay, OpenRTB ...), some of them carrying persona values. The persona has 30
values.

Measured in one process pinned to one core, alternating A and B over ``--rounds`` rounds:

- A, the baseline: read the file line by line and ``json.loads`` each line;
- B, the pipeline: ``read_capture`` (JSON and Flow objects) -> ``decode_flow`` -> ``observe``.

Printed: B's flows/s, the median ratio of B's throughput to A's, and the split of B's time
between reading, decoding and detecting (so a bottleneck is named with figures). Targets:
>= 20,000 flows/s and >= 0.2 of the bare loop.

Memory: the same pipeline in fresh subprocesses over 10k, 100k and 1M flows generated on the
fly (streaming; nothing kept per flow but a count of observations); peak RSS must stay within
20% from the smallest to the largest.

    python benchmarks/scan_throughput.py [--flows N] [--rounds R] [--no-memory] [--quick]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import tomllib
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

import corpus_sdk as corpus  # noqa: E402

from edscan.capture import CaptureWriter, read_capture  # noqa: E402
from edscan.decode import decode_flow  # noqa: E402
from edscan.detect import Detector  # noqa: E402
from edscan.models import Flow  # noqa: E402
from edscan.persona import Persona, parse_persona  # noqa: E402

POOL = 3000  # distinct flows; the capture cycles through them with fresh indices and ids


def persona() -> Persona:
    p = parse_persona(tomllib.loads(corpus.persona_toml()), "benchmark")
    assert len(p.values) == 30, len(p.values)
    return p


def _static(rng: random.Random) -> corpus._Req:
    r = corpus._static(rng)
    kind = rng.choice(["js", "css", "png"])
    if kind == "js":
        body = ("function t(e){return e&&e.__esModule?e:{default:e}}var n=" * 30).encode()
        ctype = "application/javascript"
    elif kind == "css":
        body = (".btn{color:#555555;padding:4px 8px}.card{margin:0 auto}" * 30).encode()
        ctype = "text/css"
    else:
        body = bytes(rng.getrandbits(8) for _ in range(1200))
        ctype = "image/png"
    r.response_headers = [("content-type", ctype), ("cache-control", "max-age=31536000")]
    r.response_body = body
    return r


def _api(rng: random.Random, own: bool) -> corpus._Req:
    students = [
        {"id": f"stu_{rng.getrandbits(40):x}", "name": f"Student {i}", "points": rng.randint(0, 90)}
        for i in range(6)
    ]
    data: dict[str, object] = {
        "classes": [{"id": "cls_7", "name": "Science 7", "students": students}]
    }
    if own:  # the app's own record of the persona: teaches the detector its server id
        data["me"] = {"id": corpus.DERIVED_ID, "email": corpus.PERSONA["student.email"].lower()}
    r = corpus._Req(
        "GET",
        f"https://{corpus.FIRST_PARTY}/v1/classes?include=students&page={rng.randint(1, 9)}",
        corpus._browser_headers([("authorization", "Bearer " + corpus._hex(rng, 40))]),
    )
    r.response_headers = [("content-type", "application/json; charset=utf-8")]
    r.response_body = json.dumps(data).encode()
    return r


def pool(rng: random.Random) -> list[Flow]:
    """A session's worth of distinct flows: 35% assets, 20% own API, 45% SDK calls."""
    cases = list(corpus.cases())
    shapes = [s for s in corpus.SHAPES if s not in ("first-party",)]
    out: list[Flow] = []
    for i in range(POOL):
        x = rng.random()
        if x < 0.35:
            r = _static(rng)
        elif x < 0.55:
            r = _api(rng, own=rng.random() < 0.05)
        else:
            shape = rng.choice(shapes)
            if rng.random() < 0.15:
                key, _, value = rng.choice(cases)
                items = [(corpus.KEYS[key][0], value)]
                if shape in corpus.KEYLESS or shape in ("header", "cookie"):
                    shape = "segment"
            else:
                items = [
                    ("plan", "free"),
                    ("screen", "lesson"),
                    ("lesson_id", str(rng.randint(1, 999))),
                ]
            r = corpus.SHAPES[shape](items, rng)
        out.append(corpus._flow(i, r, rng))
    return out


def stream(flows: list[Flow], n: int) -> Iterator[Flow]:
    for i in range(n):
        f = flows[i % len(flows)]
        yield dataclasses.replace(f, index=i, id=f"{i:08x}")


def write_capture(path: Path, n: int, seed: int = 7) -> None:
    flows = pool(random.Random(seed))
    with CaptureWriter(path) as w:
        for f in stream(flows, n):
            w.write(f)


# --------------------------------------------------------------------------- timing


def bare(path: Path) -> int:
    n = 0
    with path.open("rb") as f:
        f.readline()
        for line in f:
            json.loads(line)
            n += 1
    return n


def pipeline(path: Path, p: Persona) -> int:
    det = Detector(p)
    n = 0
    for flow in read_capture(path):
        det.observe(flow, decode_flow(flow))
        n += 1
    return n


def split(path: Path, p: Persona) -> tuple[float, float, float]:
    """Seconds spent reading, decoding and detecting, timed around each call of one pass."""
    det = Detector(p)
    clock = time.perf_counter
    read = dec = obs = 0.0
    it = iter(read_capture(path))
    while True:
        t0 = clock()
        try:
            flow = next(it)
        except StopIteration:
            break
        t1 = clock()
        d = decode_flow(flow)
        t2 = clock()
        det.observe(flow, d)
        t3 = clock()
        read += t1 - t0
        dec += t2 - t1
        obs += t3 - t2
    return read, dec, obs


def _timed(fn, *args) -> tuple[float, int]:  # type: ignore[no-untyped-def]
    t = time.perf_counter()
    n = fn(*args)
    return time.perf_counter() - t, n


def throughput(n: int, rounds: int) -> None:
    p = persona()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.edscan.jsonl"
        t0 = time.perf_counter()
        write_capture(path, n)
        size = path.stat().st_size
        print(
            f"capture: {n:,} flows, {size / 1e6:.0f} MB ({size / n:.0f} B/flow), "
            f"written in {time.perf_counter() - t0:.1f} s; persona: {len(p.values)} values"
        )
        ta: list[float] = []
        tb: list[float] = []
        ratios: list[float] = []
        for r in range(rounds):
            a, na = _timed(bare, path)
            b, nb = _timed(pipeline, path, p)
            assert na == nb == n
            ta.append(a)
            tb.append(b)
            ratios.append(a / b)
            print(
                f"  round {r + 1}: bare {n / a:>9,.0f} flows/s   decode+detect {n / b:>8,.0f} flows/s"
                f"   ratio {a / b:.3f}"
            )
        splits = [split(path, p) for _ in range(max(1, rounds // 2))]
        read, dec, det = (statistics.median(s[k] for s in splits) for k in range(3))
        b = statistics.median(tb)
        print()
        print(f"decode + detect: {n / b:,.0f} flows/s (median of {rounds}; target >= 20,000)")
        print(
            f"ratio to the bare JSON loop: {statistics.median(ratios):.3f} (median; target >= 0.2)"
        )
        total = read + dec + det
        print(
            f"per flow: read {read / n * 1e6:.1f} us ({read / total:.0%}), decode "
            f"{dec / n * 1e6:.1f} us ({dec / total:.0%}), detect {det / n * 1e6:.1f} us "
            f"({det / total:.0%}); bare JSON loop {statistics.median(ta) / n * 1e6:.1f} us"
        )
        best = n / (read + dec)
        print(
            f"read + decode alone: {best:,.0f} flows/s, ratio "
            f"{statistics.median(ta) / (read + dec):.3f} to the bare loop"
        )


# --------------------------------------------------------------------------- memory


def _memory_child(n: int) -> None:
    flows = pool(random.Random(7))
    det = Detector(persona())
    count = 0
    for f in stream(flows, n):
        count += len(det.observe(f, decode_flow(f)))
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"flows": n, "observations": count, "peak_kb": peak_kb}))


def memory(sizes: list[int]) -> None:
    print()
    print("peak RSS of decode + detect, flows generated on the fly, one subprocess each:")
    peaks = []
    for n in sizes:
        t = time.perf_counter()
        out = subprocess.run(
            [sys.executable, __file__, "--_memory", str(n)],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        r = json.loads(out.strip().splitlines()[-1])
        peaks.append(r["peak_kb"])
        print(
            f"  {n:>9,} flows: {r['peak_kb'] / 1024:7.1f} MB peak, {r['observations']:,} "
            f"observations ({time.perf_counter() - t:.0f} s)"
        )
    growth = max(peaks) / min(peaks) - 1
    print(f"growth from {sizes[0]:,} to {sizes[-1]:,} flows: {growth:+.1%} (target within 20%)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--flows", type=int, default=100_000)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--no-memory", action="store_true")
    ap.add_argument("--quick", action="store_true", help="20k flows, 3 rounds, memory to 100k")
    ap.add_argument("--_memory", type=int, default=0, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args._memory:
        _memory_child(args._memory)
        return
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {0})  # one core for what is measured
    flows, rounds = (20_000, 3) if args.quick else (args.flows, args.rounds)
    throughput(flows, rounds)
    if not args.no_memory:
        memory([10_000, 100_000] if args.quick else [10_000, 100_000, 1_000_000])


if __name__ == "__main__":
    main()
