"""``edscan diff``: two results for one app compared, e.g. before and after the vendor's fix.

Pure: it reads result documents (the ``edscan-result/1`` JSON that ``edscan scan -f json`` and
``edscan report --json`` write, or ``formats.json.document`` of a capture just scanned) and
returns a ``Diff``:

- the grade, risk score and verdict of each side;
- findings **new**, **resolved** and **unchanged**, matched by ``fingerprint`` (rule, data
  elements and recipient domains; never flow numbers or times, so the same behaviour keeps its
  identity across captures);
- recipients **added** and **removed**, by registrable domain, with their organisation;
- data elements **newly sent** or **no longer sent** to third parties, with the recipients;
- notes when the two sides were made differently (persona, first party, lists, declaration,
  edscan version), since a difference may come from that rather than from the app.

``looks_like_result(head)`` tells a result JSON from a capture by its first bytes, so the CLI
scans only what is a capture.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from edscan.detect import taxonomy
from edscan.errors import EdscanError
from edscan.models import Confidence, Severity
from edscan.recipients.domains import registrable_domain

SCHEMA = "edscan-diff/1"
RESULT_SCHEMA = "edscan-result/1"
# the top-level keys of edscan-result/1: a JSON object starting with one of them is a result
# (edscan writes keys sorted, so "capture" comes first); a HAR starts with "log"
RESULT_KEYS = frozenset(
    {
        "capture",
        "declared",
        "findings",
        "first_party",
        "lists",
        "observations",
        "persona_fields",
        "recipients",
        "schema",
        "score",
        "settings",
        "tool",
    }
)
_FIRST_KEY = re.compile(rb'\A\s*\{\s*"((?:[^"\\]|\\.)*)"\s*:')


def looks_like_result(head: bytes) -> bool:
    """Whether a file starting with ``head`` is an edscan result JSON (not a capture or HAR)."""
    text = head[3:] if head.startswith(b"\xef\xbb\xbf") else head
    m = _FIRST_KEY.match(text)
    return m is not None and m.group(1).decode("utf-8", "replace") in RESULT_KEYS


# --------------------------------------------------------------------------- one side


@dataclass(frozen=True, slots=True, kw_only=True)
class FindingRef:
    fingerprint: str
    rule: str
    title: str
    severity: Severity
    confidence: Confidence
    elements: tuple[str, ...]
    recipients: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "fingerprint": self.fingerprint,
            "rule": self.rule,
            "title": self.title,
            "severity": self.severity.value,
            "confidence": self.confidence.value,
            "elements": list(self.elements),
            "recipients": list(self.recipients),
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class RecipientRef:
    domain: str
    organization: str | None
    party: str  # "first" | "third"
    categories: tuple[str, ...]
    flows: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "domain": self.domain,
            "organization": self.organization,
            "party": self.party,
            "categories": list(self.categories),
            "flows": self.flows,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class ElementRef:
    """A data element sent to third parties, and which (registrable domains)."""

    element: str
    recipients: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"element": self.element, "recipients": list(self.recipients)}


@dataclass(frozen=True, slots=True, kw_only=True)
class Side:
    """One result, as much of it as a diff reads."""

    label: str  # the file as given
    capture_sha256: str
    tool_version: str
    grade: str | None
    score: int | None
    verdict: str | None
    findings: tuple[FindingRef, ...]
    recipients: tuple[RecipientRef, ...]
    third_party_elements: tuple[ElementRef, ...]
    persona_fields: tuple[str, ...] = ()
    first_party: tuple[str, ...] = ()
    lists: tuple[str, ...] = ()  # "name@version"
    declared: str | None = None  # sha256 of the declaration, when --declared was used

    def to_dict(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "capture_sha256": self.capture_sha256,
            "tool_version": self.tool_version,
            "grade": self.grade,
            "score": self.score,
            "verdict": self.verdict,
            "findings": len(self.findings),
            "declared": self.declared is not None,
        }


def side_from_document(doc: Any, label: str) -> Side:
    """A ``Side`` from an ``edscan-result/1`` document; EdscanError if it is not one."""
    if not isinstance(doc, dict):
        raise EdscanError(f"{label}: not an edscan result (a JSON object was expected)")
    schema = doc.get("schema")
    if schema != RESULT_SCHEMA:
        raise EdscanError(
            f"{label}: not an {RESULT_SCHEMA} result (schema {schema!r}); give a result.json "
            "written by `edscan scan -f json` or `edscan report --json`, or a capture"
        )
    try:
        return _side(doc, label)
    except (KeyError, TypeError, ValueError, AttributeError) as e:
        raise EdscanError(
            f"{label}: a malformed {RESULT_SCHEMA} result ({type(e).__name__}: {e}); "
            "write it again with `edscan scan -f json`"
        ) from None


def _side(doc: Mapping[str, Any], label: str) -> Side:
    recipients = tuple(
        RecipientRef(
            domain=str(r["domain"]),
            organization=r.get("organization"),
            party=str(r["party"]),
            categories=tuple(r.get("categories") or ()),
            flows=int(r.get("flows") or 0),
        )
        for r in doc["recipients"]
    )
    host_domain = {str(h): str(r["domain"]) for r in doc["recipients"] for h in r["hosts"]}
    third: dict[str, set[str]] = {}
    for o in doc["observations"]:
        if o["party"] != "third":
            continue
        host = str(o["host"])
        domain = host_domain.get(host) or registrable_domain(host) or host
        third.setdefault(str(o["element"]), set()).add(domain)
    findings = tuple(
        FindingRef(
            fingerprint=str(f["fingerprint"]),
            rule=str(f["rule"]),
            title=str(f["title"]),
            severity=Severity(f["severity"]),
            confidence=Confidence(f["confidence"]),
            elements=tuple(f.get("elements") or ()),
            recipients=tuple(f.get("recipients") or ()),
        )
        for f in doc["findings"]
    )
    score = doc.get("score")
    declared = doc.get("declared")
    return Side(
        label=label,
        capture_sha256=str(doc["capture"]["sha256"]),
        tool_version=str(doc["tool"]["version"]),
        grade=score["grade"] if score else None,
        score=int(score["value"]) if score else None,
        verdict=score["verdict"] if score else None,
        findings=findings,
        recipients=recipients,
        third_party_elements=tuple(
            ElementRef(element=e, recipients=tuple(sorted(third[e]))) for e in _element_order(third)
        ),
        persona_fields=tuple(sorted(doc.get("persona_fields") or ())),
        first_party=tuple(sorted(doc["first_party"]["domains"])),
        lists=tuple(sorted(f"{li['name']}@{li['version']}" for li in doc.get("lists") or ())),
        declared=str(declared.get("sha256", "")) if isinstance(declared, dict) else None,
    )


def _element_order(elements: Iterable[str]) -> list[str]:
    order = {e: i for i, e in enumerate(taxonomy.ELEMENTS)}
    return sorted(elements, key=lambda e: (order.get(e, len(order)), e))


# --------------------------------------------------------------------------- the diff


@dataclass(frozen=True, slots=True, kw_only=True)
class FindingChange:
    """A finding on both sides (``before`` is the old one, whose severity may differ)."""

    finding: FindingRef
    before: FindingRef

    @property
    def severity_changed(self) -> bool:
        return self.finding.severity is not self.before.severity

    def to_dict(self) -> dict[str, Any]:
        d = self.finding.to_dict()
        d["old_severity"] = self.before.severity.value
        d["old_confidence"] = self.before.confidence.value
        return d


@dataclass(frozen=True, slots=True, kw_only=True)
class Diff:
    old: Side
    new: Side
    new_findings: tuple[FindingRef, ...]
    resolved_findings: tuple[FindingRef, ...]
    unchanged_findings: tuple[FindingChange, ...]
    recipients_added: tuple[RecipientRef, ...]
    recipients_removed: tuple[RecipientRef, ...]
    elements_added: tuple[ElementRef, ...]  # newly sent to third parties (with the new recipients)
    elements_removed: tuple[ElementRef, ...]  # no longer sent (with the old recipients)
    notes: tuple[str, ...] = ()

    @property
    def score_change(self) -> int | None:
        if self.old.score is None or self.new.score is None:
            return None
        return self.new.score - self.old.score

    def new_at_or_above(self, threshold: Severity) -> tuple[FindingRef, ...]:
        return tuple(f for f in self.new_findings if f.severity >= threshold)

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA,
            "old": self.old.to_dict(),
            "new": self.new.to_dict(),
            "score_change": self.score_change,
            "findings": {
                "new": [f.to_dict() for f in self.new_findings],
                "resolved": [f.to_dict() for f in self.resolved_findings],
                "unchanged": [c.to_dict() for c in self.unchanged_findings],
            },
            "recipients": {
                "added": [r.to_dict() for r in self.recipients_added],
                "removed": [r.to_dict() for r in self.recipients_removed],
            },
            "third_party_elements": {
                "newly_sent": [e.to_dict() for e in self.elements_added],
                "no_longer_sent": [e.to_dict() for e in self.elements_removed],
            },
            "notes": list(self.notes),
        }


def diff(old: Side, new: Side) -> Diff:
    """What changed from ``old`` to ``new``."""
    old_f = {f.fingerprint: f for f in old.findings}
    new_f = {f.fingerprint: f for f in new.findings}
    old_r = {r.domain: r for r in old.recipients}
    new_r = {r.domain: r for r in new.recipients}
    old_e = {e.element: e for e in old.third_party_elements}
    new_e = {e.element: e for e in new.third_party_elements}
    return Diff(
        old=old,
        new=new,
        new_findings=_by_severity(f for fp, f in new_f.items() if fp not in old_f),
        resolved_findings=_by_severity(f for fp, f in old_f.items() if fp not in new_f),
        unchanged_findings=tuple(
            FindingChange(finding=f, before=old_f[f.fingerprint])
            for f in _by_severity(f for fp, f in new_f.items() if fp in old_f)
        ),
        recipients_added=tuple(new_r[d] for d in sorted(new_r.keys() - old_r.keys())),
        recipients_removed=tuple(old_r[d] for d in sorted(old_r.keys() - new_r.keys())),
        elements_added=tuple(new_e[e] for e in _element_order(new_e.keys() - old_e.keys())),
        elements_removed=tuple(old_e[e] for e in _element_order(old_e.keys() - new_e.keys())),
        notes=tuple(_notes(old, new)),
    )


def _by_severity(findings: Iterable[FindingRef]) -> tuple[FindingRef, ...]:
    return tuple(
        sorted(
            findings,
            key=lambda f: (
                -f.severity.rank,
                -f.confidence.rank,
                f.rule,
                f.recipients,
                f.fingerprint,
            ),
        )
    )


def _notes(old: Side, new: Side) -> list[str]:
    """How the two sides were made differently: a change may come from that, not the app."""
    notes = []
    if old.capture_sha256 == new.capture_sha256:
        notes.append(
            "Both results come from the same capture: any difference comes from how they were "
            "scanned, not from the app."
        )
    if old.persona_fields != new.persona_fields:
        notes.append(
            "The persona differs (its keys: "
            f"{', '.join(old.persona_fields) or 'none'} before, "
            f"{', '.join(new.persona_fields) or 'none'} after): findings that rest on persona "
            "values can appear or disappear for that reason alone."
        )
    if old.first_party != new.first_party:
        notes.append(
            f"The first party differs ({', '.join(old.first_party) or 'none'} before, "
            f"{', '.join(new.first_party) or 'none'} after); give both scans the same "
            "--first-party."
        )
    if (old.declared is None) != (new.declared is None):
        which = "new" if new.declared is not None else "old"
        notes.append(
            f"Only the {which} result was made with --declared: findings EDS022-EDS024 "
            "exist on that side only for that reason."
        )
    elif old.declared is not None and old.declared != new.declared:
        notes.append("The two results were made with different --declared files.")
    if old.lists != new.lists:
        notes.append(
            "Different tracker lists or list versions were used: attributions (and the "
            "findings that depend on them) may differ for that reason."
        )
    if old.tool_version != new.tool_version:
        notes.append(
            f"Different edscan versions ({old.tool_version} before, {new.tool_version} "
            "after): rules and detection may have changed."
        )
    return notes
