"""What the vendor declared against what the capture shows: the records the declared stage makes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from edscan.models import Confidence


@dataclass(frozen=True, slots=True, kw_only=True)
class DeclaredParty:
    """A third party (subprocessor) the vendor's agreement lists, as the reviewer wrote it."""

    name: str = ""  # organisation name; "" when only domains were given
    domains: tuple[str, ...] = ()  # normalised: lower case, no scheme, path or leading "*."
    purpose: str = ""

    @property
    def label(self) -> str:
        return self.name or ", ".join(self.domains)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "domains": list(self.domains), "purpose": self.purpose}


@dataclass(frozen=True, slots=True, kw_only=True)
class UndeclaredElement:
    """A data element observed in the traffic that the declared Exhibit B does not cover."""

    element: str  # taxonomy element id
    exhibit_b: str  # the Exhibit B element it falls under (itself for Exhibit B rows)
    recipients: tuple[str, ...]  # registrable domains it was sent to, first party included
    third_party: bool  # whether it reached a third party
    confidence: Confidence  # the best detection confidence behind it
    flows: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "element": self.element,
            "exhibit_b": self.exhibit_b,
            "recipients": list(self.recipients),
            "third_party": self.third_party,
            "confidence": self.confidence.value,
            "flows": self.flows,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class RecipientCheck:
    """One third-party recipient of the capture, and whether the agreement lists it."""

    domain: str
    organization: str | None
    parent: str | None
    categories: tuple[str, ...]
    declared_as: str | None  # the label of the declared party it matched; None: not declared
    matched_by: str | None  # "domain" | "organization" | "parent"; None when not declared
    purpose: str  # the declared purpose ("" when none was written or not declared)
    received_data: bool  # student data (tier 1 or above) observed going to it
    elements: tuple[str, ...]  # the student data elements it received
    flows: int
    note: str = ""  # e.g. the agreement lists other domains for the matched organisation

    @property
    def declared(self) -> bool:
        return self.declared_as is not None

    def to_dict(self) -> dict[str, Any]:
        return {
            "domain": self.domain,
            "organization": self.organization,
            "parent": self.parent,
            "categories": list(self.categories),
            "declared": self.declared,
            "declared_as": self.declared_as,
            "matched_by": self.matched_by,
            "purpose": self.purpose,
            "received_data": self.received_data,
            "elements": list(self.elements),
            "flows": self.flows,
            "note": self.note,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class DeclaredComparison:
    """What the vendor's agreement declares (``--declared``) against what the capture shows.

    ``elements`` / ``parties`` are None when the declaration file left that part out (then it
    is not compared). Absence is never proven by traffic: ``not_observed`` and
    ``parties_not_seen`` are information, not findings.
    """

    source: str  # the declaration file as given
    sha256: str
    vendor: str = ""
    agreement: str = ""
    elements: tuple[str, ...] | None = None  # declared element ids, categories expanded
    parties: tuple[DeclaredParty, ...] | None = None
    undeclared_elements: tuple[UndeclaredElement, ...] = ()
    recipients: tuple[RecipientCheck, ...] = ()  # every third-party recipient, declared or not
    not_observed: tuple[str, ...] = ()  # declared element ids nothing observed falls under
    parties_not_seen: tuple[str, ...] = ()  # labels of declared parties never contacted

    @property
    def undeclared_recipients(self) -> tuple[RecipientCheck, ...]:
        return tuple(r for r in self.recipients if not r.declared)

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "sha256": self.sha256,
            "vendor": self.vendor,
            "agreement": self.agreement,
            "elements": list(self.elements) if self.elements is not None else None,
            "parties": [p.to_dict() for p in self.parties] if self.parties is not None else None,
            "undeclared_elements": [u.to_dict() for u in self.undeclared_elements],
            "recipients": [r.to_dict() for r in self.recipients],
            "not_observed": list(self.not_observed),
            "parties_not_seen": list(self.parties_not_seen),
        }
