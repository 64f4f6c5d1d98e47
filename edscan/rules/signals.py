"""The per-flow fields the rules read beyond student data.

``signals(flow, decoded)`` keeps, from a flow's decoded outbound fields and its headers, the few
things the rules need once the flow's bodies are gone: child-directed and consent flags, Set-Cookie
lifetimes, Referer/Origin/Content-Type, page URLs, event names, form and keystroke capture markers,
cross-site redirects (cookie-sync chains), an OpenRTB marker, and an outdated TLS version.

It runs once per flow and its result is kept in memory for every flow, so it is one pass over the
fields with a dictionary lookup per key; values are cut at ``MAX_VALUE`` characters; each kind
keeps at most ``KIND_CAPS[kind]`` signals per flow; and a signal that recurs from flow to flow (the
same Referer, the same cookie lifetime) is one shared object. Presence-only markers keep no value
at all (they may carry hashed e-mails or typed text).

Signal vocabulary (``kind_of(field)``):

=============  ==================================================================================
``child``      child-directed or age flag (``tfcd``, ``tag_for_child_directed_treatment``,
               ``coppa``, OpenRTB ``regs.coppa``, ``tfua`` …)
``consent``    consent or privacy string or flag (TCF ``gdpr_consent``, ``us_privacy``, ``gpp``,
               Google ``gcs``/``gcd``, ``npa``, ``rdp``, limit-ad-tracking, ``Sec-GPC``, ``DNT``)
``page``       page URL copied into a beacon (``dl``, ``url``, ``page``, ``$current_url`` …)
``event``      event name (``ev``, ``event``, ``en`` …; replay envelope item types)
``form``       form-field value or keystroke capture marker (Meta ``udff[…]``, HubSpot
               ``formValues``, ``keystrokes`` …; not Meta's ``cd[formFeatures]``, which describes
               a form's fields, not their values); value not kept
``match``      advanced-matching key (``ud[em]``, ``u_hem``, ``em`` …); value not kept
``openrtb``    the request is an OpenRTB bid request (it has ``imp[]``); value not kept
``referer``    the Referer request header
``origin``     the Origin request header
``content-type``  the request Content-Type
``fetch-dest`` the Sec-Fetch-Dest request header (``document`` marks a top-level page load, which
               the first-party inference reads)
``cookie``     a Set-Cookie lifetime: ``location="set-cookie:NAME"``, key ``max-age`` (seconds, from
               Max-Age or Expires against the response Date), ``session`` or ``expires`` (epoch
               seconds, when no reference time was known)
``redirect``   a 3xx Location to another host (cookie-sync and ID-sync chains)
``tls``        an outdated TLS version (below 1.2)
=============  ==================================================================================
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from email.utils import parsedate_to_datetime
from functools import lru_cache
from typing import Protocol
from urllib.parse import urlsplit

from edscan.decode.flow import rows_of
from edscan.models import Field, Flow

MAX_VALUE = 512  # characters kept of a signal value

CHILD_KEYS = frozenset(
    {
        "tfcd",
        "tag_for_child_directed_treatment",
        "tagforchilddirectedtreatment",
        "tfua",
        "tag_for_under_age_of_consent",
        "tagforunderageofconsent",
        "coppa",
        "is_coppa",
        "coppa_compliant",
        "child_directed",
        "childdirected",
        "is_child_directed",
        "child_directed_treatment",
        "is_designed_for_families",
        "designed_for_families",
        "max_ad_content_rating",
        "age_restricted",
        "age_restricted_user",
        "is_age_restricted_user",
        "agerestricteduser",
        "under_age_of_consent",
    }
)

CONSENT_KEYS = frozenset(
    {
        "gdpr",
        "gdpr_consent",
        "gdprconsent",
        "consentstring",
        "addtl_consent",
        "us_privacy",
        "usprivacy",
        "uspconsent",
        "gpp",
        "gpp_sid",
        "gppconsent",
        "gcs",
        "gcd",
        "dma",
        "dma_cps",
        "npa",
        "non_personalized_ads",
        "rdp",
        "restricted_data_processing",
        "ltd",
        "limit_ad_tracking",
        "is_lat",
        "lmt",
        "att_status",
        "atts",
        "advertiser_tracking_enabled",
        "application_tracking_enabled",
        "ad_personalization",
        "ad_user_data",
        "limited_data_use",
        "data_processing_options",
        "dpo",
        "sec-gpc",
        "dnt",
    }
)

# Google's "non-personalised ads" and kindred opt-outs: the rules treat them as a weaker form of
# the child-directed flag (no interest-based ads for this request).
NON_PERSONALISED_KEYS = frozenset(
    {"npa", "non_personalized_ads", "rdp", "restricted_data_processing", "ltd"}
)

PAGE_KEYS = frozenset(
    {
        "dl",
        "dr",
        "url",
        "page",
        "page_url",
        "pageurl",
        "href",
        "$current_url",
        "current_url",
        "referrer",
        "tw_document_href",
        "topurl",
    }
)

EVENT_KEYS = frozenset(
    {"ev", "event", "en", "event_name", "eventname", "event_type", "eventtype", "_en"}
)

# item types of replay payloads sent to monitoring or analytics vendors (Sentry envelopes,
# PostHog snapshots): kept as events so the replay rule sees them
REPLAY_TYPES = frozenset(
    {"replay_event", "replay_recording", "$snapshot", "$snapshot_items", "rrweb", "session_replay"}
)

FORM_MARKERS = (
    "udff",
    "formvalues",
    "contactfields",
    "keystroke",
    "keypress",
    "keydown",
    "keyup",
    "inputvalue",
    "input_value",
    "clipboard",
    "form_data",
    "formdata",
)

MATCH_KEYS = frozenset(
    {
        "em",
        "ph",
        "u_hem",
        "u_hpn",
        "hashed_email",
        "sha256_email",
        "email_address",
        "hashed_maids",
    }
)

OLD_TLS = frozenset({"sslv2", "sslv3", "tlsv1", "tlsv1.0", "tlsv1.1", "tls1.0", "tls1.1"})

# How many signals of each kind one flow keeps: a replay batch with a thousand keystroke entries
# must not crowd out its consent flags.
KIND_CAPS: dict[str, int] = {
    "child": 8,
    "consent": 12,
    "page": 4,
    "event": 8,
    "form": 4,
    "match": 4,
    "openrtb": 1,
    "referer": 1,
    "origin": 1,
    "content-type": 1,
    "fetch-dest": 1,
    "cookie": 16,
    "redirect": 1,
    "tls": 1,
}
MAX_SIGNALS = sum(KIND_CAPS.values())

_KIND_BY_KEY: dict[str, str] = {
    **dict.fromkeys(CHILD_KEYS, "child"),
    **dict.fromkeys(CONSENT_KEYS, "consent"),
    **dict.fromkeys(PAGE_KEYS, "page"),
    **dict.fromkeys(EVENT_KEYS, "event"),
    **dict.fromkeys(MATCH_KEYS, "match"),
}
_VALUELESS = frozenset({"form", "match", "openrtb"})
_SPECIAL_LOCATIONS = {
    "tls": "tls",
    "header:location": "redirect",
    "body:$.imp": "openrtb",
    "header:referer": "referer",
    "header:origin": "origin",
    "header:content-type": "content-type",
    "header:sec-gpc": "consent",
    "header:dnt": "consent",
    "header:sec-fetch-dest": "fetch-dest",
}
# a form or keystroke marker anywhere in the location (``query:udff[em]``,
# ``body:$.formValues.email``): parents count, not only the innermost key
_FORM_RX = re.compile("|".join(re.escape(m) for m in FORM_MARKERS), re.I)
_OPENRTB_RX = re.compile(r"^body:\$(\[\d+\])?\.imp\[")
_form_cache: dict[str, bool] = {}  # locations repeat across flows; the cache keeps it cheap
_FORM_CACHE_MAX = 65536
# The same signal (a Referer, an Origin, a cookie's lifetime) recurs in flow after flow: one
# shared Field per distinct signal keeps the summaries small and saves building it again.
_interned: dict[tuple[str, str, str], Field] = {}
_INTERN_MAX = 16384


class DecodedLike(Protocol):
    """What ``signals`` reads of ``edscan.decode.flow.Decoded``: its outbound fields."""

    @property
    def fields(self) -> Sequence[Field]: ...


class _Keep(Protocol):
    def __call__(self, kind: str, location: str, key: str, value: str) -> None: ...


def kind_of(signal: Field) -> str | None:
    """The signal vocabulary entry a kept field belongs to (see the module docstring)."""
    loc = signal.location
    ident = (loc, signal.key)
    kind = _kind_cache.get(ident, "")
    if kind != "":
        return kind
    special = _SPECIAL_LOCATIONS.get(loc)
    if special is not None:
        kind = special
    elif loc.startswith("set-cookie:"):
        kind = "cookie"
    else:
        kind = _field_kind(signal.key.lower(), signal.value, loc)
        if signal.key.lower() == "type":
            return kind  # decided by the value: not cached by location and key
    if len(_kind_cache) < _FORM_CACHE_MAX:
        _kind_cache[ident] = kind
    return kind


_kind_cache: dict[tuple[str, str], str | None] = {}


_ON = frozenset({"1", "true", "yes", "y", "on"})
_OFF = frozenset({"0", "false", "no", "n", "off"})
# "on" values as SDKs send them: a set lookup without strip() or lower() for hot loops
FLAG_ON = _ON | {"True", "TRUE", "Yes", "YES", "Y", "On", "ON"}


def is_set(value: str) -> bool:
    """Whether a flag value means "on" (``1``, ``true``, ``yes``, ``Y``)."""
    return value in _ON or value.strip().lower() in _ON


def is_unset(value: str) -> bool:
    """Whether a flag value explicitly means "off" (``0``, ``false``, ``no``, ``N``)."""
    return value in _OFF or value.strip().lower() in _OFF


def _is_form_location(location: str) -> bool:
    hit = _form_cache.get(location)
    if hit is None:
        hit = _FORM_RX.search(location) is not None
        if len(_form_cache) < _FORM_CACHE_MAX:
            _form_cache[location] = hit
    return hit


def _field_kind(lkey: str, value: str, location: str) -> str | None:
    if _is_form_location(location):
        return "form"
    kind = _KIND_BY_KEY.get(lkey)
    if kind is not None:
        return kind
    if lkey == "type" and value.lower() in REPLAY_TYPES:
        return "event"
    return None


_REQUEST_HEADERS = {
    "referer": "header:referer",
    "origin": "header:origin",
    "content-type": "header:content-type",
    "sec-gpc": "header:sec-gpc",
    "dnt": "header:dnt",
    "sec-fetch-dest": "header:sec-fetch-dest",
}


# request header name as sent -> (kind, location, lower-cased name), or None for the headers
# signals do not read; names repeat on every flow
_HEADER_SIGNAL: dict[str, tuple[str, str, str] | None] = {}
_UNSEEN = ("", "", "")


def _header_signal(name: str) -> tuple[str, str, str] | None:
    lname = name.lower()
    location = _REQUEST_HEADERS.get(lname)
    known = None if location is None else (_SPECIAL_LOCATIONS[location], location, lname)
    if len(_HEADER_SIGNAL) < 4096:
        _HEADER_SIGNAL[name] = known
    return known


def signals(flow: Flow, decoded: DecodedLike) -> tuple[Field, ...]:
    """The rule-relevant fields of one flow (see the module docstring for the vocabulary)."""
    out: list[Field] = []
    seen: set[tuple[str, str, str]] = set()
    counts: dict[str, int] = {}
    interned = _interned

    def keep(kind: str, location: str, key: str, value: str) -> None:
        n = counts.get(kind, 0)
        if n >= KIND_CAPS[kind]:
            return
        if kind in _VALUELESS:
            value = ""
        ident = (location, key, value)
        if ident in seen:
            return
        seen.add(ident)
        counts[kind] = n + 1
        field = interned.get(ident)
        if field is None:
            field = Field(location=location, key=key, value=value[:MAX_VALUE])
            if len(interned) >= _INTERN_MAX:
                interned.clear()
            interned[ident] = field
        out.append(field)

    header_of = _HEADER_SIGNAL.get
    for name, value in flow.request_headers:
        known = header_of(name, _UNSEEN)
        if known is _UNSEEN:
            known = _header_signal(name)
        if known is not None:
            keep(known[0], known[1], known[2], value)

    if flow.tls_version and flow.tls_version.replace(" ", "").lower() in OLD_TLS:
        keep("tls", "tls", "version", flow.tls_version)

    if flow.response_headers:
        _redirect(flow, keep)
        _cookies(flow, keep)

    # one dictionary lookup per field in the common case; this loop is the hot path
    form_cache = _form_cache
    kinds = _KIND_BY_KEY
    openrtb = False
    for location, key, value, _ in rows_of(decoded):
        # headers, cookies and path segments were read above or carry nothing the rules use
        if not location or location[0] not in "qbfw":
            continue
        if (
            not openrtb
            and location.startswith("body:$")
            and ".imp[" in location
            and _OPENRTB_RX.match(location)
        ):
            openrtb = True
            keep("openrtb", "body:$.imp", "imp", "")
        form = form_cache.get(location)
        if form is None:
            form = _is_form_location(location)
        if form:
            keep("form", location, key, "")
            continue
        lkey = key.lower()
        kind = kinds.get(lkey)
        if kind is not None:
            keep(kind, location, key, value)
        elif lkey == "type" and value.lower() in REPLAY_TYPES:
            keep("event", location, key, value)
    return tuple(out)


def _redirect(flow: Flow, keep: _Keep) -> None:
    if flow.status is None or not 300 <= flow.status < 400:
        return
    location = flow.response_header("location")
    if not location:
        return
    target = (urlsplit(location).hostname or "").lower()
    if target and target != flow.host:
        keep("redirect", "header:location", "location", location)


def _cookies(flow: Flow, keep: _Keep) -> None:
    headers = [v for k, v in flow.response_headers if k.lower() == "set-cookie"]
    if not headers:
        return
    reference = _reference_time(flow)
    for header in headers:
        parsed = cookie_lifetime(header, reference)
        if parsed is None:
            continue
        name, key, value = parsed
        keep("cookie", f"set-cookie:{name[:128]}", key, value)


@lru_cache(maxsize=4096)
def http_date(value: str) -> float | None:
    """An HTTP date as epoch seconds, or None; cached, as captures repeat the same dates."""
    try:
        return parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


def _reference_time(flow: Flow) -> float | None:
    date = flow.response_header("date")
    parsed = http_date(date.strip()) if date else None
    if parsed is not None:
        return parsed
    return flow.response_end if flow.response_end is not None else flow.request_start


def cookie_lifetime(header: str, reference: float | None) -> tuple[str, str, str] | None:
    """``(name, key, value)`` for one Set-Cookie header, or None when it deletes or is unreadable.

    Max-Age wins over Expires (RFC 6265 §5.3); Expires is measured against ``reference`` (the
    response Date, else the flow's time). Without either it is a session cookie.
    """
    parsed = _parse_set_cookie(header)
    if parsed is None:
        return None
    name, max_age, expires = parsed
    if max_age is not None:
        return None if max_age <= 0 else (name, "max-age", str(max_age))
    if expires is not None:
        if reference is None:
            return (name, "expires", str(int(expires)))
        seconds = int(expires - reference)
        return None if seconds <= 0 else (name, "max-age", str(seconds))
    return (name, "session", "")


@lru_cache(maxsize=4096)
def _parse_set_cookie(header: str) -> tuple[str, int | None, float | None] | None:
    """(name, Max-Age, Expires as epoch seconds); cached, as captures repeat the same cookies."""
    parts = header.split(";")
    name, sep, _ = parts[0].partition("=")
    name = name.strip()
    if not sep or not name:
        return None
    max_age: int | None = None
    expires: float | None = None
    for attr in parts[1:]:
        akey, _, avalue = attr.partition("=")
        akey = akey.strip().lower()
        if akey == "max-age":
            try:
                max_age = int(avalue.strip())
            except ValueError:
                continue
        elif akey == "expires":
            expires = http_date(avalue.strip())
    return name, max_age, expires
