"""Companies and finding groups: how the readable reports fold domains and findings together.

A company is an organisation (as the lists name it), or the domain itself when no list knows
the owner. The rules raise one finding per rule and recipient domain, so a company with seven
domains can raise one rule seven times; the HTML and text reports show one finding per rule and
company instead, with the evidence of every domain inside it. The JSON keeps the findings as
they are (the contract, and ``edscan diff`` fingerprints) and carries the same ``group`` key.
Presentation only: nothing here changes a finding, a severity or the score.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from edscan.models import Finding, Recipient
from edscan.report._common import sorted_findings


def company_key(recipient: Recipient) -> str:
    """The company a recipient belongs to: its organisation, or its domain when unknown."""
    return (recipient.organization or recipient.domain).lower()


def company_of(recipients: Iterable[Recipient]) -> dict[str, str]:
    """Recipient domain -> company key."""
    return {r.domain: company_key(r) for r in recipients}


def owners(finding: Finding, companies: Mapping[str, str]) -> list[str]:
    """The companies a finding is about, sorted (several for a cookie sync between two)."""
    return sorted({companies.get(d, d.lower()) for d in finding.recipients})


@dataclass(frozen=True, slots=True, kw_only=True)
class FindingGroup:
    """The findings of one rule about one company, the most severe first."""

    key: str
    rule: str
    findings: tuple[Finding, ...]

    @property
    def lead(self) -> Finding:
        """The most severe finding of the group: its severity and title head the group."""
        return self.findings[0]

    @property
    def domains(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(d for f in self.findings for d in f.recipients))

    @property
    def elements(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(e for f in self.findings for e in f.elements))

    @property
    def occurrences(self) -> int:
        return sum(max(f.occurrences, len(f.evidence)) for f in self.findings)


def group_findings(
    findings: Iterable[Finding], recipients: Sequence[Recipient]
) -> list[FindingGroup]:
    """One group per rule and company, ordered as ``sorted_findings`` orders their leads.

    A finding about several companies (a cookie sync names both ends) joins every group of its
    rule that shares one of them, so no rule and company pair is ever shown twice: the
    findings of a rule fall into the connected sets of the companies they name.
    """
    companies = company_of(recipients)
    ordered = sorted_findings(findings)
    parent: dict[tuple[str, str], tuple[str, str]] = {}

    def root(node: tuple[str, str]) -> tuple[str, str]:
        while parent.setdefault(node, node) != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    for f in ordered:
        names = owners(f, companies) or ["-"]
        first = root((f.rule, names[0]))
        for other in names[1:]:
            parent[root((f.rule, other))] = first
    members: dict[tuple[str, str], set[str]] = {}
    for node in list(parent):
        members.setdefault(root(node), set()).add(node[1])
    groups: dict[str, list[Finding]] = {}
    for f in ordered:
        top = root((f.rule, (owners(f, companies) or ["-"])[0]))
        key = f"{f.rule}:{'+'.join(sorted(members[top]))}"
        groups.setdefault(key, []).append(f)
    return [FindingGroup(key=k, rule=fs[0].rule, findings=tuple(fs)) for k, fs in groups.items()]


def group_keys(findings: Sequence[Finding], recipients: Sequence[Recipient]) -> dict[int, str]:
    """``id(finding)`` -> its group key (for the JSON's ``group`` field)."""
    return {id(f): g.key for g in group_findings(findings, recipients) for f in g.findings}
