"""``edscan verify``: a bundle holds as made, and every kind of tampering is caught."""

from __future__ import annotations

import hashlib
import json
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from publishcapture import PERSONA_TOML, write_student_capture

from edscan.cli import cli
from edscan.publish import bundle
from edscan.publish.replay import REDACTED_CAPTURE

Members = dict[str, bytes]


def _run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args))


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("verify")
    capture = write_student_capture(d / "quillpad.edscan.jsonl")
    persona = d / "p.toml"
    persona.write_text(PERSONA_TOML, encoding="utf-8")
    out = d / "evidence.zip"
    res = _run("bundle", str(capture), "--persona", str(persona), "--first-party",
               "quillpad.example", "--created", "2026-03-01", "-o", str(out))  # fmt: skip
    assert res.exit_code == 0, res.output
    return out


def _members(path: Path) -> Members:
    with zipfile.ZipFile(path) as zf:
        return {n: zf.read(n) for n in zf.namelist()}


def _rehash(members: Members) -> None:
    """Tamper like someone careful: make the manifest's hashes match the edited files."""
    manifest = json.loads(members["MANIFEST.json"])
    manifest["files"] = [
        {"name": n, "sha256": hashlib.sha256(d).hexdigest(), "bytes": len(d)}
        for n, d in sorted(members.items())
        if n != "MANIFEST.json"
    ]
    members["MANIFEST.json"] = json.dumps(manifest).encode()


def test_an_untouched_bundle_holds(made: Path) -> None:
    res = _run("verify", str(made))
    assert res.exit_code == 0, res.output
    assert "DIFFERS" not in res.stdout
    assert "files match the manifest" in res.stdout
    assert "scanning the redacted capture again gives the recorded" in res.stdout
    manifest = json.loads(_members(made)["MANIFEST.json"])
    assert manifest["replay"]["findings"]  # the replay finds something to compare


def _edit_json(name: str, change: Callable[[dict], None]) -> Callable[[Members], None]:  # type: ignore[type-arg]
    def edit(m: Members) -> None:
        doc = json.loads(m[name])
        change(doc)
        m[name] = json.dumps(doc).encode()

    return edit


def _drop_finding(doc: dict) -> None:  # type: ignore[type-arg]
    doc["findings"].pop()


def _better_grade(doc: dict) -> None:  # type: ignore[type-arg]
    doc["score"]["grade"] = "A"


def _edit_capture(m: Members) -> None:
    lines = m[REDACTED_CAPTURE].decode().splitlines(keepends=True)
    lines = [ln for ln in lines if "facebook" not in ln and "doubleclick" not in ln]
    m[REDACTED_CAPTURE] = "".join(lines).encode()


def _edit_replay(m: Members) -> None:
    manifest = json.loads(m["MANIFEST.json"])
    manifest["replay"]["findings"] = manifest["replay"]["findings"][1:]
    m["MANIFEST.json"] = json.dumps(manifest).encode()


@pytest.mark.parametrize(
    ("tamper", "rehash", "expected"),
    [
        (lambda m: m.update({"report.html": m["report.html"] + b"<!-- -->"}), False,
         "report.html: SHA-256"),
        (lambda m: m.pop("evidence.json"), False, "evidence.json: listed in the manifest"),
        (lambda m: m.update({"extra.txt": b"hi"}), False, "extra.txt: in the bundle but not"),
        (_edit_json("result.json", _drop_finding), True, "findings (manifest, result.json)"),
        (_edit_json("result.json", _better_grade), True, "score (manifest, result.json)"),
        (_edit_capture, True, "replay"),
        (_edit_replay, False, "replay findings (manifest, scan now)"),
        (lambda m: m.pop(REDACTED_CAPTURE), True, "no redacted capture"),
    ],
    ids=["file-edited", "file-removed", "file-added", "finding-dropped", "grade-improved",
         "capture-edited", "replay-edited", "capture-removed"],
)  # fmt: skip
def test_tampering_is_exit_1_with_what_differs(
    made: Path,
    tmp_path: Path,
    tamper: Callable[[Members], None],
    rehash: bool,
    expected: str,
) -> None:
    members = _members(made)
    tamper(members)
    if rehash:
        _rehash(members)
    out = tmp_path / "tampered.zip"
    with out.open("wb") as fh:
        bundle.write_zip(members, fh)
    res = _run("verify", str(out))
    assert res.exit_code == 1, res.output
    assert expected in res.stdout
    assert "the bundle does not hold" in res.stderr


def test_not_a_bundle_is_exit_2(tmp_path: Path) -> None:
    junk = tmp_path / "junk.zip"
    junk.write_bytes(b"PK not really")
    res = _run("verify", str(junk))
    assert res.exit_code == 2 and "not a readable zip" in res.output
    other = tmp_path / "other.zip"
    with zipfile.ZipFile(other, "w") as zf:
        zf.writestr("hello.txt", "hi")
    res = _run("verify", str(other))
    assert res.exit_code == 2 and "not an edscan evidence bundle" in res.output
