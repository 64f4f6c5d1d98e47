"""The first page, the one that decides: coverage in a line, the most serious findings in one
sentence each, and the companies by what they do. The grade, decision and verdict paragraph sit
beside it (``Report``); ``edscan report --brief`` prints this page and the vendor questions only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from edscan.models import ScanResult
from edscan.report import _palette
from edscan.report._common import span
from edscan.report._companies import CompanyRow
from edscan.report._finding_view import GroupCard

TOP_FINDINGS = 6
MAX_NAMES = 8  # companies named per kind; the rest counted


@dataclass(frozen=True, slots=True, kw_only=True)
class TopFinding:
    anchor: str
    severity: str
    severity_word: str
    sentence: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Kind:
    """The third-party companies of one kind (advertising, analytics …) on the first page."""

    key: str  # palette group key, also the swatch class
    label: str
    names: tuple[str, ...]
    more: int
    with_data: int  # how many of them received student data


@dataclass(frozen=True, slots=True, kw_only=True)
class Brief:
    coverage: str
    top: tuple[TopFinding, ...]
    more_findings: int
    kinds: tuple[Kind, ...]


def build(
    result: ScanResult,
    cards: Sequence[GroupCard],
    total_groups: int,
    companies: Sequence[CompanyRow],
    not_inspected: int,
) -> Brief:
    # one sentence per problem: a rule that several companies raise is one line naming them all
    serious = [c for c in cards if c.severity in ("critical", "high")] or list(cards)
    by_rule: dict[str, list[GroupCard]] = {}
    for c in serious:
        by_rule.setdefault(c.rule, []).append(c)
    top = [_sentence(cs) for cs in list(by_rule.values())[:TOP_FINDINGS]]
    shown = sum(len(cs) for cs in list(by_rule.values())[:TOP_FINDINGS])
    return Brief(
        coverage=_coverage(result, not_inspected),
        top=tuple(top),
        more_findings=max(0, total_groups - shown),
        kinds=_kinds(companies),
    )


def _sentence(cards: Sequence[GroupCard]) -> TopFinding:
    lead = cards[0]
    names = list(dict.fromkeys(n for c in cards for n in c.companies))
    who = ", ".join(names[:4]) + (f" and {len(names) - 4} more" if len(names) > 4 else "")
    return TopFinding(
        anchor=lead.anchor,
        severity=lead.severity,
        severity_word=lead.severity_word,
        sentence=f"{lead.title}: {who}" + ("" if who.endswith(".") else "."),
    )


def _coverage(result: ScanResult, not_inspected: int) -> str:
    cap = result.capture
    parts = [f"{cap.flows:,} requests recorded over {span(cap.start, cap.end)}"]
    if cap.phases:
        n = len(cap.phases)
        parts.append(f"{n} {'phase' if n == 1 else 'phases'} marked")
    if not_inspected:
        parts.append(
            f"{not_inspected:,} {'request' if not_inspected == 1 else 'requests'} could not be "
            "inspected (see Limits)"
        )
    else:
        parts.append("every request could be read")
    parts.append(
        "searched for a test student's seeded values"
        if result.persona_fields
        else "no test-student persona: data recognised by shape and field names only"
    )
    return "; ".join(parts) + "."


def _kinds(companies: Sequence[CompanyRow]) -> tuple[Kind, ...]:
    by_kind: dict[str, list[CompanyRow]] = {}
    for c in companies:  # already riskiest first
        if c.party == "third party":
            by_kind.setdefault(c.group.key, []).append(c)
    kinds = []
    for rows in by_kind.values():
        group = rows[0].group
        kinds.append(
            Kind(
                key=group.key,
                label=group.label,
                names=tuple(c.name for c in rows[:MAX_NAMES]),
                more=max(0, len(rows) - MAX_NAMES),
                with_data=sum(1 for c in rows if c.elements),
            )
        )
    order = [g.key for g in _palette.ALL]
    kinds.sort(key=lambda k: order.index(k.key) if k.key in order else len(order))
    return tuple(kinds)
