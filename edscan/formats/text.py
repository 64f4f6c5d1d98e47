"""``text``: the terminal summary (the default of ``edscan scan``).

Grade and verdict, the most serious findings, the third-party recipients and the counts, in
plain text that fits an 100-column terminal. Everything else is in the JSON and the report.
"""

from __future__ import annotations

from edscan.formats._common import (
    elements_by_domain,
    mode_note,
    severity_counts,
    sorted_findings,
    span,
)
from edscan.models import Party, Recipient, ScanResult
from edscan.redact import Redactor

TOP_FINDINGS = 10
TOP_RECIPIENTS = 12
WIDTH = 100


def render(result: ScanResult, *, reveal: bool = False) -> str:
    red = Redactor.for_result(result, reveal=reveal)
    cap = result.capture
    lines: list[str] = []
    add = lines.append

    add(f"edscan {result.tool_version}: privacy risk summary")
    add(
        f"Capture: {red.text(cap.path)} ({cap.format}, {cap.flows:,} flows, "
        f"{span(cap.start, cap.end)}, sha256 {cap.sha256[:16]}…)"
    )
    fp = ", ".join(result.first_party) or "none identified"
    add(f"First party: {fp}{' (inferred)' if result.first_party_inferred else ''}")
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
        who = ", ".join(f.recipients[:3]) + (" …" if len(f.recipients) > 3 else "")
        line = f"  {f.severity.value.upper():<8} {f.rule}  {red.text(f.title)}"
        if who:
            line += f"  → {red.text(who)}"
        add(_fit(line + f"  [{f.confidence.value} confidence]"))
    if len(ordered) > TOP_FINDINGS:
        add(f"  … and {len(ordered) - TOP_FINDINGS:,} more (all of them: -f json or the report)")
    add("")

    third = sorted(
        (r for r in result.recipients if r.party is Party.THIRD),
        key=lambda r: (-r.flows, r.domain),
    )
    elements = elements_by_domain(result)
    add(f"Third-party recipients: {len(third)} of {len(result.recipients)} domains")
    for r in third[:TOP_RECIPIENTS]:
        els = elements.get(r.domain, [])
        add(_fit(_recipient_line(r, els, red)))
    if len(third) > TOP_RECIPIENTS:
        add(f"  … and {len(third) - TOP_RECIPIENTS:,} more")
    add("")

    to_third = sum(1 for o in result.observations if o.party is Party.THIRD)
    distinct = len({o.element for o in result.observations})
    add(
        f"Observations: {len(result.observations):,} ({to_third:,} to third parties), "
        f"{distinct} data elements, {cap.flows:,} flows"
    )
    if cap.warnings:
        add(f"Capture warnings: {len(cap.warnings)} (see the report's methodology section)")
    add(mode_note(reveal))
    return "\n".join(line.translate(_CONTROLS) for line in lines) + "\n"


def _recipient_line(r: Recipient, elements: list[str], red: Redactor) -> str:
    name = red.text(r.organization or r.domain)
    if r.organization:
        name += f" ({red.text(r.domain)})"
    category = ", ".join(r.categories[:2]) or "uncategorised"
    els = ", ".join(elements[:4]) + (" …" if len(elements) > 4 else "")
    return f"  {name:<40} {category:<28} {r.flows:>6,} flows  {els}"


# Captured text may carry terminal escape sequences: show control characters as "?".
_CONTROLS = {c: "?" for c in (*range(0x00, 0x20), *range(0x7F, 0xA0))}


def _fit(line: str) -> str:
    line = line.translate(_CONTROLS)
    return line if len(line) <= WIDTH else line[: WIDTH - 1] + "…"
