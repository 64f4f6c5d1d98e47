"""What edscan capture prints about live analysis: alert lines, status totals, the summary."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from edscan.detect.taxonomy import ELEMENTS
from edscan.live.alert import Alert, AlertLevel, how_label, what_label
from edscan.live.analyser import AnalyserStats
from edscan.live.console import report_command, status_suffix, summary_lines
from edscan.models import Confidence, Detector, Observation


def _obs(**kw: object) -> Observation:
    base: dict[str, object] = {
        "flow": 3,
        "host": "www.facebook.com",
        "element": "asmt.other",
        "detector": Detector.PERSONA,
        "confidence": Confidence.HIGH,
        "location": "query:ud[em]",
    }
    base.update(kw)
    return Observation(**base)  # type: ignore[arg-type]


def _alert(**kw: object) -> Alert:
    base: dict[str, object] = {
        "time": 0.0, "phase": "quiz", "flow": 3, "flow_id": "f3", "element": "asmt.other",
        "what": "student e-mail", "how": "sha256", "confidence": Confidence.HIGH,
        "host": "www.facebook.com", "domain": "facebook.com",
        "organization": "Meta Platforms, Inc.", "url": "https://www.facebook.com/tr",
        "queued": 0.0, "analysed": 0.0,
    }  # fmt: skip
    base.update(kw)
    return Alert(**base)  # type: ignore[arg-type]


def test_what_and_how_read_as_a_person_says_them() -> None:
    o = _obs(persona_field="student.email", encodings=("json", "base64", "sha256"))
    assert what_label(o) == "student e-mail"
    assert how_label(o) == "base64, sha256"  # containers are not named
    plain = _obs(encodings=("json",))
    assert what_label(plain) == ELEMENTS["asmt.other"].name and how_label(plain) == ""


def test_alert_line_and_comment() -> None:
    a = _alert()
    assert a.short() == "student e-mail (sha256) → Meta Platforms, Inc. (facebook.com)"
    assert a.line().endswith("[quiz] " + a.short()) and a.line()[2] == ":"
    bare = dataclasses.replace(a, organization=None, how="", phase=None)
    assert bare.line().endswith("[-] student e-mail → facebook.com")


def test_levels() -> None:
    assert AlertLevel.parse(" High ") is AlertLevel.HIGH
    assert AlertLevel.ALL.admits(_obs(confidence=Confidence.LOW))
    assert not AlertLevel.HIGH.admits(_obs(confidence=Confidence.MEDIUM))
    assert AlertLevel.HIGH.admits(_obs()) and not AlertLevel.NONE.admits(_obs())


def test_status_and_summary_say_what_was_found_and_what_was_dropped() -> None:
    stats = AnalyserStats(analysed=120, alerts=2, dropped=0)
    assert status_suffix(stats) == " · alerts: 2 · analysed: 120"
    assert "not analysed: 7" in status_suffix(dataclasses.replace(stats, dropped=7))
    assert status_suffix(None) == ""
    found = [_alert(), _alert(what="student name", how="")]
    lines = summary_lines(found, dropped=3, analysed=120, alerts_on=True)
    assert lines[0] == "  Live alerts (2, each element × recipient once):"
    assert lines[1] == "    " + found[0].line() and lines[2] == "    " + found[1].line()
    assert "3 flow(s) were recorded but not analysed live" in lines[3]
    assert summary_lines([], dropped=0, analysed=5, alerts_on=True) == [
        "  Live alerts: none (5 flows analysed)"
    ]
    assert summary_lines(found, dropped=0, analysed=5, alerts_on=False) == []


def test_report_command_is_quoted_for_the_shell() -> None:
    cmd = report_command(Path("/tmp/my app.edscan.jsonl"), Path("/p/persona.toml"), ["a.example"])
    assert cmd == (
        "edscan report '/tmp/my app.edscan.jsonl' --persona /p/persona.toml "
        "--first-party a.example -o report.html"
    )


def test_the_summary_counts_flows_the_stop_came_before() -> None:
    lines = summary_lines([], dropped=0, analysed=5, alerts_on=True, unfinished=4)
    assert "4 flow(s) were recorded but not analysed live before the stop" in lines[-1]
    assert "report below covers every flow" in lines[-1]
    assert not any(
        "before the stop" in x for x in summary_lines([], dropped=0, analysed=5, alerts_on=True)
    )
