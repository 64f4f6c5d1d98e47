"""`edscan diff`: two results compared by fingerprint; a real round over two captures of one app,
before and after the vendor removed a tracker; every output format; exit codes."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from appcaptures import FIRST_PARTY, write_app_capture
from bs4 import BeautifulSoup, Tag
from click.testing import CliRunner
from scanbuilder import ScanBuilder

from edscan.cli import cli
from edscan.declared.declaration import parse_declaration
from edscan.errors import EdscanError
from edscan.models import Confidence, ScanResult, Severity
from edscan.publish.diff import (
    Diff,
    FindingRef,
    diff,
    looks_like_result,
    side_from_document,
)
from edscan.publish.diff_page import render
from edscan.report.html import CSP
from edscan.report.json import document
from edscan.rules import run_rules
from edscan.rules.score import score

ADS = ("advertising", "ad-motivated tracking")


def _scored(result: ScanResult) -> ScanResult:
    result = replace(result, findings=tuple(run_rules(result)))
    return replace(result, score=score(result))


def _side(result: ScanResult, label: str):  # type: ignore[no-untyped-def]
    return side_from_document(document(_scored(result)), label)


def _v1() -> ScanBuilder:
    """Meta gets a hashed e-mail; Mixpanel a student id (an analytics SDK, medium)."""
    b = ScanBuilder().recipient("facebook.com", *ADS, org="Meta Platforms, Inc.")
    b.recipient("mixpanel.com", "analytics", org="Mixpanel, Inc.")
    i = b.flow("https://www.facebook.com/tr?ev=PageView")
    b.obs(i, "st_contact.email", location="query:ud[em]")
    j = b.flow("https://api-js.mixpanel.com/track", method="POST", request_bytes=100)
    b.obs(j, "sid.local", location="body:$.properties.student_id")
    return b


def _v2() -> ScanBuilder:
    """Meta is gone; Mixpanel now also gets the grade (tier 2: its finding escalates); a new
    recipient, Braze, gets the date of birth."""
    b = ScanBuilder().recipient("mixpanel.com", "analytics", org="Mixpanel, Inc.")
    b.recipient("braze.com", "customer engagement / messaging", org="Braze, Inc.")
    j = b.flow("https://api-js.mixpanel.com/track", method="POST", request_bytes=100)
    b.obs(j, "sid.local", location="body:$.properties.student_id")
    k = b.flow("https://sdk.iad-01.braze.com/api/v3/data", method="POST", request_bytes=10)
    b.obs(k, "demo.dob", location="body:$.attributes.dob")
    return b


@pytest.fixture(scope="module")
def d() -> Diff:
    return diff(_side(_v1().build(), "v1.json"), _side(_v2().build(), "v2.json"))


# ------------------------------------------------------------------ recognising a result


def test_a_result_is_told_from_captures_by_its_first_key(tmp_path: Path) -> None:
    doc = document(_scored(_v1().build()))
    text = json.dumps(doc, indent=2, sort_keys=True).encode()
    assert looks_like_result(text[:4096])
    assert looks_like_result(b'\xef\xbb\xbf  {\n "schema": "edscan-result/1"}')
    assert not looks_like_result(b'{"log": {"version": "1.2", "entries": []}}')
    capture = write_app_capture(tmp_path / "a.edscan.jsonl")
    assert not looks_like_result(capture.read_bytes()[:4096])
    assert not looks_like_result(b"123:")  # a mitmproxy dump
    assert not looks_like_result(b"[]")


@pytest.mark.parametrize(
    ("doc", "expected"),
    [
        ([1, 2], "a JSON object was expected"),
        ({"schema": "edscan-result/2"}, "schema 'edscan-result/2'"),
        ({"schema": "edscan-result/1", "capture": {}}, "a malformed edscan-result/1 result"),
    ],
)
def test_what_is_not_a_result_is_refused(doc: object, expected: str) -> None:
    with pytest.raises(EdscanError, match=expected) as e:
        side_from_document(doc, "x.json")
    assert "\n" not in e.value.message and e.value.message.startswith("x.json")


# ------------------------------------------------------------------ the diff


def test_findings_new_resolved_unchanged_by_fingerprint(d: Diff) -> None:
    new = {(f.rule, f.recipients) for f in d.new_findings}
    resolved = {(f.rule, f.recipients) for f in d.resolved_findings}
    assert ("EDS001", ("facebook.com",)) in resolved
    assert all(r == ("facebook.com",) for _, r in resolved)
    assert new and all(r == ("braze.com",) for _, r in new)
    unchanged = [c for c in d.unchanged_findings if c.finding.recipients == ("mixpanel.com",)]
    assert unchanged and all(not c.severity_changed for c in unchanged)
    old_prints = {f.fingerprint for f in d.old.findings}
    assert {f.fingerprint for f in d.new_findings}.isdisjoint(old_prints)
    # most severe first
    ranks = [f.severity.rank for f in d.resolved_findings]
    assert ranks == sorted(ranks, reverse=True)


def test_recipients_and_third_party_elements(d: Diff) -> None:
    assert [(r.domain, r.organization) for r in d.recipients_added] == [
        ("braze.com", "Braze, Inc.")
    ]
    assert [(r.domain, r.organization) for r in d.recipients_removed] == [
        ("facebook.com", "Meta Platforms, Inc.")
    ]
    assert [(e.element, e.recipients) for e in d.elements_added] == [("demo.dob", ("braze.com",))]
    assert [(e.element, e.recipients) for e in d.elements_removed] == [
        ("st_contact.email", ("facebook.com",))
    ]


def test_grade_and_score_change(d: Diff) -> None:
    assert d.old.score is not None and d.new.score is not None
    assert d.score_change == d.new.score - d.old.score < 0
    assert d.old.grade == "F" and d.new.grade != "F"


def test_a_severity_change_of_the_same_finding_is_shown() -> None:
    old = _side(_v1().build(), "a")
    f = old.findings[0]
    raised = replace(
        f, severity=Severity.CRITICAL if f.severity is not Severity.CRITICAL else Severity.HIGH
    )
    new = replace(old, findings=(raised, *old.findings[1:]), label="b")
    out = diff(old, new)
    changed = [c for c in out.unchanged_findings if c.severity_changed]
    assert [c.finding.fingerprint for c in changed] == [f.fingerprint]
    assert out.new_findings == () and out.resolved_findings == ()
    assert f"was {f.severity.value}" in render(out, "text")


def test_notes_say_when_the_two_sides_were_made_differently() -> None:
    a = _side(_v1().build(), "a")
    assert any("same capture" in n for n in diff(a, replace(a, label="b")).notes)
    b = replace(
        _side(_v1().declare(parse_declaration("third_party = []")).build(), "b"),
        capture_sha256="f" * 64,
        persona_fields=("student.email",),
        first_party=("other.example",),
        tool_version="9.9",
        lists=("adguard-companiesdb@2099-01-01",),
    )
    notes = " ".join(diff(a, b).notes)
    for words in (
        "persona differs",
        "first party differs",
        "Only the new result was made with --declared",
        "tracker lists",
        "Different edscan versions",
    ):
        assert words in notes, words
    assert "same capture" not in notes


def test_new_at_or_above(d: Diff) -> None:
    worst = max(f.severity for f in d.new_findings)
    assert d.new_at_or_above(worst)
    above = [s for s in Severity if s > worst]
    for s in above:
        assert not d.new_at_or_above(s)


# ------------------------------------------------------------------ formats


def test_text(d: Diff) -> None:
    text = render(d, "text")
    assert text.startswith("edscan diff: v1.json → v2.json\nGrade F (")
    assert "Recipients: 1 added, 1 removed" in text
    assert "  + braze.com (Braze, Inc.), third party" in text
    assert "  - facebook.com (Meta Platforms, Inc.), third party" in text
    assert "  - st_contact.email (Student e-mail) to facebook.com" in text
    assert all(len(line) <= 100 for line in text.splitlines())


def test_json(d: Diff) -> None:
    doc = json.loads(render(d, "json"))
    assert doc["schema"] == "edscan-diff/1"
    assert doc["score_change"] == d.score_change
    assert doc["old"]["label"] == "v1.json" and doc["new"]["grade"] == d.new.grade
    assert {f["fingerprint"] for f in doc["findings"]["resolved"]} == {
        f.fingerprint for f in d.resolved_findings
    }
    assert doc["recipients"]["removed"][0]["domain"] == "facebook.com"
    assert doc["third_party_elements"]["newly_sent"] == [
        {"element": "demo.dob", "recipients": ["braze.com"]}
    ]
    assert all("old_severity" in f for f in doc["findings"]["unchanged"])


def test_html_is_self_contained_and_escaped(d: Diff) -> None:
    hostile = FindingRef(
        fingerprint="x" * 32,
        rule="EDS999",
        title='<script>alert("t")</script><img src=x onerror=alert(1)>',
        severity=Severity.HIGH,
        confidence=Confidence.LOW,
        elements=(),
        recipients=("<b>evil</b>.example",),
    )
    d2 = replace(d, new_findings=(hostile, *d.new_findings))
    soup = BeautifulSoup(render(d2, "html"), "html.parser")
    meta = soup.find("meta", attrs={"http-equiv": "Content-Security-Policy"})
    assert isinstance(meta, Tag) and meta["content"] == CSP
    assert soup.find_all(["script", "img", "link", "iframe"]) == []
    assert soup.select("table.diff-findings b") == []
    assert len(soup.find_all("style")) == 1
    for el in soup.find_all(True):
        assert not any(a.lower().startswith("on") for a in el.attrs), el.name
    rows = soup.select("table.diff-findings tbody tr")
    kinds = [r["class"][0] for r in rows]
    assert kinds.count("new") == len(d2.new_findings)
    assert kinds.count("resolved") == len(d.resolved_findings)
    assert kinds.count("unchanged") == len(d.unchanged_findings)
    first = [" ".join(td.get_text(" ").split()) for td in rows[0].find_all("td")]
    assert first[0] == "new" and first[3].startswith('<script>alert("t")</script>')
    assert first[4] == "<b>evil</b>.example"
    removed = [li.get_text() for li in soup.select("ul.removed li")]
    assert removed == [
        "facebook.com (Meta Platforms, Inc.), third party; advertising, ad-motivated tracking"
    ]
    letters = [x.get_text() for x in soup.select(".grade .letter")]
    assert letters == [d.old.grade, d.new.grade]


# ------------------------------------------------------------------ the command, a real round


@pytest.fixture
def versions(tmp_path: Path) -> tuple[Path, Path, Path]:
    """v1 and v2 captures of the app (v2 without the Meta Pixel), and v1's result.json."""
    v1 = write_app_capture(tmp_path / "v1.edscan.jsonl", tracker=True)
    v2 = write_app_capture(tmp_path / "v2.edscan.jsonl", tracker=False)
    result = tmp_path / "v1.json"
    r = CliRunner().invoke(
        cli, ["scan", str(v1), "--first-party", FIRST_PARTY, "-f", "json", "-o", str(result)]
    )
    assert r.exit_code == 0, r.output
    return v1, v2, result


def test_a_real_round_the_vendor_removed_the_tracker(versions: tuple[Path, Path, Path]) -> None:
    _, v2, v1_json = versions
    r = CliRunner().invoke(
        cli, ["diff", str(v1_json), str(v2), "--first-party", FIRST_PARTY, "-f", "json"]
    )
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    resolved = {(f["rule"], tuple(f["recipients"])) for f in doc["findings"]["resolved"]}
    assert ("EDS001", ("facebook.com",)) in resolved
    assert ("EDS011", ("facebook.com",)) in resolved
    assert doc["findings"]["new"] == []
    # EDS019 (student data) and EDS026 (a persistent id to an analytics company)
    assert {tuple(f["recipients"]) for f in doc["findings"]["unchanged"]} == {
        ("google-analytics.com",)
    }
    assert [x["domain"] for x in doc["recipients"]["removed"]] == ["facebook.com"]
    assert doc["recipients"]["added"] == []
    assert doc["third_party_elements"]["no_longer_sent"] == [
        {"element": "st_contact.email", "recipients": ["facebook.com"]}
    ]
    assert doc["old"]["grade"] == "F" and doc["new"]["grade"] in ("A", "B")
    assert doc["score_change"] < 0
    assert doc["notes"] == []
    # the analytics tracker keeps EDS019 and EDS026 (a persistent id to an analytics company)
    summary = f"0 new, {len(resolved)} resolved, 2 unchanged findings; grade F → "
    assert summary in r.stderr


def test_fail_on_new_for_ci(versions: tuple[Path, Path, Path]) -> None:
    v1, v2, _ = versions
    base = ["diff", str(v2), str(v1), "--first-party", FIRST_PARTY]  # the tracker comes back
    critical = CliRunner().invoke(cli, [*base, "--fail-on-new", "critical"])
    assert critical.exit_code == 1, critical.output
    assert "NEW       CRITICAL EDS001" in critical.stdout
    never = CliRunner().invoke(cli, base)
    assert never.exit_code == 0
    fixed = CliRunner().invoke(
        cli, ["diff", str(v1), str(v2), "--first-party", FIRST_PARTY, "--fail-on-new", "info"]
    )
    assert fixed.exit_code == 0, fixed.output


def test_html_output_file(versions: tuple[Path, Path, Path], tmp_path: Path) -> None:
    _, v2, v1_json = versions
    out = tmp_path / "diff.html"
    r = CliRunner().invoke(
        cli,
        ["diff", str(v1_json), str(v2), "--first-party", FIRST_PARTY, "-f", "html", "-o", str(out)],
    )
    assert r.exit_code == 0, r.output
    soup = BeautifulSoup(out.read_text(encoding="utf-8"), "html.parser")
    assert [li.get_text() for li in soup.select("ul.no-longer-sent li")] == [
        "st_contact.email (Student e-mail) to facebook.com"
    ]


def test_options_unused_with_two_results_warn(versions: tuple[Path, Path, Path]) -> None:
    _, _, v1_json = versions
    r = CliRunner().invoke(cli, ["diff", str(v1_json), str(v1_json), "--first-party", "x.test"])
    assert r.exit_code == 0
    assert "the scan options were not used" in r.stderr
    assert "same capture" in r.stdout


def test_bad_inputs_exit_2_with_one_line(tmp_path: Path, versions: tuple[Path, Path, Path]) -> None:
    _, _, v1_json = versions
    other = tmp_path / "other.json"
    doc = json.loads(v1_json.read_text(encoding="utf-8"))
    doc["schema"] = "edscan-result/2"
    other.write_text(json.dumps(doc, sort_keys=True), encoding="utf-8")
    torn = tmp_path / "torn.json"
    torn.write_text(v1_json.read_text(encoding="utf-8")[:500], encoding="utf-8")
    junk = tmp_path / "junk.bin"
    junk.write_bytes(b"\x00\x01 not a capture")
    for bad, words in (
        (other, "edscan-result/2"),
        (torn, "not a valid result JSON"),
        (junk, "not a format edscan reads"),
    ):
        r = CliRunner().invoke(cli, ["diff", str(v1_json), str(bad)])
        assert r.exit_code == 2, r.output
        lines = r.output.strip().splitlines()
        assert len(lines) == 1 and words in lines[0] and str(bad) in lines[0]
