"""What the first-party decision rests on: the candidates, the evidence for each, how sure it is.

Kept apart from ``first_party`` (which decides) so that ``models.ScanResult`` can carry the record
without importing the deciding code. Serialised under ``first_party`` in the JSON result (the
``confidence``, ``method``, ``reason``, ``candidates`` and ``grouped`` fields, all additive).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from edscan.models import Confidence


@dataclass(frozen=True, slots=True, kw_only=True)
class Candidate:
    """A registrable domain that could be the app, with the evidence that points to it."""

    domain: str
    score: float
    evidence: tuple[str, ...]  # "2 page URLs", "13 Referer/Origin headers", "the first flow" ...
    excluded: str = ""  # why it can never be inferred as the app ("" when it can)

    def to_dict(self) -> dict[str, Any]:
        return {
            "domain": self.domain,
            "score": self.score,
            "evidence": list(self.evidence),
            "excluded": self.excluded,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class FirstPartyBasis:
    """How the first party was decided: ``given`` (--first-party), ``inferred`` or ``none``."""

    method: str
    confidence: Confidence | None  # None when no first party was decided
    reason: str
    chosen: str | None = None
    candidates: tuple[Candidate, ...] = ()
    split: bool = False  # a runner-up had comparable evidence
    grouped: tuple[tuple[str, str], ...] = ()  # (domain, why it is the app's too)

    def with_grouped(self, grouped: tuple[tuple[str, str], ...], reason: str) -> FirstPartyBasis:
        return replace(self, grouped=grouped, reason=reason)

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "confidence": self.confidence.value if self.confidence is not None else None,
            "reason": self.reason,
            "split": self.split,
            "candidates": [c.to_dict() for c in self.candidates],
            "grouped": [{"domain": d, "why": why} for d, why in self.grouped],
        }
