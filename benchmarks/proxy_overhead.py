"""What recording costs the proxy: plain mitmdump against mitmdump with the edscan recorder.

One run alternates A (plain ``mitmdump``) and B (``mitmdump -s addons/edscan_recorder.py``)
over several rounds on loopback, with the proxy pinned to core 0 and the load generator and
origin pinned to core 1, and prints each round's throughput and p50/p99 latency and the
median ratios. Target: B keeps >= 0.97 of A's throughput and adds < 10% to p99.

The mix: small JSON POSTs with query strings, one request in ten with a 200 KB body (JSON
text or binary, alternately), two in ten with a gzip-encoded body, one response in four
gzip-encoded. The load generator is a few raw HTTP/1.1 keep-alive connections (so it costs
little next to the proxy); the origin is a separate process.

    .venv/bin/python benchmarks/proxy_overhead.py [--rounds 5] [--requests 1500]
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import json
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
SCRIPT = ROOT / "addons" / "edscan_recorder.py"


# --------------------------------------------------------------------------- origin


def _response(gzipped: bool) -> bytes:
    body = json.dumps({"ok": True, "next": "/v1/events", "ts": 1700000000}).encode() * 3
    extra = b""
    if gzipped:
        body = gzip.compress(body, mtime=0)
        extra = b"Content-Encoding: gzip\r\n"
    return (
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n" + extra
        + b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body
    )  # fmt: skip


def _content_length(head: bytes) -> int:
    """The Content-Length of a header block that ends with CRLF (0 when absent)."""
    low = head.lower()
    i = low.find(b"\r\ncontent-length:")
    if i < 0:
        return 0
    return int(low[i + 17 : low.index(b"\r\n", i + 2)])


class _OriginProtocol(asyncio.Protocol):
    RESPONSES = (_response(False), _response(False), _response(False), _response(True))

    def __init__(self) -> None:
        self.buf = b""
        self.count = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buf += data
        while True:
            end = self.buf.find(b"\r\n\r\n")
            if end < 0:
                return
            length = _content_length(self.buf[: end + 2])
            total = end + 4 + length
            if len(self.buf) < total:
                return
            self.buf = self.buf[total:]
            self.transport.write(self.RESPONSES[self.count % 4])
            self.count += 1


def run_origin(port_file: Path) -> None:
    async def main() -> None:
        loop = asyncio.get_running_loop()
        server = await loop.create_server(_OriginProtocol, "127.0.0.1", 0)
        port_file.write_text(str(server.sockets[0].getsockname()[1]))
        await asyncio.Event().wait()

    asyncio.run(main())


# --------------------------------------------------------------------------- load


def build_requests(origin_port: int, n: int) -> list[bytes]:
    rng = random.Random(7)
    host = f"127.0.0.1:{origin_port}"
    big_json = json.dumps({"essay": "".join(rng.choice("abcdefgh ") for _ in range(200_000))})
    big_binary = rng.randbytes(200_000)
    out = []
    for i in range(n):
        query = f"uid=stu-{i % 37}&session=s{i % 5}&seq={i}&v=2.3.1"
        kind = i % 10
        headers = [f"Host: {host}", "User-Agent: bench/1", "Accept: application/json"]
        if kind == 9:
            if (i // 10) % 2:
                path, body = "/v1/upload", big_json.encode()
                headers.append("Content-Type: application/json")
            else:
                path, body = "/v1/upload", big_binary
                headers.append("Content-Type: application/octet-stream")
        else:
            event = {
                "event": "page_view",
                "student": {"id": f"stu-{i % 37}", "grade": 7},
                "props": {"page": f"/quiz/{i % 11}", "ms": i % 997},
            }
            body = json.dumps(event).encode()
            path = "/v1/events"
            headers.append("Content-Type: application/json")
            if kind in (2, 5):
                body = gzip.compress(body * 8, mtime=0)
                headers.append("Content-Encoding: gzip")
        headers.append(f"Content-Length: {len(body)}")
        head = f"POST http://{host}{path}?{query} HTTP/1.1\r\n" + "\r\n".join(headers) + "\r\n\r\n"
        out.append(head.encode() + body)
    return out


async def _read_response(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = _content_length(head)
    if length:
        await reader.readexactly(length)
    return status


async def drive(proxy_port: int, requests: list[bytes], concurrency: int) -> list[float]:
    """Send every request through the proxy; the latency of each, in seconds."""
    latencies: list[float] = []
    queue = iter(requests)

    async def worker() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", proxy_port)
        try:
            for req in queue:
                t0 = time.perf_counter()
                writer.write(req)
                status = await _read_response(reader)
                latencies.append(time.perf_counter() - t0)
                if status != 200:
                    raise RuntimeError(f"proxy answered {status}")
        finally:
            writer.close()

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return latencies


# --------------------------------------------------------------------------- runs


@dataclass
class Result:
    throughput: float
    p50: float
    p99: float
    cpu: float  # the proxy's CPU time per request, ms (user + system, all its threads)


def _cpu_seconds(pid: int) -> float:
    """CPU time used so far by a process (Linux /proc; 0 elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_port(port: int, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("mitmdump exited before listening")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError("mitmdump did not start")


def one_run(
    recorder: bool,
    origin_port: int,
    warmup: list[bytes],
    measured: list[bytes],
    concurrency: int,
    tmp: Path,
    pin: list[str],
    script: Path | None = None,
) -> Result:
    port = _free_port()
    capture = tmp / "bench.edscan.jsonl"
    capture.unlink(missing_ok=True)
    args = [
        *pin, str(BIN / "mitmdump"), "-q",
        "--listen-host", "127.0.0.1", "--listen-port", str(port),
        "--set", f"confdir={tmp / 'conf'}",
    ]  # fmt: skip
    if recorder and script is not None:
        args += ["-s", str(script)]
    elif recorder:
        args += ["-s", str(SCRIPT), "--set", f"edscan_capture={capture}"]
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_port(port, proc)
        asyncio.run(drive(port, warmup, concurrency))
        cpu0 = _cpu_seconds(proc.pid)
        t0 = time.perf_counter()
        lat = asyncio.run(drive(port, measured, concurrency))
        elapsed = time.perf_counter() - t0
        cpu = _cpu_seconds(proc.pid) - cpu0
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    if recorder and script is None:
        lines = capture.read_bytes().count(b"\n") - 1
        if lines != len(warmup) + len(measured):
            raise RuntimeError(
                f"the capture holds {lines} flows, not {len(warmup) + len(measured)}"
            )
    q = statistics.quantiles(lat, n=100)
    return Result(
        throughput=len(measured) / elapsed,
        p50=q[49] * 1000,
        p99=q[98] * 1000,
        cpu=cpu / len(measured) * 1000,
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--requests", type=int, default=1500)
    ap.add_argument("--warmup", type=int, default=200)
    ap.add_argument("--concurrency", type=int, default=8)
    ap.add_argument("--origin", type=Path, help=argparse.SUPPRESS)  # internal: run the origin
    ap.add_argument(
        "--script", type=Path, default=None,
        help="measure this mitmproxy script instead of the recorder (to profile the baseline)",
    )  # fmt: skip
    a = ap.parse_args()
    if a.origin:
        run_origin(a.origin)
        return
    if a.rounds < 5:
        ap.error("--rounds must be at least 5")

    two_cores = (os.cpu_count() or 1) >= 2 and shutil.which("taskset") is not None
    proxy_pin = ["taskset", "-c", "0"] if two_cores else []
    load_pin = ["taskset", "-c", "1"] if two_cores else []
    if two_cores:
        os.sched_setaffinity(0, {1})  # this process is the load generator
    else:
        print("warning: fewer than two cores or no taskset; running unpinned", file=sys.stderr)

    with tempfile.TemporaryDirectory(prefix="edscan-bench-") as d:
        tmp = Path(d)
        port_file = tmp / "origin.port"
        origin = subprocess.Popen([*load_pin, sys.executable, __file__, "--origin", str(port_file)])
        try:
            deadline = time.monotonic() + 10
            while not port_file.exists() or not port_file.read_text():
                if time.monotonic() > deadline:
                    raise TimeoutError("the origin did not start")
                time.sleep(0.05)
            origin_port = int(port_file.read_text())
            reqs = build_requests(origin_port, a.warmup + a.requests)
            warmup, measured = reqs[: a.warmup], reqs[a.warmup :]
            print(
                f"{a.rounds} rounds × {a.requests} requests (+{a.warmup} warm-up), "
                f"{a.concurrency} connections; proxy on core 0, load and origin on core 1"
                if two_cores
                else f"{a.rounds} rounds × {a.requests} requests, unpinned"
            )
            print(
                f"{'round':>5}  {'run':<9} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} "
                f"{'proxy CPU ms/req':>17}"
            )
            ratios_tp: list[float] = []
            ratios_p50: list[float] = []
            ratios_p99: list[float] = []
            ratios_cpu: list[float] = []
            plain_all: list[Result] = []
            rec_all: list[Result] = []
            for r in range(1, a.rounds + 1):
                results = {}
                # alternate which goes first, so drift over the run hits both alike
                order = (False, True) if r % 2 else (True, False)
                for recorder in order:
                    res = one_run(
                        recorder, origin_port, warmup, measured, a.concurrency, tmp, proxy_pin,
                        a.script,
                    )  # fmt: skip
                    results[recorder] = res
                    name = "recorder" if recorder else "plain"
                    print(
                        f"{r:>5}  {name:<9} {res.throughput:8.1f} {res.p50:8.2f} "
                        f"{res.p99:8.2f} {res.cpu:17.3f}"
                    )
                plain, rec = results[False], results[True]
                plain_all.append(plain)
                rec_all.append(rec)
                ratios_tp.append(rec.throughput / plain.throughput)
                ratios_p50.append(rec.p50 / plain.p50)
                ratios_p99.append(rec.p99 / plain.p99)
                ratios_cpu.append(rec.cpu / plain.cpu if plain.cpu else float("nan"))
        finally:
            origin.kill()
            origin.wait()

    med = statistics.median
    print()
    print(
        f"median plain:    {med(x.throughput for x in plain_all):7.1f} req/s  "
        f"p50 {med(x.p50 for x in plain_all):6.2f} ms  p99 {med(x.p99 for x in plain_all):6.2f} ms"
    )
    print(
        f"median recorder: {med(x.throughput for x in rec_all):7.1f} req/s  "
        f"p50 {med(x.p50 for x in rec_all):6.2f} ms  p99 {med(x.p99 for x in rec_all):6.2f} ms"
    )
    tp, p50, p99 = med(ratios_tp), med(ratios_p50), med(ratios_p99)
    print(f"median ratio recorder/plain: throughput {tp:.3f}  p50 {p50:.3f}  p99 {p99:.3f}")
    # CPU per request is what throughput measures on a saturated pinned core, and it is far
    # less disturbed by other work on the machine than wall-clock figures
    print(f"median ratio of proxy CPU time per request: {med(ratios_cpu):.3f}")
    ok_tp, ok_p99 = tp >= 0.97, p99 < 1.10
    print(f"target throughput >= 0.97: {'met' if ok_tp else 'MISSED'}")
    print(f"target p99 added < 10%:    {'met' if ok_p99 else 'MISSED'}")


if __name__ == "__main__":
    main()
