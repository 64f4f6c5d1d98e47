"""Every output format: the interface, redaction, the JSON schema, CSV headers, SARIF, text."""

from __future__ import annotations

import builtins
import csv
import io
import json
import os
import stat
from dataclasses import replace
from pathlib import Path

import jsonschema
import pytest
from resultfactory import PERSONA, hostile_result, persona_forms, realistic_result

from edscan import report
from edscan.errors import EdscanError
from edscan.models import ScanResult, Severity
from edscan.report import csv as csv_format
from edscan.report import sarif as sarif_format
from edscan.resources import read_text

SCHEMA = json.loads(read_text("reports", "edscan-result-1.schema.json"))


@pytest.fixture(scope="module")
def result() -> ScanResult:
    return realistic_result()


def _leaks(text: str) -> list[tuple[str, str]]:
    low = text.lower()
    return [
        (key, form)
        for key, value in PERSONA.items()
        for form in persona_forms(value)
        if form.lower() in low
    ]


# --------------------------------------------------------------------------- interface


def test_format_enum_is_the_list_of_formats() -> None:
    assert report.FORMATS == ("text", "json", "csv", "sarif", "html")
    assert [f.value for f in report.Format] == list(report.FORMATS)


@pytest.mark.parametrize("fmt", report.FORMATS)
def test_every_format_renders_text(result: ScanResult, fmt: str) -> None:
    out = report.render(result, fmt)
    assert (isinstance(out, str) and out.endswith("\n")) or out.endswith(">\n")
    assert len(out) > 200


def test_unknown_format_is_a_usage_error(result: ScanResult) -> None:
    with pytest.raises(EdscanError, match="unknown output format 'xml'"):
        report.render(result, "xml")


@pytest.mark.parametrize("fmt", report.FORMATS)
def test_render_is_pure(result: ScanResult, fmt: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """No file is opened while rendering (templates and CSS are loaded once, then cached)."""
    first = report.render(result, fmt)

    def no_io(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"render opened a file: {args!r}")

    monkeypatch.setattr(builtins, "open", no_io)
    monkeypatch.setattr(io, "open", no_io)
    monkeypatch.setattr(os, "open", no_io)
    assert report.render(result, fmt) == first  # and deterministic


@pytest.mark.parametrize("fmt", report.FORMATS)
def test_every_format_says_which_mode_it_was_made_in(result: ScanResult, fmt: str) -> None:
    redacted = report.render(result, fmt)
    revealed = report.render(result, fmt, reveal=True)
    assert redacted != revealed
    if fmt == "json":
        assert json.loads(redacted)["settings"]["redacted"] is True
        assert json.loads(revealed)["settings"]["redacted"] is False
    elif fmt == "sarif":
        assert json.loads(redacted)["runs"][0]["properties"]["redacted"] is True
        assert json.loads(revealed)["runs"][0]["properties"]["redacted"] is False
    elif fmt == "csv":
        for name, text in report.render_csv_tables(result).items():
            rows = list(csv.DictReader(io.StringIO(text)))
            assert rows, name
            assert {r["redacted"] for r in rows} == {"true"}
        rows = list(csv.DictReader(io.StringIO(revealed)))
        assert {r["redacted"] for r in rows} == {"false"}
    elif fmt == "text":
        assert "Redacted:" in redacted and "Revealed (--reveal)" in revealed
    # html: tested by parsing in test_report_html


# --------------------------------------------------------------------------- redaction


@pytest.mark.parametrize("fmt", report.FORMATS)
def test_no_persona_value_in_any_encoding_by_default(result: ScanResult, fmt: str) -> None:
    # the result really carries the values: in URLs, evidence and observation values
    raw = repr(result)
    assert any(f in raw for f in persona_forms(PERSONA["student.email"]))
    outputs = [report.render(result, fmt)]
    if fmt == "csv":
        outputs += list(report.render_csv_tables(result).values())
    for out in outputs:
        assert _leaks(out) == []


def test_reveal_shows_values_but_never_credentials(result: ScanResult) -> None:
    doc = json.loads(report.render(result, "json", reveal=True))
    values = {o["persona_field"]: o["value"] for o in doc["observations"]}
    assert values["student.email"] in persona_forms(PERSONA["student.email"])
    assert values["student.password"] == "‹secret›"
    assert PERSONA["student.password"] not in report.render(result, "html", reveal=True)
    assert "c1ev3r-0auth-c0de-99" not in report.render(result, "csv", reveal=True)


# --------------------------------------------------------------------------- json


def test_json_validates_against_the_shipped_schema(result: ScanResult) -> None:
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    for r in (result, replace(result, score=None, findings=()), hostile_result()):
        for reveal in (False, True):
            jsonschema.validate(json.loads(report.render(r, "json", reveal=reveal)), SCHEMA)


def test_json_schema_rejects_what_it_should(result: ScanResult) -> None:
    doc = json.loads(report.render(result, "json"))
    doc["observations"][0]["surprise"] = 1
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(doc, SCHEMA)


def test_json_is_sorted_and_stable(result: ScanResult) -> None:
    out = report.render(result, "json")
    shuffled = replace(
        result,
        observations=tuple(reversed(result.observations)),
        recipients=tuple(reversed(result.recipients)),
        findings=tuple(reversed(result.findings)),
        lists=tuple(reversed(result.lists)),
    )
    assert report.render(shuffled, "json") == out
    doc = json.loads(out)
    assert list(doc) == sorted(doc)
    assert doc["schema"] == "edscan-result/1"
    assert [r["domain"] for r in doc["recipients"]] == sorted(
        r["domain"] for r in doc["recipients"]
    )
    sev = [Severity(f["severity"]).rank for f in doc["findings"]]
    assert sev == sorted(sev, reverse=True)


def test_json_keeps_the_earlier_contracts(result: ScanResult) -> None:
    doc = json.loads(report.render(result, "json"))
    obs_keys = {"flow", "host", "element", "detector", "confidence", "location", "encodings"}
    obs_keys |= {"persona_field", "party"}
    assert all(obs_keys <= set(o) for o in doc["observations"])
    rc_keys = {"domain", "hosts", "organization", "parent", "categories", "party", "sdk"}
    rc_keys |= {"sources", "flows"}
    assert all(rc_keys <= set(r) for r in doc["recipients"])
    assert doc["capture"]["sha256"] == result.capture.sha256
    assert doc["capture"]["start"] == result.capture.start
    assert doc["tool"] == {"name": "edscan", "version": "0.1.0"}
    assert doc["lists"][0]["name"] == "adguard-companiesdb"
    assert doc["first_party"] == {"domains": ["quillpad.example"], "inferred": False}
    assert doc["score"]["grade"] == "F"


# --------------------------------------------------------------------------- csv


def test_csv_headers_are_fixed(result: ScanResult) -> None:
    tables = report.render_csv_tables(result)
    assert list(tables) == ["findings", "recipients", "observations"]
    expected = {
        "findings": "rule,severity,confidence,title,summary,elements,recipients,occurrences,"
        "evidence_count,flows,first_evidence_url,concerns,provisions,questions,fingerprint,redacted",
        "recipients": "domain,organization,parent,categories,party,sdk,hosts,elements,flows,"
        "first_seen,last_seen,sources,redacted",
        "observations": "flow,host,element,detector,confidence,location,encodings,persona_field,"
        "party,detail,value,redacted",
    }
    for name, text in tables.items():
        assert text.splitlines()[0] == expected[name]
    assert report.render(result, "csv") == tables["findings"]


def test_csv_rows_match_the_result(result: ScanResult) -> None:
    tables = report.render_csv_tables(result)
    obs = list(csv.DictReader(io.StringIO(tables["observations"])))
    assert len(obs) == len(result.observations)
    rcp = list(csv.DictReader(io.StringIO(tables["recipients"])))
    assert {r["domain"] for r in rcp} == {r.domain for r in result.recipients}
    fs = {r["domain"]: r for r in rcp}["fullstory.com"]
    assert fs["elements"].split("; ") == ["st_contact.email", "work.content", "si.iep_504"]
    assert fs["first_seen"].endswith("Z")
    fnd = list(csv.DictReader(io.StringIO(tables["findings"])))
    assert [f["rule"] for f in fnd][:3] == ["EDS001", "EDS009", "EDS012"]


def test_csv_cells_cannot_run_as_spreadsheet_formulas(result: ScanResult) -> None:
    evil = replace(result.recipients[0], organization='=HYPERLINK("http://x")', sdk=("+cmd",))
    text = csv_format.tables(replace(result, recipients=(evil,)))["recipients"]
    row = next(csv.DictReader(io.StringIO(text)))
    assert row["organization"] == '\'=HYPERLINK("http://x")'
    assert row["sdk"] == "'+cmd"


def test_write_csv_puts_three_tables_beside_the_name(result: ScanResult, tmp_path: Path) -> None:
    written = report.write(result, "csv", tmp_path / "out.csv")
    assert [p.name for p in written] == [
        "out.findings.csv",
        "out.recipients.csv",
        "out.observations.csv",
    ]
    assert not (tmp_path / "out.csv").exists()
    tables = report.render_csv_tables(result)
    assert (tmp_path / "out.recipients.csv").read_text(encoding="utf-8") == tables["recipients"]


def test_write_to_stdout_and_private_files_when_revealed(
    result: ScanResult, tmp_path: Path
) -> None:
    buf = io.StringIO()
    assert report.write(result, "text", None, stdout=buf) == []
    assert buf.getvalue() == report.render(result, "text")
    (path,) = report.write(result, "json", tmp_path / "r.json", reveal=True)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert json.loads(path.read_text(encoding="utf-8"))["settings"]["redacted"] is False


def test_write_reports_an_unwritable_path_clearly(result: ScanResult, tmp_path: Path) -> None:
    with pytest.raises(EdscanError, match="cannot write"):
        report.write(result, "json", tmp_path / "missing-dir" / "r.json")


# --------------------------------------------------------------------------- sarif


def test_sarif_shape(result: ScanResult) -> None:
    doc = json.loads(report.render(result, "sarif"))
    assert doc["version"] == "2.1.0"
    assert doc["$schema"].endswith("sarif-2.1.0.json")
    (run,) = doc["runs"]
    rules = run["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == list(dict.fromkeys(f["ruleId"] for f in run["results"]))
    assert len(run["results"]) == len(result.findings)
    by_rule = {r["ruleId"]: r for r in run["results"]}
    assert by_rule["EDS001"]["level"] == "error"
    assert by_rule["EDS020"]["level"] == "warning"
    assert by_rule["EDS023"]["level"] == "note"
    assert rules[by_rule["EDS001"]["ruleIndex"]]["id"] == "EDS001"
    loc = by_rule["EDS001"]["locations"][0]
    assert loc["physicalLocation"]["artifactLocation"]["uri"] == result.capture.path
    assert loc["logicalLocations"][0]["fullyQualifiedName"].startswith("flows[")
    assert (
        by_rule["EDS001"]["partialFingerprints"]["edscanFingerprint/v1"] == "f-eds001-contact-ads"
    )
    assert run["artifacts"][0]["hashes"]["sha-256"] == result.capture.sha256


def test_sarif_caps_locations_and_counts_the_rest(result: ScanResult) -> None:
    f = result.findings[0]
    many = replace(f, evidence=f.evidence * 30, occurrences=500)
    doc = sarif_format.document(replace(result, findings=(many,)))
    res = doc["runs"][0]["results"][0]
    assert len(res["locations"]) == sarif_format.MAX_LOCATIONS
    assert res["properties"]["occurrences"] == 500
    assert res["properties"]["evidenceNotListed"] == 500 - sarif_format.MAX_LOCATIONS


def test_sarif_absolute_capture_path_is_a_file_uri(result: ScanResult) -> None:
    r = replace(result, capture=replace(result.capture, path="/srv/caps/a b.har"))
    doc = sarif_format.document(r)
    assert doc["runs"][0]["artifacts"][0]["location"]["uri"] == "file:///srv/caps/a%20b.har"


# --------------------------------------------------------------------------- text


def test_text_summary(result: ScanResult) -> None:
    out = report.render(result, "text")
    assert "Grade F   risk 91/100   verdict: do not approve until fixed" in out
    assert "Findings: 9 by rule and company (3 critical, 2 high, 2 medium, 1 low, 1 info)" in out
    assert "CRITICAL EDS001" in out
    assert "FullStory, Inc. (fullstory.com)" in out
    assert all(len(line) <= 100 for line in out.splitlines())


def test_text_neutralises_terminal_escapes() -> None:
    r = replace(realistic_result(), first_party=("evil\x1b]0;pwned\x07.example",))
    out = report.render(r, "text")
    assert "\x1b" not in out and "\x07" not in out


def test_cut_off_requests_are_counted_in_json_and_text(result: ScanResult) -> None:
    cut = replace(result, capture=replace(result.capture, cut_off=7))
    doc = json.loads(report.render(cut, "json"))
    jsonschema.validate(doc, SCHEMA)
    assert doc["capture"]["cut_off"] == 7
    assert json.loads(report.render(result, "json"))["capture"]["cut_off"] == 0
    assert "7 flows cut off by the stop" in report.render(cut, "text")
    assert "cut off by the stop" not in report.render(result, "text")
    legacy = json.loads(report.render(result, "json"))
    del legacy["capture"]["cut_off"]  # a result written before the field existed stays valid
    jsonschema.validate(legacy, SCHEMA)


def test_text_summary_shows_one_finding_per_rule_and_company() -> None:
    import dataclasses

    from scanbuilder import ScanBuilder

    from edscan.rules import run_rules

    b = ScanBuilder()
    for domain in ("google-analytics.com", "doubleclick.net"):
        b.recipient(domain, "advertising", org="Google LLC")
        i = b.flow(f"https://www.{domain}/collect?uid=1")
        b.obs(i, "st.email", location="query:uid")
    r = b.build()
    r = dataclasses.replace(r, findings=tuple(run_rules(r)))
    out = report.render(r, "text")
    rules = [f.rule for f in r.findings]
    groups = len(set(rules))  # one company: one line per rule
    assert groups < len(rules)
    assert f"Findings: {groups} by rule and company" in out
    assert f"; {len(rules)} in the JSON" in out
    lines = [ln for ln in out.splitlines() if "confidence · Google LLC (" in ln]
    assert len(lines) == min(groups, 10)
    assert all("google-analytics.com" in ln and "doubleclick.net" in ln for ln in lines)
    recipients = [ln for ln in out.splitlines() if ln.strip().startswith("Google LLC (")]
    assert len(recipients) == 1 and "+1)" in recipients[0]  # one company, its two domains
    assert f"Third-party recipients: 1 company, 2 of {len(r.recipients)} domains" in out
