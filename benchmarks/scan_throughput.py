"""Decode + detect throughput and memory on a synthetic capture, against the bare JSON loop.

A synthetic capture of ``--flows`` flows (default 100,000) is written with ``CaptureWriter``:
a classroom-app session mix of static assets, the app's own JSON API (responses that teach the
detector the persona's server id) and SDK calls shaped like the labelled corpus
(``tests/corpus_sdk.py``: GA4, Meta Pixel, Segment, Mixpanel, Sentry, Firebase protobuf,
gzip session replay, OpenRTB ...), some of them carrying persona values. The persona has 30
values. The capture cycles through ``--pool`` distinct flows (default 3,000) with fresh indices
and ids. Decoding remembers values, headers and paths that recur, and detection what each
field yielded; in this capture even the per-event values (event ids, timestamps, random
tokens) recur every 3,000 flows, which real traffic does not do, and with a few thousand fields
remembered nearly every flow is then known whole: the figures of this capture are the best
case. A larger pool (up to ``--flows``: every flow distinct) shows what remembering is worth.
A second,
all-distinct capture of ``--distinct`` flows (default 20,000) is measured in the same rounds
(bare loop and decode + detect, each pass in a new process so that nothing is remembered from
an earlier pass over the same flows) and reported on its own line: real captures lie in between
(a session repeats its headers, tokens, paths and SDK keys; event ids and timestamps do not).

Measured in one process pinned to one core (``os.sched_setaffinity``, what ``taskset`` does),
on this process's CPU time by default: on a shared machine, wall-clock time also counts the
time other processes held the core (``--wall`` measures wall-clock time instead). Each round
runs every pass below once, rotating which goes first, after a ``gc.collect()``:

- bare: read the file line by line and ``json.loads`` each line (the baseline of the target);
- decode + detect: ``read_capture`` (JSON and Flow objects) -> ``decode_flow`` -> ``observe``
  (what the target is about);
- full scan loop: the per-flow work of ``edscan.pipeline.scan`` (read, decode, detect,
  ``signals``, ``summarize``, keeping observations and summaries as it does);
- stage passes: read only; read + decode; read + decode + detect + signals. A stage's time is
  the difference between the medians of two passes (no timer inside the loop to distort it).

Printed: each round, then the median flows/s of decode + detect and of the full scan loop, the
median of the per-round ratios to the bare loop, and microseconds per flow for each stage
(signals' share of the full loop included). Targets: decode + detect >= 20,000 flows/s and
>= 0.2 of the bare loop.

Memory: decode + detect in fresh subprocesses over 10k, 100k and 1M flows generated on the fly
(streaming; nothing kept per flow but a count of observations); peak RSS must stay within 20%
from the smallest to the largest.

    python benchmarks/scan_throughput.py [--flows N] [--rounds R] [--pool P] [--distinct D]
                                         [--wall] [--no-memory] [--quick]
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
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
from collections.abc import Callable, Iterator
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

import corpus_sdk as corpus  # noqa: E402

from edscan.capture.capture_file import CaptureWriter, read_capture  # noqa: E402
from edscan.capture.source import open_source  # noqa: E402
from edscan.decode.flow import decode_flow  # noqa: E402
from edscan.detect.detector import Detector  # noqa: E402
from edscan.detect.persona import Persona, parse_persona  # noqa: E402
from edscan.models import Flow, FlowSummary, Observation  # noqa: E402
from edscan.pipeline import summarize  # noqa: E402
from edscan.rules.signals import signals  # noqa: E402

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


def pool(rng: random.Random, size: int = POOL) -> list[Flow]:
    """A session's worth of distinct flows: 35% assets, 20% own API, 45% SDK calls."""
    cases = list(corpus.cases())
    shapes = [s for s in corpus.SHAPES if s not in ("first-party",)]
    out: list[Flow] = []
    for i in range(size):
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


def write_capture(path: Path, n: int, seed: int = 7, pool_size: int = POOL) -> None:
    flows = pool(random.Random(seed), min(pool_size, n))
    with CaptureWriter(path) as w:
        for f in stream(flows, n):
            w.write(f)


# --------------------------------------------------------------------------- timing


def bare(path: Path, p: Persona) -> int:
    n = 0
    with path.open("rb") as f:
        f.readline()
        for line in f:
            json.loads(line)
            n += 1
    return n


def bare_orjson(path: Path, p: Persona) -> int:
    n = 0
    loads = orjson.loads
    with path.open("rb") as f:
        f.readline()
        for line in f:
            loads(line)
            n += 1
    return n


def read_only(path: Path, p: Persona) -> int:
    n = 0
    for _ in read_capture(path):
        n += 1
    return n


def read_decode(path: Path, p: Persona) -> int:
    n = 0
    for flow in read_capture(path):
        decode_flow(flow)
        n += 1
    return n


def pipeline(path: Path, p: Persona) -> int:
    det = Detector(p)
    n = 0
    for flow in read_capture(path):
        det.observe(flow, decode_flow(flow))
        n += 1
    return n


def with_signals(path: Path, p: Persona) -> int:
    det = Detector(p)
    n = 0
    for flow in read_capture(path):
        decoded = decode_flow(flow)
        det.observe(flow, decoded)
        signals(flow, decoded)
        n += 1
    return n


def full(path: Path, p: Persona) -> int:
    """The per-flow loop of ``edscan.pipeline.scan``, with what it keeps."""
    det = Detector(p)
    observations: list[Observation] = []
    summaries: list[FlowSummary] = []
    limits: list[str] = []
    for flow in open_source(path):
        decoded = decode_flow(flow)
        observations.extend(det.observe(flow, decoded))
        summaries.append(summarize(flow, signals(flow, decoded)))
        limits.extend(f"flow {flow.index}: {m}" for m in decoded.limits)
    return len(summaries)


PASSES: dict[str, Callable[[Path, Persona], int]] = {
    "bare": bare,
    "orjson": bare_orjson,
    "read": read_only,
    "read+decode": read_decode,
    "decode+detect": pipeline,
    "+signals": with_signals,
    "full": full,
}


def throughput(n: int, rounds: int, pool_size: int, wall: bool, distinct: int) -> None:
    p = persona()
    clock = time.perf_counter if wall else time.process_time
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.edscan.jsonl"
        t0 = time.perf_counter()
        write_capture(path, n, pool_size=pool_size)
        size = path.stat().st_size
        print(
            f"capture: {n:,} flows cycling through {min(pool_size, n):,} distinct ones, "
            f"{size / 1e6:.0f} MB ({size / n:.0f} B/flow), written in "
            f"{time.perf_counter() - t0:.1f} s; persona: {len(p.values)} values"
        )
        other = Path(tmp) / "distinct.edscan.jsonl"
        if distinct:
            write_capture(other, distinct, seed=11, pool_size=distinct)
            print(f"and a capture of {distinct:,} flows that are all distinct (--distinct)")
        print(
            f"clock: {'wall-clock' if wall else 'CPU'} time of this process"
            f"{_pinned()}; {rounds} rounds, every pass once a round"
        )
        times: dict[str, list[float]] = {name: [] for name in PASSES}
        names = list(PASSES)
        if distinct:  # each pass in a fresh process: nothing remembered from an earlier pass
            names += ["distinct: bare", "distinct: decode+detect"]
            times.update({name: [] for name in names[-2:]})
        for r in range(rounds):
            order = names[r % len(names) :] + names[: r % len(names)]
            for name in order:
                if name.startswith("distinct: "):
                    times[name].append(_fresh_pass(name.removeprefix("distinct: "), other, wall))
                    continue
                gc.collect()
                t = clock()
                count = PASSES[name](path, p)
                times[name].append(clock() - t)
                assert count == n, (name, count)
            a, b, f = times["bare"][-1], times["decode+detect"][-1], times["full"][-1]
            print(
                f"  round {r + 1}: bare {n / a:>9,.0f} flows/s   decode+detect "
                f"{n / b:>7,.0f} flows/s (ratio {a / b:.3f})   full scan loop {n / f:>7,.0f} flows/s"
            )
        med = {name: statistics.median(ts) for name, ts in times.items()}
        ratio = statistics.median(
            a / b for a, b in zip(times["bare"], times["decode+detect"], strict=True)
        )
        full_ratio = statistics.median(
            a / b for a, b in zip(times["bare"], times["full"], strict=True)
        )
        print()
        print(
            f"decode + detect: {n / med['decode+detect']:,.0f} flows/s "
            f"(median of {rounds}; target >= 20,000)"
        )
        print(f"ratio to the bare JSON loop: {ratio:.3f} (median of the rounds; target >= 0.2)")
        print(
            f"full scan loop (read, decode, detect, signals, summary): "
            f"{n / med['full']:,.0f} flows/s, ratio {full_ratio:.3f} to the bare loop"
        )
        if distinct:
            d_ratio = statistics.median(
                a / b
                for a, b in zip(
                    times["distinct: bare"], times["distinct: decode+detect"], strict=True
                )
            )
            print(
                f"decode + detect on the {distinct:,} all-distinct flows: "
                f"{distinct / med['distinct: decode+detect']:,.0f} flows/s, ratio {d_ratio:.3f} "
                "(no flow repeats: the other end from the cycled capture)"
            )
        us = {name: t / n * 1e6 for name, t in med.items()}
        stages = [
            ("read (JSON + Flow objects)", us["read"]),
            ("decode", us["read+decode"] - us["read"]),
            ("detect", us["decode+detect"] - us["read+decode"]),
            ("signals", us["+signals"] - us["decode+detect"]),
            ("summary (and what scan keeps)", us["full"] - us["+signals"]),
        ]
        print("per flow, microseconds (a stage is the difference of two passes' medians):")
        for label, v in stages:
            print(f"  {label:<31}{v:6.1f}   {v / us['full']:4.0%} of the full loop")
        print(f"  {'= full scan loop':<31}{us['full']:6.1f}")
        print(f"  {'decode + detect pass':<31}{us['decode+detect']:6.1f}")
        print(
            f"  {'bare json.loads loop':<31}{us['bare']:6.1f}   "
            f"(an orjson.loads loop: {us['orjson']:.1f})"
        )


def _fresh_pass(name: str, path: Path, wall: bool) -> float:
    """Seconds one pass takes in a new process (decoding's caches start empty there)."""
    args = [sys.executable, __file__, "--_pass", name, "--_file", str(path)]
    out = subprocess.run(args + (["--wall"] if wall else []), capture_output=True, text=True)
    if out.returncode:
        raise SystemExit(out.stderr)
    seconds: float = json.loads(out.stdout.strip().splitlines()[-1])["seconds"]
    return seconds


def _pass_child(name: str, path: Path, wall: bool) -> None:
    p = persona()
    clock = time.perf_counter if wall else time.process_time
    gc.collect()
    t = clock()
    count = PASSES[name](path, p)
    print(json.dumps({"pass": name, "flows": count, "seconds": clock() - t}))


def _pinned() -> str:
    if not hasattr(os, "sched_setaffinity"):
        return ", not pinned (no sched_setaffinity here)"
    cpus = os.sched_getaffinity(0)
    return f", pinned to CPU {min(cpus)}" if len(cpus) == 1 else ", not pinned"


# --------------------------------------------------------------------------- memory


def _memory_child(n: int) -> None:
    flows = pool(random.Random(7))
    det = Detector(persona())
    count = 0
    for f in stream(flows, n):
        count += len(det.observe(f, decode_flow(f)))
    print(json.dumps({"flows": n, "observations": count, "peak_kb": _peak_rss_kb()}))


def _peak_rss_kb() -> int:
    """This process's peak resident set. ``/proc/self/status`` VmHWM where there is one:
    ``ru_maxrss`` survives ``exec`` and so can report the peak of the (large) parent that
    started this child, not the child's own."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


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
    ap.add_argument("--pool", type=int, default=POOL, help="distinct flows the capture cycles")
    ap.add_argument("--wall", action="store_true", help="measure wall-clock time, not CPU time")
    ap.add_argument(
        "--distinct", type=int, default=20_000, help="flows of the all-distinct capture (0: none)"
    )
    ap.add_argument("--no-memory", action="store_true")
    ap.add_argument("--quick", action="store_true", help="20k flows, 3 rounds, memory to 100k")
    ap.add_argument("--_memory", type=int, default=0, help=argparse.SUPPRESS)
    ap.add_argument("--_pass", default="", help=argparse.SUPPRESS)
    ap.add_argument("--_file", default="", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args._memory:
        _memory_child(args._memory)
        return
    if args._pass:
        _pass_child(args._pass, Path(args._file), args.wall)
        return
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {max(os.sched_getaffinity(0))})  # one core for what is measured
    flows, rounds = (20_000, 3) if args.quick else (args.flows, args.rounds)
    throughput(flows, rounds, args.pool, args.wall, 5_000 if args.quick else args.distinct)
    if not args.no_memory:
        memory([10_000, 100_000] if args.quick else [10_000, 100_000, 1_000_000])


if __name__ == "__main__":
    main()
