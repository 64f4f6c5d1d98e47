"""What recording costs the proxy: plain mitmdump against mitmdump with the edscan recorder.

One run alternates A (plain ``mitmdump``) and B (``mitmdump -s addons/edscan_recorder.py``)
over several rounds on loopback, with the proxy pinned to core 0 and the load generator and
origin pinned to core 1 (``taskset``), and prints each round's throughput, p50/p99 latency and
the proxy's CPU time per request, then the median ratios. Target: B keeps >= 0.97 of A's
throughput and adds < 10% to p99.

The mix: small JSON POSTs with query strings, one request in ten with a 200 KB body (JSON text
and binary, alternately), two in ten with a gzip-encoded body, one response in four
gzip-encoded; over HTTPS by default (as ed-tech apps talk; the origin's self-signed CA is the
only one mitmdump trusts upstream) or plain HTTP. mitmdump runs as a user runs it (its flow
log going to /dev/null) unless ``--quiet`` adds ``-q``. The load generator is a few raw HTTP/1.1
keep-alive connections, so it costs little next to the proxy; the origin is its own process.

    .venv/bin/python benchmarks/proxy_overhead.py [--rounds 5] [--requests 1500]
        [--scheme https|http] [--quiet]

The CPU time per request is the steadier figure on a shared machine: throughput on a
saturated pinned core is its inverse, but wall-clock numbers also move with whatever else runs.
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
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
from liveproxy import free_port, make_pki, wait_listening  # noqa: E402  (the tests' own PKI)

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
            total = end + 4 + _content_length(self.buf[: end + 2])
            if len(self.buf) < total:
                return
            self.buf = self.buf[total:]
            self.transport.write(self.RESPONSES[self.count % 4])
            self.count += 1


def run_origin(port_file: Path, cert: Path | None, key: Path | None) -> None:
    tls = None
    if cert is not None and key is not None:
        tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        tls.load_cert_chain(cert, key)

    async def main() -> None:
        loop = asyncio.get_running_loop()
        server = await loop.create_server(_OriginProtocol, "127.0.0.1", 0, ssl=tls)
        port_file.write_text(str(server.sockets[0].getsockname()[1]))
        await asyncio.Event().wait()

    asyncio.run(main())


def start_origin(
    tmp: Path, pin: list[str], cert: Path | None, key: Path | None
) -> tuple[subprocess.Popen[bytes], int]:
    """The origin, in a process of its own, and the port it listens on (HTTPS with a cert)."""
    port_file = tmp / "origin.port"
    origin = subprocess.Popen(
        [*pin, sys.executable, __file__, "--origin", str(port_file),
         str(cert or "-"), str(key or "-")]
    )  # fmt: skip
    deadline = time.monotonic() + 10
    while not port_file.exists() or not port_file.read_text():
        if time.monotonic() > deadline:
            origin.kill()
            raise TimeoutError("the origin did not start")
        time.sleep(0.05)
    return origin, int(port_file.read_text())


# --------------------------------------------------------------------------- load


def build_requests(origin: str, n: int, *, absolute: bool) -> list[bytes]:
    """The request mix, as raw HTTP/1.1 (absolute-form for a plain-HTTP proxy)."""
    rng = random.Random(7)
    big_json = json.dumps({"essay": "".join(rng.choice("abcdefgh ") for _ in range(200_000))})
    big_binary = rng.randbytes(200_000)
    out = []
    for i in range(n):
        query = f"uid=stu-{i % 37}&session=s{i % 5}&seq={i}&v=2.3.1"
        kind = i % 10
        headers = [f"Host: {origin}", "User-Agent: bench/1", "Accept: application/json"]
        if kind == 9:
            path = "/v1/upload"
            if (i // 10) % 2:
                body = big_json.encode()
                headers.append("Content-Type: application/json")
            else:
                body = big_binary
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
        target = f"http://{origin}{path}?{query}" if absolute else f"{path}?{query}"
        head = f"POST {target} HTTP/1.1\r\n" + "\r\n".join(headers) + "\r\n\r\n"
        out.append(head.encode() + body)
    return out


async def _read_response(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = _content_length(head)
    if length:
        await reader.readexactly(length)
    return status


async def drive(
    proxy_port: int,
    requests: list[bytes],
    concurrency: int,
    tunnel: tuple[str, ssl.SSLContext] | None,
) -> list[float]:
    """Send every request through the proxy; the latency of each, in seconds.

    ``tunnel`` is (origin host:port, a context trusting the proxy's CA) for HTTPS.
    """
    latencies: list[float] = []
    queue = iter(requests)

    async def worker() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", proxy_port)
        try:
            if tunnel is not None:
                origin, context = tunnel
                writer.write(f"CONNECT {origin} HTTP/1.1\r\nHost: {origin}\r\n\r\n".encode())
                head = await reader.readuntil(b"\r\n\r\n")
                if head[9:12] != b"200":
                    raise RuntimeError(f"CONNECT answered {head[:40]!r}")
                await writer.start_tls(context, server_hostname=origin.split(":")[0])
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


@dataclass
class Setup:
    origin_port: int
    origin_ca: Path | None  # set for HTTPS
    warmup: list[bytes]
    measured: list[bytes]
    concurrency: int
    quiet: bool
    tmp: Path
    pin: list[str]


def _cpu_seconds(pid: int) -> float:
    """CPU time used so far by a process (Linux /proc; 0 elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def one_run(s: Setup, recorder: bool, script: Path | None, alerts: str = "none") -> Result:
    port = free_port()
    capture = s.tmp / "bench.edscan.jsonl"
    capture.unlink(missing_ok=True)
    confdir = s.tmp / "conf"
    args = [
        *s.pin, str(BIN / "mitmdump"),
        "--listen-host", "127.0.0.1", "--listen-port", str(port),
        "--set", f"confdir={confdir}",
    ]  # fmt: skip
    if s.quiet:
        args.append("-q")
    if s.origin_ca is not None:
        args += ["--set", f"ssl_verify_upstream_trusted_ca={s.origin_ca}"]
    if recorder and script is not None:
        args += ["-s", str(script)]
    elif recorder:
        args += ["-s", str(SCRIPT), "--set", f"edscan_capture={capture}"]
        args += ["--set", f"edscan_alerts={alerts}"]
    proc = subprocess.Popen(
        args, stdout=subprocess.DEVNULL, stderr=None if script else subprocess.DEVNULL
    )
    try:
        wait_listening(port, proc, timeout=30)
        tunnel = None
        if s.origin_ca is not None:
            context = ssl.create_default_context(cafile=str(confdir / "mitmproxy-ca-cert.pem"))
            tunnel = (f"localhost:{s.origin_port}", context)
        asyncio.run(drive(port, s.warmup, s.concurrency, tunnel))
        cpu0 = _cpu_seconds(proc.pid)
        t0 = time.perf_counter()
        lat = asyncio.run(drive(port, s.measured, s.concurrency, tunnel))
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
        flows = capture.read_bytes().count(b"\n") - 1
        if flows != len(s.warmup) + len(s.measured):
            raise RuntimeError(
                f"the capture holds {flows} flows, not {len(s.warmup) + len(s.measured)}"
            )
    q = statistics.quantiles(lat, n=100)
    return Result(
        throughput=len(s.measured) / elapsed,
        p50=q[49] * 1000,
        p99=q[98] * 1000,
        cpu=cpu / len(s.measured) * 1000,
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--requests", type=int, default=1500)
    ap.add_argument("--warmup", type=int, default=200)
    ap.add_argument("--concurrency", type=int, default=8)
    ap.add_argument("--scheme", choices=("https", "http"), default="https")
    ap.add_argument("--quiet", action="store_true", help="run mitmdump with -q (no flow log)")
    ap.add_argument(
        "--script", type=Path, default=None,
        help="measure this mitmproxy script instead of the recorder (to profile the baseline)",
    )  # fmt: skip
    ap.add_argument(
        "--alerts", action="store_true",
        help="also measure the recorder with live alerts on (edscan_alerts=all)",
    )  # fmt: skip
    ap.add_argument(
        "--latency", action="store_true",
        help="measure only the live-alert latency at --rate requests/s",
    )  # fmt: skip
    ap.add_argument("--rate", type=float, default=100.0)
    ap.add_argument("--origin", nargs=3, help=argparse.SUPPRESS)  # internal: run the origin
    a = ap.parse_args()
    if a.origin:
        port_file, cert, key = a.origin
        run_origin(Path(port_file), Path(cert) if cert != "-" else None, Path(key) if key != "-" else None)  # fmt: skip
        return
    if a.latency:
        alert_latency(a.rate, a.requests)
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
        https = a.scheme == "https"
        pki = make_pki(tmp) if https else None
        ca, cert, key = (pki.ca_pem, pki.cert_pem, pki.key_pem) if pki else (None, None, None)
        origin, origin_port = start_origin(tmp, load_pin, cert, key)
        try:
            host = f"localhost:{origin_port}" if https else f"127.0.0.1:{origin_port}"
            reqs = build_requests(host, a.warmup + a.requests, absolute=not https)
            setup = Setup(
                origin_port=origin_port,
                origin_ca=ca,
                warmup=reqs[: a.warmup],
                measured=reqs[a.warmup :],
                concurrency=a.concurrency,
                quiet=a.quiet,
                tmp=tmp,
                pin=proxy_pin,
            )
            where = "proxy on core 0, load and origin on core 1" if two_cores else "unpinned"
            print(
                f"{a.rounds} rounds × {a.requests} requests (+{a.warmup} warm-up), "
                f"{a.concurrency} connections, {a.scheme}, mitmdump "
                f"{'-q' if a.quiet else 'with its flow log'}; {where}"
            )
            print(
                f"{'round':>5}  {'run':<9} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} "
                f"{'proxy CPU ms/req':>17}"
            )
            plain_all: list[Result] = []
            rec_all: list[Result] = []
            alert_all: list[Result] = []
            modes = ["plain", "recorder"] + (["alerts"] if a.alerts else [])
            for r in range(1, a.rounds + 1):
                results = {}
                # alternate which goes first, so drift over the run hits all alike
                for name in modes if r % 2 else modes[::-1]:
                    res = one_run(
                        setup, name != "plain", a.script, "all" if name == "alerts" else "none"
                    )
                    results[name] = res
                    print(
                        f"{r:>5}  {name:<9} {res.throughput:8.1f} {res.p50:8.2f} "
                        f"{res.p99:8.2f} {res.cpu:17.3f}",
                        flush=True,
                    )
                plain_all.append(results["plain"])
                rec_all.append(results["recorder"])
                if a.alerts:
                    alert_all.append(results["alerts"])
        finally:
            origin.kill()
            origin.wait()

    med = statistics.median

    def ratio(attr: str, runs: list[Result] = rec_all) -> float:
        return med(
            getattr(b, attr) / getattr(p, attr) for p, b in zip(plain_all, runs, strict=True)
        )

    print()
    named = [("plain:   ", plain_all), ("recorder:", rec_all)]
    if alert_all:
        named.append(("alerts:  ", alert_all))
    for name, runs in named:
        print(
            f"median {name} {med(x.throughput for x in runs):7.1f} req/s  "
            f"p50 {med(x.p50 for x in runs):6.2f} ms  p99 {med(x.p99 for x in runs):6.2f} ms  "
            f"CPU {med(x.cpu for x in runs):.3f} ms/req"
        )
    tp, p99 = ratio("throughput"), ratio("p99")
    print(
        f"median ratio recorder/plain: throughput {tp:.3f}  p50 {ratio('p50'):.3f}  "
        f"p99 {p99:.3f}  proxy CPU per request {ratio('cpu'):.3f}"
    )
    print(f"target throughput >= 0.97: {'met' if tp >= 0.97 else 'MISSED'}")
    print(f"target p99 added < 10%:    {'met' if p99 < 1.10 else 'MISSED'}")
    if alert_all:
        atp = ratio("throughput", alert_all)
        print(
            f"median ratio alerts/plain: throughput {atp:.3f}  p99 "
            f"{ratio('p99', alert_all):.3f}  proxy CPU per request {ratio('cpu', alert_all):.3f}"
        )
        print(f"target alerts throughput >= 0.95: {'met' if atp >= 0.95 else 'MISSED'}")


# --------------------------------------------------------------------------- alert latency

# Loaded beside the recorder: answers the "tracker" hosts locally (no network) and writes,
# for every alert, the seconds from the request's start to the alert reaching the console.
_LATENCY_ADDON = """
import time
from mitmproxy import ctx, http
class Bench:
    def __init__(self):
        self.out = None
    def running(self):
        live = ctx.master.addons.get("livealerts")
        self.out = open(OUT, "a")
        def shown(alert):
            self.out.write(f"{time.time() - alert.time:.6f}\\n")
            self.out.flush()
        live.on_alert = shown
    def request(self, f):
        f.response = http.Response.make(204, b"", {})
addons = [Bench()]
"""


def alert_latency(rate: float, n: int) -> None:
    """Send ``n`` requests at ``rate``/s, each a new e-mail to a new tracker domain."""
    import urllib.request

    with tempfile.TemporaryDirectory(prefix="edscan-latency-") as d:
        tmp = Path(d)
        out = tmp / "latency.txt"
        addon = tmp / "bench_latency.py"
        addon.write_text(f"OUT = {str(out)!r}\n" + _LATENCY_ADDON)
        port = free_port()
        args = [
            str(BIN / "mitmdump"), "-q", "--listen-host", "127.0.0.1", "--listen-port",
            str(port), "--set", f"confdir={tmp / 'conf'}", "-s", str(SCRIPT),
            "--set", f"edscan_capture={tmp / 'l.edscan.jsonl'}", "-s", str(addon),
            "--set", "edscan_first_party=school.example",
        ]  # fmt: skip
        proc = subprocess.Popen(args)
        try:
            wait_listening(port, proc, timeout=30)
            opener = urllib.request.build_opener(
                urllib.request.ProxyHandler({"http": f"http://127.0.0.1:{port}"})
            )
            # the analyser's process starts with the proxy; its first alert says it is ready
            # (startup is reported apart from the steady latency the target is about)
            started = time.perf_counter()
            opener.open("http://px.warmup.example/c?email=warm%40school.example").read()
            while not (out.exists() and out.read_text().strip()):
                if time.perf_counter() - started > 60:
                    raise SystemExit("no alert within 60 s of the first request")
                time.sleep(0.01)
            ready = time.perf_counter() - started
            t0 = time.perf_counter()
            for i in range(n):
                due = t0 + i / rate
                time.sleep(max(0.0, due - time.perf_counter()))
                url = f"http://px.tracker{i}.example/c?email=student{i}%40school.example"
                opener.open(url).read()
            time.sleep(2)
        finally:
            proc.send_signal(signal.SIGINT)
            proc.wait(timeout=20)
        lat = [float(x) for x in out.read_text().split()][1:]  # without the warm-up's
    q = statistics.quantiles(lat, n=100)
    print(f"first alert {ready:.2f} s after the first request (the analyser starting)")
    print(f"{len(lat)} alerts for {n} requests at {rate:g}/s")
    print(f"alert latency p50 {q[49] * 1000:.1f} ms  p95 {q[94] * 1000:.1f} ms  max "
          f"{max(lat) * 1000:.1f} ms")  # fmt: skip
    print(f"target p95 < 1 s: {'met' if q[94] < 1.0 else 'MISSED'}")


if __name__ == "__main__":
    main()
