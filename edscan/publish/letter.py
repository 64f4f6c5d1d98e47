"""``edscan letter``: a right-of-reply letter to the vendor, in Markdown that reads as plain text.

What was tested (the app, the date, the capture's SHA-256, the method in one paragraph), each
finding in neutral words ("We observed …; this may be inconsistent with …"), the evidence
references (finding fingerprints, request numbers), the questions the findings raise, and a
placeholder for the reply deadline. Always redacted, like everything meant to be published.

Captured text is hostile: a hostname, organisation or phase may carry Markdown or HTML. The
template (``reports/letter.md.j2``) is Markdown with autoescaping off, so every value printed in
it passes through ``finalize``: control and text-direction characters become spaces (a value
cannot start a new line, so it cannot start a heading, list or code block), and every character
Markdown or HTML would act on is backslash-escaped (``\\<``, ``\\[``, ``\\*`` …). Identifiers
(fingerprints, rule ids, domains) are printed as code spans, whose fence is longer than any run
of backticks inside. The result renders as the same words in any CommonMark viewer, and reads
as plain text in an e-mail.
"""

from __future__ import annotations

import re
from typing import Any

from edscan.detect.persona import Persona
from edscan.models import Finding, Party, Recipient, ScanResult
from edscan.publish.public import (
    public_redactor,
    public_result,
    strip_controls,
    utc_date,
)
from edscan.report._common import element_info, sorted_findings, span
from edscan.report.redact import Redactor
from edscan.report.templates import template
from edscan.rules.score import PAPER_QUESTIONS

TEMPLATE = "letter.md.j2"
MAX_REQUESTS = 10  # request numbers listed per finding; the count says how many there were

# characters Markdown (CommonMark, and GitHub's tables, strikethrough and math) acts on; "&"
# only where it starts an entity
_MD_ACTIVE = re.compile(r"([\\`*_\[\]<>|~$]|&(?=#?\w+;))")
# what starts a block at the beginning of a line: a heading, quote, list item or underline
_BLOCK_START = re.compile(r"[#>+\-=]|\d{1,9}[.)](?=\s|$)")
_FLOWS = re.compile(r"\bin (\d[\d,]*) flows?\b")
_METHOD = {
    "edscan": "recorded through an intercepting proxy (edscan capture) while the app was used "
    "on a test device",
    "har": "saved as a HAR file (the HTTP archive that browsers' developer tools export) while "
    "the app was used",
    "mitm": "recorded with the mitmproxy intercepting proxy while the app was used on a test "
    "device",
}


class Code(str):
    """A value already made safe as a Markdown code span (``finalize`` leaves it alone)."""

    __slots__ = ()


def md_escape(value: str) -> str:
    """``value`` as Markdown text that renders as exactly these characters, on one line."""
    text = strip_controls(value)
    text = _MD_ACTIVE.sub(r"\\\1", text)
    m = _BLOCK_START.match(text)
    if m:  # only matters at a line's start, but a value must not depend on where it lands
        text = text[: m.end() - 1] + "\\" + text[m.end() - 1 :]
    return text


def code(value: Any) -> Code:
    """``value`` as an inline code span: nothing inside is interpreted."""
    text = strip_controls(str(value))
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith(("`", " ")) or text.endswith(("`", " ")) or longest else ""
    return Code(f"{fence}{pad}{text}{pad}{fence}")


def _finalize(value: Any) -> Any:
    if isinstance(value, Code) or not isinstance(value, str):
        return value
    return md_escape(value)


def render(result: ScanResult, *, persona: Persona | None = None, vendor: str | None = None) -> str:
    """The letter for ``result`` (redacted, whatever the caller asks)."""
    red = public_redactor(result, persona)
    public = public_result(result, red)
    env_template = template(TEMPLATE, html=False, finalize=_finalize)
    text: str = env_template.render(**_view(public, red, vendor), code=code)
    return text


def _view(result: ScanResult, red: Redactor, vendor: str | None) -> dict[str, Any]:
    by_domain = {r.domain: r for r in result.recipients}
    first = [r for r in result.recipients if r.party is Party.FIRST]
    orgs = list(dict.fromkeys(red.text(r.organization) for r in first if r.organization))
    domains = [red.text(d) for d in result.first_party]
    app = orgs[0] if orgs else (", ".join(domains) or "the app")
    cap = result.capture
    findings = sorted_findings(result.findings)
    numbered = {f.fingerprint: i + 1 for i, f in enumerate(findings)}
    questions: dict[str, list[int]] = {}
    for f in findings:
        for q in f.questions:
            refs = questions.setdefault(red.text(q), [])
            if numbered[f.fingerprint] not in refs:
                refs.append(numbered[f.fingerprint])
    third = {(r.organization or r.domain).lower() for r in result.recipients if _third(r)}
    return {
        "app": app,
        "domains": domains,
        "vendor": strip_controls(vendor).strip() if vendor else (orgs[0] if orgs else ""),
        "date": utc_date(cap.start),
        "length": span(cap.start, cap.end),
        "flows": cap.flows,
        "phases": [red.phase(p) for p in cap.phases],
        "pages": cap.format == "har",  # a HAR's phases are its pages
        "capture": cap,
        "method": _METHOD.get(cap.format, f"read from a {red.text(cap.format)} file"),
        "persona": bool(result.persona_fields),
        "tool_version": red.text(result.tool_version),
        "lists": [
            f"{red.text(li.name)} {red.text(li.version)}"
            for li in sorted(result.lists, key=lambda li: li.name)
        ],
        "first_party_inferred": result.first_party_inferred,
        "companies": len(third),
        "findings": [_finding(f, red, by_domain) for f in findings],
        "questions": [(q, refs) for q, refs in questions.items()],
        # what the law now requires on paper: asked in every letter, whatever was observed
        "paper_questions": list(PAPER_QUESTIONS),
        "grade": result.score.grade if result.score else None,
    }


def _third(r: Recipient) -> bool:
    return r.party is Party.THIRD


def _finding(f: Finding, red: Redactor, by_domain: dict[str, Recipient]) -> dict[str, Any]:
    requests = sorted({e.flow for e in f.evidence})
    recipients = []
    for d in f.recipients:
        r = by_domain.get(d)
        org = red.text(r.organization) if r is not None and r.organization else ""
        recipients.append((org, red.text(d)))
    return {
        "title": red.text(f.title),
        "observed": _we(red.text(f.summary)),
        "severity": f.severity.value,
        "confidence": f.confidence.value,
        "elements": [red.text(element_info(e).label) for e in f.elements],
        "recipients": recipients,
        "provisions": [red.text(p.split(": ", 1)[0]) for p in f.provisions],
        "rule": f.rule,
        "fingerprint": f.fingerprint,
        "requests": requests[:MAX_REQUESTS],
        "more_requests": max(
            0, max(f.occurrences, len(requests)) - min(len(requests), MAX_REQUESTS)
        ),
        "occurrences": max(f.occurrences, len(requests)),
    }


def _we(summary: str) -> str:
    """A finding's summary for the vendor: "Observed X in 2 flows" -> "We observed X in 2
    requests"."""
    if summary.startswith("Observed "):
        summary = "We observed " + summary[len("Observed ") :]
    return _FLOWS.sub(lambda m: f"in {m[1]} request{'' if m[1] == '1' else 's'}", summary)
