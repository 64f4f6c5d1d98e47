"""The pipeline and `edscan scan`, end to end on real and synthetic captures."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import shared_path

from edscan.capture.capture_file import CaptureWriter
from edscan.cli import cli
from edscan.models import Body, Flow, Party
from edscan.pipeline import scan

OBSERVATION_KEYS = {
    "flow",
    "host",
    "element",
    "detector",
    "confidence",
    "location",
    "encodings",
    "persona_field",
    "party",
}
RECIPIENT_KEYS = {
    "domain",
    "hosts",
    "organization",
    "parent",
    "categories",
    "party",
    "sdk",
    "sources",
    "flows",
}


def _write_capture(path: Path, email: str) -> None:
    """A tiny session: the app's own API gets the e-mail, then a tracker gets it hashed."""
    import hashlib

    hashed = hashlib.sha256(email.encode()).hexdigest()
    flows = [
        Flow(
            index=0,
            id="a",
            method="POST",
            url="https://api.quillpond.test/v1/login",
            scheme="https",
            request_headers=(("content-type", "application/json"),),
            request_body=Body(content=json.dumps({"email": email}).encode(), size=30),
            status=200,
            request_start=1000.0,
            phase="login",
        ),
        Flow(
            index=1,
            id="b",
            method="GET",
            url=f"https://www.facebook.com/tr?id=1&ev=PageView&ud[em]={hashed}",
            scheme="https",
            status=200,
            request_start=1001.0,
            phase="login",
        ),
    ]
    with CaptureWriter(path) as w:
        for f in flows:
            w.write(f)


@pytest.fixture
def session(tmp_path: Path) -> tuple[Path, Path]:
    capture = tmp_path / "s.edscan.jsonl"
    _write_capture(capture, "ivo.quillfeather@example.org")
    persona = tmp_path / "p.toml"
    persona.write_text('[student]\nemail = "ivo.quillfeather@example.org"\n')
    return capture, persona


def test_scan_json_keeps_the_contracts(session: tuple[Path, Path], tmp_path: Path) -> None:
    capture, persona = session
    out = tmp_path / "r.json"
    result = CliRunner().invoke(
        cli,
        [
            "scan",
            str(capture),
            "--persona",
            str(persona),
            "--first-party",
            "quillpond.test",
            "--data-dir",
            str(tmp_path / "lists"),
            "-f",
            "json",
            "-o",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    doc = json.loads(out.read_text())
    obs = doc["observations"]
    assert obs and all(set(o) >= OBSERVATION_KEYS for o in obs)
    by_host = {(o["host"], o["party"], o["persona_field"]) for o in obs}
    assert ("api.quillpond.test", "first", "student.email") in by_host
    assert ("www.facebook.com", "third", "student.email") in by_host
    sha = next(
        o for o in obs if o["host"] == "www.facebook.com" and o["persona_field"] == "student.email"
    )
    assert "sha256" in sha["encodings"]
    recipients = {r["domain"]: r for r in doc["recipients"]}
    assert all(set(r) >= RECIPIENT_KEYS for r in recipients.values())
    assert recipients["facebook.com"]["party"] == "third"
    assert "Meta" in (recipients["facebook.com"]["organization"] or "")
    assert recipients["quillpond.test"]["party"] == "first"
    assert doc["findings"] and doc["score"]["grade"] in "ABCDEF"
    # redacted by default: the seeded value never appears
    assert "quillfeather" not in out.read_text()


def test_fail_on_sets_the_exit_code(session: tuple[Path, Path], tmp_path: Path) -> None:
    capture, persona = session
    base = ["scan", str(capture), "--persona", str(persona), "--data-dir", str(tmp_path / "d")]
    assert CliRunner().invoke(cli, [*base, "--fail-on", "high"]).exit_code == 1
    clean = tmp_path / "clean.edscan.jsonl"
    with CaptureWriter(clean) as w:
        w.write(Flow(index=0, id="x", method="GET", url="https://quillpond.test/", status=200))
    ok = CliRunner().invoke(
        cli, ["scan", str(clean), "--fail-on", "low", "--data-dir", str(tmp_path / "d")]
    )
    assert ok.exit_code == 0, ok.output


def test_bad_capture_exits_2_without_traceback(tmp_path: Path) -> None:
    junk = tmp_path / "junk.har"
    junk.write_text('{"not": "a har"}')
    proc = subprocess.run(
        [sys.executable, "-m", "edscan", "scan", str(junk)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr and proc.stderr.strip()


def test_classdojo_login_email_stays_first_party(tmp_path: Path) -> None:
    har = shared_path("corpus", "edtech", "teacher-login-www.classdojo.com.har")
    persona = tmp_path / "bob.toml"
    persona.write_text('[student]\nemail = "bob@bob.com"\n')
    from edscan.detect.persona import load_persona

    result = scan(har, persona=load_persona(persona), data_dir=tmp_path / "d")
    assert result.first_party and "classdojo.com" in result.first_party
    hits = [o for o in result.observations if o.persona_field == "student.email"]
    assert hits, "the login e-mail was not found"
    assert {o.party for o in hits} == {Party.FIRST}
    third = {r.organization for r in result.recipients if r.party is Party.THIRD}
    assert any("Meta" in (o or "") for o in third) and any("ByteDance" in (o or "") for o in third)


def test_requests_cut_off_by_the_stop_are_detected_and_counted(tmp_path: Path) -> None:
    capture = tmp_path / "cut.edscan.jsonl"
    email = "ivo.quillfeather@example.org"
    with CaptureWriter(capture) as w:
        for i in range(3):
            w.write(
                Flow(
                    index=i, id=f"c{i}", method="GET", scheme="https",
                    url=f"https://tracker.example.net/collect?n={i}&email={email}",
                    request_start=1000.0 + i, cut_off="no_response",
                    error="cut off by the stop of the capture before the response arrived",
                )
            )  # fmt: skip
        w.write(Flow(index=3, id="d", method="GET", url="https://app.example.org/", status=200))
    persona = tmp_path / "p.toml"
    persona.write_text(f'[student]\nemail = "{email}"\n')
    from edscan.detect.persona import load_persona

    result = scan(capture, persona=load_persona(persona))
    assert result.capture.cut_off == 3 and result.capture.flows == 4
    found = {o.flow for o in result.observations if o.persona_field == "student.email"}
    assert found == {0, 1, 2}
