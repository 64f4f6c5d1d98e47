"""The demo: the classroom app, the local-answering addon, and the session through a real proxy."""

from __future__ import annotations

import csv
import json
import socket
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from bs4 import BeautifulSoup
from conftest import ROOT
from mitmproxy import http
from mitmproxy.test import taddons, tflow

from edscan.capture.capture_file import read_capture
from edscan.demo import manifest
from edscan.demo.app import ClassroomServer, ClassroomState, route
from edscan.demo.roster import DemoStudent
from edscan.demo.runner import CAPTURE_NAME, PERSONA_NAME, record_session
from edscan.demo.upstream import DemoUpstream
from edscan.detect.persona import load_persona
from edscan.detect.persona_new import new_persona_values
from edscan.models import Flow
from edscan.recipients.domains import registrable_domain

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def student() -> DemoStudent:
    return DemoStudent.from_persona(new_persona_values())


@pytest.fixture
def tctx() -> Iterator[taddons.context]:
    with taddons.context() as ctx:
        yield ctx
    ctx.master.event_loop.close()


# --------------------------------------------------------------------------- the app


def test_sign_in_needs_the_right_password(student: DemoStudent) -> None:
    state = ClassroomState(student)
    bad = f"username={student.username}&password=wrong".encode()
    status, _, _ = route(state, "POST", manifest.ID_HOST, "/login", {}, bad)
    assert status == 401
    good = f"username={student.username}&password={student.password}&state=s1".encode()
    status, headers, _ = route(state, "POST", manifest.ID_HOST, "/login", {}, good)
    assert status == 302
    location = dict(headers)["Location"]
    assert location.startswith("https://app.brindlewick.test/auth/callback?code=")


def test_api_needs_a_token_from_a_code_used_once(student: DemoStudent) -> None:
    state = ClassroomState(student)
    assert route(state, "GET", manifest.API_HOST, "/v1/me", {}, b"")[0] == 401
    code = state.new_code()
    body = f"grant_type=authorization_code&code={code}".encode()
    status, _, content = route(state, "POST", manifest.API_HOST, "/oauth/token", {}, body)
    assert status == 200
    token = json.loads(content)["access_token"]
    # a code works once
    assert route(state, "POST", manifest.API_HOST, "/oauth/token", {}, body)[0] == 400
    auth = {"Authorization": f"Bearer {token}"}
    status, _, content = route(state, "GET", manifest.API_HOST, "/v1/me", auth, b"")
    me = json.loads(content)
    assert status == 200
    assert me["email"] == student.email and me["id"] == student.provider_id
    assert route(state, "POST", manifest.API_HOST, "/v1/logout", auth, b"")[0] == 204
    assert route(state, "GET", manifest.API_HOST, "/v1/me", auth, b"")[0] == 401


# --------------------------------------------------------------------------- the demo addon


def _run(tctx: taddons.context, addon: DemoUpstream, f: http.HTTPFlow) -> None:
    tctx.master.event_loop.run_until_complete(addon.request(f))


def test_first_party_requests_are_forwarded_as_sent(
    tctx: taddons.context, student: DemoStudent
) -> None:
    addon = DemoUpstream()
    tctx.master.addons.add(addon)
    with ClassroomServer(student) as app:
        tctx.configure(addon, edscan_demo_app=f"127.0.0.1:{app.port}")
        body = f"username={student.username}&password={student.password}&state=s9".encode()
        req = http.Request.make("POST", f"https://{manifest.ID_HOST}/login", body)
        f = tflow.tflow(req=req)
        _run(tctx, addon, f)
        assert app.state.requests == 1
    assert f.response is not None and f.response.status_code == 302
    assert "code=" in f.response.headers["Location"]
    # the flow still says what the client sent, where it sent it
    assert f.request.url == f"https://{manifest.ID_HOST}/login"
    assert f.request.content == body


def test_third_parties_get_canned_replies_and_nothing_else_gets_out(
    tctx: taddons.context,
) -> None:
    addon = DemoUpstream()
    tctx.master.addons.add(addon)
    pixel = tflow.tflow(req=http.Request.make("GET", "https://www.facebook.com/tr/?id=1&ev=X"))
    _run(tctx, addon, pixel)
    assert pixel.response is not None and pixel.response.status_code == 200
    assert pixel.response.headers["Content-Type"] == "image/gif"
    stranger = tflow.tflow(req=http.Request.make("GET", "https://example.com/"))
    _run(tctx, addon, stranger)
    assert stranger.response is not None and stranger.response.status_code == 502
    mark = tflow.tflow(req=http.Request.make("GET", "http://edscan.mark/quiz"))
    _run(tctx, addon, mark)
    assert mark.response is None  # left to the recorder

    class Data:
        server = tflow.tserver_conn()

    data = Data()
    addon.server_connect(data)
    assert data.server.error and "disabled" in data.server.error
    assert addon.counts == {"first_party": 0, "third_party": 1, "refused": 2}


# --------------------------------------------------------------------------- through a real proxy


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Flow]]:
    out = tmp_path_factory.mktemp("demo")
    run = record_session(out)
    assert run.capture == out / CAPTURE_NAME
    return out, list(read_capture(run.capture))


def test_every_designed_third_party_is_recorded_in_its_phases(
    recorded: tuple[Path, list[Flow]],
) -> None:
    _, flows = recorded
    seen: dict[str, set[str | None]] = {}
    for f in flows:
        seen.setdefault(f.host, set()).add(f.phase)
    for party in manifest.THIRD_PARTIES:
        assert seen.get(party.host) == set(party.phases), party.host
    # nothing outside the design, and the phase marks themselves are not app traffic
    assert set(seen) == manifest.FIRST_PARTY_HOSTS | manifest.THIRD_PARTY_HOSTS
    schemes = {f.host: f.scheme for f in flows}
    assert {h for h, s in schemes.items() if s == "http"} == {
        p.host for p in manifest.THIRD_PARTIES if p.scheme == "http"
    }


def test_phases_follow_the_story_and_every_request_was_answered(
    recorded: tuple[Path, list[Flow]],
) -> None:
    _, flows = recorded
    order: list[str] = []
    for f in flows:
        assert f.phase is not None
        if not order or order[-1] != f.phase:
            order.append(f.phase)
    assert tuple(order) == manifest.PHASES
    assert all(f.error is None and f.status is not None for f in flows)
    assert not [f.url for f in flows if f.status is not None and f.status >= 400]
    # intercepted TLS everywhere except the plain-HTTP beacon
    assert all(f.tls_intercepted for f in flows if f.scheme == "https")


def test_bodies_are_recorded_as_the_sdks_sent_them(
    recorded: tuple[Path, list[Flow]],
) -> None:
    out, flows = recorded
    by_host = {f.host: f for f in flows}
    replay = by_host["rs.fullstory.com"]
    assert replay.request_body is not None
    assert replay.request_body.content[:2] == b"\x1f\x8b"  # still gzip'd, as sent
    pixel = by_host["www.facebook.com"]
    assert pixel.method == "GET" and "ev=" in pixel.url
    persona = out / PERSONA_NAME
    assert stat.S_IMODE(persona.stat().st_mode) == 0o600
    assert stat.S_IMODE((out / CAPTURE_NAME).stat().st_mode) == 0o600


def test_a_busy_port_is_a_clear_error(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        proc = subprocess.run(
            [sys.executable, "-m", "edscan", "demo", "--out", str(tmp_path), "--port", str(port)],
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    assert f"127.0.0.1:{port}" in proc.stderr


# --------------------------------------------------------------------------- `edscan demo`, end to end


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    out = tmp_path_factory.mktemp("demo-e2e") / "out"
    proc = subprocess.run(
        [sys.executable, "-m", "edscan", "demo", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    return out, proc.stdout


def _by_domain(doc: dict[str, Any]) -> dict[str, tuple[frozenset[str], frozenset[str]]]:
    elements: dict[str, set[str]] = {}
    rules: dict[str, set[str]] = {}
    for o in doc["observations"]:
        elements.setdefault(registrable_domain(o["host"]), set()).add(o["element"])
    for f in doc["findings"]:
        for d in f["recipients"]:
            rules.setdefault(d, set()).add(f["rule"])
    return {
        d: (frozenset(elements.get(d, ())), frozenset(rules.get(d, ())))
        for d in set(elements) | set(rules)
    }


def test_the_scan_finds_what_the_session_was_designed_to_show_and_nothing_else(
    demo_run: tuple[Path, str],
) -> None:
    out, _ = demo_run
    doc = json.loads((out / "result.json").read_text(encoding="utf-8"))
    parties = {r["domain"]: r["party"] for r in doc["recipients"]}
    assert {d for d, p in parties.items() if p == "third"} == {
        t.domain for t in manifest.THIRD_PARTIES
    }
    assert {d for d, p in parties.items() if p == "first"} == {manifest.FIRST_PARTY_DOMAIN}
    fp = doc["first_party"]
    assert (fp["domains"], fp["inferred"]) == ([manifest.FIRST_PARTY_DOMAIN], False)
    assert (fp["method"], fp["confidence"]) == ("given", "high")
    got = _by_domain(doc)
    want = manifest.expected()
    # one domain at a time, so a failure names the recipient that changed
    for domain in sorted(set(got) | set(want)):
        assert got.get(domain) == want.get(domain), domain
    assert doc["capture"]["phases"] == list(manifest.PHASES)


def test_the_demo_writes_the_report_and_tables_and_says_where(demo_run: tuple[Path, str]) -> None:
    out, stdout = demo_run
    doc = json.loads((out / "result.json").read_text(encoding="utf-8"))
    assert doc["score"]["grade"] == "F"
    assert f"grade {doc['score']['grade']}" in stdout
    assert "Top findings:" in stdout and "EDS0" in stdout
    for name in (
        "report.html",
        "result.json",
        "result.findings.csv",
        "result.recipients.csv",
        "result.observations.csv",
        CAPTURE_NAME,
        PERSONA_NAME,
    ):
        assert (out / name).is_file(), name
        assert str(out / name) in stdout, name
    with (out / "result.recipients.csv").open(encoding="utf-8", newline="") as fh:
        domains = {row["domain"] for row in csv.DictReader(fh)}
    assert {t.domain for t in manifest.THIRD_PARTIES} <= domains
    # the report is redacted: none of the persona's values appear in it
    persona = load_persona(out / PERSONA_NAME)
    html = (out / "report.html").read_text(encoding="utf-8")
    text = BeautifulSoup(html, "html.parser").get_text(" ")
    for key in ("student.email", "student.full_name", "student.password", "custom.essay"):
        value = persona.get(key)
        assert value and value not in html, key
    for t in manifest.THIRD_PARTIES:
        assert t.domain in text, t.domain


def test_the_manual_names_every_third_party_of_the_session() -> None:
    manual = (ROOT / "docs" / "demo.md").read_text(encoding="utf-8")
    section = manual.split("<!-- section:demo -->", 1)[1].split("<!-- /section:demo -->", 1)[0]
    for party in manifest.THIRD_PARTIES:
        assert party.host in section, party.host
    for phase in manifest.PHASES:
        assert f"| {phase} |" in section, phase
    assert "](demo-report.png)" in section
    assert (ROOT / "docs" / "demo-report.png").is_file()


def test_the_demo_report_prints_in_eight_pages_before_the_appendix(
    demo_run: tuple[Path, str],
) -> None:
    import re

    chromium = Path("/usr/bin/chromium")
    if not chromium.exists():
        pytest.skip(f"{chromium} is absent: install Debian's chromium to run the browser tests")
    from playwright.sync_api import sync_playwright

    out, _ = demo_run
    page_marker = re.compile(rb"/Type\s*/Page[^s]")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(chromium), args=["--no-sandbox"])
        try:
            page = browser.new_page()
            page.goto((out / "report.html").as_uri(), wait_until="load")
            names = page.locator("#recipients tbody tr th strong").all_inner_texts()
            assert names and len(names) == len(set(names))  # no company in two rows
            full = len(page_marker.findall(page.pdf(format="A4")))
            page.evaluate("() => document.querySelectorAll('.appendix').forEach(e => e.remove())")
            main = {f: len(page_marker.findall(page.pdf(format=f))) for f in ("A4", "Letter")}
        finally:
            browser.close()
    assert main["A4"] <= 8 and main["Letter"] <= 8, main
    assert full > main["A4"]
