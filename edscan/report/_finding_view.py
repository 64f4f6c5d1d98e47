"""Findings as the HTML report shows them: one per rule and company, the evidence of every
domain inside it, and each provision of law printed once (in the appendix), not once a finding.

The main part lists them as one table row each (what, who, which data, which laws); the whole
finding (summary, concerns, provisions, questions) and the requests that show it follow in the
appendix, linked both ways. ``members`` are the findings as the rules raised them (one per
domain), whose evidence the appendix prints.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from edscan.models import Finding, Recipient, Severity
from edscan.report._grouping import FindingGroup, group_findings
from edscan.report._view_model import SEVERITY_HELP, SEVERITY_WORDS, FindingCard, Named
from edscan.report._view_parts import _card
from edscan.report.redact import Redactor

MAX_GROUPS = 120
MAX_MEMBERS = 12  # findings (domains) shown inside one group; the rest are counted
MAX_NAMED = 4  # companies named on one row (a cookie sync can join many)


@dataclass(frozen=True, slots=True, kw_only=True)
class Cite:
    """A provision named on a card, linked to its one entry in the law appendix."""

    text: str
    anchor: str  # "" when the result has no citation record for it (older results)


@dataclass(frozen=True, slots=True, kw_only=True)
class GroupCard:
    anchor: str  # finding-N: its row in the findings table
    detail_anchor: str  # detail-N: the whole finding and its evidence, in the appendix
    number: int
    rule: str
    title: str
    severity: str
    severity_word: str
    confidence: str
    key: str  # RULE:company, as the JSON's ``group``
    company: str  # the companies, named (the first few)
    companies: tuple[str, ...]
    domains: tuple[str, ...]
    summary: str
    sentence: str  # one sentence for the first page
    elements: tuple[Named, ...]
    concerns: tuple[str, ...]
    cites: tuple[Cite, ...]
    laws: tuple[str, ...]  # the laws cited, short ("COPPA", "FERPA"), for the table
    questions: tuple[str, ...]
    occurrences: int
    members: tuple[FindingCard, ...]
    more_members: int
    # rows of the findings table this card's title spans: the companies a rule is raised for
    # follow each other under one title (0 on the rows that continue it)
    span: int = 1


@dataclass(frozen=True, slots=True, kw_only=True)
class GroupSection:
    severity: str
    word: str
    help: str
    cards: tuple[GroupCard, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class LawEntry:
    """One provision, printed once however many findings cite it."""

    anchor: str
    cite: str
    text: str
    reading: str  # "in force", "not in force …" on the date read
    date: str
    status: str
    rules: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class FindingsView:
    sections: tuple[GroupSection, ...]
    cards: tuple[GroupCard, ...]
    more: int  # groups left out
    total: int  # groups in all
    counts: tuple[tuple[str, str, int], ...]  # (severity, word, groups) most severe first
    law: tuple[LawEntry, ...]
    law_read_on: str


def build(
    findings: Sequence[Finding],
    recipients: Sequence[Recipient],
    red: Redactor,
    named_element: Callable[[str], Named],
    rc_name: Callable[[str], str],
    company_name: Callable[[str], str],
    meanings: Mapping[tuple[int, str], str] | None = None,
) -> FindingsView:
    groups = group_findings(findings, recipients)
    # within a severity, the companies one rule is raised for sit together, in the order the
    # rule first appears (the most confident first)
    first: dict[tuple[int, str], int] = {}
    for i, g in enumerate(groups):
        first.setdefault((g.lead.severity.rank, g.rule), i)
    groups.sort(key=lambda g: (-g.lead.severity.rank, first[(g.lead.severity.rank, g.rule)]))
    law, law_anchor = _law(groups, red)
    cards = _spans(
        [
            _group_card(i, g, red, named_element, rc_name, company_name, law_anchor, meanings)
            for i, g in enumerate(groups[:MAX_GROUPS])
        ]
    )
    sections = []
    counts = []
    for sev in sorted(Severity, key=lambda s: -s.rank):
        in_sev = tuple(c for c in cards if c.severity == sev.value)
        counts.append(
            (sev.value, SEVERITY_WORDS[sev], sum(1 for g in groups if g.lead.severity is sev))
        )
        if in_sev:
            sections.append(
                GroupSection(
                    severity=sev.value,
                    word=SEVERITY_WORDS[sev],
                    help=SEVERITY_HELP[sev],
                    cards=in_sev,
                )
            )
    read_on = next((c.on for f in findings for c in f.citations), "")
    return FindingsView(
        sections=tuple(sections),
        cards=tuple(cards),
        more=max(0, len(groups) - MAX_GROUPS),
        total=len(groups),
        counts=tuple(counts),
        law=law,
        law_read_on=read_on,
    )


def _spans(cards: list[GroupCard]) -> list[GroupCard]:
    out: list[GroupCard] = []
    i = 0
    while i < len(cards):
        j = i
        while (
            j < len(cards)
            and cards[j].rule == cards[i].rule
            and cards[j].severity == cards[i].severity
        ):
            j += 1
        out.append(dataclasses.replace(cards[i], span=j - i))
        out.extend(dataclasses.replace(c, span=0) for c in cards[i + 1 : j])
        i = j
    return out


def _group_card(
    i: int,
    g: FindingGroup,
    red: Redactor,
    named_element: Callable[[str], Named],
    rc_name: Callable[[str], str],
    company_name: Callable[[str], str],
    law_anchor: dict[str, str],
    meanings: Mapping[tuple[int, str], str] | None = None,
) -> GroupCard:
    lead = g.lead
    members = tuple(
        _card(i * 1000 + j, f, red, named_element, rc_name, meanings)
        for j, f in enumerate(g.findings[:MAX_MEMBERS])
    )
    companies = list(dict.fromkeys(company_name(d) for d in g.domains))
    company = ", ".join(companies[:MAX_NAMED]) or "—"
    if len(companies) > MAX_NAMED:
        company += f" and {len(companies) - MAX_NAMED} more"
    cites: dict[str, Cite] = {}
    for f in g.findings:
        if f.citations:
            for c in f.citations:
                cites.setdefault(c.key, Cite(text=red.text(c.cite), anchor=law_anchor[c.key]))
        else:  # a result made before citations were recorded: the provision's own text
            for p in f.provisions:
                cites.setdefault(p, Cite(text=red.text(p), anchor=""))
    title = red.text(lead.title)
    return GroupCard(
        anchor=f"finding-{i + 1}",
        detail_anchor=f"detail-{i + 1}",
        number=i + 1,
        rule=red.text(g.rule),
        title=title,
        severity=lead.severity.value,
        severity_word=SEVERITY_WORDS[lead.severity],
        confidence=lead.confidence.value,
        key=red.text(g.key),
        company=company,
        companies=tuple(companies),
        domains=tuple(red.text(d) for d in g.domains),
        summary=red.text(lead.summary),
        sentence=f"{company}: {title}" + ("" if title.endswith(".") else "."),
        elements=tuple(named_element(e) for e in g.elements),
        concerns=tuple(dict.fromkeys(red.text(c) for f in g.findings for c in f.concerns)),
        cites=tuple(cites.values()),
        laws=tuple(dict.fromkeys(red.text(c.law) for f in g.findings for c in f.citations)),
        questions=tuple(dict.fromkeys(red.text(q) for f in g.findings for q in f.questions)),
        occurrences=g.occurrences,
        members=members,
        more_members=max(0, len(g.findings) - MAX_MEMBERS),
    )


def _law(
    groups: Sequence[FindingGroup], red: Redactor
) -> tuple[tuple[LawEntry, ...], dict[str, str]]:
    """Every provision cited, once, in the order the most serious findings first cite them."""
    entries: dict[str, LawEntry] = {}
    rules: dict[str, list[str]] = {}
    for g in groups:
        for f in g.findings:
            for c in f.citations:
                rules.setdefault(c.key, [])
                if f.rule not in rules[c.key]:
                    rules[c.key].append(f.rule)
                if c.key not in entries:
                    entries[c.key] = LawEntry(
                        anchor=f"law-{len(entries) + 1}",
                        cite=red.text(c.cite),
                        text=red.text(c.text),
                        reading=red.text(c.reading),
                        date=red.text(c.date) or "date not recorded",
                        status=red.text(c.status),
                        rules=(),
                    )
    out = tuple(
        LawEntry(
            anchor=e.anchor,
            cite=e.cite,
            text=e.text,
            reading=e.reading,
            date=e.date,
            status=e.status,
            rules=tuple(red.text(r) for r in rules[k]),
        )
        for k, e in entries.items()
    )
    return out, {k: e.anchor for k, e in entries.items()}
