"""Stopping a capture while the app is busy, as a user does it: the real `edscan capture` (and
mitmdump with the recorder script) as a subprocess, hundreds of requests in flight to a slow
local origin, then Ctrl-C, SIGTERM or SIGHUP. No request that left the device may be lost."""

from __future__ import annotations

import json
import re
import signal
import socket
import subprocess
import threading
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from liveproxy import (
    BIN,
    STREAM_PART,
    Crowd,
    SlowOrigin,
    h2_slow_origin,
    make_pki,
    mitmdump,
    proxied_get,
    proxied_upload,
    slow_origin,
    ws_origin,
)

from edscan.capture.capture_file import read_capture
from edscan.models import Flow

pytestmark = pytest.mark.e2e

EMAIL = "ada.lovelace@school.example"
UPLOAD_PART = b'{"essay": "' + b"words " * 50
BUSY = 300  # GETs waiting for the slow origin
STREAMS = 5  # responses still arriving
UPLOADS = 5  # request bodies still arriving


class Capture:
    """`edscan capture` as a subprocess; stderr collected as it comes (or not at all)."""

    def __init__(self, tmp_path: Path, *args: str, console: bool = True) -> None:
        self.path = tmp_path / "busy.edscan.jsonl"
        self.proc = subprocess.Popen(
            [str(BIN / "edscan"), "capture", "-o", str(self.path), "--listen-port", "0",
             "--confdir", str(tmp_path / "conf"), *args],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )  # fmt: skip
        self.err = b""
        self._reader = threading.Thread(target=self._read, daemon=True)
        if not console:  # read up to the start in this thread, then nobody reads again
            assert self.proc.stderr is not None
            while b"Stop with Ctrl-C" not in self.err:
                line = self.proc.stderr.readline()
                assert line, self.text
                self.err += line
        else:
            self._reader.start()
        self.port = int(self.wait_for(r"to 127\.0\.0\.1, port (\d+)\.").group(1))
        self.wait_for("Stop with Ctrl-C")

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for chunk in iter(lambda: self.proc.stderr.read1(4096), b""):  # type: ignore[union-attr]
            self.err += chunk

    @property
    def text(self) -> str:
        return self.err.decode("utf-8", "replace")

    def wait_for(self, pattern: str, timeout: float = 20) -> re.Match[str]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if m := re.search(pattern, self.text):
                return m
            if self.proc.poll() is not None:
                self._reader.join(timeout=2)
                if m := re.search(pattern, self.text):
                    return m
                raise AssertionError(f"exited {self.proc.returncode}:\n{self.text}")
            time.sleep(0.02)
        raise AssertionError(f"no {pattern!r} within {timeout} s in:\n{self.text}")

    def hang_up(self) -> None:
        """The terminal goes away: every later write to the console fails."""
        assert self.proc.stderr is not None and not self._reader.is_alive()
        self.proc.stderr.close()

    def stop(self, sig: int = signal.SIGINT) -> tuple[int, float]:
        """Send ``sig``; the exit code and how long the stop took."""
        start = time.monotonic()
        self.proc.send_signal(sig)
        code = self.proc.wait(timeout=30)
        took = time.monotonic() - start
        if self._reader.is_alive():
            self._reader.join(timeout=5)
        return code, took

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
        if self._reader.is_alive():
            self._reader.join(timeout=5)
        if self.proc.stderr is not None:
            self.proc.stderr.close()


@pytest.fixture
def captures(tmp_path: Path) -> Iterator[list[Capture]]:
    started: list[Capture] = []
    yield started
    for c in started:
        c.kill()


def _start(captures: list[Capture], tmp_path: Path, *args: str, console: bool = True) -> Capture:
    c = Capture(tmp_path, *args, console=console)
    captures.append(c)
    return c


def _busy_app(port: int, origin: SlowOrigin) -> Crowd:
    """The app's requests: each GET carries the student's e-mail and its number."""
    requests = [proxied_get(origin, f"/api/event?n={n}&email={EMAIL}") for n in range(BUSY)]
    requests += [proxied_get(origin, f"/stream?n={n}") for n in range(STREAMS)]
    requests += [
        proxied_upload(origin, f"/upload?n={n}", UPLOAD_PART, 5000) for n in range(UPLOADS)
    ]
    return Crowd(port, requests)


def _wait_all_left(crowd: Crowd, origin: SlowOrigin, forwarded: int, timeout: float = 20) -> None:
    """Until every request was sent in full and the proxy forwarded the complete ones."""
    deadline = time.monotonic() + timeout
    total = BUSY + STREAMS + UPLOADS
    while time.monotonic() < deadline:
        if crowd.sent == total and len(origin.received) >= forwarded:
            return
        time.sleep(0.02)
    raise AssertionError(f"sent {crowd.sent}/{total}, forwarded {len(origin.received)}")


def _n(flow: Flow) -> int:
    return int(parse_qs(urlsplit(flow.url).query)["n"][0])


def _assert_everything_kept(capture: Path) -> list[Flow]:
    reader = read_capture(capture)
    flows = list(reader)
    assert reader.warnings == []  # every line whole: the file ended cleanly
    assert reader.header["version"] == "1.3"
    by_path: dict[str, list[Flow]] = {}
    for f in flows:
        by_path.setdefault(urlsplit(f.url).path, []).append(f)
    events = by_path["/api/event"]
    assert sorted(_n(f) for f in events) == list(range(BUSY))  # every request, once
    assert all(f.cut_off == "no_response" and f.status is None for f in events)
    assert all(f.error is not None and "cut off by the stop" in f.error for f in events)
    streams = by_path["/stream"]
    assert sorted(_n(f) for f in streams) == list(range(STREAMS))
    for f in streams:  # the response kept up to where it got, marked truncated
        assert f.cut_off == "response_incomplete" and f.status == 200
        assert f.response_body is not None and f.response_body.truncated
        assert f.response_body.content == STREAM_PART
    uploads = by_path["/upload"]
    assert sorted(_n(f) for f in uploads) == list(range(UPLOADS))
    for f in uploads:  # the client was still sending: headers and the part that arrived
        assert f.cut_off == "request_incomplete" and f.request_header("content-length") == "5000"
        assert f.request_body is not None and f.request_body.content == UPLOAD_PART
        assert f.request_body.truncated
    assert len(flows) == BUSY + STREAMS + UPLOADS
    return flows


def _assert_quiet(text: str) -> None:
    for noise in ("Traceback", "CancelledError", "Task was destroyed", "Exception in callback"):
        assert noise not in text, text[-3000:]


GRACE = 0.5


@pytest.mark.parametrize(
    "sig", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP], ids=lambda s: s.name
)
def test_a_stop_keeps_every_request_in_flight(
    tmp_path: Path, captures: list[Capture], sig: signal.Signals
) -> None:
    with slow_origin(delay=4.0) as origin:
        c = _start(captures, tmp_path, "--grace", str(GRACE))
        crowd = _busy_app(c.port, origin)
        try:
            _wait_all_left(crowd, origin, forwarded=BUSY + STREAMS)
            code, took = c.stop(sig)
        finally:
            crowd.close()
    assert code == 0, c.text
    _assert_quiet(c.text)
    total = BUSY + STREAMS + UPLOADS
    assert f"Recorded {total} flows" in c.text
    assert f"{total} request(s) were still unanswered at the stop" in c.text
    assert "Stopping: waiting up to 0.5 s" in c.text
    assert took <= GRACE + 1.5, f"the stop took {took:.2f} s"
    _assert_everything_kept(c.path)
    if sig == signal.SIGINT:  # detection reads cut-off requests like any other
        _assert_scan_finds_the_student(tmp_path, c.path)


def _assert_scan_finds_the_student(tmp_path: Path, capture: Path) -> None:
    persona = tmp_path / "persona.toml"
    persona.write_text(f'[student]\nemail = "{EMAIL}"\n')
    r = subprocess.run(
        [str(BIN / "edscan"), "scan", str(capture), "--persona", str(persona), "-f", "json"],
        capture_output=True, timeout=120,
    )  # fmt: skip
    assert r.returncode in (0, 1), r.stderr.decode()
    result = json.loads(r.stdout)
    assert result["capture"]["cut_off"] == BUSY + STREAMS + UPLOADS
    flows = {f.index: f for f in read_capture(capture)}
    seen = {
        o["flow"]
        for o in result["observations"]
        if o["detector"] == "persona" and o["persona_field"] == "student.email"
    }
    events = {i for i, f in flows.items() if urlsplit(f.url).path == "/api/event"}
    assert events <= seen


def test_sighup_with_no_console_left_still_ends_the_file(
    tmp_path: Path, captures: list[Capture]
) -> None:
    with slow_origin(delay=4.0) as origin:
        c = _start(captures, tmp_path, "--grace", str(GRACE), console=False)
        crowd = _busy_app(c.port, origin)
        try:
            _wait_all_left(crowd, origin, forwarded=BUSY + STREAMS)
            c.hang_up()
            code, _ = c.stop(signal.SIGHUP)
        finally:
            crowd.close()
    assert code == 0
    _assert_everything_kept(c.path)


def test_a_second_ctrl_c_skips_the_grace_period(tmp_path: Path, captures: list[Capture]) -> None:
    with slow_origin(delay=4.0) as origin:
        c = _start(captures, tmp_path, "--grace", "30")
        crowd = _busy_app(c.port, origin)
        try:
            _wait_all_left(crowd, origin, forwarded=BUSY + STREAMS)
            start = time.monotonic()
            c.proc.send_signal(signal.SIGINT)
            c.wait_for(r"waiting up to 30 s for \d+ request")
            with pytest.raises(ConnectionRefusedError):  # no new connections once stopping
                socket.create_connection(("127.0.0.1", c.port), timeout=2).close()
            code, _ = c.stop(signal.SIGINT)
            took = time.monotonic() - start
        finally:
            crowd.close()
    assert code == 0, c.text
    assert "SIGINT again: stopping now" in c.text
    assert took < 3, f"the stop took {took:.2f} s with the grace skipped"
    _assert_quiet(c.text)
    _assert_everything_kept(c.path)


def test_requests_that_finish_within_the_grace_are_recorded_whole(
    tmp_path: Path, captures: list[Capture]
) -> None:
    with slow_origin(delay=1.0) as origin:
        c = _start(captures, tmp_path, "--grace", "10")
        n = 50
        crowd = Crowd(c.port, [proxied_get(origin, f"/api/event?n={i}") for i in range(n)])
        try:
            deadline = time.monotonic() + 20
            while len(origin.received) < n and time.monotonic() < deadline:
                time.sleep(0.02)
            code, took = c.stop(signal.SIGTERM)
        finally:
            crowd.close()
    assert code == 0, c.text
    assert took < 5, "the stop waits for the requests in flight, not for the whole grace"
    flows = list(read_capture(c.path))
    assert sorted(_n(f) for f in flows) == list(range(n))
    assert all(f.status == 200 and f.cut_off is None and f.error is None for f in flows)
    assert "unanswered at the stop" not in c.text
    _assert_quiet(c.text)


def test_mitmdump_with_the_recorder_writes_requests_in_flight_at_shutdown(
    tmp_path: Path,
) -> None:
    capture = tmp_path / "dump.edscan.jsonl"
    n = 50
    with slow_origin(delay=4.0) as origin, mitmdump(tmp_path, capture) as proxy:
        crowd = Crowd(proxy.port, [proxied_get(origin, f"/api/event?n={i}") for i in range(n)])
        try:
            deadline = time.monotonic() + 20
            while len(origin.received) < n and time.monotonic() < deadline:
                time.sleep(0.02)
            assert proxy.stop() == 0
        finally:
            crowd.close()
    reader = read_capture(capture)
    flows = list(reader)
    assert reader.warnings == []
    assert sorted(_n(f) for f in flows) == list(range(n))
    assert Counter(f.cut_off for f in flows) == {"no_response": n}


def test_https_requests_in_flight_are_kept_from_inside_their_tunnels(tmp_path: Path) -> None:
    """HTTPS through CONNECT and intercepted TLS (what apps send): the parts of bodies that had
    arrived are found through the proxy's TLS layers too."""
    capture = tmp_path / "tls.edscan.jsonl"
    pki = make_pki(tmp_path)
    with (
        slow_origin(delay=4.0, tls=pki.server_context()) as origin,
        mitmdump(tmp_path, capture, trusted_ca=pki.ca_pem) as proxy,
    ):
        requests = [proxied_get(origin, f"/api/event?n={n}&email={EMAIL}") for n in range(20)]
        requests += [proxied_get(origin, "/stream?n=0")]
        requests += [proxied_upload(origin, "/upload?n=0", UPLOAD_PART, 5000)]
        crowd = Crowd(proxy.port, requests, tunnel=(origin.port, proxy.client_context()))
        try:
            deadline = time.monotonic() + 20
            while (crowd.sent < 22 or len(origin.received) < 21) and time.monotonic() < deadline:
                time.sleep(0.02)
            assert crowd.sent == 22 and len(origin.received) >= 21, proxy.log.read_text()
            assert proxy.stop() == 0
        finally:
            crowd.close()
    reader = read_capture(capture)
    flows = list(reader)
    assert reader.warnings == []
    by_path: dict[str, list[Flow]] = {}
    for f in flows:
        by_path.setdefault(urlsplit(f.url).path, []).append(f)
    events = by_path["/api/event"]
    assert sorted(_n(f) for f in events) == list(range(20))
    assert all(f.scheme == "https" and f.tls_intercepted for f in events)
    assert all(f.cut_off == "no_response" and EMAIL in f.url for f in events)
    [stream] = by_path["/stream"]
    assert stream.cut_off == "response_incomplete" and stream.response_body is not None
    assert stream.response_body.content == STREAM_PART and stream.response_body.truncated
    [upload] = by_path["/upload"]
    assert upload.cut_off == "request_incomplete" and upload.request_body is not None
    assert upload.request_body.content == UPLOAD_PART


def test_http2_streams_in_flight_on_one_connection_are_each_kept(tmp_path: Path) -> None:
    """HTTP/2 (what most apps speak over HTTPS): many requests multiplexed on one connection,
    each cut off in its own way."""
    import asyncio

    import httpx

    capture = tmp_path / "h2.edscan.jsonl"
    pki = make_pki(tmp_path)
    n = 30
    with (
        h2_slow_origin(pki.server_context()) as origin,
        mitmdump(tmp_path, capture, trusted_ca=pki.ca_pem) as proxy,
    ):
        base = f"https://localhost:{origin.port}"
        done = asyncio.Event()

        async def upload() -> AsyncIterator[bytes]:
            yield UPLOAD_PART
            await done.wait()  # the device is still sending when the capture stops

        async def app() -> None:
            async with httpx.AsyncClient(
                proxy=proxy.proxy_url, verify=proxy.client_context(), http2=True, timeout=30
            ) as client:
                # a first answer sets up the one HTTP/2 connection the others share
                assert (await client.get(f"{base}/hello")).http_version == "HTTP/2"
                calls = [client.get(f"{base}/api/event?n={i}&email={EMAIL}") for i in range(n)]
                calls += [client.get(f"{base}/stream?n=0")]
                calls += [client.post(f"{base}/upload?n=0", content=upload())]
                tasks = [asyncio.create_task(c) for c in calls]
                await done.wait()
                for t in tasks:
                    t.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)

        loop = asyncio.new_event_loop()
        thread = threading.Thread(target=loop.run_until_complete, args=(app(),), daemon=True)
        thread.start()
        try:
            deadline = time.monotonic() + 20
            # the upload is not forwarded: the proxy holds a request body until it is whole
            while len(origin.received) < n + 2 and time.monotonic() < deadline:
                time.sleep(0.02)
            assert len(origin.received) == n + 2, proxy.log.read_text()
            time.sleep(0.2)  # the upload's first part reaches the proxy
            assert proxy.stop() == 0
        finally:
            loop.call_soon_threadsafe(done.set)
            thread.join(timeout=10)
            loop.close()
    reader = read_capture(capture)
    flows = list(reader)
    assert reader.warnings == []
    assert {f.http_version for f in flows} == {"HTTP/2.0"}
    assert len({f.client_address for f in flows}) == 1  # all on one connection
    by_path: dict[str, list[Flow]] = {}
    for f in flows:
        by_path.setdefault(urlsplit(f.url).path, []).append(f)
    [hello] = by_path["/hello"]
    assert hello.status == 200 and hello.cut_off is None
    events = by_path["/api/event"]
    assert sorted(_n(f) for f in events) == list(range(n))
    assert all(f.cut_off == "no_response" and EMAIL in f.url for f in events)
    [stream] = by_path["/stream"]
    assert stream.cut_off == "response_incomplete" and stream.response_body is not None
    assert stream.response_body.content == STREAM_PART and stream.response_body.truncated
    [upload_flow] = by_path["/upload"]
    assert upload_flow.cut_off == "request_incomplete" and upload_flow.request_body is not None
    assert upload_flow.request_body.content == UPLOAD_PART


def test_a_websocket_still_open_at_the_stop_is_kept_with_its_messages(
    tmp_path: Path, captures: list[Capture]
) -> None:
    from wsproto import ConnectionType, WSConnection
    from wsproto.events import AcceptConnection, Request, TextMessage

    with ws_origin() as ws_port, slow_origin(delay=4.0) as origin:
        c = _start(captures, tmp_path, "--grace", str(GRACE))
        crowd = Crowd(c.port, [proxied_get(origin, "/api/event?n=0")])
        ws = WSConnection(ConnectionType.CLIENT)
        with socket.create_connection(("127.0.0.1", c.port), timeout=10) as s:
            host = f"127.0.0.1:{ws_port}"
            s.sendall(ws.send(Request(host=host, target=f"http://{host}/live?room=7")))
            events: list[object] = []
            while not any(isinstance(e, AcceptConnection) for e in events):
                ws.receive_data(s.recv(65536))
                events += ws.events()
            s.sendall(ws.send(TextMessage(data=f"answer from {EMAIL}")))
            while not any(isinstance(e, TextMessage) for e in events):
                ws.receive_data(s.recv(65536))
                events += ws.events()
            try:  # the socket stays open: the app is still connected when the capture stops
                deadline = time.monotonic() + 20
                while not origin.received and time.monotonic() < deadline:
                    time.sleep(0.02)
                code, _ = c.stop(signal.SIGINT)
            finally:
                crowd.close()
    assert code == 0, c.text
    _assert_quiet(c.text)
    flows = {urlsplit(f.url).path: f for f in read_capture(c.path)}
    assert set(flows) == {"/live", "/api/event"}
    assert [(m.from_client, m.content) for m in flows["/live"].websocket] == [
        (True, f"answer from {EMAIL}".encode()),
        (False, f"echo: answer from {EMAIL}".encode()),
    ]
    assert flows["/api/event"].cut_off == "no_response"


def test_closing_the_terminal_ends_the_capture_cleanly(tmp_path: Path) -> None:
    """A real terminal (a pty) that is closed under a running capture, then SIGHUP: every
    write to the console and every read of the prompt fails from then on."""
    import os
    import pty

    primary, secondary = pty.openpty()
    capture = tmp_path / "tty.edscan.jsonl"
    proc = subprocess.Popen(
        [str(BIN / "edscan"), "capture", "-o", str(capture), "--listen-port", "0",
         "--confdir", str(tmp_path / "conf"), "--grace", str(GRACE)],
        stdin=secondary, stdout=secondary, stderr=secondary, start_new_session=True,
    )  # fmt: skip
    os.close(secondary)
    try:
        seen = b""
        deadline = time.monotonic() + 20
        while b"phase label> " not in seen and time.monotonic() < deadline:
            seen += os.read(primary, 4096)  # the interactive console: status line and prompt
        m = re.search(rb"to 127\.0\.0\.1, port (\d+)\.", seen)
        assert m is not None, seen.decode("utf-8", "replace")
        with slow_origin(delay=4.0) as origin:
            n = 40
            crowd = Crowd(int(m.group(1)), [proxied_get(origin, f"/e?n={i}") for i in range(n)])
            try:
                while len(origin.received) < n and time.monotonic() < deadline:
                    time.sleep(0.02)
                os.close(primary)  # the terminal window is closed
                primary = -1
                proc.send_signal(signal.SIGHUP)
                code = proc.wait(timeout=20)
            finally:
                crowd.close()
    finally:
        if primary >= 0:
            os.close(primary)
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
    assert code == 0
    reader = read_capture(capture)
    flows = list(reader)
    assert reader.warnings == []
    assert sorted(_n(f) for f in flows) == list(range(n))
    assert all(f.cut_off == "no_response" for f in flows)


_STOP_WHILE_STARTING = """
import io, os, signal, sys
from pathlib import Path
from edscan.capture.session import CaptureOptions, run_capture, summary_text

class SignalWhileStarting(io.StringIO):
    def isatty(self):  # asked while the proxy starts, before its loop takes the signals over
        os.kill(os.getpid(), signal.{sig})
        return False

summary = run_capture(
    CaptureOptions(output=Path(sys.argv[1]), listen_port=0, confdir=Path(sys.argv[2])),
    out=sys.stderr, stdin=SignalWhileStarting(),
)
print(summary_text(summary), file=sys.stderr)
"""


@pytest.mark.parametrize(
    "sig", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP], ids=lambda s: s.name
)
def test_a_stop_while_the_capture_starts_is_a_clean_stop(
    tmp_path: Path, sig: signal.Signals
) -> None:
    capture = tmp_path / "early.edscan.jsonl"
    r = subprocess.run(
        [str(BIN / "python"), "-c", _STOP_WHILE_STARTING.format(sig=sig.name), str(capture),
         str(tmp_path / "conf")],
        capture_output=True, timeout=60,
    )  # fmt: skip
    err = r.stderr.decode("utf-8", "replace")
    assert r.returncode == 0, err
    _assert_quiet(err)
    assert "Stop with Ctrl-C" in err and "Recorded 0 flows" in err
    reader = read_capture(capture)
    assert list(reader) == [] and reader.warnings == []
    assert reader.header["version"] == "1.3"
