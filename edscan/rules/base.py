"""What every rule shares: the rule record, the scan context, and how a finding is made.

A rule is metadata (id, title, base severity, concerns, provisions, questions) plus a ``check``
that reads a ``Context`` and yields findings. The context indexes the ScanResult once (flows by
index, recipients by host, observations by recipient) so each rule is a few loops.

Finding identity (``fingerprint``) is a hash of the rule id, the elements and the recipient
domains: never flow indices or times, so the same finding keeps its id across captures of the
same behaviour (semgrep's match-based id is the model).
"""

from __future__ import annotations

import hashlib
import re
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from edscan.models import (
    Confidence,
    Evidence,
    Field,
    Finding,
    FlowSummary,
    Observation,
    Party,
    Recipient,
    ScanResult,
    Severity,
)
from edscan.recipients.domains import registrable_domain
from edscan.rules import law, vocab
from edscan.rules.locations import in_copied_url
from edscan.rules.signals import FLAG_ON, kind_of

MAX_EVIDENCE = 20  # evidence items kept per finding; ``occurrences`` keeps the full count

# (flow index, location, decoding chain): what a rule says about one piece of evidence
Ref = tuple[int, str, tuple[str, ...]]

# the phase names that open a gate: collection before them is "before login or consent"
GATE_PHASE = re.compile(r"log[ _-]?in|sign[ _-]?in|signin|consent|age[ _-]?gate|sso|auth", re.I)

# request bodies that are a recording or a picture (the request Content-Type)
MEDIA_TYPE = re.compile(r"^\s*(audio|video|image)/", re.I)

_LOOPBACK = re.compile(r"^(localhost|.*\.localhost|127\.\d+\.\d+\.\d+|::1|\[::1\])$")


@dataclass(frozen=True, slots=True, kw_only=True)
class Rule:
    """One kind of finding: what it means, why it matters, and how to find it."""

    id: str  # EDSnnn, never reused
    title: str
    severity: Severity  # the base severity; escalations raise or lower it per finding
    family: str  # the module it lives in
    evidence_class: str  # E1 observed fact; E2 indicator of a server-side use
    explanation: str  # plain language, for the report
    escalations: tuple[str, ...] = ()
    concerns: tuple[str, ...] = ()
    provisions: tuple[str, ...] = ()  # keys of law.PROVISIONS
    questions: tuple[str, ...] = ()
    unless: str = ""  # what would make the behaviour acceptable
    data_tier: int = 1  # scoring tier of a finding that names no element
    runs_last: bool = False  # reads what the other rules reported (ctx.covered)
    check: Callable[[Context, Rule], Iterable[Finding]] = field(repr=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "severity": self.severity.value,
            "family": self.family,
            "evidence_class": self.evidence_class,
            "explanation": self.explanation,
            "escalations": list(self.escalations),
            "concerns": list(self.concerns),
            "provisions": list(law.provision_texts(self.provisions)),
            # additive: each provision with its dates, source and status (edscan-rules/1)
            "citations": [law.PROVISIONS[k].to_dict() for k in self.provisions],
            "questions": list(self.questions),
            "unless": self.unless,
        }


class Context:
    """The ScanResult, indexed once for the rules."""

    def __init__(self, result: ScanResult) -> None:
        self.result = result
        self.flows: dict[int, FlowSummary] = {f.index: f for f in result.flows}
        self._signals: dict[int, dict[str, list[Field]]] = {}
        self._kind_by_id: dict[int, str | None] = {}
        self.first_party = frozenset(result.first_party)
        self.recipients: dict[str, Recipient] = {r.domain: r for r in result.recipients}
        self._host_domain: dict[str, str] = {}
        for r in result.recipients:
            for h in r.hosts:
                self._host_domain[h] = r.domain
        self.observations_by_domain: dict[str, list[Observation]] = defaultdict(list)
        self.observations_by_flow: dict[int, list[Observation]] = defaultdict(list)
        for o in result.observations:
            self.observations_by_domain[self.domain_of(o.host)].append(o)
            self.observations_by_flow[o.flow].append(o)
        self.flows_by_domain: dict[str, list[FlowSummary]] = defaultdict(list)
        for f in result.flows:
            self.flows_by_domain[self.domain_of(f.host)].append(f)
        # (domain, element) pairs a specific rule has reported: the residual rule skips them
        self.covered: set[tuple[str, str]] = set()
        self.child_directed = child_directed(result)
        # the capture's date: the law is read as it stood that day (law.reading)
        self.dated = law.dated(capture_start(result))
        self.law_day = law.day_of(capture_start(result))
        self.gate = self._gate()
        # credential values the app itself received: the student's session, not a vendor key
        self._own_credentials = frozenset(
            o.value
            for o in result.observations
            if o.value and vocab.is_credential(o.element) and not self.is_third_observation(o)
        )

    # ------------------------------------------------------------ hosts and parties

    def domain_of(self, host: str) -> str:
        hit = self._host_domain.get(host)
        if hit is None:
            hit = registrable_domain(host) if host else ""
            self._host_domain[host] = hit
        return hit

    def recipient(self, domain: str) -> Recipient | None:
        return self.recipients.get(domain)

    def categories(self, domain: str) -> frozenset[str]:
        r = self.recipients.get(domain)
        return frozenset(r.categories) if r is not None else frozenset()

    def is_first(self, domain: str) -> bool:
        if domain in self.first_party:
            return True
        r = self.recipients.get(domain)
        return r is not None and r.party is Party.FIRST

    def is_third_observation(self, o: Observation) -> bool:
        """Third party per the integrator's party, and per the recipient table."""
        return o.party is Party.THIRD and not self.is_first(self.domain_of(o.host))

    def is_student_credential(self, o: Observation) -> bool:
        """Whether a credential observed at a third party is the student's or the app's session.

        A third party's own cookie, or the app's key for a third-party API in that API's
        Authorization header, is how that service works, not a leak. What counts: a seeded or
        derived persona value, a value the app's own servers also received, or a value copied
        from the app's URLs (Referer, page-URL fields).
        """
        return (
            bool(o.persona_field)
            or (bool(o.value) and o.value in self._own_credentials)
            or in_copied_url(o.location)
        )

    def relevant(self, o: Observation) -> bool:
        """Everything but credentials that are not the student's (see is_student_credential)."""
        return not vocab.is_credential(o.element) or self.is_student_credential(o)

    def attribution_confidence(self, domain: str) -> Confidence:
        """How sure the recipient's categories are: from a named list, or not attributed."""
        r = self.recipients.get(domain)
        if r is not None and r.categories and r.sources:
            return Confidence.HIGH
        if r is not None and r.categories:
            return Confidence.MEDIUM
        return Confidence.LOW

    def who(self, domain: str) -> str:
        """ "Meta Platforms (facebook.com; advertising, social network)"."""
        r = self.recipients.get(domain)
        if r is None:
            return domain
        cats = f"; {', '.join(r.categories)}" if r.categories else ""
        if r.organization:
            return f"{r.organization} ({domain}{cats})"
        return f"{domain}{' (' + ', '.join(r.categories) + ')' if r.categories else ''}"

    def same_organization(self, a: str, b: str) -> bool:
        """Whether the lists give both domains the same owner or parent (a company's own
        redirects between its domains are no sync)."""

        def owners(domain: str) -> set[str]:
            r = self.recipients.get(domain)
            if r is None:
                return set()
            return {o.casefold() for o in (r.organization, r.parent) if o}

        return bool(owners(a) & owners(b))

    def third_party_domains(self) -> list[str]:
        return sorted(d for d in self.flows_by_domain if d and not self.is_first(d))

    # ------------------------------------------------------------ signals

    def signals(self, flow: int, kind: str) -> list[Field]:
        """The flow's signals of one kind (grouped once per flow: rules ask again and again)."""
        grouped = self._signals.get(flow)
        if grouped is None:
            grouped = {}
            f = self.flows.get(flow)
            # signals are shared objects (signals.py interns them): classify each object once;
            # ids stay valid because the result holds every signal while the context lives
            kinds = self._kind_by_id
            for s in f.signals if f is not None else ():
                k = kinds.get(id(s), "?")
                if k == "?":
                    k = kinds[id(s)] = kind_of(s)
                if k is not None:
                    grouped.setdefault(k, []).append(s)
            self._signals[flow] = grouped
        return grouped.get(kind, [])

    def is_media_upload(self, flow: FlowSummary) -> bool:
        """Whether the flow uploads audio, video or an image (by its request Content-Type)."""
        return any(MEDIA_TYPE.match(s.value) for s in self.signals(flow.index, "content-type"))

    def _gate(self) -> tuple[int, str] | None:
        """(index of the first flow of the login/consent phase, its name), when marked."""
        for f in sorted(self.result.flows, key=lambda f: f.index):
            if f.phase and GATE_PHASE.search(f.phase):
                return (f.index, f.phase)
        return None

    # ------------------------------------------------------------ evidence

    def evidence_of(self, observations: Iterable[Observation]) -> list[Ref]:
        return [(o.flow, o.location, o.encodings) for o in observations]

    def evidence_of_flow(self, flow: FlowSummary, location: str = "") -> Ref:
        return (flow.index, location, ())

    def evidence(self, refs: Iterable[Ref]) -> tuple[tuple[Evidence, ...], int]:
        """The first MAX_EVIDENCE evidence items (by flow, then location) and the flow count.

        Rules hand over cheap references; only the items a finding keeps become Evidence.
        """
        first: dict[tuple[int, str], tuple[str, ...]] = {}
        for flow, loc, enc in refs:
            first.setdefault((flow, loc), enc)
        unique = sorted(first.items())
        flows = {flow for (flow, _), _ in unique}
        out = []
        for (flow, location), encodings in unique[:MAX_EVIDENCE]:
            f = self.flows.get(flow)
            out.append(
                Evidence(
                    flow=flow,
                    method=f.method if f else "",
                    url=f.url if f else "",
                    location=location,
                    encodings=encodings,
                    phase=f.phase if f else None,
                )
            )
        return tuple(out), len(flows)


def capture_start(result: ScanResult) -> float | None:
    """When the capture began: its recorded start, else its first flow's time."""
    if result.capture.start is not None:
        return result.capture.start
    return min((f.time for f in result.flows if f.time is not None), default=None)


def child_directed(result: ScanResult) -> bool:
    """The app says it is child-directed: the ``child_directed`` setting when given, else a
    child-directed flag set on any request of the capture."""
    setting = result.settings.get("child_directed")
    if isinstance(setting, bool):
        return setting
    # the value test first: one set lookup, rarely true, so kind_of runs on few signals
    return any(
        s.value in FLAG_ON and kind_of(s) == "child" for f in result.flows for s in f.signals
    )


def is_loopback(host: str) -> bool:
    return bool(_LOOPBACK.match(host))


def best(confidences: Iterable[Confidence]) -> Confidence:
    return max(confidences, default=Confidence.LOW)


def weakest(*confidences: Confidence) -> Confidence:
    return min(confidences)


def fingerprint(
    rule: str, elements: Iterable[str], recipients: Iterable[str], key: str = ""
) -> str:
    text = "|".join((rule, ",".join(sorted(set(elements))), ",".join(sorted(set(recipients))), key))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def element_list(elements: Iterable[str], limit: int = 6) -> str:
    names = [vocab.label(e) for e in sorted(set(elements))]
    more = len(names) - limit
    shown = ", ".join(names[:limit])
    return shown + (f" and {more} more" if more > 0 else "")


def flows_phrase(n: int) -> str:
    return "1 flow" if n == 1 else f"{n} flows"


def make(
    ctx: Context,
    rule: Rule,
    *,
    observed: str,
    severity: Severity,
    confidence: Confidence,
    elements: Iterable[str] = (),
    recipients: Iterable[str] = (),
    evidence: Iterable[Ref] = (),
    why: str = "",
    key: str = "",
) -> Finding:
    """A finding of ``rule``: "Observed …; this may be inconsistent with … unless …"."""
    els = tuple(sorted(set(elements)))
    recs = tuple(sorted(set(recipients)))
    items, occurrences = ctx.evidence(evidence)
    summary = f"Observed {observed} in {flows_phrase(occurrences)}."
    if why:
        summary += f" {why}"
    if rule.evidence_class.startswith("E2"):
        summary += " Traffic shows the transmission, not how the recipient uses it."
    cites = law.citations(rule.provisions, ctx.law_day)
    applying = law.applicable(cites)
    if applying:
        summary += f" This may be inconsistent with {law.short_cites(applying)}"
        summary += f" unless {rule.unless}." if rule.unless else "."
    note = law.reading_note(cites, ctx.law_day, ctx.dated)
    if note:
        summary += f" {note}"
    return Finding(
        rule=rule.id,
        title=rule.title,
        severity=severity,
        confidence=confidence,
        summary=summary,
        elements=els,
        recipients=recs,
        evidence=items,
        concerns=rule.concerns,
        provisions=tuple(c.text for c in applying),
        questions=rule.questions,
        fingerprint=fingerprint(rule.id, els, recs, key),
        occurrences=occurrences,
        citations=cites,
    )


def raise_to(severity: Severity, floor: Severity) -> Severity:
    return max(severity, floor)
