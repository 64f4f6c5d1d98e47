"""``edscan capture --browser``: real headless Chromium through the in-process proxy."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from liveproxy import free_port

from edscan.capture.browser import chromium_args, spki_hash

CHROMIUM = Path("/usr/bin/chromium")
EMAIL = "ivo.quillfeather@example.org"
PAGE = """<!doctype html><html><body><h1>Quiz</h1><script>
document.cookie = "quiz_state=started; max-age=86400; path=/";
localStorage.setItem("student_profile", "x");
fetch("/api/save?email=ivo.quillfeather%40example.org");
fetch("http://localhost:PORT/collect?uid=ivo.quillfeather%40example.org", {mode: "no-cors"});
</script></body></html>"""


@contextmanager
def app() -> Iterator[int]:
    """One server for the app (127.0.0.1) and a 'tracker' (localhost: another site)."""
    port = free_port()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            body = PAGE.replace("PORT", str(port)).encode() if self.path == "/" else b"{}"
            self.send_response(200)
            self.send_header("Content-Type", "text/html" if self.path == "/" else "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield port
    finally:
        server.shutdown()
        server.server_close()


def test_chromium_args_point_at_the_proxy_and_trust_only_its_key(tmp_path: Path) -> None:
    args = chromium_args(8123, "abc=")
    assert "--proxy-server=http://127.0.0.1:8123" in args
    assert "--ignore-certificate-errors-spki-list=abc=" in args
    assert "--proxy-bypass-list=<-loopback>" in args
    assert {"--disable-background-networking", "--disable-component-update"} <= set(args)


def test_spki_hash_matches_openssl_style_pin(tmp_path: Path) -> None:
    import base64
    import hashlib

    from liveproxy import make_pki

    pki = make_pki(tmp_path)
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    key = x509.load_pem_x509_certificate(pki.ca_pem.read_bytes()).public_key()
    der = key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    assert spki_hash(pki.ca_pem) == base64.b64encode(hashlib.sha256(der).digest()).decode()


@pytest.mark.skipif(
    not CHROMIUM.is_file(), reason=f"{CHROMIUM} is absent (apt-get install chromium)"
)
def test_capture_browser_records_alerts_and_the_profiles_storage(tmp_path: Path) -> None:
    persona = tmp_path / "persona.toml"
    persona.write_text(f'[student]\nemail = "{EMAIL}"\n')
    capture = tmp_path / "quiz.edscan.jsonl"
    with app() as port:
        args = [
            sys.executable, "-m", "edscan", "capture", "-o", str(capture),
            "--listen-port", str(free_port()), "--confdir", str(tmp_path / "conf"),
            "--persona", str(persona), "--phase", "quiz",
            "--browser", f"http://127.0.0.1:{port}/", "--headless",
        ]  # fmt: skip
        env = dict(os.environ, NO_COLOR="1")
        proc = subprocess.Popen(
            args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            env=env,
        )  # fmt: skip
        try:
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                if capture.exists() and b"/collect?" in capture.read_bytes():
                    break
                time.sleep(0.1)
            time.sleep(1.5)  # one more storage reading after the page's script ran
            proc.send_signal(signal.SIGINT)
            _, err_bytes = proc.communicate(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    err = err_bytes.decode()
    assert proc.returncode == 0, err
    alerts = [line for line in err.splitlines() if line.endswith("→ localhost")]
    assert alerts and "[quiz] student e-mail → localhost" in alerts[0], err
    assert "→ 127.0.0.1" not in err  # the app opened is the first party
    assert f"--persona {persona.resolve()}" in err and "--first-party 127.0.0.1" in err
    records = [json.loads(line) for line in capture.read_bytes().splitlines()]
    storage = [r for r in records if r.get("record") == "browser_storage"]
    assert len(storage) == 1
    cookie = next(c for c in storage[0]["cookies"] if c["name"] == "quiz_state")
    assert cookie["domain"] == "127.0.0.1" and 0.9 < cookie["lifetime_days"] <= 1.0
    assert "value" not in cookie
    assert {"origin": f"http://127.0.0.1:{port}", "name": "student_profile", "size": 1} in storage[
        0
    ]["local_storage"]
    # the capture still reads as flows, with the storage record kept aside
    from edscan.capture.capture_file import read_capture

    reader = read_capture(capture)
    flows = list(reader)
    assert any("/api/save" in f.url for f in flows) and reader.records == storage
    assert not reader.warnings
    # and the scan attributes them
    from edscan.pipeline import scan

    result = scan(capture, first_party=("127.0.0.1",))
    kinds = {(s.kind, s.name, s.party.value) for s in result.browser_storage}
    assert kinds == {
        ("cookie", "quiz_state", "first"),
        ("local_storage", "student_profile", "first"),
    }


def _descendants(pid: int) -> list[int]:
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parents[int(entry.name)] = int(
                    (entry / "stat").read_text().rsplit(")", 1)[1].split()[1]
                )
            except (OSError, IndexError, ValueError):
                continue
    found, todo = [], [pid]
    while todo:
        p = todo.pop()
        kids = [c for c, pp in parents.items() if pp == p]
        found += kids
        todo += kids
    return found


def _browser_process(pid: int) -> int | None:
    """The browser's main process under ``pid`` (not its renderers, GPU or utility helpers)."""
    for child in _descendants(pid):
        try:
            argv = (Path("/proc") / str(child) / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"chromium" in argv[0] and not any(a.startswith(b"--type=") for a in argv):
            return child
    return None


BUSY_PAGE = """<!doctype html><html><body><h1>Quiz</h1><script>
for (let n = 0; n < COUNT; n++) {
  fetch("http://127.0.0.1:SLOW/api/event?n=" + n + "&email=ivo.quillfeather%40example.org",
        {mode: "no-cors"});
}
</script></body></html>"""


@contextmanager
def busy_app(slow_port: int, count: int) -> Iterator[int]:
    """An app whose page fires ``count`` requests at the slow origin as soon as it loads."""
    page = BUSY_PAGE.replace("SLOW", str(slow_port)).replace("COUNT", str(count)).encode()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(page)))
            self.end_headers()
            self.wfile.write(page)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield int(server.server_address[1])
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.skipif(
    not CHROMIUM.is_file(), reason=f"{CHROMIUM} is absent (apt-get install chromium)"
)
@pytest.mark.parametrize("how", ["browser closed", "ctrl-c"])
def test_a_browser_capture_stopped_with_requests_in_flight_keeps_them(
    tmp_path: Path, how: str
) -> None:
    from urllib.parse import parse_qs, urlsplit

    from liveproxy import slow_origin

    from edscan.capture.capture_file import read_capture

    n = 6  # Chromium opens at most six connections to one host
    capture = tmp_path / "busy.edscan.jsonl"
    with slow_origin(delay=30.0) as origin, busy_app(origin.port, n) as port:
        args = [
            sys.executable, "-m", "edscan", "capture", "-o", str(capture),
            "--listen-port", str(free_port()), "--confdir", str(tmp_path / "conf"),
            "--grace", "0.5", "--alerts", "none", "--headless",
            "--browser", f"http://127.0.0.1:{port}/",
        ]  # fmt: skip
        proc = subprocess.Popen(
            args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        try:
            deadline = time.monotonic() + 30
            while len(origin.received) < n and time.monotonic() < deadline:
                time.sleep(0.05)
            assert len(origin.received) == n
            if how == "browser closed":  # the user closes the browser: its connections go too
                browser = _browser_process(proc.pid)
                assert browser is not None
                os.kill(browser, signal.SIGTERM)
            else:
                proc.send_signal(signal.SIGINT)
            _, err_bytes = proc.communicate(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    err = err_bytes.decode()
    assert proc.returncode == 0, err
    for noise in ("Traceback", "CancelledError", "Task was destroyed"):
        assert noise not in err, err
    assert "Recorded" in err
    events = [f for f in read_capture(capture) if urlsplit(f.url).path == "/api/event"]
    assert sorted(int(parse_qs(urlsplit(f.url).query)["n"][0]) for f in events) == list(range(n))
    assert all(f.status is None and f.error is not None for f in events)
    if how == "ctrl-c":  # still waiting at the stop: written as sent, marked cut off
        assert all(f.cut_off == "no_response" for f in events)
        assert f"{n} request(s) were still unanswered at the stop" in err
    else:  # the browser hung up first: failed flows, each with its request
        assert all(f.cut_off is None and f.error == "Client disconnected." for f in events)
