"""The law in the report and the letter: each finding says how its provisions were read on the
capture's date, and both ask the vendor for what the law now requires on paper."""

from __future__ import annotations

import dataclasses

from bs4 import BeautifulSoup, Tag
from scanbuilder import ScanBuilder

from edscan import report
from edscan.models import ScanResult
from edscan.publish import letter
from edscan.rules import run_rules
from edscan.rules.score import NOT_VERIFIABLE, PAPER_QUESTIONS, score


def _result() -> ScanResult:
    b = ScanBuilder().recipient("applovin.com", "advertising", org="AppLovin")
    b.setting("child_directed", True)
    i = b.flow("https://ms.applovin.com/1.0/event/launch", method="POST", request_bytes=500)
    b.obs(i, "dev.idfa", location="body:$.idfa")
    result = b.build()
    result = dataclasses.replace(result, findings=tuple(run_rules(result)))
    return dataclasses.replace(result, score=score(result))


def test_the_report_says_how_each_provision_was_read_on_the_capture_date() -> None:
    soup = BeautifulSoup(report.render(_result(), "html"), "html.parser")
    law = soup.find("section", id="law")  # each provision once, in the appendix
    assert isinstance(law, Tag)
    lead = " ".join(law.find("p").get_text(" ").split())
    assert "as read on 2026-01-01" in lead  # ScanBuilder's capture date
    readings = [
        li.get_text(" ", strip=True)
        for ul in law.find_all("ul", class_="readings")
        for li in ul.find_all("li")
    ]
    # every provision a finding names links to its one entry there
    cites = soup.select("#details dd.cites a")
    assert cites and all(soup.select_one(a["href"]) in law.find_all("li") for a in cites)
    assert len({a["href"] for a in cites}) == len(law.select("ol.law > li"))
    assert any(
        r.startswith("COPPA 16 CFR §312.5(a) (2013 text) (2013-07-01): read as then in force")
        for r in readings
    ), readings
    assert all("violat" not in r.lower() for r in readings)


def test_the_report_lists_the_paper_obligations_and_asks_for_them() -> None:
    soup = BeautifulSoup(report.render(_result(), "html"), "html.parser")
    limits = soup.find("section", id="limits")
    questions = soup.find("section", id="questions")
    assert isinstance(limits, Tag) and isinstance(questions, Tag)
    text = " ".join(limits.get_text(" ").split())
    for item in NOT_VERIFIABLE:
        assert " ".join(item.split()) in text
    for phrase in (
        "data-retention policy",
        "information-security program",
        "names each third party",
    ):
        assert phrase in text
    asked = " ".join(questions.get_text(" ").split())
    for q in PAPER_QUESTIONS:
        assert q in asked
    assert "on paper" in asked


def test_the_letter_asks_for_the_paper_obligations_even_without_findings() -> None:
    empty = dataclasses.replace(_result(), findings=())
    for result in (_result(), empty):
        text = " ".join(letter.render(result).split())
        for q in PAPER_QUESTIONS:
            assert letter.md_escape(q) in text or q in text, q
        assert "violat" not in text.lower()


def test_sarif_results_carry_each_citation_as_read_on_the_capture_date() -> None:
    import json

    result = _result()
    doc = json.loads(report.render(result, "sarif"))
    results = doc["runs"][0]["results"]
    assert results and len(results) == len(result.findings)
    for got, f in zip(results, result.findings, strict=True):
        assert got["properties"]["citations"] == [c.to_dict() for c in f.citations]
    coppa = [c for r in results for c in r["properties"]["citations"] if c["key"] == "coppa-5"]
    assert coppa and all(c["on"] == "2026-01-01" for c in coppa)
    assert all(c["reading"].startswith("read as then in force") for c in coppa)
