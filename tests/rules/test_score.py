"""The score: bounded, monotonic, graded at the documented boundaries, never passing what
traffic cannot show."""

from __future__ import annotations

import dataclasses
import math
import random

import pytest
from conftest import ROOT
from scanbuilder import ScanBuilder

from edscan.models import Confidence, Finding, ScanResult, Severity
from edscan.rules import run_rules
from edscan.rules.score import (
    CAP,
    FORMULA,
    INCONCLUSIVE,
    NOT_VERIFIABLE,
    VERDICTS,
    combine,
    finding_points,
    grade,
    score,
)


def _finding(
    n: int,
    severity: Severity = Severity.HIGH,
    confidence: Confidence = Confidence.HIGH,
    elements: tuple[str, ...] = ("st_contact.email",),
    recipients: tuple[str, ...] = ("tracker.example",),
) -> Finding:
    return Finding(
        rule="EDS019",
        title="t",
        severity=severity,
        confidence=confidence,
        summary="s",
        elements=elements,
        recipients=recipients,
        fingerprint=f"fp{n:04d}",
    )


def _result(
    findings: list[Finding], b: ScanBuilder | None = None, **settings: object
) -> ScanResult:
    base = (b or ScanBuilder()).build(settings=dict(settings) if settings else None)
    return dataclasses.replace(base, findings=tuple(findings))


def _adtech_builder() -> ScanBuilder:
    b = ScanBuilder().recipient("ads.example", "advertising")
    b.recipient("replay.example", "session replay").recipient("errors.example", "error monitoring")
    for host in ("ads.example", "replay.example", "errors.example", "api.school.example"):
        b.flow(f"https://{host}/x")
    return b


def test_nothing_found_is_zero_and_grade_a() -> None:
    s = score(_result([]))
    assert (s.value, s.grade, s.verdict) == (0, "A", "approve")
    assert s.contributions == ()


def test_a_capture_with_no_host_inspected_is_inconclusive_whatever_the_grade() -> None:
    """Every connection pinned, without keys, or over QUIC: a clean grade would say nothing
    was sent when nothing could be seen."""
    from edscan.capture.coverage import Coverage, CoverageGap

    blind = Coverage(
        hosts_inspected=0, gaps=(CoverageGap(host="app.example", reason="no-keys", connections=1),)
    )
    s = score(dataclasses.replace(_result([]), coverage=blind))
    assert (s.grade, s.verdict) == ("A", INCONCLUSIVE)
    seen = dataclasses.replace(blind, hosts_inspected=1)
    assert score(dataclasses.replace(_result([]), coverage=seen)).verdict == "approve"
    assert "inconclusive when no host" in FORMULA


def test_points_follow_the_formula() -> None:
    b = _adtech_builder()
    crit = _finding(1, Severity.CRITICAL, recipients=("ads.example",))
    result = _result([crit], b)
    assert finding_points(crit, result) == pytest.approx(40 * 1.0 * 1.5 * 1.0 * 1.0)
    replay = _finding(2, Severity.HIGH, Confidence.MEDIUM, ("si.iep_504",), ("replay.example",))
    assert finding_points(replay, result) == pytest.approx(20 * 1.5 * 1.3 * 0.7)
    own = _finding(3, Severity.MEDIUM, Confidence.LOW, ("tx.grades",), ("school.example",))
    assert finding_points(own, result) == pytest.approx(8 * 1.2 * 0.25 * 0.4)
    cookie = _finding(4, Severity.LOW, elements=(), recipients=("errors.example",))
    cookie = dataclasses.replace(cookie, rule="EDS017")  # no elements: the rule's tier (T0)
    assert finding_points(cookie, result) == pytest.approx(3 * 0.5)
    child = _result([crit], b, child_directed=True)
    assert finding_points(crit, child) == pytest.approx(40 * 1.5 * 1.25)


def test_one_critical_alone_scores_between_40_and_60() -> None:
    b = _adtech_builder()
    s = score(_result([_finding(1, Severity.CRITICAL, recipients=("ads.example",))], b))
    assert s.value == 60 and s.grade == "F" and s.verdict == "do not approve until fixed"
    s = score(_result([_finding(1, Severity.CRITICAL, recipients=("errors.example",))], b))
    assert s.value == 40


def test_score_is_bounded() -> None:
    b = _adtech_builder()
    many = [_finding(i, Severity.CRITICAL, recipients=("ads.example",)) for i in range(500)]
    s = score(_result(many, b, child_directed=True))
    assert 0 <= s.value <= 100
    assert all(0 <= p <= CAP for _, p in s.contributions)


def test_score_and_grade_are_monotonic_in_findings() -> None:
    rng = random.Random(7)
    b = _adtech_builder()
    order = "ABCDF"
    for _ in range(30):
        findings: list[Finding] = []
        last_value, last_grade = 0, "A"
        for n in range(12):
            findings.append(
                _finding(
                    n,
                    rng.choice(list(Severity)),
                    rng.choice(list(Confidence)),
                    rng.choice(
                        [(), ("atm.ip_cookies",), ("st.name",), ("tx.grades",), ("si.ell",)]
                    ),
                    (
                        rng.choice(
                            ["ads.example", "replay.example", "errors.example", "school.example"]
                        ),
                    ),
                )
            )
            s = score(_result(findings, b))
            assert s.value >= last_value
            assert order.index(s.grade) >= order.index(last_grade)
            last_value, last_grade = s.value, s.grade


def test_contributions_explain_the_value() -> None:
    findings = run_rules(_eds_result())
    assert findings
    s = score(dataclasses.replace(_eds_result(), findings=tuple(findings)))
    assert {fp for fp, _ in s.contributions} == {f.fingerprint for f in findings}
    assert s.value == math.floor(combine(p for _, p in s.contributions) + 0.5)
    points = [p for _, p in s.contributions]
    assert points == sorted(points, reverse=True)


def _eds_result() -> ScanResult:
    b = ScanBuilder().recipient("facebook.com", "advertising", org="Meta Platforms")
    i = b.flow("https://www.facebook.com/tr?ev=PageView", signals=[("query:ev", "ev", "PageView")])
    b.obs(i, "st_contact.email", location="query:ud[em]")
    return b.build()


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0, "A"),
        (9, "A"),
        (10, "B"),
        (29, "B"),
        (30, "C"),
        (49, "C"),
        (50, "D"),
        (69, "D"),
        (70, "F"),
        (100, "F"),
    ],
)
def test_grade_boundaries(value: int, expected: str) -> None:
    assert grade(value, [], third_party_data=False) == expected


def test_any_sure_critical_is_f_and_two_sure_highs_are_d() -> None:
    crit = _finding(1, Severity.CRITICAL, Confidence.MEDIUM)
    assert grade(0, [crit], False) == "F"
    assert grade(0, [dataclasses.replace(crit, confidence=Confidence.LOW)], False) == "A"
    high = _finding(2, Severity.HIGH, Confidence.MEDIUM)
    assert grade(0, [high], False) == "A"
    assert grade(0, [high, dataclasses.replace(high, fingerprint="x")], False) == "D"


def test_student_data_to_a_third_party_is_never_an_a() -> None:
    assert grade(0, [], third_party_data=True) == "B"
    b = ScanBuilder().recipient("sentry.io", "error monitoring")
    i = b.flow("https://o1.ingest.sentry.io/api/1/envelope/", method="POST")
    b.obs(i, "net.ip", location="body:$.user.ip_address")  # tier 1, low points
    result = b.build()
    s = score(dataclasses.replace(result, findings=tuple(run_rules(result))))
    assert s.value < 10 and s.grade == "B"
    own = ScanBuilder()
    j = own.flow("https://api.school.example/x", method="POST")
    own.obs(j, "st_contact.email")
    assert score(own.build()).grade == "A"


def test_verdicts() -> None:
    assert VERDICTS == {
        "A": "approve",
        "B": "approve",
        "C": "approve with conditions",
        "D": "approve with conditions",
        "F": "do not approve until fixed",
    }


def test_formula_and_not_verifiable_are_printed_and_never_passed() -> None:
    s = score(_result([]))
    assert s.formula == FORMULA
    for token in ("100 × (1 − Π", "critical 40", "T3 sensitive 1.5", "confidence: high 1.0"):
        assert token in s.formula
    text = " ".join(s.not_verifiable).lower()
    for obligation in ("contract", "deletion", "breach", "review and correct", "parental consent"):
        assert obligation in text
    assert s.not_verifiable == NOT_VERIFIABLE
    assert all("violat" not in t.lower() for t in (s.formula, *s.not_verifiable))
    assert not any("pass" in t.lower() for t in s.not_verifiable)


def test_manual_documents_the_formula_and_every_not_verifiable_item() -> None:
    manual = (ROOT / "docs" / "rules.md").read_text(encoding="utf-8")
    section = manual.split("<!-- section:rules -->", 1)[1].split("<!-- /section:rules -->", 1)[0]
    assert "R = 100 × (1 − Π (1 − min(p, 60) / 100))" in section
    for item in NOT_VERIFIABLE:
        assert item in section
