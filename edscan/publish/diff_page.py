"""How ``edscan diff`` is written: ``text`` (the terminal), ``json`` (``edscan-diff/1``), ``html``.

``render(diff, fmt) -> str`` is pure. The HTML page is one self-contained file made from
``reports/diff.html.j2`` with the report's stylesheet and Content-Security-Policy, through the
report's Jinja2 environment (autoescaping, ``StrictUndefined``). A diff holds no detected
values, only rule ids and titles, element ids, domains and organisations; those came from
captures all the same, so they are escaped (HTML) or cleaned of control characters (text).
"""

from __future__ import annotations

import json
import textwrap
from dataclasses import dataclass

from edscan.errors import EdscanError
from edscan.publish.diff import Diff, ElementRef, FindingRef, RecipientRef
from edscan.report._common import element_info

FORMATS = ("text", "json", "html")
TEMPLATE = "diff.html.j2"
WIDTH = 100
# captured text may carry terminal escape sequences: control characters are shown as "?"
_CONTROLS = {c: "?" for c in (*range(0x00, 0x20), *range(0x7F, 0xA0))}


def render(d: Diff, fmt: str) -> str:
    if fmt == "text":
        return render_text(d)
    if fmt == "json":
        return json.dumps(d.to_dict(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    if fmt == "html":
        return render_html(d)
    raise EdscanError(f"unknown diff format {fmt!r}: choose one of {', '.join(FORMATS)}")


# --------------------------------------------------------------------------- text


def grade_line(d: Diff) -> str:
    def side(grade: str | None, score: int | None) -> str:
        return f"{grade} ({score}/100)" if grade is not None else "not scored"

    change = d.score_change
    delta = f", risk {change:+d}" if change is not None else ""
    return f"Grade {side(d.old.grade, d.old.score)} → {side(d.new.grade, d.new.score)}{delta}"


def render_text(d: Diff) -> str:
    lines = [
        f"edscan diff: {d.old.label} → {d.new.label}",
        grade_line(d),
    ]
    if d.old.verdict != d.new.verdict:
        lines.append(f"Verdict: {d.old.verdict or 'none'} → {d.new.verdict or 'none'}")
    else:
        lines.append(f"Verdict: {d.new.verdict or 'none'} (unchanged)")
    lines.append("")
    lines.append(
        f"Findings: {len(d.new_findings)} new, {len(d.resolved_findings)} resolved, "
        f"{len(d.unchanged_findings)} unchanged"
    )
    for f in d.new_findings:
        lines += _finding_lines("new", f)
    for f in d.resolved_findings:
        lines += _finding_lines("resolved", f)
    for c in d.unchanged_findings:
        was = f"was {c.before.severity.value}" if c.severity_changed else ""
        lines += _finding_lines("unchanged", c.finding, was)
    lines.append("")
    lines.append(
        f"Recipients: {len(d.recipients_added)} added, {len(d.recipients_removed)} removed"
    )
    lines += [f"  + {_recipient(r)}" for r in d.recipients_added]
    lines += [f"  - {_recipient(r)}" for r in d.recipients_removed]
    lines.append("")
    lines.append(
        f"Data elements sent to third parties: {len(d.elements_added)} newly sent, "
        f"{len(d.elements_removed)} no longer sent"
    )
    lines += [f"  + {_element(e)}" for e in d.elements_added]
    lines += [f"  - {_element(e)}" for e in d.elements_removed]
    if d.notes:
        lines.append("")
        lines.append("Notes:")
        for n in d.notes:
            lines += textwrap.wrap(n, WIDTH, initial_indent="  ", subsequent_indent="    ")
    return "\n".join(_fit(line) for line in lines) + "\n"


def _finding_lines(kind: str, f: FindingRef, was: str = "") -> list[str]:
    who = ", ".join(f.recipients[:4]) + (" …" if len(f.recipients) > 4 else "")
    detail = " · ".join(x for x in (who, f"{f.confidence.value} confidence", was) if x)
    return [
        f"  {kind.upper():<10}{f.severity.value.upper():<9}{f.rule}  {f.title}",
        f"{'':<27}{detail}",
    ]


def _recipient(r: RecipientRef) -> str:
    org = f" ({r.organization})" if r.organization else ""
    cats = f"; {', '.join(r.categories[:2])}" if r.categories else ""
    return f"{r.domain}{org}, {r.party} party{cats}"


def _element(e: ElementRef) -> str:
    return f"{e.element} ({element_info(e.element).label}) to {', '.join(e.recipients)}"


def _fit(line: str) -> str:
    line = line.translate(_CONTROLS)
    return line if len(line) <= WIDTH else line[: WIDTH - 1] + "…"


# --------------------------------------------------------------------------- html


@dataclass(frozen=True, slots=True, kw_only=True)
class Row:
    kind: str  # new | resolved | unchanged
    severity: str
    old_severity: str
    rule: str
    title: str
    confidence: str
    recipients: str
    elements: str


def render_html(d: Diff) -> str:
    from edscan.report.html import CSP, _stylesheet
    from edscan.report.templates import template

    rows = (
        [_row("new", f) for f in d.new_findings]
        + [_row("resolved", f) for f in d.resolved_findings]
        + [_row("unchanged", c.finding, c.before) for c in d.unchanged_findings]
    )
    page: str = template(TEMPLATE).render(
        d=d,
        grade_line=grade_line(d),
        rows=rows,
        added=[_recipient(r) for r in d.recipients_added],
        removed=[_recipient(r) for r in d.recipients_removed],
        newly_sent=[_element(e) for e in d.elements_added],
        no_longer_sent=[_element(e) for e in d.elements_removed],
        css=_stylesheet(),
        csp=CSP,
    )
    return page


def _row(kind: str, f: FindingRef, before: FindingRef | None = None) -> Row:
    return Row(
        kind=kind,
        severity=f.severity.value,
        old_severity=before.severity.value if before and before.severity != f.severity else "",
        rule=f.rule,
        title=f.title,
        confidence=f.confidence.value,
        recipients=", ".join(f.recipients),
        elements=", ".join(element_info(e).label for e in f.elements),
    )
