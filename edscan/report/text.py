"""``text``: the terminal summary (the default of ``edscan scan``).

Grade and verdict, the most serious findings, the third-party recipients and the counts, in
plain text that fits an 100-column terminal. Everything else is in the JSON and the report.
"""

from __future__ import annotations

import textwrap

from edscan.models import Party, Recipient, ScanResult
from edscan.report._common import (
    elements_by_domain,
    mode_note,
    severity_counts,
    sorted_findings,
    span,
)
from edscan.report._declared import text_lines as declared_lines
from edscan.report.redact import Redactor

TOP_FINDINGS = 10
TOP_RECIPIENTS = 12
WIDTH = 100


def render(result: ScanResult, *, reveal: bool = False) -> str:
    red = Redactor.for_result(result, reveal=reveal)
    cap = result.capture
    lines: list[str] = []
    add = lines.append

    add(_fit(f"edscan {red.text(result.tool_version)}: privacy risk summary"))
    add(_fit(f"Capture: {red.text(cap.path)}"))
    add(
        _fit(
            f"         {red.text(cap.format)}, {cap.flows:,} flows, {span(cap.start, cap.end)}, "
            f"sha256 {red.text(cap.sha256[:16])}…"
        )
    )
    if cap.cut_off:
        add(
            _fit(
                f"         {cap.cut_off:,} flows cut off by the stop (responses missing or partial)"
            )
        )
    fp = red.text(", ".join(result.first_party)) or "none identified"
    add(_fit(f"First party: {fp}{' (inferred)' if result.first_party_inferred else ''}"))
    add("")

    if result.score is not None:
        s = result.score
        add(f"Grade {s.grade}   risk {s.value}/100   verdict: {s.verdict}")
    else:
        add("Grade: not scored")
    add("")

    counts = severity_counts(result.findings)
    summary = ", ".join(f"{n} {sev}" for sev, n in counts.items())
    add(f"Findings: {len(result.findings)} ({summary})")
    ordered = sorted_findings(result.findings)
    for f in ordered[:TOP_FINDINGS]:
        who = ", ".join(f.recipients[:4]) + (" …" if len(f.recipients) > 4 else "")
        add(_fit(f"  {f.severity.value.upper():<8} {f.rule}  {red.text(f.title)}"))
        add(
            _fit(
                f"{'':<19}{f.confidence.value} confidence" + (f" · {red.text(who)}" if who else "")
            )
        )
    if len(ordered) > TOP_FINDINGS:
        add(f"  … and {len(ordered) - TOP_FINDINGS:,} more (all of them: -f json or the report)")
    add("")

    elements = elements_by_domain(result)
    third = sorted(
        (r for r in result.recipients if r.party is Party.THIRD),
        key=lambda r: (-len(elements.get(r.domain, ())), -r.flows, r.domain),
    )
    add(f"Third-party recipients: {len(third)} of {len(result.recipients)} domains")
    for r in third[:TOP_RECIPIENTS]:
        els = elements.get(r.domain, [])
        add(_fit(_recipient_line(r, els, red)))
    if len(third) > TOP_RECIPIENTS:
        add(f"  … and {len(third) - TOP_RECIPIENTS:,} more")
    add("")

    declared = declared_lines(result, red)  # only with --declared
    if declared:
        lines.extend(_fit(line) for line in declared)
        add("")

    to_third = sum(1 for o in result.observations if o.party is Party.THIRD)
    distinct = len({o.element for o in result.observations})
    add(
        f"Observations: {len(result.observations):,} ({to_third:,} to third parties), "
        f"{distinct} data elements, {cap.flows:,} flows"
    )
    if cap.warnings:
        add(f"Capture warnings: {len(cap.warnings)} (see the report's methodology section)")
    lines.extend(textwrap.wrap(mode_note(reveal), WIDTH))
    return "\n".join(line.translate(_CONTROLS) for line in lines) + "\n"


def _recipient_line(r: Recipient, elements: list[str], red: Redactor) -> str:
    name = red.text(r.organization or r.domain)
    if r.organization:
        name += f" ({red.text(r.domain)})"
    category = red.text(", ".join(r.categories[:2])) or "not classified"
    data = f"{len(elements)} data element{'s' if len(elements) != 1 else ''}" if elements else ""
    return f"  {_cut(name, 40):<40} {_cut(category, 26):<26} {r.flows:>7,} flows  {data}"


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


# Captured text may carry terminal escape sequences: show control characters as "?".
_CONTROLS = {c: "?" for c in (*range(0x00, 0x20), *range(0x7F, 0xA0))}


def _fit(line: str) -> str:
    line = line.translate(_CONTROLS)
    return line if len(line) <= WIDTH else line[: WIDTH - 1] + "…"
