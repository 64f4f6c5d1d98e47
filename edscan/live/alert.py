"""One live alert: a student-data element seen leaving for a recipient, and how it is shown.

An alert is raised once per element and recipient (registrable domain) for a capture: the
first flow that sent it. Its console line reads::

    12:04:31 [quiz] student e-mail (sha256) → Meta Platforms, Inc. (facebook.com)
"""

from __future__ import annotations

import enum
import time
from dataclasses import dataclass

from edscan.models import Confidence, Observation


class AlertLevel(enum.Enum):
    """Which observations alert: ``all`` third-party ones, ``high`` confidence only, ``none``."""

    ALL = "all"
    HIGH = "high"
    NONE = "none"

    @classmethod
    def parse(cls, text: str) -> AlertLevel:
        try:
            return cls(text.strip().lower())
        except ValueError:
            raise ValueError(f"alerts must be one of all, high, none (not {text!r})") from None

    def admits(self, observation: Observation) -> bool:
        if self is AlertLevel.NONE:
            return False
        return self is AlertLevel.ALL or observation.confidence is Confidence.HIGH


# persona field names as a person would say them ("student.email" -> "student e-mail")
_WORDS = {"email": "e-mail", "dob": "date of birth", "ip": "IP address"}


def what_label(observation: Observation) -> str:
    """What was sent: the persona field when the persona explains it, else the element name."""
    if observation.persona_field:
        who, _, name = observation.persona_field.partition(".")
        words = _WORDS.get(name, name.replace("_", " "))
        return f"{who} {words}" if name else who
    from edscan.detect.taxonomy import ELEMENTS

    element = ELEMENTS.get(observation.element)
    return element.name if element is not None else observation.element


# the encodings worth naming: what changed the value, not the containers it travelled in
_CONTAINERS = frozenset({"json", "form", "ndjson", "lines", "multipart", "msgpack", "protobuf"})


def how_label(observation: Observation) -> str:
    """How the value was encoded on the wire ("sha256", "base64 of json"); "" when plain."""
    shown = [e for e in observation.encodings if e not in _CONTAINERS]
    return ", ".join(dict.fromkeys(shown))


@dataclass(frozen=True, slots=True, kw_only=True)
class Alert:
    """A new element × recipient pair, from the flow that first showed it."""

    time: float  # when the request was sent (the flow's request start), else when analysed
    phase: str | None
    flow: int  # the flow's index in the capture
    flow_id: str
    element: str
    what: str  # "student e-mail"
    how: str  # "sha256"; "" when sent as is
    confidence: Confidence
    host: str
    domain: str  # the recipient's registrable domain
    organization: str | None
    url: str
    queued: float  # monotonic time the record was queued (for the latency measurement)
    analysed: float  # monotonic time the alert was made

    @property
    def recipient(self) -> str:
        if self.organization:
            return f"{self.organization} ({self.domain})"
        return self.domain or self.host

    def short(self) -> str:
        """The finding without time and phase: what a mitmweb comment shows."""
        how = f" ({self.how})" if self.how else ""
        return f"{self.what}{how} → {self.recipient}"

    def line(self) -> str:
        clock = time.strftime("%H:%M:%S", time.localtime(self.time))
        return f"{clock} [{self.phase or '-'}] {self.short()}"
