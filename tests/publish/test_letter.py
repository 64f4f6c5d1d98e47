"""``edscan letter``: neutral wording, the evidence references, and no injection from captures."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from click.testing import CliRunner
from markdown_it import MarkdownIt
from publishcapture import PERSONA_TOML, SECRETS, write_student_capture
from resultfactory import PERSONA, hostile_result, persona_forms, realistic_result

from edscan.cli import cli
from edscan.models import Recipient, ScanResult
from edscan.publish import letter
from edscan.publish.public import strip_controls
from edscan.report._common import sorted_findings

NASTY = (
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "[click here](https://evil.example/phish)",
    "![pixel](https://evil.example/p.gif)",
    "evil.example\n# Forged heading\n- forged item",
    "`code` and ``more``",
    "**bold** _em_ ~~strike~~ | a | b |",
    "&lt;script&gt; &#60;b&#62;",
    "1. ordered",
    "- dash",
    "# hash",
    "> quote",
    "=====",
    "trailing backslash\\",
    "\x1b[31mred\x1b[0m\x07 and \u202eevil\u202c",
    "$x^2$ maths",
    "<https://evil.example/autolink>",
)


def _html(md: str) -> BeautifulSoup:
    return BeautifulSoup(MarkdownIt("commonmark").enable("table").render(md), "html.parser")


@pytest.fixture(scope="module")
def result() -> ScanResult:
    return realistic_result()


# --------------------------------------------------------------------------- escaping


@pytest.mark.parametrize("value", NASTY)
def test_escaped_values_render_as_their_own_characters(value: str) -> None:
    html = _html("Seen: " + letter.md_escape(value))
    assert [t.name for t in html.find_all(True)] == ["p"]  # one paragraph, no markup
    assert html.p.get_text() == ("Seen: " + strip_controls(value)).rstrip()


@pytest.mark.parametrize("value", NASTY)
def test_escaped_values_cannot_start_a_block(value: str) -> None:
    html = _html(letter.md_escape(value) + "\n\nnext")
    assert [t.name for t in html.find_all(True)] == ["p", "p"]


@pytest.mark.parametrize("value", NASTY)
def test_code_spans_hold_any_value(value: str) -> None:
    html = _html("Domain: " + letter.code(value))
    codes = html.find_all("code")
    assert len(codes) == 1 and [t.name for t in html.find_all(True)] == ["p", "code"]
    assert codes[0].get_text().strip() == strip_controls(value).strip()


# --------------------------------------------------------------------------- content


def test_letter_says_what_was_tested_and_every_finding(result: ScanResult) -> None:
    text = letter.render(result, vendor="Quillpad Learning, Inc.")
    assert "violat" not in text.lower()
    assert text.count("We observed") == sum(
        f.summary.startswith("Observed") for f in result.findings
    )
    assert text.count("We observed") >= len(result.findings) - 1
    assert "may be inconsistent with" in text
    assert result.capture.sha256 in text
    assert "2026-01-01" in text  # the day the session was recorded
    assert "Dear Quillpad Learning, Inc.," in text
    assert "[REPLY DEADLINE" in text and "[YOUR NAME" in text
    html = _html(text)
    assert [h.get_text() for h in html.find_all("h2")] == [
        "What we tested",
        "What we observed",
        "Our questions",
        "Your reply",
    ]
    headings = [h.get_text() for h in html.find_all("h3")]
    ordered = sorted_findings(result.findings)
    assert headings == [f"{i + 1}. {f.title}" for i, f in enumerate(ordered)]
    codes = {c.get_text() for c in html.find_all("code")}
    for f in ordered:
        assert f.fingerprint in codes and f.rule in codes
        for e in f.evidence[: letter.MAX_REQUESTS]:
            assert f"#{e.flow}" in text
    questions = [li.get_text() for li in html.find_all("ol")[-1].find_all("li")]
    assert len(questions) == len({q for f in result.findings for q in f.questions})
    assert all(re.search(r"\(observations? [\d, ]+\)$", q) for q in questions)


def test_letter_is_redacted(result: ScanResult) -> None:
    text = letter.render(result).lower()
    for value in PERSONA.values():
        for form in persona_forms(value):
            assert form.lower() not in text, form


def test_vendor_defaults_to_a_placeholder_or_the_maker(result: ScanResult) -> None:
    assert "Dear Quillpad Learning, Inc.," in letter.render(result)  # the lists name the maker
    nameless = dataclasses.replace(
        result,
        recipients=tuple(
            dataclasses.replace(r, organization=None) if r.party.value == "first" else r
            for r in result.recipients
        ),
    )
    text = letter.render(nameless)
    assert "Dear [VENDOR NAME]," in text and "**To:** [VENDOR NAME]" in text


def test_hostile_capture_cannot_inject(result: ScanResult) -> None:
    text = letter.render(hostile_result(), vendor="<b>Vendor</b> [x](https://evil.example)")
    _assert_inert(text)
    assert "<b>Vendor</b>" in _html(text).get_text()


def test_hostile_hostnames_and_organisations_cannot_inject(result: ScanResult) -> None:
    def hostile(i: int, r: Recipient) -> Recipient:
        bad = NASTY[i % len(NASTY)]
        return dataclasses.replace(r, domain=f"{r.domain}{bad}", organization=f"Org {bad}")

    recipients = {r.domain: hostile(i, r) for i, r in enumerate(result.recipients)}
    findings = tuple(
        dataclasses.replace(f, recipients=tuple(recipients[d].domain for d in f.recipients))
        for f in result.findings
    )
    evil = dataclasses.replace(
        result,
        recipients=tuple(recipients.values()),
        findings=findings,
        first_party=(f"{result.first_party[0]}{NASTY[4]}",),
        capture=dataclasses.replace(result.capture, phases=NASTY[:3]),
    )
    text = letter.render(evil)
    _assert_inert(text)
    plain = _html(text).get_text()
    for bad in ("<script>alert(1)</script>", "[click here](https://evil.example/phish)"):
        assert bad in plain  # shown as the characters they are


def _assert_inert(text: str) -> None:
    assert not re.search("[\x00-\x08\x0b-\x1f\x7f\u202a-\u202e\u2066-\u2069]", text)
    html = _html(text)
    tags = {t.name for t in html.find_all(True)}
    assert tags <= {"h1", "h2", "h3", "p", "ul", "ol", "li", "strong", "code", "br"}, tags
    assert len(html.find_all("h1")) == 1 and len(html.find_all("h2")) == 4


# --------------------------------------------------------------------------- command


def test_letter_command(tmp_path: Path) -> None:
    capture = write_student_capture(tmp_path / "quillpad.edscan.jsonl")
    persona = tmp_path / "p.toml"
    persona.write_text(PERSONA_TOML, encoding="utf-8")
    out = tmp_path / "letter.md"
    res = CliRunner().invoke(
        cli,
        ["letter", str(capture), "--persona", str(persona), "--first-party",
         "quillpad.example", "--vendor", "Quillpad", "-o", str(out)],
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    text = out.read_text(encoding="utf-8")
    assert "Dear Quillpad," in text and "violat" not in text.lower()
    assert "We observed" in text and "`quillpad.example`" in text
    for secret in SECRETS:
        for form in persona_forms(secret):
            assert form.lower() not in text.lower(), (secret, form)
    assert str(tmp_path) not in text
    stdout = CliRunner().invoke(cli, ["letter", str(capture), "--persona", str(persona)])
    assert stdout.exit_code == 0 and stdout.output.startswith("# Request for comment")


def test_letter_refuses_reveal(tmp_path: Path) -> None:
    capture = write_student_capture(tmp_path / "quillpad.edscan.jsonl")
    res = CliRunner().invoke(cli, ["letter", str(capture), "--reveal"])
    assert res.exit_code == 2 and "--reveal is refused" in res.output


def test_page_url_phases_are_redacted_like_urls(result: ScanResult) -> None:
    page = "https://app.quillpad.example/class?token=tok-5f2e9a1b7c3d&student=88A7Q31"
    har = dataclasses.replace(
        result, capture=dataclasses.replace(result.capture, format="har", phases=(page,))
    )
    text = letter.render(har)
    assert "on the pages https://app.quillpad.example/class?token=" in text
    assert "tok-5f2e9a1b7c3d" not in text and "88A7Q31" not in text
