"""End to end: a real mitmdump with the recorder script, and `edscan capture` itself, on
loopback, with local HTTP, HTTPS and WebSocket origins."""

from __future__ import annotations

import gzip
import os
import re
import signal
import socket
import ssl
import stat
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from liveproxy import (
    BIN,
    GZIP_BODY,
    analyser_processes,
    free_port,
    http_origin,
    make_pki,
    mitmdump,
    wait_ended,
    websocket_exchange,
    ws_origin,
)

from edscan.capture.capture_file import read_capture

pytestmark = pytest.mark.e2e


def _client(proxy_url: str, verify: object = True) -> httpx.Client:
    return httpx.Client(proxy=proxy_url, verify=verify, trust_env=False, timeout=10)  # type: ignore[arg-type]


def _x_headers(headers: tuple[tuple[str, str], ...]) -> list[tuple[str, str]]:
    return [(k, v) for k, v in headers if k.lower().startswith("x-")]


def test_mitmdump_records_every_flow_as_sent(tmp_path: Path) -> None:
    pki = make_pki(tmp_path)
    capture = tmp_path / "session.edscan.jsonl"
    json_body = b'{"student":"ada@example.edu","score":7}'
    sent_headers = [("X-Order-B", "b"), ("X-Dup", "1"), ("X-Order-A", "a"), ("X-Dup", "2")]
    gz_upload = gzip.compress(b'{"essay":"My summer holidays"}' * 40, mtime=0)
    closed_port = free_port()

    with (
        http_origin() as plain,
        http_origin(pki.server_context(), host="localhost") as secure,
        ws_origin() as ws_port,
        mitmdump(tmp_path, capture, trusted_ca=pki.ca_pem) as proxy,
    ):
        with _client(proxy.proxy_url, proxy.client_context()) as client:
            r0 = client.get(plain.url("/hello?x=1"))
            mark = client.get("http://edscan.mark/login")
            r1 = client.post(
                secure.url("/v1/events?uid=42&ts=1"),
                content=json_body,
                headers=[*sent_headers, ("Content-Type", "application/json")],
            )
            r2 = client.post(
                plain.url("/upload"),
                content=gz_upload,
                headers={"Content-Encoding": "gzip", "Content-Type": "application/json"},
            )
            r3 = client.get(secure.url("/gzip"))
            r4 = client.get(f"http://127.0.0.1:{closed_port}/nothing-here")
            mark2 = client.get("https://edscan.mark/quiz")  # inside a TLS tunnel, too
        seen_ws = websocket_exchange(proxy.port, ws_port)
        assert proxy.stop() == 0, proxy.log.read_text()

    assert [r.status_code for r in (r0, mark, r1, r2, r3, r4, mark2)] == [
        200, 200, 200, 200, 200, 502, 200,
    ]  # fmt: skip
    assert "login" in mark.text and "quiz" in mark2.text
    assert r3.content == gzip.decompress(GZIP_BODY)  # the client saw it decoded

    reader = read_capture(capture)
    flows = list(reader)
    assert reader.warnings == []
    assert reader.header["settings"]["ssl_insecure"] is False
    assert stat.S_IMODE(capture.stat().st_mode) == 0o600
    # the two phase-mark pages are answered by the recorder, never recorded
    assert [(f.method, urlsplit(f.url).path, f.phase) for f in flows] == [
        ("GET", "/hello", None),
        ("POST", "/v1/events", "login"),
        ("POST", "/upload", "login"),
        ("GET", "/gzip", "login"),
        ("GET", "/nothing-here", "login"),
        ("GET", "/ws", "quiz"),
    ]
    assert [f.index for f in flows] == list(range(6))
    hello, event, upload, gz, failed, ws = flows

    # headers exactly as they reached the origin: order and duplicates kept
    received = {str(r["path"]): r for r in plain.received + secure.received}
    for flow in (hello, event, upload, gz):
        path = urlsplit(flow.url).path + (f"?{urlsplit(flow.url).query}" if "?" in flow.url else "")
        assert list(flow.request_headers) == list(received[path]["headers"])  # type: ignore[call-overload]
    assert _x_headers(event.request_headers) == sent_headers
    assert _x_headers(hello.response_headers) == [("X-Dup", "one"), ("X-Dup", "two")]
    assert [v for k, v in hello.response_headers if k == "Set-Cookie"] == [
        "a=1; Path=/",
        "b=2; Path=/",
    ]

    # bodies as sent; compressed ones stay compressed
    assert event.request_body is not None and event.request_body.content == json_body
    assert upload.request_body is not None and upload.request_body.content == gz_upload
    assert upload.request_header("Content-Encoding") == "gzip"
    assert gz.response_body is not None and gz.response_body.content == GZIP_BODY
    assert gz.response_header("Content-Encoding") == "gzip"
    assert hello.response_body is not None
    assert hello.response_body.content == plain.sent["/hello?x=1"]

    # connection facts
    assert event.url == secure.url("/v1/events?uid=42&ts=1")
    assert event.scheme == "https" and event.tls_intercepted is True and event.sni == "localhost"
    assert event.tls_version is not None and event.tls_version.startswith("TLS")
    assert event.server_address is not None and event.server_address[1] == secure.port
    assert hello.tls_intercepted is False and hello.client_address is not None

    # the failed connection
    assert failed.status is None and failed.response_body is None
    assert failed.error is not None and str(closed_port) in failed.error

    # the WebSocket connection, with every message in order
    assert ws.status == 101 and ws.url == f"http://127.0.0.1:{ws_port}/ws?room=7"
    assert [(m.from_client, m.content) for m in ws.websocket] == seen_ws
    assert [m.is_text for m in ws.websocket] == [True, True, False, False]


def test_max_body_cuts_long_bodies(tmp_path: Path) -> None:
    capture = tmp_path / "cut.edscan.jsonl"
    with (
        http_origin() as plain,
        mitmdump(tmp_path, capture, extra=("--set", "edscan_max_body=1000")) as proxy,
    ):
        with _client(proxy.proxy_url) as client:
            r = client.get(plain.url("/big"))
        assert proxy.stop() == 0
    assert len(r.content) == 256 * 1024  # the client got everything
    [flow] = read_capture(capture)
    body = flow.response_body
    assert body is not None and body.truncated and body.size == 256 * 1024
    assert body.content == plain.sent["/big"][:1000]


# --------------------------------------------------------------------------- edscan capture


class _Console:
    """`edscan capture` as a subprocess, its stderr collected as it comes."""

    def __init__(self, args: list[str], cwd: Path) -> None:
        self.proc = subprocess.Popen(
            [str(BIN / "edscan"), "capture", *args],
            cwd=cwd,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        self.err = b""
        self._lock = threading.Lock()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for chunk in iter(lambda: self.proc.stderr.read1(4096), b""):  # type: ignore[union-attr]
            with self._lock:
                self.err += chunk

    @property
    def text(self) -> str:
        with self._lock:
            return self.err.decode("utf-8", "replace")

    def wait_for(self, pattern: str, timeout: float = 20) -> re.Match[str]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            m = re.search(pattern, self.text)
            if m:
                return m
            if self.proc.poll() is not None:
                self._reader.join(timeout=2)
                m = re.search(pattern, self.text)
                if m:
                    return m
                raise AssertionError(f"exited {self.proc.returncode}:\n{self.text}")
            time.sleep(0.05)
        raise AssertionError(f"no {pattern!r} within {timeout} s in:\n{self.text}")

    def type(self, line: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(line.encode() + b"\n")
        self.proc.stdin.flush()

    def finish(self, sig: int = signal.SIGINT) -> int:
        self.proc.send_signal(sig)
        code = self.proc.wait(timeout=20)
        self._reader.join(timeout=5)
        return code

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
        for f in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            if f is not None:
                f.close()


@pytest.fixture
def console_factory(tmp_path: Path) -> Iterator[list[_Console]]:
    started: list[_Console] = []
    yield started
    for c in started:
        c.kill()


def _start_console(started: list[_Console], tmp_path: Path, *args: str) -> _Console:
    c = _Console(["--listen-port", "0", "--confdir", str(tmp_path / "conf"), *args], cwd=tmp_path)
    started.append(c)
    return c


def test_edscan_capture_records_and_stops_cleanly(
    tmp_path: Path, console_factory: list[_Console]
) -> None:
    pki = make_pki(tmp_path)
    capture = tmp_path / "session.edscan.jsonl"
    with http_origin() as plain, http_origin(pki.server_context(), host="localhost") as secure:
        c = _start_console(console_factory, tmp_path, "-o", capture.name, "--phase", "login")
        port = int(c.wait_for(r"proxy of the device to 127\.0\.0\.1, port (\d+)\.").group(1))
        c.wait_for("Stop with Ctrl-C")
        ca = tmp_path / "conf" / "mitmproxy-ca-cert.pem"
        assert str(ca) in c.text and "mitmproxy-ca-cert.cer" in c.text
        assert "http://mitm.it" in c.text and "http://edscan.mark/LABEL" in c.text
        assert "type a label and Enter here" in c.text
        with _client(f"http://127.0.0.1:{port}") as client:
            assert client.get(plain.url("/first")).status_code == 200
            c.type("quiz")
            c.wait_for("Phase: quiz")
            assert client.post(plain.url("/second"), content=b"answer=42").status_code == 200
            c.type("   ")  # a blank line only shows the current phase
            c.wait_for(r"Phase: quiz \(type a label")
        # upstream certificates are verified: an origin this proxy does not trust fails
        with _client(f"http://127.0.0.1:{port}", ssl.create_default_context(cafile=str(ca))) as tc:
            assert tc.get(secure.url("/untrusted")).status_code == 502
        assert c.finish() == 0, c.text

    assert "Recorded 3 flows from 2 hosts" in c.text
    assert "Phases: login, quiz" in c.text
    assert f"edscan report {capture} -o report.html" in c.text
    assert stat.S_IMODE(capture.stat().st_mode) == 0o600
    flows = list(read_capture(capture))
    assert [(urlsplit(f.url).path, f.phase) for f in flows] == [
        ("/first", "login"),
        ("/second", "quiz"),
        ("/untrusted", "quiz"),
    ]
    assert flows[1].request_body is not None and flows[1].request_body.content == b"answer=42"
    assert flows[2].error is not None and "certificate" in flows[2].error.lower()


def test_edscan_capture_stops_on_sigterm(tmp_path: Path, console_factory: list[_Console]) -> None:
    c = _start_console(console_factory, tmp_path, "-o", "t.edscan.jsonl")
    c.wait_for("Stop with Ctrl-C")
    assert c.finish(signal.SIGTERM) == 0, c.text
    assert "Recorded 0 flows" in c.text and "Phases: none marked" in c.text


def test_edscan_capture_port_in_use(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        r = subprocess.run(
            [str(BIN / "edscan"), "capture", "-o", "x.edscan.jsonl", "--listen-port", str(port),
             "--confdir", str(tmp_path / "conf")],
            cwd=tmp_path, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
    assert r.returncode == 2
    assert f"port {port} on 127.0.0.1 is already in use" in r.stderr
    assert "Traceback" not in r.stderr
    assert not (tmp_path / "x.edscan.jsonl").exists()


def test_edscan_capture_never_overwrites_a_recording(tmp_path: Path) -> None:
    old = tmp_path / "old.edscan.jsonl"
    old.write_text("precious\n")
    r = subprocess.run(
        [str(BIN / "edscan"), "capture", "-o", old.name, "--confdir", str(tmp_path / "conf")],
        cwd=tmp_path, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert r.returncode == 2 and "already exists" in r.stderr
    assert old.read_text() == "precious\n"


# --------------------------------------------------------------------------- kill -9


def test_kill_9_keeps_every_completed_flow(tmp_path: Path) -> None:
    capture = tmp_path / "crash.edscan.jsonl"
    completed: list[str] = []
    stop = threading.Event()
    lock = threading.Lock()

    def client_loop(proxy_url: str, origin_url: str, worker: int) -> None:
        with _client(proxy_url) as client:
            for i in range(10_000):
                if stop.is_set():
                    return
                rid = f"{worker}-{i}"
                body = os.urandom(300_000 if i % 3 == 0 else 200)  # long lines widen the window
                try:
                    r = client.post(f"{origin_url}?rid={rid}", content=body)
                except httpx.HTTPError:
                    return
                if r.status_code == 200:
                    with lock:
                        completed.append(rid)

    with http_origin() as plain, mitmdump(tmp_path, capture) as proxy:
        threads = [
            threading.Thread(target=client_loop, args=(proxy.proxy_url, plain.url("/item"), n))
            for n in range(4)
        ]
        for t in threads:
            t.start()
        try:
            deadline = time.monotonic() + 30
            while len(completed) < 40 and time.monotonic() < deadline:
                time.sleep(0.02)
            workers = analyser_processes(proxy.proc.pid)
            proxy.proc.send_signal(signal.SIGKILL)  # in the middle of the stream
            proxy.proc.wait(timeout=10)
        finally:
            stop.set()
            for t in threads:
                t.join(timeout=15)
    assert len(completed) >= 40
    # killed mid-message, the live analyser must not stay behind blocked on its queue
    assert workers and wait_ended(workers)
    reader = read_capture(capture)
    recorded = {parse_qs(urlsplit(f.url).query)["rid"][0] for f in reader}
    missing = set(completed) - recorded
    assert not missing, f"{len(missing)} completed flows are not in the capture"
    data = capture.read_bytes()
    if data.endswith(b"\n"):
        assert reader.warnings == []
    else:
        assert len(reader.warnings) == 1 and "torn last line" in reader.warnings[0]


def test_a_client_that_refuses_the_certificate_is_recorded_as_not_inspected(
    tmp_path: Path,
) -> None:
    pki = make_pki(tmp_path)
    capture = tmp_path / "pinned.edscan.jsonl"
    with (
        http_origin(pki.server_context(), host="localhost") as secure,
        mitmdump(tmp_path, capture, trusted_ca=pki.ca_pem) as proxy,
    ):
        # like a pinning app: trusts only its own server's CA, never the proxy's
        pinned = ssl.create_default_context(cafile=str(pki.ca_pem))
        with _client(proxy.proxy_url, pinned) as client, pytest.raises(httpx.ConnectError):
            client.get(secure.url("/secret"))
        assert proxy.stop() == 0
    assert secure.received == []  # nothing reached the server
    [flow] = read_capture(capture)
    assert flow.method == "CONNECT" and flow.url == secure.url("/")
    assert flow.error is not None
    assert flow.error.startswith("client refused the proxy's TLS certificate for localhost")
    assert flow.tls_intercepted is False


def test_edscan_capture_tls_check_names_who_accepted_and_who_refused(
    tmp_path: Path, console_factory: list[_Console]
) -> None:
    from edscan.pipeline import scan

    pki = make_pki(tmp_path)
    capture = tmp_path / "check.edscan.jsonl"
    with http_origin(pki.server_context(), host="localhost") as secure:
        c = _start_console(console_factory, tmp_path, "-o", capture.name, "--tls-check")
        port = int(c.wait_for(r"proxy of the device to 127\.0\.0\.1, port (\d+)\.").group(1))
        c.wait_for("Stop with Ctrl-C")
        proxy = f"http://127.0.0.1:{port}"
        validating = ssl.create_default_context(cafile=str(pki.ca_pem))
        with _client(proxy, validating) as tc, pytest.raises(httpx.ConnectError):
            tc.get(f"https://127.0.0.1:{secure.port}/refused")
        with _client(proxy, False) as blind:
            # the client accepted the forged certificate; edscan capture verifies the origin,
            # which this proxy does not trust: the request is seen, the server never gets it
            assert blind.post(secure.url("/api"), content=b'{"a":1}').status_code == 502
        assert c.finish() == 0, c.text
    assert secure.received == []
    assert "TLS CHECK: 1 host(s) ACCEPTED the forged certificate" in c.text
    assert "critical): localhost" in c.text
    assert "1 host(s) refused it (validating correctly): 127.0.0.1" in c.text
    assert read_capture(capture).header["settings"]["tls_check"] is True
    result = scan(capture)
    assert result.coverage is not None and result.coverage.tls_check is not None
    assert result.coverage.tls_check.accepted == ("localhost",)
    assert result.coverage.tls_check.validated == ("127.0.0.1",)
    assert sorted((g.reason, g.host) for g in result.coverage.gaps) == [
        ("certificate-refused", "127.0.0.1"),
        ("upstream-tls-failed", "localhost"),
    ]
    assert [f.rule for f in result.findings if f.rule == "EDS031"] == ["EDS031"]
