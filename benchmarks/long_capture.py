"""A long capture: 200k flows through a real mitmdump with the edscan recorder.

The recorder must keep nothing per flow: mitmdump's resident memory is read from /proc at every
tenth of the run. The baseline, measured in the same run, is the reading after the second tenth,
once the proxy, its certificate cache and the recorder are warm; "flat" is the growth from there
to the end, per flow: anything kept per flow (a record is ~400 bytes) would show as hundreds of
bytes. The capture is then read back by edscan's own reader: every flow must be there, each
request once (by its sequence number), and the file must end cleanly (no cut-off last line).

Target (issue "reliability"): memory flat (growth after the baseline < 20 bytes per flow, and
the end within 1.10x of the baseline), the file valid, every flow there.

The mix is the proxy benchmark's small JSON events (one in five gzip-encoded), generated as
the run goes so the load generator's own memory stays small; plain HTTP on loopback, 8
keep-alive connections.

    .venv/bin/python benchmarks/long_capture.py [--flows 200000]
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import json
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from proxy_overhead import BIN, SCRIPT, drive, free_port, start_origin, wait_listening

from edscan.capture.source import open_source

TARGET_RATIO = 1.10
TARGET_SLOPE = 20  # bytes per flow
_SEQ = re.compile(r"[?&]seq=(\d+)")


def requests(origin: str, start: int, stop: int) -> Iterator[bytes]:
    for i in range(start, stop):
        event = {"event": "page_view", "student": {"id": f"stu-{i % 37}"}, "ms": i % 997}
        body = json.dumps(event).encode()
        headers = [f"Host: {origin}", "User-Agent: bench/1", "Content-Type: application/json"]
        if i % 5 == 2:
            body = gzip.compress(body * 8, mtime=0)
            headers.append("Content-Encoding: gzip")
        headers.append(f"Content-Length: {len(body)}")
        head = f"POST http://{origin}/v1/events?seq={i} HTTP/1.1\r\n" + "\r\n".join(headers)
        yield head.encode() + b"\r\n\r\n" + body


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--flows", type=int, default=200_000)
    ap.add_argument("--concurrency", type=int, default=8)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="edscan-bench-long-") as d:
        tmp = Path(d)
        origin, origin_port = start_origin(tmp, [], None, None)
        capture = tmp / "long.edscan.jsonl"
        port = free_port()
        proxy = None
        try:
            host = f"127.0.0.1:{origin_port}"
            proxy = subprocess.Popen(
                [str(BIN / "mitmdump"), "-q", "--listen-host", "127.0.0.1",
                 "--listen-port", str(port), "--set", f"confdir={tmp / 'conf'}",
                 "-s", str(SCRIPT), "--set", f"edscan_capture={capture}"],
                stdout=subprocess.DEVNULL,
            )  # fmt: skip
            wait_listening(port, proxy, timeout=30)
            step = a.flows // 10
            readings: list[tuple[int, float]] = []
            started = time.perf_counter()
            for k in range(10):
                batch = requests(host, k * step, (k + 1) * step if k < 9 else a.flows)
                asyncio.run(drive(port, list(batch), a.concurrency, None))
                readings.append(((k + 1) * step if k < 9 else a.flows, rss_mb(proxy.pid)))
                print(
                    f"{readings[-1][0]:>8} flows  mitmdump RSS {readings[-1][1]:6.1f} MB",
                    flush=True,
                )
            took = time.perf_counter() - started
        finally:
            if proxy is not None:
                proxy.send_signal(signal.SIGINT)
                proxy.wait(timeout=60)
            origin.kill()
            origin.wait()

        seen: set[int] = set()
        repeats = 0
        source = open_source(capture)
        for flow in source:
            m = _SEQ.search(flow.url)
            if m is None or flow.status != 200:
                raise SystemExit(f"flow {flow.index} is not one of the run's: {flow.url}")
            n = int(m.group(1))
            repeats += n in seen
            seen.add(n)
        problems = list(source.warnings)
        size = capture.stat().st_size / (1 << 20)

    (at, base), (end, last) = readings[1], readings[-1]
    slope = (last - base) * (1 << 20) / (end - at)
    flat = slope < TARGET_SLOPE and last / base <= TARGET_RATIO
    missing = a.flows - len(seen)
    print(
        f"{a.flows} flows in {took:.0f} s ({a.flows / took:.0f}/s), capture {size:.0f} MiB; "
        f"mitmdump RSS {readings[0][1]:.1f} MB after {readings[0][0]} flows, {base:.1f} MB after "
        f"{at} (baseline), {last:.1f} MB at the end: {last / base:.3f}x baseline, "
        f"{slope:.1f} bytes per flow after it ({'meets' if flat else 'misses'} the target: "
        f"< {TARGET_SLOPE} bytes per flow, <= {TARGET_RATIO:.2f}x)"
    )
    print(
        f"read back: {len(seen)} distinct flows, {missing} missing, {repeats} repeated, "
        f"{len(problems)} reader warnings" + (f": {problems[:3]}" if problems else "")
    )
    if missing or repeats or problems or not flat:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
