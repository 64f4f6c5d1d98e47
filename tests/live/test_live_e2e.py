"""Live alerts through a real mitmdump running addons/edscan_recorder.py on loopback."""

from __future__ import annotations

import hashlib
import json
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from liveproxy import analyser_processes, http_origin, mitmdump, wait_ended

EMAIL = "ivo.quillfeather@example.org"

# Answers every request not for the local origin itself, so tracker hosts need no network.
ANSWER = """
from mitmproxy import http
class Answer:
    def request(self, f):
        if f.request.pretty_host != "127.0.0.1":
            f.response = http.Response.make(204, b"", {})
addons = [Answer()]
"""


def _opener(proxy: str) -> urllib.request.OpenerDirector:
    return urllib.request.build_opener(urllib.request.ProxyHandler({"http": proxy}))


def _wait_for(path: Path, text: str, timeout: float = 15) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        log = path.read_text(errors="replace")
        if text in log:
            return log
        time.sleep(0.05)
    return path.read_text(errors="replace")


def test_persona_value_to_a_tracker_alerts_and_the_first_party_does_not(tmp_path: Path) -> None:
    answer = tmp_path / "answer.py"
    answer.write_text(ANSWER)
    persona = tmp_path / "persona.toml"
    persona.write_text(f'[student]\nemail = "{EMAIL}"\n')
    capture = tmp_path / "s.edscan.jsonl"
    hashed = hashlib.sha256(EMAIL.encode()).hexdigest()
    extra = ("-s", str(answer), "--set", f"edscan_persona={persona}")
    with http_origin() as origin, mitmdump(tmp_path, capture, extra=extra) as proxy:
        get = _opener(proxy.proxy_url).open
        get(origin.url(f"/profile?email={EMAIL}")).read()  # the app itself: first party
        get(f"http://www.facebook.com/tr?id=9&ud%5Bem%5D={hashed}").read()
        log = _wait_for(proxy.log, "edscan alert:")
        proxy.stop()
    alerts = [line for line in log.splitlines() if "edscan alert:" in line]
    assert len(alerts) == 1, log
    assert alerts[0].endswith("student e-mail (sha256) → Meta Platforms, Inc. (facebook.com)")
    assert "127.0.0.1" not in alerts[0]


def test_a_flood_that_outruns_the_analyser_loses_no_recorded_flow(tmp_path: Path) -> None:
    answer = tmp_path / "answer.py"
    answer.write_text(ANSWER)
    capture = tmp_path / "flood.edscan.jsonl"
    # a queue of one: nearly every flow finds the analyser busy
    extra = ("-s", str(answer), "--set", "edscan_alert_queue=1")
    n = 300
    with mitmdump(tmp_path, capture, extra=extra) as proxy:
        get = _opener(proxy.proxy_url).open

        def one(i: int) -> int:
            with get(f"http://t{i % 7}.tracker.example/p?email=s{i}@school.example") as r:
                return int(r.status)

        with ThreadPoolExecutor(16) as pool:
            statuses = list(pool.map(one, range(n)))
        log = _wait_for(proxy.log, "not analysed live")
        assert proxy.stop() == 0
    assert statuses == [204] * n
    lines = capture.read_bytes().splitlines()
    urls = {json.loads(line)["url"] for line in lines[1:]}
    assert len(lines) == n + 1 and len(urls) == n  # every flow on disk, once
    assert "the live analyser is behind" in log


def test_the_analyser_process_ends_when_the_proxy_is_killed(tmp_path: Path) -> None:
    capture = tmp_path / "k.edscan.jsonl"
    with mitmdump(tmp_path, capture) as proxy:
        workers = analyser_processes(proxy.proc.pid)
        assert workers, "no analyser process started"
        proxy.proc.kill()  # no clean shutdown: the worker must notice by itself
        proxy.proc.wait(5)
    assert wait_ended(workers)
