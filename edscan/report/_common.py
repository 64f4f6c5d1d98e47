"""What every renderer shares: orderings, redacted records, labels and times.

Nothing here recomputes a finding or a score; it orders, labels and redacts what the result holds.
"""

from __future__ import annotations

import functools
import math
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from edscan.models import (
    Detector,
    Evidence,
    Finding,
    Observation,
    Party,
    Recipient,
    ScanResult,
    Severity,
)
from edscan.report.redact import Redactor

SCHEMA = "edscan-result/1"
TOOL = "edscan"

REDACTED_NOTE = (
    "Redacted: test-student values appear as labels such as ‹student.email›, other detected "
    "values are masked, and credentials, cookies and tokens are never shown."
)
REVEALED_NOTE = (
    "Revealed (--reveal): detected values appear as sent. This output contains personal data; "
    "credentials, cookies and tokens are still never shown."
)


def mode_note(reveal: bool) -> str:
    return REVEALED_NOTE if reveal else REDACTED_NOTE


# --------------------------------------------------------------------------- ordering


def sorted_findings(findings: Iterable[Finding]) -> list[Finding]:
    """Most severe first, then most confident, then by rule id and fingerprint (stable)."""
    return sorted(
        findings,
        key=lambda f: (-f.severity.rank, -f.confidence.rank, f.rule, f.fingerprint, f.title),
    )


def sorted_observations(observations: Iterable[Observation]) -> list[Observation]:
    return sorted(
        observations,
        key=lambda o: (
            o.flow,
            o.host,
            o.element,
            o.location,
            o.detector.value,
            o.persona_field or "",
        ),
    )


def sorted_recipients(recipients: Iterable[Recipient]) -> list[Recipient]:
    return sorted(recipients, key=lambda r: r.domain)


def severity_counts(findings: Iterable[Finding]) -> dict[str, int]:
    counts = {s.value: 0 for s in reversed(list(Severity))}
    for f in findings:
        counts[f.severity.value] += 1
    return counts


def host_to_domain(recipients: Iterable[Recipient]) -> dict[str, str]:
    return {host: r.domain for r in recipients for host in r.hosts}


def endpoint_context(obs: Observation) -> bool:
    """What a tracking endpoint's documented field says about the request itself (the page
    viewed, the screen, the language, the consent state): shown in its own table with the
    field's meaning, not among the data each company received."""
    from edscan.detect.known_ids import CONTEXT_ELEMENTS

    return obs.element in CONTEXT_ELEMENTS and obs.detector is Detector.PATTERN


def elements_by_domain(result: ScanResult) -> dict[str, list[str]]:
    """The data elements observed per recipient domain, in first-seen order (the endpoints'
    request context apart: ``endpoint_context``)."""
    by_host = host_to_domain(result.recipients)
    out: dict[str, dict[str, None]] = {}
    for obs in result.observations:
        if endpoint_context(obs):
            continue
        domain = by_host.get(obs.host, obs.host)
        out.setdefault(domain, {})[obs.element] = None
    return {d: list(els) for d, els in out.items()}


def third_party(recipient: Recipient) -> bool:
    return recipient.party is Party.THIRD


# --------------------------------------------------------------------------- times


def iso(ts: float | None) -> str | None:
    """A Unix time as ISO 8601 UTC (``2026-03-01T14:02:03Z``), or None."""
    if ts is None or not math.isfinite(ts):
        return None
    try:
        return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))
    except (OverflowError, OSError, ValueError):
        return None


def span(start: float | None, end: float | None) -> str:
    """A human time span: ``12 min 5 s``."""
    if start is None or end is None or end < start:
        return "unknown"
    seconds = round(end - start)
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min"


# --------------------------------------------------------------------------- labels


@dataclass(frozen=True, slots=True, kw_only=True)
class ElementInfo:
    """How a taxonomy element is named in a report."""

    id: str
    label: str  # "Student e-mail"
    category: str  # its taxonomy category: "Student Contact Information"
    exhibit_b: str  # the Exhibit B element it is reported under: "Other application ..."
    exhibit_b_category: str  # and that element's category: "Application Technology Meta Data"
    tier: int | None  # 0..3, None for an id the taxonomy does not know
    sensitive: bool  # tier 3


@functools.cache
def element_info(element_id: str) -> ElementInfo:
    """Name, categories and tier of an element; an unknown id is shown as itself."""
    from edscan.detect import taxonomy

    elem = taxonomy.ELEMENTS.get(element_id)
    if elem is None:
        return ElementInfo(
            id=element_id,
            label=element_id,
            category="Other",
            exhibit_b=element_id,
            exhibit_b_category="Not in the taxonomy",
            tier=None,
            sensitive=False,
        )
    under = taxonomy.ELEMENTS.get(elem.exhibit_b, elem)
    return ElementInfo(
        id=element_id,
        label=elem.name,
        category=_category_name(elem.category),
        exhibit_b=under.name,
        exhibit_b_category=_category_name(under.category),
        tier=int(elem.tier),
        sensitive=int(elem.tier) == 3,
    )


def _category_name(category_id: str) -> str:
    from edscan.detect import taxonomy

    cat = taxonomy.CATEGORIES.get(category_id)
    return cat.name if cat is not None else category_id


# --------------------------------------------------------------------------- records


def observation_record(obs: Observation, red: Redactor) -> dict[str, Any]:
    """An observation as written out: the contract fields plus the value as it may be shown."""
    d = obs.to_dict()
    d["host"] = red.text(obs.host)
    d["location"] = red.text(obs.location)
    d["detail"] = red.text(obs.detail)
    d["value"] = red.value(obs)
    return d


def evidence_record(ev: Evidence, red: Redactor) -> dict[str, Any]:
    d = ev.to_dict()
    d["url"] = red.url(ev.url)
    d["location"] = red.text(ev.location)
    d["phase"] = red.phase(ev.phase) if ev.phase is not None else None
    return d


def finding_record(f: Finding, red: Redactor) -> dict[str, Any]:
    d = f.to_dict()
    d["title"] = red.text(f.title)
    d["summary"] = red.text(f.summary)
    d["questions"] = [red.text(q) for q in f.questions]
    d["evidence"] = [evidence_record(e, red) for e in f.evidence]
    return d


def recipient_record(r: Recipient, red: Redactor) -> dict[str, Any]:
    d = r.to_dict()
    d["hosts"] = [red.text(h) for h in r.hosts]
    return d
