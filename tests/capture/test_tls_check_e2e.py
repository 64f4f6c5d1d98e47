"""End to end: a TLS check (``edscan_tls_check``, what ``edscan capture --tls-check`` sets) with a
real mitmdump on loopback and a local HTTPS origin. One client validates certificates as it
should and refuses the proxy's; the other has verification off and sends a test student's email
through the forged certificate. The capture, its HAR conversion, and a capture made without the
check are then scanned."""

from __future__ import annotations

import json
import ssl
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import liveproxy
import pytest
from click.testing import CliRunner
from liveproxy import http_origin, make_pki, mitmdump

from edscan.capture.capture_file import read_capture
from edscan.capture.har_source import HarSource
from edscan.cli import cli
from edscan.resources import read_text

pytestmark = pytest.mark.e2e

EMAIL = "quillon.zarbetta.4f2a@example.org"
PERSONA_TOML = f"""
[student]
first_name = "Quillon"
last_name = "Zarbetta"
email = "{EMAIL}"
"""
SCHEMA = json.loads(read_text("reports", "edscan-result-1.schema.json"))


def _client(proxy_url: str, verify: ssl.SSLContext | bool) -> httpx.Client:
    return httpx.Client(proxy=proxy_url, verify=verify, trust_env=False, timeout=10)


def _record(tmp_path: Path, pki: liveproxy.TestPKI, capture: Path, *, tls_check: bool) -> None:
    """One validating client (to 127.0.0.1) and one with verification off (to localhost)."""
    extra = ("--set", "edscan_tls_check=true") if tls_check else ()
    with (
        http_origin(pki.server_context(), host="localhost") as secure,
        mitmdump(tmp_path, capture, trusted_ca=pki.ca_pem, extra=extra) as proxy,
    ):
        # normal verification: trusts the origin's real CA, never the proxy's forged certificate
        validating = ssl.create_default_context(cafile=str(pki.ca_pem))
        with _client(proxy.proxy_url, validating) as client, pytest.raises(httpx.ConnectError):
            client.post(f"https://127.0.0.1:{secure.port}/refused", json={"email": EMAIL})
        with _client(proxy.proxy_url, False) as client:
            r = client.post(secure.url("/api/profile"), json={"email": EMAIL, "grade": 7})
        assert r.status_code == 200
        assert proxy.stop() == 0, proxy.log.read_text()
    # what the validating client would have sent never reached the server
    assert [rec["path"] for rec in secure.received] == ["/api/profile"]


def _scan(tmp_path: Path, capture: Path) -> dict[str, Any]:
    persona = tmp_path / "quillon.toml"
    persona.write_text(PERSONA_TOML, encoding="utf-8")
    res = CliRunner().invoke(
        cli, ["scan", str(capture), "--persona", str(persona), "-f", "json"], catch_exceptions=False
    )
    assert res.exit_code in (0, 1), res.output
    doc: dict[str, Any] = json.loads(res.stdout)
    jsonschema.validate(doc, SCHEMA)
    return doc


def _port(finding: dict[str, Any]) -> int:
    return int(finding["evidence"][0]["url"].split("localhost:", 1)[1].split("/", 1)[0])


def _eds031(doc: dict[str, Any]) -> list[dict[str, Any]]:
    return [f for f in doc["findings"] if f["rule"] == "EDS031"]


def _assert_tls_check_result(doc: dict[str, Any]) -> None:
    assert doc["capture"]["tls_check"] is True
    cov = doc["coverage"]
    assert cov["tls_check"] == {"accepted": ["localhost"], "validated": ["127.0.0.1"]}
    assert "TLS check: 1 host accepted a forged certificate, 1 validated it" in cov["summary"]
    refused = [g for g in cov["gaps"] if g["reason"] == "certificate-refused"]
    assert [(g["host"], g["connections"]) for g in refused] == [("127.0.0.1", 1)]
    [finding] = _eds031(doc)
    assert finding["severity"] == "critical"
    assert "localhost" in finding["summary"] and "forged certificate" in finding["summary"]
    assert "127.0.0.1" not in finding["summary"]  # the host that refused is not named
    assert finding["elements"] == ["st_contact.email"]  # what it then sent


@pytest.fixture(scope="module")
def tls_checked(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("tls-check")
    pki = make_pki(tmp)
    capture = tmp / "check.edscan.jsonl"
    _record(tmp, pki, capture, tls_check=True)
    return capture


def test_refusal_is_recorded_and_listed_as_validated(tls_checked: Path, tmp_path: Path) -> None:
    reader = read_capture(tls_checked)
    assert reader.header["version"] == "1.3"
    assert reader.header["settings"]["tls_check"] is True
    flows = list(reader)
    refused = [f for f in flows if f.method == "CONNECT"]
    [flow] = refused
    assert flow.error is not None
    assert flow.error.startswith("client refused the proxy's TLS certificate for 127.0.0.1")
    assert flow.tls_intercepted is False
    doc = _scan(tmp_path, tls_checked)
    assert doc["coverage"]["tls_check"]["validated"] == ["127.0.0.1"]


def test_a_forged_certificate_accepted_is_eds031_with_the_data_sent(
    tls_checked: Path, tmp_path: Path
) -> None:
    doc = _scan(tmp_path, tls_checked)
    _assert_tls_check_result(doc)
    [finding] = _eds031(doc)
    # the evidence is the request sent through the forged certificate, with where the email was
    assert finding["evidence"], finding
    assert {e["url"].split("?")[0] for e in finding["evidence"]} == {
        f"https://localhost:{_port(finding)}/api/profile"
    }
    assert any(e["location"] == "body:$.email" for e in finding["evidence"])
    # the persona's email is named as what it sent, never shown (redacted by default)
    assert EMAIL not in json.dumps(doc)


def test_har_round_trip_keeps_the_tls_check(tls_checked: Path, tmp_path: Path) -> None:
    har = tmp_path / "check.har"
    res = CliRunner().invoke(
        cli, ["convert", str(tls_checked), "-o", str(har)], catch_exceptions=False
    )
    assert res.exit_code == 0, res.output
    log = json.loads(har.read_text(encoding="utf-8"))["log"]
    assert log["creator"]["_edscan"] == {"tls_check": True}
    assert HarSource(har).tls_check is True
    doc = _scan(tmp_path, har)
    assert doc["capture"]["format"] == "har"
    _assert_tls_check_result(doc)  # the finding and the refusal survive the conversion
    # and back again: HAR -> edscan capture keeps it in the header
    back = tmp_path / "back.edscan.jsonl"
    res = CliRunner().invoke(cli, ["convert", str(har), "-o", str(back)], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    assert read_capture(back).header["settings"]["tls_check"] is True
    _assert_tls_check_result(_scan(tmp_path, back))


def test_a_capture_without_the_tls_check_never_gives_eds031(tmp_path: Path) -> None:
    pki = make_pki(tmp_path)
    capture = tmp_path / "plain.edscan.jsonl"
    _record(tmp_path, pki, capture, tls_check=False)
    assert "tls_check" not in read_capture(capture).header["settings"]
    doc = _scan(tmp_path, capture)
    assert doc["capture"]["tls_check"] is False
    assert _eds031(doc) == []
    assert "tls_check" not in doc["coverage"]
    # the refusal is still a gap, as in any capture
    assert [g["host"] for g in doc["coverage"]["gaps"]] == ["127.0.0.1"]
    har = tmp_path / "plain.har"
    CliRunner().invoke(cli, ["convert", str(capture), "-o", str(har)], catch_exceptions=False)
    assert "_edscan" not in json.loads(har.read_text(encoding="utf-8"))["log"]["creator"]
    assert _eds031(_scan(tmp_path, har)) == []


def test_the_html_report_lists_the_tls_check(tls_checked: Path, tmp_path: Path) -> None:
    from bs4 import BeautifulSoup

    out = tmp_path / "r.html"
    res = CliRunner().invoke(
        cli, ["report", str(tls_checked), "-o", str(out)], catch_exceptions=False
    )
    assert res.exit_code == 0, res.output
    soup = BeautifulSoup(out.read_text(encoding="utf-8"), "html.parser")
    tls = soup.select_one("#limits li.tls-check")
    assert tls is not None
    assert tls.select_one(".hosts.accepted").get_text() == "localhost"  # type: ignore[union-attr]
    assert tls.select_one(".hosts.validated").get_text() == "127.0.0.1"  # type: ignore[union-attr]
    assert any(
        "EDS031" in a.get_text() or "Forged TLS certificate" in a.get_text()
        for a in soup.select("#verdict ol.top li")
    )
