"""The records every stage passes on: flows, fields, observations, recipients, findings.

All are frozen, slotted, keyword-only dataclasses; ``to_dict()`` is the one serialisation path.
"""

from __future__ import annotations

import enum
import functools
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

if TYPE_CHECKING:  # later stages' records that ScanResult carries (no runtime import)
    from edscan.capture.coverage import Coverage
    from edscan.declared.records import DeclaredComparison
    from edscan.recipients.basis import FirstPartyBasis
    from edscan.recipients.id_sync import IdLink

Headers = tuple[tuple[str, str], ...]
Address = tuple[str, int]

# Where a flow was when the capture stopped (a flow's ``cut_off``; format 1.2): the request was
# still arriving from the client, it was waiting for the response, or the response was still
# arriving. Such a flow keeps what had arrived; the request is evidence either way.
CUT_OFF_STAGES = ("request_incomplete", "no_response", "response_incomplete")


@functools.total_ordering
class _Ordered(enum.Enum):
    """An enum whose members compare by their declared order."""

    @property
    def rank(self) -> int:
        return list(type(self)).index(self)

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, type(self)):
            return NotImplemented
        return self.rank < other.rank


class Severity(_Ordered):
    """Finding severity, lowest first."""

    INFO = "info"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


class Confidence(_Ordered):
    """How sure a detection or finding is, lowest first."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


class Detector(enum.Enum):
    PERSONA = "persona"  # a seeded test-student value
    PATTERN = "pattern"  # a value shape with an agreeing key
    KEYNAME = "keyname"  # a key name alone


class Party(enum.Enum):
    FIRST = "first"
    THIRD = "third"


# --------------------------------------------------------------------------- flows


@dataclass(frozen=True, slots=True, kw_only=True)
class Body:
    """A message body exactly as sent (still compressed if it was), possibly cut at a cap."""

    content: bytes
    size: int  # the original size in bytes, before any cap
    truncated: bool = False
    # True when the Content-Encoding (gzip, br, ...) was already removed, as HAR files store
    # response bodies; the headers still say what was sent, so decoders must not decode again
    decoded: bool = False

    def to_dict(self) -> dict[str, Any]:
        try:
            data = self.content.decode("utf-8")
            encoding = "utf-8"
        except UnicodeDecodeError:
            import base64

            data = base64.b64encode(self.content).decode("ascii")
            encoding = "base64"
        d: dict[str, Any] = {
            "encoding": encoding,
            "data": data,
            "size": self.size,
            "truncated": self.truncated,
        }
        if self.decoded:  # written only when set: lines of format 1.0 stay as they were
            d["decoded"] = True
        return d


@dataclass(frozen=True, slots=True, kw_only=True)
class WebSocketMessage:
    from_client: bool
    timestamp: float | None
    is_text: bool
    content: bytes

    def to_dict(self) -> dict[str, Any]:
        body = Body(content=self.content, size=len(self.content)).to_dict()
        return {
            "from_client": self.from_client,
            "time": self.timestamp,
            "type": "text" if self.is_text else "binary",
            "encoding": body["encoding"],
            "data": body["data"],
        }


def _first_header(headers: Headers, name: str) -> str | None:
    lname = name.lower()
    for key, value in headers:
        if key.lower() == lname:
            return value
    return None


@dataclass(frozen=True, slots=True, kw_only=True)
class Flow:
    """One HTTP exchange (or WebSocket connection), from any source, in one shape."""

    index: int
    id: str
    method: str
    url: str
    scheme: str = ""
    http_version: str = ""
    request_start: float | None = None
    response_end: float | None = None
    client_address: Address | None = None
    server_address: Address | None = None
    sni: str | None = None
    tls_version: str | None = None
    tls_intercepted: bool | None = None  # None where the source cannot say (HAR)
    request_headers: Headers = ()
    request_body: Body | None = None
    status: int | None = None
    reason: str | None = None
    response_headers: Headers = ()
    response_body: Body | None = None
    error: str | None = None
    websocket: tuple[WebSocketMessage, ...] = ()
    phase: str | None = None
    # set when the capture stopped before the flow completed (CUT_OFF_STAGES): the request is
    # kept as evidence, the response is missing or partial
    cut_off: str | None = None

    @property
    def host(self) -> str:
        """The host the request was addressed to, lower-cased, without port or brackets."""
        return (urlsplit(self.url).hostname or "").lower()

    def request_header(self, name: str) -> str | None:
        """The first request header called ``name`` (case-insensitive)."""
        return _first_header(self.request_headers, name)

    def response_header(self, name: str) -> str | None:
        """The first response header called ``name`` (case-insensitive)."""
        return _first_header(self.response_headers, name)

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "id": self.id,
            "request_start": self.request_start,
            "response_end": self.response_end,
            "client_address": list(self.client_address) if self.client_address else None,
            "server_address": list(self.server_address) if self.server_address else None,
            "sni": self.sni,
            "tls": {"version": self.tls_version, "intercepted": self.tls_intercepted},
            "scheme": self.scheme,
            "method": self.method,
            "url": self.url,
            "http_version": self.http_version,
            "request_headers": [list(h) for h in self.request_headers],
            "request_body": self.request_body.to_dict() if self.request_body else None,
            "status": self.status,
            "reason": self.reason,
            "response_headers": [list(h) for h in self.response_headers],
            "response_body": self.response_body.to_dict() if self.response_body else None,
            "error": self.error,
            "websocket": [m.to_dict() for m in self.websocket],
            "phase": self.phase,
        } | ({"cut_off": self.cut_off} if self.cut_off else {})  # only when set (format 1.2)


# --------------------------------------------------------------------------- detection


@dataclass(frozen=True, slots=True, kw_only=True)
class Field:
    """One value found in a flow's outbound data.

    ``location`` says where (``query:uid``, ``header:x-user``, ``cookie:_ga``,
    ``body:$.events[0].user.email``, ``path:/students/{}``); ``key`` is the innermost key name
    (``email``) or "" when there is none; ``encodings`` is the decoding chain that exposed it
    (``["gzip", "json", "base64", "json"]``).
    """

    location: str
    key: str
    value: str
    encodings: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Observation:
    """Flow ``flow`` sent data element ``element`` to ``host``."""

    flow: int
    host: str
    element: str  # a taxonomy element id
    detector: Detector
    confidence: Confidence
    location: str
    encodings: tuple[str, ...] = ()
    persona_field: str | None = None  # "student.email", "custom.essay", ...
    party: Party = Party.THIRD
    value: str = ""  # the matched value as sent; redacted by renderers unless asked to reveal
    detail: str = ""  # e.g. "sha256 of normalised value", "lat/lon at 4 decimals"

    def to_dict(self) -> dict[str, Any]:
        return {
            "flow": self.flow,
            "host": self.host,
            "element": self.element,
            "detector": self.detector.value,
            "confidence": self.confidence.value,
            "location": self.location,
            "encodings": list(self.encodings),
            "persona_field": self.persona_field,
            "party": self.party.value,
            "detail": self.detail,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class FlowSummary:
    """What later stages keep of a flow once its bodies are gone (memory stays flat)."""

    index: int
    host: str
    method: str
    url: str
    scheme: str
    status: int | None
    phase: str | None
    time: float | None
    request_bytes: int
    response_bytes: int
    tls_intercepted: bool | None
    error: str | None
    # fields the rules read beyond student data: child-directed and consent flags,
    # Set-Cookie lifetimes, Referer; chosen by edscan.rules.signals
    signals: tuple[Field, ...] = ()


# --------------------------------------------------------------------------- recipients


@dataclass(frozen=True, slots=True, kw_only=True)
class Attribution:
    """Who a host belongs to, and which list said so."""

    domain: str  # the registrable domain
    organization: str | None = None
    parent: str | None = None
    categories: tuple[str, ...] = ()
    sdk: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()  # e.g. "bundled:edscan-trackers@2026.11", "user-overrides"

    def to_dict(self) -> dict[str, Any]:
        return {
            "domain": self.domain,
            "organization": self.organization,
            "parent": self.parent,
            "categories": list(self.categories),
            "sdk": list(self.sdk),
            "sources": list(self.sources),
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class Recipient:
    """A registrable domain that received traffic in the capture."""

    domain: str
    hosts: tuple[str, ...]
    organization: str | None
    parent: str | None
    categories: tuple[str, ...]
    party: Party
    sdk: tuple[str, ...]
    sources: tuple[str, ...]
    flows: int
    first_seen: float | None = None
    last_seen: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "domain": self.domain,
            "hosts": list(self.hosts),
            "organization": self.organization,
            "parent": self.parent,
            "categories": list(self.categories),
            "party": self.party.value,
            "sdk": list(self.sdk),
            "sources": list(self.sources),
            "flows": self.flows,
            "first_seen": self.first_seen,
            "last_seen": self.last_seen,
        }


# --------------------------------------------------------------------------- findings


@dataclass(frozen=True, slots=True, kw_only=True)
class Evidence:
    flow: int
    method: str
    url: str  # redacted by renderers unless asked to reveal
    location: str = ""
    encodings: tuple[str, ...] = ()
    phase: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "flow": self.flow,
            "method": self.method,
            "url": self.url,
            "location": self.location,
            "encodings": list(self.encodings),
            "phase": self.phase,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class Citation:
    """One provision a finding cites, as read on the capture's date.

    ``date`` is the date of the text cited (enacted, published or issued); ``in_force`` the day
    it took effect; ``status`` how far edscan checked it (see ``edscan.rules.law``); ``reading``
    says whether it was in force on ``on`` (the capture's date), and which text was read instead
    when it was not.
    """

    key: str
    law: str
    cite: str
    text: str
    date: str  # ISO date of the text cited
    in_force: str  # ISO date it took effect ("" when not known)
    source: str
    status: str
    on: str  # the date the provision was read on (the capture's date, or the law date)
    reading: str  # "in force" | "in effect; compliance required from …" | "not in force …"

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "law": self.law,
            "cite": self.cite,
            "text": self.text,
            "date": self.date,
            "in_force": self.in_force,
            "source": self.source,
            "status": self.status,
            "on": self.on,
            "reading": self.reading,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class Finding:
    rule: str  # EDSnnn
    title: str
    severity: Severity
    confidence: Confidence
    summary: str  # "observed X; this may be inconsistent with Y"
    elements: tuple[str, ...] = ()
    recipients: tuple[str, ...] = ()  # registrable domains
    evidence: tuple[Evidence, ...] = ()
    concerns: tuple[str, ...] = ()
    provisions: tuple[str, ...] = ()
    questions: tuple[str, ...] = ()
    fingerprint: str = ""
    # how many flows support the finding; ``evidence`` is capped, this count is not
    occurrences: int = 0
    # the provisions with their dates, sources and status on the capture's date (additive)
    citations: tuple[Citation, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "title": self.title,
            "severity": self.severity.value,
            "confidence": self.confidence.value,
            "summary": self.summary,
            "elements": list(self.elements),
            "recipients": list(self.recipients),
            "evidence": [e.to_dict() for e in self.evidence],
            "concerns": list(self.concerns),
            "provisions": list(self.provisions),
            "questions": list(self.questions),
            "fingerprint": self.fingerprint,
            "occurrences": self.occurrences,
            "citations": [c.to_dict() for c in self.citations],
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class CaptureInfo:
    """What a renderer needs to say about the capture itself."""

    path: str
    sha256: str
    format: str
    flows: int
    start: float | None = None
    end: float | None = None
    phases: tuple[str, ...] = ()
    warnings: tuple[str, ...] = field(default=())
    cut_off: int = 0  # flows the capture's stop cut off before they completed
    tls_check: bool = False  # recorded with edscan capture --tls-check (the CA not trusted)

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "sha256": self.sha256,
            "format": self.format,
            "flows": self.flows,
            "start": self.start,
            "end": self.end,
            "phases": list(self.phases),
            "warnings": list(self.warnings),
            "cut_off": self.cut_off,
            "tls_check": self.tls_check,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class Score:
    """The risk score (0 = nothing risky seen, 100 = worst) and what it came from."""

    value: int
    grade: str  # A..F
    verdict: (
        str  # "approve" | "approve with conditions" | "do not approve until fixed" | INCONCLUSIVE
    )
    formula: str  # printed in the report
    contributions: tuple[tuple[str, float], ...] = ()  # (finding fingerprint, points)
    not_verifiable: tuple[str, ...] = ()  # obligations traffic cannot show; never scored

    def to_dict(self) -> dict[str, Any]:
        return {
            "value": self.value,
            "grade": self.grade,
            "verdict": self.verdict,
            "formula": self.formula,
            "contributions": [{"finding": k, "points": v} for k, v in self.contributions],
            "not_verifiable": list(self.not_verifiable),
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class ListInfo:
    """One tracker list that took part in attribution, with its provenance."""

    name: str
    version: str  # a date or release
    sha256: str
    licence: str
    source: str  # URL or "bundled"
    records: int = 0
    noncommercial: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "sha256": self.sha256,
            "licence": self.licence,
            "source": self.source,
            "records": self.records,
            "noncommercial": self.noncommercial,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredItem:
    """A cookie or local-storage item a ``--browser`` profile held at the end (never its value)."""

    kind: str  # "cookie" | "local_storage"
    name: str
    domain: str  # the cookie's domain, or the local-storage origin's host
    organization: str | None
    party: Party
    lifetime_days: float | None = None  # cookies: None for a session cookie
    http_only: bool = False
    secure: bool = False
    size: int = 0  # characters of the value

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "name": self.name,
            "domain": self.domain,
            "organization": self.organization,
            "party": self.party.value,
            "lifetime_days": self.lifetime_days,
            "http_only": self.http_only,
            "secure": self.secure,
            "size": self.size,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class ScanResult:
    """Everything a renderer needs; renderers compute nothing of their own."""

    tool_version: str
    capture: CaptureInfo
    first_party: tuple[str, ...]
    first_party_inferred: bool
    flows: tuple[FlowSummary, ...]
    observations: tuple[Observation, ...]
    recipients: tuple[Recipient, ...]
    findings: tuple[Finding, ...] = ()
    score: Score | None = None
    lists: tuple[ListInfo, ...] = ()
    persona_fields: tuple[str, ...] = ()  # keys only ("student.email"); never the values
    settings: dict[str, Any] = field(default_factory=dict)
    first_party_reason: str = ""  # one sentence: what the first-party decision was based on
    # the vendor's declared data elements and third parties against the capture (--declared)
    declared: DeclaredComparison | None = None
    # what the capture could and could not see (hosts inspected, connections not inspected)
    coverage: Coverage | None = None
    first_party_basis: FirstPartyBasis | None = None  # candidates, evidence, confidence
    id_links: tuple[IdLink, ...] = ()  # identifiers seen at several organisations (ID sync)
    # what a --browser capture's profile stored (cookies, local storage); () for other captures
    browser_storage: tuple[StoredItem, ...] = ()
