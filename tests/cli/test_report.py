"""``edscan report``: a capture in, the HTML report (and a JSON sidecar) out."""

from __future__ import annotations

import base64
import hashlib
import json
import stat
from pathlib import Path

import jsonschema
import pytest
from bs4 import BeautifulSoup
from click.testing import CliRunner
from conftest import shared_path
from resultfactory import persona_forms

from edscan.capture.capture_file import CaptureWriter
from edscan.cli import cli
from edscan.models import Body, Flow
from edscan.resources import read_text

pytest.importorskip(
    "edscan.pipeline", reason="edscan.pipeline (the scan pipeline) is not there yet"
)

EMAIL = "quillon.zarbetta.4f2a@example.org"
SID = "88A7Q31"
PASSWORD = "Tr0ub4dor&3-canary"
PERSONA_TOML = f"""
[student]
first_name = "Quillon"
last_name = "Zarbetta"
email = "{EMAIL}"
student_id = "{SID}"
password = "{PASSWORD}"
"""
SECRETS = {EMAIL, SID, PASSWORD, "Zarbetta"}


def _flow(i: int, method: str, url: str, body: bytes | None = None, **kw: object) -> Flow:
    headers = [("User-Agent", "Mozilla/5.0"), ("Accept", "*/*")]
    if body is not None:
        headers.append(("Content-Type", str(kw.pop("ctype", "application/json"))))
    return Flow(
        index=i,
        id=f"f{i}",
        method=method,
        url=url,
        scheme=url.split(":")[0],
        http_version="HTTP/1.1",
        request_start=1767258000.0 + i,
        response_end=1767258000.2 + i,
        request_headers=tuple(headers),
        request_body=Body(content=body, size=len(body)) if body is not None else None,
        status=200,
        reason="OK",
        phase=str(kw.pop("phase", "login")),
    )


@pytest.fixture
def capture(tmp_path: Path) -> Path:
    mixpanel = base64.b64encode(
        json.dumps({"event": "login", "properties": {"name": "Quillon Zarbetta"}}).encode()
    ).decode()
    flows = [
        _flow(0, "GET", "https://app.quillpad.example/", phase="launch"),
        _flow(
            1,
            "POST",
            "https://app.quillpad.example/api/login",
            json.dumps({"email": EMAIL, "password": PASSWORD}).encode(),
        ),
        _flow(
            2,
            "GET",
            "https://www.facebook.com/tr/?id=1234&ev=PageView&ud[em]="
            + hashlib.sha256(EMAIL.encode()).hexdigest(),
        ),
        _flow(
            3,
            "POST",
            f"https://www.google-analytics.com/g/collect?v=2&tid=G-QP1&en=login&uid={SID}",
        ),
        _flow(
            4,
            "POST",
            "https://api.mixpanel.com/track",
            f"data={mixpanel}".encode(),
            ctype="application/x-www-form-urlencoded",
        ),
    ]
    path = tmp_path / "quillpad.edscan.jsonl"
    with CaptureWriter(path, {"test": True}) as w:
        for f in flows:
            w.write(f)
    return path


@pytest.fixture
def persona(tmp_path: Path) -> Path:
    path = tmp_path / "quillon.toml"
    path.write_text(PERSONA_TOML, encoding="utf-8")
    return path


def _run(*args: str) -> object:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def _no_secrets(text: str) -> None:
    low = text.lower()
    for value in SECRETS:
        for form in persona_forms(value):
            assert form.lower() not in low, form


def test_report_writes_html_and_json_redacted(capture: Path, persona: Path, tmp_path: Path) -> None:
    out, side = tmp_path / "r.html", tmp_path / "r.json"
    res = _run(
        "report", str(capture), "--persona", str(persona),
        "--first-party", "quillpad.example", "-o", str(out), "--json", str(side),
    )  # fmt: skip
    assert res.exit_code == 0, res.output  # type: ignore[attr-defined]
    assert f"wrote {out}" in res.stderr  # type: ignore[attr-defined]
    html = out.read_text(encoding="utf-8")
    soup = BeautifulSoup(html, "html.parser")
    ids = [s["id"] for s in soup.find_all("section")]
    assert ids[:3] == ["verdict", "questions", "flows"] and "limits" in ids
    assert soup.select_one(".grade .letter").get_text() in {"A", "B", "C", "D", "F"}
    doc = json.loads(side.read_text(encoding="utf-8"))
    jsonschema.validate(doc, json.loads(read_text("reports", "edscan-result-1.schema.json")))
    assert doc["settings"]["redacted"] is True
    fp = doc["first_party"]
    assert (fp["domains"], fp["inferred"], fp["method"]) == (["quillpad.example"], False, "given")
    third = {(o["host"], o["persona_field"]) for o in doc["observations"] if o["party"] == "third"}
    assert ("www.facebook.com", "student.email") in third
    _no_secrets(html)
    _no_secrets(side.read_text(encoding="utf-8"))


def test_reveal_is_owner_only_and_says_so(capture: Path, persona: Path, tmp_path: Path) -> None:
    out = tmp_path / "r.html"
    res = _run("report", str(capture), "--persona", str(persona), "--reveal", "-o", str(out))
    assert res.exit_code == 0
    assert "REVEALED" in res.stderr  # type: ignore[attr-defined]
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    soup = BeautifulSoup(out.read_text(encoding="utf-8"), "html.parser")
    assert soup.find("meta", attrs={"name": "edscan-mode"})["content"] == "revealed"
    assert PASSWORD not in out.read_text(encoding="utf-8")


def test_output_is_required_and_bad_input_is_one_clear_error(capture: Path, tmp_path: Path) -> None:
    res = CliRunner().invoke(cli, ["report", str(capture)])
    assert res.exit_code == 2 and "--output" in res.output
    bad = tmp_path / "bad.har"
    bad.write_text("{not json", encoding="utf-8")
    res = CliRunner().invoke(cli, ["report", str(bad), "-o", str(tmp_path / "x.html")])
    assert res.exit_code == 2
    assert "Traceback" not in res.output
    assert not (tmp_path / "x.html").exists()


def test_report_on_a_real_har(tmp_path: Path) -> None:
    har = shared_path("corpus", "edtech", "teacher-login-www.classdojo.com.har")
    out = tmp_path / "dojo.html"
    res = _run("report", str(har), "--first-party", "classdojo.com", "-o", str(out))
    assert res.exit_code == 0, res.output  # type: ignore[attr-defined]
    soup = BeautifulSoup(out.read_text(encoding="utf-8"), "html.parser")
    rows = soup.select("#recipients tbody tr.third-party")
    assert rows, "the ClassDojo login contacts third parties (Meta and TikTok pixels)"
    names = " ".join(r.find("th").get_text(" ") for r in rows)
    assert "Meta" in names or "Facebook" in names


def test_report_brief_writes_the_first_page_and_the_questions(tmp_path: Path) -> None:
    from mathsite import write_math_har

    har = write_math_har(tmp_path / "sumsprout.har")
    full, brief = tmp_path / "full.html", tmp_path / "brief.html"
    for out, extra in ((full, []), (brief, ["--brief"])):
        res = _run("report", str(har), "--first-party", "sumsprout.test", "-o", str(out), *extra)
        assert res.exit_code == 0, res.output  # type: ignore[attr-defined]
        assert "by rule and company" in res.stderr  # type: ignore[attr-defined]
    b = BeautifulSoup(brief.read_text(encoding="utf-8"), "html.parser")
    f = BeautifulSoup(full.read_text(encoding="utf-8"), "html.parser")
    assert [s["id"] for s in b.find_all("section")] == ["verdict", "questions"]
    assert [s["id"] for s in f.find_all("section")][:2] == ["verdict", "questions"]
    # the same first page in both: grade, decision, coverage, top findings, companies by kind
    for sel in (".grade", ".decision", ".coverage", "ol.top", "ul.kinds", "ol.questions"):
        assert b.select_one(sel).get_text(" ", strip=True) == f.select_one(sel).get_text(
            " ", strip=True
        ), sel
    assert b.select_one("ol.top") is not None and b.select_one("ol.questions") is not None
    assert b.select_one("meta[name=edscan-mode]")["content"] == "redacted"
