"""``edscan bundle``: the redacted, reproducible evidence zip."""

from __future__ import annotations

import hashlib
import io
import json
import shlex
import stat
import zipfile
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from click.testing import CliRunner, Result
from publishcapture import (
    AD_ID,
    API_KEY,
    EMAIL,
    JWT,
    PERSONA_TOML,
    SECRETS,
    SESSION_COOKIE,
    SID,
    TRACKER_COOKIE,
    write_student_capture,
)
from resultfactory import persona_forms

from edscan.cli import cli
from edscan.errors import EdscanError
from edscan.publish import bundle
from edscan.report.redact import MASK, SECRET, Redactor

MEMBERS = [
    "MANIFEST.json",
    "README.txt",
    "capture.redacted.edscan.jsonl",
    "evidence.json",
    "report.html",
    "result.findings.csv",
    "result.json",
    "result.observations.csv",
    "result.recipients.csv",
]
CREATED = "2026-03-01T14:00:00Z"


@pytest.fixture
def capture(tmp_path: Path) -> Path:
    return write_student_capture(tmp_path / "quillpad.edscan.jsonl")


@pytest.fixture
def persona(tmp_path: Path) -> Path:
    path = tmp_path / "quillon.toml"
    path.write_text(PERSONA_TOML, encoding="utf-8")
    return path


def _run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def _bundle(capture: Path, persona: Path, out: Path, *extra: str) -> Result:
    res = _run(
        "bundle", str(capture), "--persona", str(persona),
        "--first-party", "quillpad.example", "-o", str(out), *extra,
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    return res


@pytest.fixture
def made(capture: Path, persona: Path, tmp_path: Path) -> dict[str, bytes]:
    out = tmp_path / "evidence.zip"
    _bundle(capture, persona, out, "--created", CREATED)
    with zipfile.ZipFile(out) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


def test_members_and_manifest_hashes(made: dict[str, bytes], capture: Path) -> None:
    assert list(made) == MEMBERS  # sorted, and nothing else: no capture, no persona
    manifest = json.loads(made["MANIFEST.json"])
    assert manifest["schema"] == "edscan-bundle/1"
    files = {f["name"]: f for f in manifest["files"]}
    assert sorted(files) == [m for m in MEMBERS if m != "MANIFEST.json"]
    for name, entry in files.items():
        assert entry["sha256"] == hashlib.sha256(made[name]).hexdigest(), name
        assert entry["bytes"] == len(made[name])
    cap = manifest["capture"]
    assert cap["sha256"] == hashlib.sha256(capture.read_bytes()).hexdigest()
    assert cap["file"] == "quillpad.edscan.jsonl"  # the name only, never the folders
    assert cap["included"] is False and cap["flows"] == 8
    assert manifest["created"] == CREATED
    assert manifest["redacted"] is True and manifest["mode"].startswith("0644")
    result = json.loads(made["result.json"])
    assert manifest["tool"] == result["tool"]
    assert [li["name"] for li in manifest["lists"]] == [li["name"] for li in result["lists"]]
    assert {li["version"] for li in manifest["lists"]} == {li["version"] for li in result["lists"]}
    assert manifest["persona"] == {"used": True, "fields": result["persona_fields"]}
    assert manifest["options"]["first_party"] == ["quillpad.example"]
    assert [f["fingerprint"] for f in manifest["findings"]] == [
        f["fingerprint"] for f in result["findings"]
    ]
    assert manifest["score"]["grade"] == result["score"]["grade"]
    assert result["settings"]["redacted"] is True
    assert result["capture"]["path"] == "quillpad.edscan.jsonl"


def test_no_persona_value_or_credential_in_any_encoding(made: dict[str, bytes]) -> None:
    result = json.loads(made["result.json"])
    assert result["observations"], "the capture must send the persona's values somewhere"
    for name, data in made.items():
        text = data.decode("utf-8").lower()
        for secret in SECRETS:
            for form in persona_forms(secret):
                assert form.lower() not in text, (name, secret, form)
    # the capture's bodies are not there either, in any form
    assert b"grandmother" not in b"".join(made.values()).lower()


def test_the_report_inside_is_the_redacted_report(made: dict[str, bytes]) -> None:
    soup = BeautifulSoup(made["report.html"].decode("utf-8"), "html.parser")
    assert soup.find("meta", attrs={"name": "edscan-mode"})["content"] == "redacted"
    assert "quillpad.edscan.jsonl" in soup.get_text()
    assert "/tmp" not in made["report.html"].decode("utf-8")


def test_evidence_has_every_cited_request_redacted(made: dict[str, bytes]) -> None:
    ev = json.loads(made["evidence.json"])
    result = json.loads(made["result.json"])
    assert ev["schema"] == "edscan-evidence/1" and ev["redacted"] is True
    cited = {e["flow"] for f in result["findings"] for e in f["evidence"]}
    requests = {r["request"]: r for r in ev["requests"]}
    assert set(requests) == cited and cited
    for f in ev["findings"]:
        for n in f["requests"]:
            assert f["fingerprint"] in requests[n]["findings"]
    # the decoded locations and chains that carried data are those of the observations
    for n, req in requests.items():
        observed = {
            (o["location"], tuple(o["encodings"])) for o in result["observations"] if o["flow"] == n
        }
        assert {(d["location"], tuple(d["encodings"])) for d in req["data"]} == observed
        assert all(d["value"].startswith("‹") for d in req["data"])
        if req["body"] is not None:
            assert set(req["body"]) == {
                "bytes", "truncated", "content_type", "content_encoding", "included",
            }  # fmt: skip
            assert req["body"]["included"] is False

    fb = requests[2]
    headers = dict(fb["headers"])
    assert headers["Cookie"] == SECRET
    assert headers["X-User-Email"] == "‹student.email›"
    assert headers["X-Device"].startswith("‹")
    assert headers["X-Trace"] == MASK  # an opaque id under a neutral name
    assert headers["X-Platform"] == "web"  # plainly about nobody
    assert headers["Referer"].startswith("https://app.quillpad.example/students/")
    assert "‹" in headers["Referer"] and SID not in headers["Referer"]
    assert fb["method"] == "GET" and fb["url"].startswith("https://www.facebook.com/tr/")
    assert "‹student.email›" in fb["url"]
    ga = dict(requests[3]["headers"]) if 3 in requests else None
    if ga is not None:
        assert ga["Authorization"] == SECRET
        assert ga["User-Agent"].startswith("QuillpadApp/2.1")
        assert AD_ID not in ga["User-Agent"]


def test_byte_identical_on_two_runs(capture: Path, persona: Path, tmp_path: Path) -> None:
    a, b = tmp_path / "a.zip", tmp_path / "b.zip"
    _bundle(capture, persona, a, "--created", CREATED)
    _bundle(capture, persona, b, "--created", "1772373600")  # the same time, in Unix seconds
    assert a.read_bytes() == b.read_bytes()
    # without --created only the creation time differs (in the manifest and the README)
    c = tmp_path / "c.zip"
    _bundle(capture, persona, c)
    with zipfile.ZipFile(a) as za, zipfile.ZipFile(c) as zc:
        for name in MEMBERS:
            if name not in ("MANIFEST.json", "README.txt"):
                assert za.read(name) == zc.read(name), name
        ma, mc = (json.loads(z.read("MANIFEST.json")) for z in (za, zc))
    assert {k: v for k, v in ma.items() if k not in ("created", "files")} == {
        k: v for k, v in mc.items() if k not in ("created", "files")
    }
    assert mc["created"] != CREATED


def test_zip_entries_are_fixed_and_readable(capture: Path, persona: Path, tmp_path: Path) -> None:
    out = tmp_path / "e.zip"
    _bundle(capture, persona, out, "--created", CREATED)
    assert stat.S_IMODE(out.stat().st_mode) == 0o644
    with zipfile.ZipFile(out) as zf:
        infos = zf.infolist()
        assert [i.filename for i in infos] == MEMBERS
        for info in infos:
            assert info.date_time == (1980, 1, 1, 0, 0, 0)
            assert stat.S_IMODE(info.external_attr >> 16) == 0o644
            assert info.compress_type == zipfile.ZIP_DEFLATED
        assert zf.testzip() is None
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_readme_says_how_to_verify_and_its_command_rebuilds_the_bundle(
    made: dict[str, bytes], capture: Path, persona: Path, tmp_path: Path
) -> None:
    readme = made["README.txt"].decode("utf-8")
    manifest = json.loads(made["MANIFEST.json"])
    assert manifest["capture"]["sha256"] in readme
    assert "0644" in readme and "sha256sum -c" in readme
    assert "not" in readme.lower() and "persona" in readme.lower()
    command = next(line.strip() for line in readme.splitlines() if "edscan bundle" in line)
    words = shlex.split(command)
    assert words[:3] == ["edscan", "bundle", "quillpad.edscan.jsonl"]
    assert "--created" in words and CREATED in words
    # the verifier has the capture (from the publisher) and, here, the persona
    words[2] = str(capture)
    words[words.index("--persona") + 1] = str(persona)
    check = tmp_path / "check.zip"
    words[words.index("-o") + 1] = str(check)
    res = _run(*words[1:])
    assert res.exit_code == 0, res.output
    with zipfile.ZipFile(check) as zf:
        assert {n: zf.read(n) for n in zf.namelist()} == made


def test_reveal_is_refused(capture: Path, tmp_path: Path) -> None:
    out = tmp_path / "e.zip"
    res = CliRunner().invoke(cli, ["bundle", str(capture), "--reveal", "-o", str(out)])
    assert res.exit_code == 2
    assert "--reveal is refused" in res.output and "publish" in res.output
    assert not out.exists()


def test_bad_created_and_unwritable_output(capture: Path, tmp_path: Path) -> None:
    res = CliRunner().invoke(
        cli, ["bundle", str(capture), "--created", "last tuesday", "-o", str(tmp_path / "e.zip")]
    )
    assert res.exit_code == 2 and "ISO 8601" in res.output
    res = CliRunner().invoke(cli, ["bundle", str(capture), "-o", str(tmp_path / "no" / "e.zip")])
    assert res.exit_code == 2 and "cannot write" in res.output
    assert not (tmp_path / "e.zip").exists()


def test_write_leaves_nothing_when_it_fails(tmp_path: Path) -> None:
    target = tmp_path / "e.zip"
    target.write_bytes(b"old")
    with pytest.raises(TypeError):
        bundle.write(target, {"a.txt": b"1", "b.txt": 123})  # type: ignore[dict-item]
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["e.zip"]


def test_write_zip_is_deterministic_whatever_the_order() -> None:
    a, b = io.BytesIO(), io.BytesIO()
    bundle.write_zip({"b.txt": b"2", "a.txt": b"1"}, a)
    bundle.write_zip({"a.txt": b"1", "b.txt": b"2"}, b)
    assert a.getvalue() == b.getvalue()
    with zipfile.ZipFile(a) as zf:
        assert zf.namelist() == ["a.txt", "b.txt"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-03-01T14:00:00Z", 1772373600.0),
        ("2026-03-01T15:00:00+01:00", 1772373600.0),
        ("2026-03-01T14:00:00", 1772373600.0),
        ("2026-03-01", 1772323200.0),
        ("1772373600", 1772373600.0),
    ],
)
def test_parse_created(text: str, expected: float) -> None:
    assert bundle.parse_created(text) == expected


def test_parse_created_refuses_nonsense() -> None:
    with pytest.raises(EdscanError, match="ISO 8601"):
        bundle.parse_created("soon")


def test_headers_are_redacted_by_what_they_are() -> None:
    red = Redactor([(EMAIL, "‹student.email›", False), (SESSION_COOKIE, SECRET, True)])
    shown = dict(
        bundle.redact_headers(
            [
                ("Authorization", f"Bearer {JWT}"),
                ("Cookie", f"a={TRACKER_COOKIE}"),
                ("X-Api-Key", API_KEY),
                ("X-Goog-Session", "anything"),
                ("Referer", f"https://app.example/p?u={EMAIL}&lang=en"),
                ("User-Agent", f"App/1.0 (contact {EMAIL}; id 1234567890123)"),
                ("Accept-Language", "en-US,en;q=0.9"),
                ("X-Client-Version", "4.2.1"),
                ("X-Client-Data", "CIa2yQEIpbbJAQipncoB"),
                ("X-User-Id", "12"),
                ("X-Request-Id", "b5c1e1d8-55c8-4f1e-9f43-2d1c2a7d3c11"),
                ("X-Note", f"for {EMAIL}"),
                ("Accept\x1b[2J", "text/html\n# injected\x07"),
            ],
            red,
        )
    )
    assert shown["Authorization"] == shown["Cookie"] == shown["X-Api-Key"] == SECRET
    assert shown["X-Goog-Session"] == SECRET
    assert shown["Referer"] == "https://app.example/p?u=‹student.email›&lang=en"
    assert shown["User-Agent"] == "App/1.0 (contact ‹student.email›; id ‹masked›)"
    assert shown["Accept-Language"] == "en-US,en;q=0.9"
    assert shown["X-Client-Version"] == "4.2.1"
    assert shown["X-Client-Data"] == MASK  # an opaque token under a neutral name
    assert shown["X-User-Id"] == MASK  # short, but the name says it is about a person
    assert shown["X-Request-Id"] == MASK
    assert shown["X-Note"] == "‹masked, holds student.email›"
    # no terminal escapes or line breaks survive, in names or values
    assert shown["Accept [2J"] == "text/html # injected "


def test_a_capture_changed_after_the_scan_is_refused(capture: Path, persona: Path) -> None:
    from edscan.detect.persona import load_persona
    from edscan.pipeline import scan

    p = load_persona(persona)
    result = scan(capture, persona=p, first_party=("quillpad.example",))
    options = bundle.Options(persona=True, created=0.0)
    assert bundle.build(capture, result, p, options)  # the file as scanned: fine
    with capture.open("ab") as f:
        f.write(b"\n")
    with pytest.raises(EdscanError, match="changed while the bundle was made"):
        bundle.build(capture, result, p, options)
