"""The law as read on the capture's date: citations with dates, sources and status; the 2013
COPPA Rule before the 2025 amendments' compliance date; `edscan rules -f json` lists them."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json

from click.testing import CliRunner
from scanbuilder import ScanBuilder

from edscan.cli import cli
from edscan.models import Citation, ScanResult
from edscan.rules import RULES, law, run_rules


def _at(day: str) -> float:
    return dt.datetime.fromisoformat(day + "T12:00:00+00:00").timestamp()


def _child_ads(day: str | None) -> ScanResult:
    b = ScanBuilder().recipient("applovin.com", "advertising", org="AppLovin")
    b.setting("child_directed", True)
    i = b.flow("https://ms.applovin.com/1.0/event/launch", method="POST", request_bytes=500)
    b.obs(i, "dev.idfa", location="body:$.idfa")
    result = b.build()
    start = _at(day) if day else None
    flows = tuple(dataclasses.replace(f, time=start) for f in result.flows)
    capture = dataclasses.replace(result.capture, start=start, end=start)
    return dataclasses.replace(result, flows=flows, capture=capture)


def _eds025(day: str | None) -> tuple[str, dict[str, Citation]]:
    f = next(f for f in run_rules(_child_ads(day)) if f.rule == "EDS025")
    return f.summary, {c.key: c for c in f.citations}


def test_after_the_compliance_date_the_amended_rule_is_cited_as_in_force() -> None:
    summary, cites = _eds025("2026-05-01")
    c = cites["coppa-5"]
    assert c.cite == "COPPA 16 CFR §312.5(a) (as amended 2025)" and c.reading == "in force"
    assert c.on == "2026-05-01" and c.date == "2025-04-22" and c.in_force == "2025-06-23"
    assert "separate verifiable parental consent" in c.text
    assert "Read against the law" not in summary
    assert "COPPA 16 CFR §312.5(a) (as amended 2025)" in summary


def test_before_the_compliance_date_the_2013_rule_is_cited_and_the_finding_says_so() -> None:
    summary, cites = _eds025("2026-01-15")  # amended rule in effect, compliance not yet due
    c = cites["coppa-5"]
    assert c.cite == "COPPA 16 CFR §312.5(a) (2013 text)" and c.on == "2026-01-15"
    assert c.reading.startswith("read as then in force")
    assert "compliance required from 2026-04-22" in c.reading
    assert "Read against the law in force on 2026-01-15, the capture's date" in summary
    assert "2013 COPPA Rule" in summary
    assert "COPPA 16 CFR §312.5(a) (2013 text)" in summary


def test_a_provision_with_no_earlier_text_is_not_relied_on_before_it_applies() -> None:
    b = ScanBuilder().recipient("mixpanel.com", "analytics", org="Mixpanel")
    i = b.flow("https://api-js.mixpanel.com/track", method="POST", request_bytes=300)
    b.obs(i, "dev.install_id", location="body:$.properties.$device_id")
    before = next(f for f in b.findings() if f.rule == "EDS026")  # ScanBuilder: 2026-01-01
    notice = next(c for c in before.citations if c.key == "coppa-4-internal")
    assert notice.reading.startswith("not in force on 2026-01-01")
    assert notice.text not in before.provisions
    assert "did not yet apply and is not relied on" in before.summary
    assert "may be inconsistent with" in before.summary  # the 2013 §312.5(c)(7) still applies


def test_a_capture_without_a_usable_date_is_read_as_of_the_law_date() -> None:
    summary, cites = _eds025(None)
    assert "Read against the law" not in summary  # the law date is past every switch day
    assert {c.on for c in cites.values()} == {law.LAW_DATE}
    assert cites["coppa-5"].reading == "in force"
    _, old = _eds025("1970-01-02")  # an unset device clock
    assert {c.on for c in old.values()} == {law.LAW_DATE}


def test_every_provision_has_a_date_a_source_and_a_known_status() -> None:
    for p in law.PROVISIONS.values():
        assert p.date and p.source, p.key
        assert p.status in law.STATUSES, p.key
        if p.earlier is not None:
            assert p.earlier.date < p.switch and p.earlier.status in law.STATUSES


def test_state_minors_laws_are_listed_as_not_yet_checked_and_not_cited() -> None:
    named = " ".join(x[0] for x in law.NOT_YET_CHECKED)
    for act in ("SB 1295", "HB 18", "HB 2008", "Illuminate", "Chegg"):
        assert act in named
    assert all("not yet checked" in x[3] for x in law.NOT_YET_CHECKED)
    cited = " ".join(p.cite for p in law.PROVISIONS.values())
    for act in ("SB 1295", "HB 18", "HB 2008", "42-529", "646A"):
        assert act not in cited
    eds027 = next(r for r in RULES if r.id == "EDS027")
    assert "not yet checked" in eds027.explanation


def test_rules_json_lists_each_rule_s_citations_with_dates() -> None:
    result = CliRunner().invoke(cli, ["rules", "-f", "json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    assert doc["law_date"] == law.LAW_DATE and doc["not_yet_checked"]
    for r in doc["rules"]:
        assert [c["text"] for c in r["citations"]] == r["provisions"], r["id"]
        for c in r["citations"]:
            assert c["date"] and c["source"] and c["status"] in law.STATUSES
    eds025 = next(r for r in doc["rules"] if r["id"] == "EDS025")
    coppa = next(c for c in eds025["citations"] if c["key"] == "coppa-5")
    assert (coppa["in_force"], coppa["compliance"]) == ("2025-06-23", "2026-04-22")
    assert coppa["earlier"]["cite"] == "COPPA 16 CFR §312.5(a) (2013 text)"


def test_manual_law_tables_match_the_code() -> None:
    from conftest import ROOT

    section = (ROOT / "docs" / "law.md").read_text(encoding="utf-8")
    assert "| provision | what traffic can show | rule ids |" in section
    for rule_id in ("EDS025", "EDS026", "EDS027", "EDS028", "EDS029"):
        assert rule_id in section
    for name, summary, sources, status in law.NOT_YET_CHECKED:
        assert f"| {name} | {summary} | {sources} | {status} |" in section, name
