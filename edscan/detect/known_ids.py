"""Identifiers recognised without a persona: what each field means at the common tracking endpoints.

The knowledge is data (``known_ids.json``, validated at load): per vendor, its domains and
endpoint paths, the fields whose meaning is documented there (``cid`` at Google Analytics' collect
is the browser's client id, ``user.buyeruid`` in an OpenRTB bid request the bidder's synced user
id, ``context.user.anonymous_id`` at TikTok's pixel the browser id ...) and the cookies that hold
its identifiers (``_ga``, ``_fbp``, ``IDE``, ``uuid2`` ...).

Besides identifiers and hashed contact data, the fields that say what the request is about
(the page viewed, the referrer, the event: ``aus.interaction``; the screen, the language, the
consent state: ``atm.other``) are known too: ``CONTEXT_ELEMENTS``, reported beside the other
detections of the same field, never instead of them.

``KnownIds.observe(flow, decoded)`` reports each such value as an observation whose ``detail``
names the field and says what it means (``cid: Google Analytics client id (browser)``). Confidence: **high** for a known field at the vendor's own endpoint,
and for a known cookie sent to the vendor's domains (known endpoint, known field); **medium** for
a vendor's distinctively named cookie (``_ga``, ``_fbp``, ``ajs_anonymous_id`` ...) sent anywhere
else. ``merge`` lets these replace the weaker key-name and pattern detections of the same field:
the endpoint's documentation says more than a key name. The values are never shown (renderers
redact every detected value, cookies always).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Protocol
from urllib.parse import urlsplit

from edscan.errors import EdscanError
from edscan.models import Confidence, Detector, Field, Flow, Observation
from edscan.resources import resource

KNOWN_IDS_FILE = "known_ids.json"
_INDEX = re.compile(r"\[\d+\]")
_AT_INDEX = re.compile(r"\[\d+\]$")  # the field is an array position, not a named key
# a bracketed key (``ud[em]``, ``cd[buttonText]``): PHP-style nesting, read as a dotted path
_BRACKET = re.compile(r"\[([^\]\d][^\]]*)\]")
# what a page, a screen or a consent flag is: context the endpoint documents, not an identifier;
# it is reported beside whatever else the value holds, never instead of it (a page URL can carry
# an e-mail address, and the pattern detector's word for that must stay)
CONTEXT_ELEMENTS = frozenset({"aus.interaction", "atm.other"})
# cookie names distinctive enough to mean the vendor's id wherever they are sent; shorter,
# generic names (``uuid``, ``UID``, ``audit``) count only at the vendor's own domains
_DISTINCTIVE = ("_", "ajs_", "AMCV_")
_EVENT_TOKEN = re.compile(r"^body:\$\.(?P<array>\w+)\[(?P<event>\d+)\]\[(?P<pos>\d+)\](\[\d+\])?$")
_EMPTY = frozenset({"", "null", "undefined", "none", "0", "-1", "false", "true"})


@dataclass(frozen=True, slots=True, kw_only=True)
class Meaning:
    vendor: str
    element: str
    meaning: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Events:
    """An upload that sends events as arrays ``[time, type, key, value, key, value ...]`` in its
    top-level array ``array`` (Microsoft Clarity's ``a``): what each key means, per event type.
    A value may itself be an array (Clarity's dimensions send ``[values]``)."""

    array: str
    types: Mapping[str, Mapping[str, Meaning]]  # event type -> key -> meaning

    def meaning(self, location: str, sent: Mapping[str, str]) -> Meaning | None:
        """What the field at ``location`` means, its event's type and key read from ``sent``
        (location -> value of the flow's other fields)."""
        m = _EVENT_TOKEN.match(location)
        if m is None or m["array"] != self.array:
            return None
        event, pos = m["event"], int(m["pos"])
        if pos < 3 or pos % 2 == 0:
            return None  # the time, the type, or a key: values sit at 3, 5, 7 ...
        head = f"body:$.{self.array}[{event}]"
        keys = self.types.get(sent.get(f"{head}[1]", ""))
        return keys.get(sent.get(f"{head}[{pos - 1}]", "")) if keys else None


@dataclass(frozen=True, slots=True, kw_only=True)
class Vendor:
    name: str
    domains: frozenset[str]
    paths: tuple[re.Pattern[str], ...]
    fields: Mapping[str, Meaning]  # lower-cased dotted path (``e[5]``: one position) -> meaning
    cookies: Mapping[str, Meaning]  # exact cookie name -> meaning
    cookie_prefixes: tuple[tuple[str, Meaning], ...]
    events: Events | None = None

    def endpoint(self, path: str) -> bool:
        return not self.paths or any(p.search(path) for p in self.paths)


class DecodedLike(Protocol):
    @property
    def fields(self) -> Sequence[Field]: ...


def field_path(location: str, *, indexed: bool = False) -> str:
    """``body:$.batch[0].userId`` → ``batch.userid``; ``query:cid`` → ``cid``; ``query:ud[em]``
    → ``ud.em``; the innermost layer of a nested location
    (``body:$.data>$[0].properties.distinct_id``). ``indexed`` keeps the array indexes
    (``body:$.e[5]`` → ``e[5]``)."""
    inner = location.rsplit(">", 1)[-1]
    if ":" in inner and not inner.startswith("$"):
        inner = inner.split(":", 1)[1]
    inner = _BRACKET.sub(r".\1", inner if indexed else _INDEX.sub("", inner))
    if inner.startswith("$"):
        inner = inner[1:].lstrip(".")
    return inner.lower()


def parse_known_ids(text: str, source: str, elements: Iterable[str]) -> tuple[Vendor, ...]:
    """The vendors of a known-ids file; a malformed file raises EdscanError naming the problem."""
    known = frozenset(elements)
    try:
        doc = json.loads(text)
        rows = doc["vendors"]
        out = []
        for row in rows:
            name = str(row["name"])
            fields = {k.lower(): _meaning(name, v, known) for k, v in row["fields"].items()}
            exact: dict[str, Meaning] = {}
            prefixes: list[tuple[str, Meaning]] = []
            for k, v in row["cookies"].items():
                m = _meaning(name, v, known)
                if k.endswith("*"):
                    prefixes.append((k[:-1], m))
                else:
                    exact[k] = m
            out.append(
                Vendor(
                    name=name,
                    domains=frozenset(str(d).lower() for d in row["domains"]),
                    paths=tuple(re.compile(p) for p in row["paths"]),
                    fields=fields,
                    cookies=exact,
                    cookie_prefixes=tuple(prefixes),
                    events=_events(name, row["events"], known) if "events" in row else None,
                )
            )
    except (KeyError, TypeError, ValueError, AttributeError, re.error) as e:
        raise EdscanError(f"{source}: malformed known-identifier data ({e!r})") from e
    return tuple(out)


def _events(vendor: str, row: Any, known: frozenset[str]) -> Events:
    types = {
        str(t): {str(k): _meaning(vendor, v, known) for k, v in keys.items()}
        for t, keys in row["types"].items()
    }
    return Events(array=str(row["array"]), types=types)


def _meaning(vendor: str, value: Any, known: frozenset[str]) -> Meaning:
    element, meaning = value
    if element not in known:
        raise ValueError(f"{vendor}: unknown element {element!r}")
    return Meaning(vendor=vendor, element=str(element), meaning=str(meaning))


class KnownIds:
    """The endpoint knowledge, indexed by registrable domain and by cookie name."""

    def __init__(self, vendors: Sequence[Vendor]) -> None:
        self.vendors = tuple(vendors)
        self._by_domain: dict[str, list[Vendor]] = {}
        for v in self.vendors:
            for d in v.domains:
                self._by_domain.setdefault(d, []).append(v)
        self._cookies: dict[str, list[tuple[Vendor, Meaning]]] = {}
        self._prefixes: list[tuple[str, Vendor, Meaning]] = []
        for v in self.vendors:
            for name, m in v.cookies.items():
                self._cookies.setdefault(name, []).append((v, m))
            self._prefixes.extend((p, v, m) for p, m in v.cookie_prefixes)

    def observe(self, flow: Flow, decoded: DecodedLike) -> list[Observation]:
        parts = urlsplit(flow.url)
        host = (parts.hostname or "").lower()
        if not host:
            return []
        # the vendor's domains by host suffix (detection comes before the PSL-aware recipients
        # stage; the table lists registrable domains, so a suffix match is the same test)
        vendors = self._vendors_of(host)
        at = [v for v in vendors if v.endpoint(parts.path or "/")]
        mine = frozenset(v.name for v in vendors)
        # event uploads name a value by its neighbours (the event's type and key)
        sent = {f.location: f.value for f in decoded.fields} if any(v.events for v in at) else {}
        out = []
        for f in decoded.fields:
            # the hot loop: the location decides first (most fields are neither a cookie nor
            # at a known endpoint), the value is looked at only for a hit
            loc = f.location
            if loc.startswith("cookie:"):
                hit = self._cookie(loc[7:], mine)
            elif at and loc.startswith(("query:", "body:", "fragment:")):
                hit = next(((m, True) for v in at if (m := _field(v, loc, sent)) is not None), None)
            else:
                continue
            if hit is None:
                continue
            meaning, own = hit
            value = f.value.strip()
            if value.startswith(("{{", "${", "%")) or (
                # a consent flag or a screen size of 0 is still what the field says; an id is not
                value.lower() in _EMPTY and (not value or meaning.element not in CONTEXT_ELEMENTS)
            ):
                continue  # empty, or a template placeholder the SDK fills in server-side
            out.append(
                Observation(
                    flow=flow.index,
                    host=host,
                    element=meaning.element,
                    detector=Detector.PATTERN,
                    confidence=Confidence.HIGH if own else Confidence.MEDIUM,
                    location=loc,
                    encodings=f.encodings,
                    value=f.value,
                    # the field as sent, then what it means there: "cid: Google Analytics
                    # client id (browser)", "dl: page viewed (URL, Meta Pixel)"
                    detail=f"{_field_name(loc)}: {_said(meaning)}",
                )
            )
        return out

    def _vendors_of(self, host: str) -> list[Vendor]:
        out: list[Vendor] = []
        i = -1
        while True:
            out.extend(self._by_domain.get(host[i + 1 :], ()))
            i = host.find(".", i + 1)
            if i == -1:
                return out

    def _cookie(self, name: str, mine: frozenset[str]) -> tuple[Meaning, bool] | None:
        found = list(self._cookies.get(name, ()))
        found += [(v, m) for p, v, m in self._prefixes if name.startswith(p)]
        if not found:
            return None
        for v, m in found:
            if v.name in mine:
                return m, True
        if name.startswith(_DISTINCTIVE):
            return found[0][1], False
        return None


def _field(vendor: Vendor, location: str, sent: Mapping[str, str]) -> Meaning | None:
    """What a field at the vendor's own endpoint means: by its path, one array position
    (``e[5]``) before the whole array (``e``), then as a value in an event upload."""
    path = field_path(location, indexed=True)
    m = vendor.fields.get(path)
    if m is None and "[" in path:  # without indexes it may differ: the whole array's meaning
        m = vendor.fields.get(field_path(location))
    if m is None and vendor.events is not None:
        m = vendor.events.meaning(location, sent)
    return m


def meaning_of(obs: Observation) -> str | None:
    """What the endpoint's documentation says the observed field is ("Google Analytics client
    id (browser)"), when the observation came from this knowledge; else None."""
    if obs.detector is not Detector.PATTERN:
        return None
    prefix = f"{_field_name(obs.location)}: "
    return obs.detail[len(prefix) :] if obs.detail.startswith(prefix) else None


def _said(m: Meaning) -> str:
    """The meaning, naming its vendor once (the report reads it as "… (Vendor)")."""
    return m.meaning if m.meaning.endswith(")") else f"{m.meaning} ({m.vendor})"


def _field_name(location: str) -> str:
    """The field's own name as sent: ``query:cid`` → ``cid``, ``cookie:_ga`` → ``cookie _ga``,
    ``body:$.context.page.url`` → ``context.page.url``, ``query:ud[em]`` → ``ud[em]``; an array
    position keeps its indexes (``body:$.e[5]`` → ``e[5]``)."""
    inner = location.rsplit(">", 1)[-1]
    if inner.startswith("cookie:"):
        return "cookie " + inner[7:]
    if ":" in inner and not inner.startswith("$"):
        inner = inner.split(":", 1)[1]
    if not _AT_INDEX.search(inner):
        inner = _INDEX.sub("", inner)
    return inner.removeprefix("$").lstrip(".") or location


def merge(found: list[Observation], known: list[Observation]) -> list[Observation]:
    """``found`` with the ``known`` observations replacing its non-persona detections of the
    same fields (the endpoint's documentation says more than a key name or a shape); a field a
    persona value explains keeps the persona's observation only.

    Context (``CONTEXT_ELEMENTS``: the page viewed, the screen, the language, the consent
    state) replaces nothing but a weaker detection of the same element in the same field, and
    stands beside a persona value: the page URL is still the page viewed when it also carries
    the student's name."""
    if not known:
        return found
    context = [o for o in known if o.element in CONTEXT_ELEMENTS]
    known = [o for o in known if o.element not in CONTEXT_ELEMENTS]
    # where the seeded persona explains a field, it names the element: the endpoint's words yield
    persona = {(o.flow, o.location) for o in found if o.detector is Detector.PERSONA}
    known = [o for o in known if (o.flow, o.location) not in persona]
    places = {(o.flow, o.location) for o in known}
    said = {(o.flow, o.location, o.element) for o in context}
    kept = [
        o
        for o in found
        if o.detector is Detector.PERSONA
        or ((o.flow, o.location) not in places and (o.flow, o.location, o.element) not in said)
    ]
    return kept + known + context


@lru_cache(maxsize=1)
def known_ids() -> KnownIds:
    """The shipped endpoint knowledge (a broken file is a bug in edscan's data)."""
    from edscan.detect.taxonomy import ELEMENTS

    path = resource("taxonomy", KNOWN_IDS_FILE)
    return KnownIds(parse_known_ids(path.read_text(encoding="utf-8"), str(path), ELEMENTS))
