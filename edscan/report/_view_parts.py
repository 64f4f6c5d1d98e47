"""Pieces of the report's view that ``build`` assembles: finding cards, exhibit rows, element
details and the verdict paragraph, redacted for reading."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from edscan.models import Finding, Party, Recipient, ScanResult
from edscan.report import _palette
from edscan.report._common import (
    element_info,
    endpoint_context,
    severity_counts,
    span,
)
from edscan.report._view_model import (
    SEVERITY_WORDS,
    TIER_WORDS,
    EvidenceRow,
    ExhibitRow,
    FindingCard,
    Named,
)
from edscan.report.redact import Redactor

MAX_EVIDENCE = 5


MAX_LIST_ITEMS = 6  # hosts, elements per table cell


def _element_detail(eid: str, red: Redactor) -> str:
    info = element_info(eid)
    tier = TIER_WORDS.get(info.tier, "") if info.tier is not None else ""
    cat = red.text(info.category)
    return f"{cat} · {tier}" if tier else cat


def _tier_or(tier: int | None, default: int) -> int:
    return default if tier is None else tier


def _org_key(r: Recipient) -> str:
    return (r.organization or r.domain).lower()


def _setting(value: Any) -> str:
    if isinstance(value, str):
        return value
    try:
        return json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        return str(value)


def _cut_off_note(n: int) -> str:
    if not n:
        return "none"
    return (
        f"{n:,} request(s) were still waiting for or receiving their response when the "
        "capture stopped: analysed like the others as sent, with their responses missing or "
        "partial"
    )


def _decision_css(verdict: str) -> str:
    v = verdict.lower()
    if not v:
        return "none"
    if v.startswith("inconclusive"):
        return "caution"
    if "not" in v or "fix" in v:
        return "stop"
    if "condition" in v:
        return "caution"
    return "go"


def _card(
    i: int,
    f: Finding,
    red: Redactor,
    named_element: Any,
    rc_name: Any,
    meanings: Mapping[tuple[int, str], str] | None = None,
) -> FindingCard:
    evidence = [
        EvidenceRow(
            flow=e.flow,
            method=red.text(e.method),
            url=red.url(e.url),
            location=red.text(e.location) or "request",
            chain=" → ".join(red.text(x) for x in e.encodings) or "as sent",
            phase=red.phase(e.phase) if e.phase else "–",
            meaning=red.text((meanings or {}).get((e.flow, e.location), "")),
        )
        for e in f.evidence[:MAX_EVIDENCE]
    ]
    return FindingCard(
        anchor=f"finding-{i + 1}",
        rule=red.text(f.rule),
        title=red.text(f.title),
        severity=f.severity.value,
        severity_word=SEVERITY_WORDS[f.severity],
        confidence=f.confidence.value,
        summary=red.text(f.summary),
        elements=tuple(named_element(e) for e in f.elements),
        recipients=tuple(rc_name(d) for d in f.recipients),
        evidence=tuple(evidence),
        more_evidence=max(0, max(f.occurrences, len(f.evidence)) - len(evidence)),
        concerns=tuple(red.text(c) for c in f.concerns),
        provisions=tuple(red.text(p) for p in f.provisions),
        questions=tuple(red.text(q) for q in f.questions),
        law_read_on=f.citations[0].on if f.citations else "",
        readings=tuple(
            red.text(f"{c.cite} ({c.date or 'date not recorded'}): {c.reading}; {c.status}")
            for c in f.citations
        ),
    )


def _exhibit(
    el_to_rc: dict[str, dict[str, None]],
    by_domain: dict[str, Recipient],
    named_element: Any,
    name: Any,
    red: Redactor,
) -> tuple[ExhibitRow, ...]:
    cats: dict[str, list[str]] = {}
    for e in el_to_rc:
        cats.setdefault(element_info(e).exhibit_b_category, []).append(e)
    rows = []
    for cat in sorted(cats):
        els = cats[cat]
        third: dict[str, None] = {}
        for e in els:
            for d in el_to_rc[e]:
                r = by_domain.get(d)
                if r is None or r.party is Party.THIRD:
                    third[name(r) if r else red.text(d)] = None
        names = list(third)
        rows.append(
            ExhibitRow(
                category=red.text(cat),
                elements=tuple(_under(named_element(e), e, red) for e in els),
                third=tuple(names[:MAX_LIST_ITEMS]),
                more_third=max(0, len(names) - MAX_LIST_ITEMS),
                first_only=not names,
            )
        )
    return tuple(rows)


def _under(named: Named, eid: str, red: Redactor) -> Named:
    info = element_info(eid)
    if info.exhibit_b == info.label:
        return named
    return Named(text=named.text, note=named.note, css=named.css, under=red.text(info.exhibit_b))


def _verdict_paragraph(
    result: ScanResult,
    third: Sequence[Recipient],
    findings: Sequence[Finding],
    name: Any,
    red: Redactor,
    flows: int,
    third_flows: int,
) -> str:
    parts: list[str] = []
    orgs = {_org_key(r) for r in third}
    ads = {_org_key(r) for r in third if _palette.group_of(r).key in ("ads", "social")}
    replay = {_org_key(r) for r in third if _palette.group_of(r).key == "replay"}
    parts.append(
        f"In this recorded session ({flows:,} requests, "
        f"{span(result.capture.start, result.capture.end)}), the app exchanged data with "
        f"{len(orgs)} compan{'y' if len(orgs) == 1 else 'ies'} other than its maker"
        + (f", {len(ads)} of them in advertising or social media" if ads else "")
        + (f" and {len(replay)} recording what students do on screen" if replay else "")
        + "."
    )
    to_third = sorted(
        {
            o.element
            for o in result.observations
            if o.party is Party.THIRD and not endpoint_context(o)
        },
        key=lambda e: (-_tier_or(element_info(e).tier, -1), e),
    )
    if to_third:
        labels = [red.text(element_info(e).label) for e in to_third[:4]]
        more = len(to_third) - len(labels)
        parts.append(
            "Student data reached third parties: "
            + ", ".join(labels)
            + (f" and {more} more kinds" if more > 0 else "")
            + "."
        )
    else:
        parts.append("edscan did not detect student data going to third parties.")
    counts = severity_counts(findings)
    serious = [f"{counts[s]} {s}" for s in ("critical", "high") if counts[s]]
    if findings:
        parts.append(
            f"edscan raised {len(findings)} finding{'s' if len(findings) != 1 else ''}"
            + (f" ({', '.join(serious)})" if serious else "")
            + f"; the most serious: “{red.text(findings[0].title)}”."
        )
    if findings:
        parts.append(
            "Observations like these may be inconsistent with the district's contract and with "
            "student-privacy law; the questions to ask the vendor are listed below."
        )
    return " ".join(parts)


def first_party_how(result: ScanResult, red: Redactor) -> str:
    """How the first party was decided and how sure that is, for the methodology."""
    if not result.first_party_inferred:
        return "given by the auditor with --first-party"
    basis = result.first_party_basis
    if basis is None:
        return (
            "inferred from the traffic (the site most requests and pages belong to); "
            "give --first-party to state it"
        )
    sure = f"{basis.confidence.value} confidence" if basis.confidence else "not decided"
    return f"{sure}: {red.text(basis.reason)}; give --first-party to state it"


def first_party_candidates(result: ScanResult, red: Redactor) -> tuple[tuple[str, str], ...]:
    """(domain, evidence) for each candidate when the inference was split or not decided."""
    basis = result.first_party_basis
    if basis is None or not result.first_party_inferred:
        return ()
    if not (basis.split or basis.method == "none"):
        return ()
    return tuple(
        (
            red.text(c.domain),
            red.text(", ".join(c.evidence) + (f" (set aside: {c.excluded})" if c.excluded else "")),
        )
        for c in basis.candidates
    )
