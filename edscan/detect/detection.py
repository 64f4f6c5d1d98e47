"""What the persona-less detectors report: one ``Detection`` per element found in a field, and
the confidence and detector words they use."""

from __future__ import annotations

from dataclasses import dataclass

from edscan.models import Confidence, Detector

MEDIUM, LOW = Confidence.MEDIUM, Confidence.LOW
PATTERN, KEYNAME = Detector.PATTERN, Detector.KEYNAME


@dataclass(frozen=True, slots=True)
class Detection:
    """One element found in field ``field`` (an index into the flow's outbound fields)."""

    field: int
    element: str
    detector: Detector
    confidence: Confidence
    detail: str
    value: str


def parent_location(location: str) -> str:
    """``body:$.user.email`` -> ``body:$.user``; ``query:lat`` -> ``query``."""
    if location.endswith("]"):
        i = location.rfind("[")
        if i > 0:
            return location[:i]
    j = max(location.rfind("."), location.rfind(":"))
    return location[:j] if j > 0 else ""
