"""The shapes the report's templates read (``Report`` and its rows, cards and groups), and the
words for severities and tiers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from edscan.models import Severity
from edscan.report import _coverage, _declared, _diagram, _identifiers, _timeline
from edscan.report._palette import Group

if TYPE_CHECKING:  # these modules build on the shapes here
    from edscan.report._brief import Brief
    from edscan.report._companies import CompanyRow
    from edscan.report._finding_view import GroupSection, LawEntry

SEVERITY_WORDS = {
    Severity.CRITICAL: "Critical",
    Severity.HIGH: "High",
    Severity.MEDIUM: "Medium",
    Severity.LOW: "Low",
    Severity.INFO: "Information",
}
SEVERITY_HELP = {
    Severity.CRITICAL: "Observed behaviour that on its face conflicts with a clear legal or "
    "contractual limit, or sensitive data or credentials exposed.",
    Severity.HIGH: "A strong indicator of a prohibited use (advertising, profiling, undisclosed "
    "sharing of identifiers), or a security gap affecting student data.",
    Severity.MEDIUM: "A transparency or contract question, or more data than needed, with "
    "less sensitive data.",
    Severity.LOW: "A hygiene issue or a weak signal.",
    Severity.INFO: "Context for the reader; not scored.",
}
TIER_WORDS = {3: "sensitive", 2: "education record", 1: "identifies the student", 0: "technical"}


@dataclass(frozen=True, slots=True, kw_only=True)
class Named:
    """A labelled thing with an optional tooltip and CSS hint from a fixed set."""

    text: str
    note: str = ""
    css: str = ""
    under: str = ""  # the Exhibit B element it is reported under, when not itself


@dataclass(frozen=True, slots=True, kw_only=True)
class EvidenceRow:
    flow: int
    method: str
    url: str
    location: str
    chain: str
    phase: str
    meaning: str = ""  # what the field is at this endpoint, where the endpoint knowledge says


@dataclass(frozen=True, slots=True, kw_only=True)
class FindingCard:
    anchor: str
    rule: str
    title: str
    severity: str  # the enum value, also a CSS class suffix
    severity_word: str
    confidence: str
    summary: str
    elements: tuple[Named, ...]
    recipients: tuple[str, ...]
    evidence: tuple[EvidenceRow, ...]
    more_evidence: int
    concerns: tuple[str, ...]
    provisions: tuple[str, ...]
    questions: tuple[str, ...]
    # each cited provision as read on the capture's date: "cite (date of text): reading; status"
    law_read_on: str = ""
    readings: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Question:
    text: str
    rules: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class ExhibitRow:
    category: str
    elements: tuple[Named, ...]
    third: tuple[str, ...]
    more_third: int
    first_only: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class ParentLine:
    data: str
    category: str
    sensitive: bool
    companies: tuple[str, ...]
    more: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Pinned:
    host: str
    flows: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Report:
    title: str
    subtitle: str
    redacted: bool
    mode_note: str
    tool_version: str
    grade: str  # "A".."F" or "?"
    score: str
    verdict: str
    decision_css: str  # go / caution / stop / none
    verdict_paragraph: str
    stats: tuple[tuple[str, str], ...]
    severity_counts: tuple[tuple[str, str, int], ...]
    diagram: _diagram.Diagram
    recipients: tuple[CompanyRow, ...]  # one row per company
    more_recipients: int
    finding_groups: tuple[GroupSection, ...]  # one card per rule and company
    more_findings: int
    timeline: _timeline.Timeline | None
    timeline_legend: tuple[Group, ...]
    phases: tuple[_timeline.PhaseRow, ...]
    exhibit: tuple[ExhibitRow, ...]
    parents: tuple[ParentLine, ...]
    parents_contact_only: tuple[str, ...]
    parents_sensitive: tuple[str, ...]
    questions: tuple[Question, ...]
    capture: tuple[tuple[str, str], ...]
    lists: tuple[dict[str, str], ...]
    persona_fields: tuple[str, ...]
    settings: tuple[tuple[str, str], ...]
    first_party: str
    first_party_how: str
    first_party_candidates: tuple[tuple[str, str], ...]  # (domain, evidence) when split
    formula: str
    warnings: tuple[str, ...]
    more_warnings: int
    pinned: tuple[Pinned, ...]
    more_pinned: int
    pinned_flows: int
    cut_off: int  # flows the capture's stop cut off
    not_verifiable: tuple[str, ...]
    observations: int
    declared: _declared.DeclaredView | None = None  # only with --declared
    coverage_line: str = ""  # "3 hosts inspected; 1 not inspected: no-keys 1"
    gaps: tuple[_coverage.Gap, ...] = ()
    # HTTP/3 quiet hosts, bodies cut by --max-body, decoding limits, the TLS check
    coverage_items: _coverage.CoverageItems | None = None
    # which identifiers reached which companies, and the ID syncs (None: nothing to show)
    identifiers: _identifiers.IdentifierView | None = None
    brief: Brief | None = None  # the first page's top findings, coverage, companies by kind
    law: tuple[LawEntry, ...] = ()  # each provision cited, once (the law appendix)
    law_read_on: str = ""
