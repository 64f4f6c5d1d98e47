"""Opaque identifier values and where each was seen, across flows: the raw material of ID sync.

Cookie matching and ID sync pass a browser's or device's id from one ad company to the next: the
first company hands it out (in a redirect's ``Location`` or a ``Set-Cookie``), the next receives
it in a URL, a cookie or a body. No single request shows that; the same opaque value seen at two
organisations in one capture does. ``IdValues.add(flow, decoded)`` runs once per flow and keeps,
for every value shaped like an identifier, where it was sent or handed out; the recipients stage
(``edscan.recipients.id_sync``) then groups the sightings by organisation.

An identifier value here is opaque: 12 to 128 characters of letters, digits and ``-_.:|=``, with
digits and at least 8 distinct characters, and not a URL, a date, a version or a time stamp. Keys
that carry consent strings, page URLs, cache busters or event names are skipped: a TCF consent
string reaches every ad company by design, and is not an id. UUIDs and hex ids are compared
without case or hyphens (``AE5E7AC5-C86A-...`` and ``ae5e7ac5c86a...`` are one id).

Memory: only identifier-shaped values are kept, each at most ``MAX_SIGHTINGS`` times, and at most
``MAX_VALUES`` distinct values per capture (the rest are counted in ``dropped``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Protocol
from urllib.parse import urlsplit

from edscan.decode.flow import inbound_rows_of, rows_of
from edscan.models import Field, Flow

MAX_VALUES = 200_000
MAX_SIGHTINGS = 24
MIN_LENGTH = 12
MAX_LENGTH = 128

_OPAQUE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_\-.:|=]{11,127}$")
_HEXISH = re.compile(r"^[0-9a-fA-F-]{16,}$")
_VERSION = re.compile(r"^\d+(\.\d+)+$")
_DATEISH = re.compile(r"^\d{4}-\d{2}-\d{2}")
_DIGITS = re.compile(r"^\d+$")
# keys whose values are the same for every company by design, or never an id
_NOT_ID_KEYS = frozenset(
    {
        "gdpr_consent",
        "gdpr",
        "consent",
        "consentstring",
        "consent_string",
        "us_privacy",
        "usprivacy",
        "gpp",
        "gpp_sid",
        "addtl_consent",
        "tcstring",
        "euconsent-v2",
        "url",
        "u",
        "dl",
        "dr",
        "ref",
        "referer",
        "referrer",
        "page",
        "loc",
        "location",
        "href",
        "redir",
        "redirect",
        "rurl",
        "return",
        "callback",
        "cb",
        "jsonp",
        "rnd",
        "rand",
        "random",
        "ord",
        "cachebuster",
        "cache_buster",
        "_",
        "t",
        "ts",
        "timestamp",
        "time",
        "v",
        "ver",
        "version",
        "event",
        "ev",
        "en",
        "pagename",
        "title",
        "dt",
        "ua",
        "user-agent",
        "user_agent",
        "content-type",
        "accept-language",
        "if-none-match",
        "etag",
        "sec-ch-ua",
    }
)
_OUTBOUND = ("query:", "cookie:", "body:", "fragment:", "header:")
_INBOUND = ("set-cookie:", "response-header:location")


@dataclass(frozen=True, slots=True, kw_only=True)
class Sighting:
    """One place an identifier value was seen: sent to ``host``, or handed out by it."""

    flow: int
    host: str
    location: str  # "query:partner_uid", "set-cookie:TDID", "response-header:location>query:uid"
    key: str
    sent: bool  # True: the browser sent it to host; False: host handed it out (cookie, redirect)
    time: float | None = None


class DecodedLike(Protocol):
    @property
    def fields(self) -> Sequence[Field]: ...

    @property
    def inbound(self) -> Sequence[Field]: ...


def canonical(value: str) -> str | None:
    """The comparable form of ``value`` when it is shaped like an opaque id, else None."""
    v = value.strip().strip('"')
    if not MIN_LENGTH <= len(v) <= MAX_LENGTH or not _OPAQUE.match(v):
        return None
    if _VERSION.match(v) or _DATEISH.match(v):
        return None
    if _DIGITS.match(v) and len(v) in (10, 13):
        return None  # a Unix time stamp in seconds or milliseconds
    if not any(c.isdigit() for c in v) or len(set(v.lower())) < 8:
        return None
    # something random in it: five digits, or mixed case at some length; an ad slot's name
    # (``ad_rect_btf_02``) or a campaign label is shared by design and identifies no one
    digits = sum(c.isdigit() for c in v)
    if digits < 5 and not (len(v) >= 16 and v.lower() != v and v.upper() != v):
        return None
    if _HEXISH.match(v):
        return v.replace("-", "").lower()
    return v


_PAGE_KEYS = frozenset({"url", "u", "dl", "dr", "ref", "referer", "referrer", "page", "href"})


def _key_ok(key: str) -> bool:
    return key.lower() not in _NOT_ID_KEYS


def _location_ok(location: str) -> bool:
    """Not inside a page URL: an id in the page's own URL reaches every tracker via the page,
    which is a leak of its own (the Referer rules) but not one company passing it to another."""
    if location.startswith(("header:referer", "header:origin")):
        return False
    if ">" not in location:
        return True
    outer = location.split(">", 1)[0].rsplit(":", 1)[-1].rsplit(".", 1)[-1].lower()
    return outer not in _PAGE_KEYS


@dataclass(slots=True)
class IdValues:
    """Every identifier-shaped value of a capture, with its sightings (see the module docs)."""

    seen: dict[str, list[Sighting]] = field(default_factory=dict)
    dropped: int = 0

    def add(self, flow: Flow, decoded: DecodedLike) -> None:
        host = (urlsplit(flow.url).hostname or "").lower()
        if not host:
            return
        t = flow.request_start
        per_flow: set[tuple[str, bool]] = set()
        # the hot loop: length first (most values are too short or too long to be an id)
        lo, hi = MIN_LENGTH, MAX_LENGTH + 2
        for loc, key, value, _ in rows_of(decoded):
            if (
                lo <= len(value) <= hi
                and loc.startswith(_OUTBOUND)
                and _key_ok(key)
                and _location_ok(loc)
            ):
                self._put(loc, key, value, host, flow.index, True, t, per_flow)
        # inbound: only cookies and redirects hand ids out; rows, so that a big response body
        # costs no Field objects here
        for loc, key, value, _ in inbound_rows_of(decoded):
            if lo <= len(value) <= hi and loc.startswith(_INBOUND) and _key_ok(key):
                self._put(loc, key, value, host, flow.index, False, t, per_flow)

    def _put(
        self,
        location: str,
        key: str,
        value: str,
        host: str,
        index: int,
        sent: bool,
        t: float | None,
        per_flow: set[tuple[str, bool]],
    ) -> None:
        c = canonical(value)
        if c is None or (c, sent) in per_flow:
            return
        per_flow.add((c, sent))
        bucket = self.seen.get(c)
        if bucket is None:
            if len(self.seen) >= MAX_VALUES:
                self.dropped += 1
                return
            bucket = self.seen[c] = []
        if len(bucket) < MAX_SIGHTINGS:
            bucket.append(
                Sighting(flow=index, host=host, location=location, key=key, sent=sent, time=t)
            )

    def shared(self) -> Iterable[tuple[str, list[Sighting]]]:
        """The values seen at more than one host (the only ones that can be shared)."""
        for value, sightings in self.seen.items():
            if len({s.host for s in sightings}) > 1:
                yield value, sightings
