"""Registrable domains and first versus third party.

The Public Suffix List is read offline through tldextract: the snapshot tldextract ships, or a
list installed by ``edscan lists update`` (a ``file://`` URL). tldextract is never allowed to
fetch anything: ``suffix_list_urls`` is empty or local and ``cache_dir`` is None.

The PSL's private section is included, so ``school.github.io`` and ``bucket.s3.amazonaws.com``
are registrable domains of their own: two customers of one hosting company are different
parties.

First party: the audited app's own registrable domains, given (``--first-party``) or inferred
from the capture, plus every domain the tracker lists say belongs to the same organisation (the
vendor's CDN and API domains).
"""

from __future__ import annotations

import contextlib
import gc
import ipaddress
import threading
import warnings
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from edscan.models import FlowSummary, Party

if TYPE_CHECKING:
    from edscan.recipients.trackers import TrackerDB

LOCALHOST = "localhost"

_lock = threading.Lock()
_extractor: Any = None  # tldextract.TLDExtract, built on first use
_psl_path: Path | None = None  # None: tldextract's own snapshot
_cache: dict[str, str] = {}
_CACHE_MAX = 200_000


def use_public_suffix_list(path: Path | None) -> None:
    """Use the PSL file at ``path`` (a downloaded list) instead of tldextract's snapshot."""
    global _extractor, _psl_path
    with _lock:
        if path == _psl_path and _extractor is not None:
            return
        _psl_path = path
        _extractor = None
        _cache.clear()


def public_suffix_list_path() -> Path | None:
    """The PSL file in use, or None for the snapshot bundled with tldextract."""
    return _psl_path


def _get_extractor() -> Any:
    global _extractor
    if _extractor is None:
        with _lock:
            if _extractor is None:
                import tldextract

                urls: tuple[str, ...] = ()
                if _psl_path is not None:
                    urls = (_psl_path.resolve().as_uri(),)
                # Offline by construction: no URL but a local file, no cache directory, and
                # the bundled snapshot as fallback if the file cannot be read.
                extractor = tldextract.TLDExtract(
                    suffix_list_urls=urls,
                    cache_dir=None,
                    fallback_to_snapshot=True,
                    include_psl_private_domains=True,
                )
                # The list is read on the first call. requests-file, which tldextract uses
                # for file:// URLs, leaves the file to the garbage collector: silence that
                # one ResourceWarning here rather than let it surface at a random later point.
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", ResourceWarning)
                    extractor("example.com")
                    if urls:
                        gc.collect()
                _extractor = extractor
    return _extractor


def normalize_host(host: str) -> str:
    """Lower-case ASCII host: no scheme, userinfo, port, brackets or trailing dot; IDN as punycode.

    IP addresses come back in their canonical text form (IPv6 compressed, without brackets).
    """
    h = host.strip()
    if "/" in h or "@" in h:
        # a URL or authority was passed: keep only its host
        parsed = urlsplit(h if "//" in h else "//" + h)
        h = parsed.hostname or ""
    elif h.startswith("["):
        h = h[1 : h.find("]")] if "]" in h else h[1:]
    elif h.count(":") == 1:
        h = h.split(":", 1)[0]  # host:port (a bare IPv6 address has several colons)
    h = h.rstrip(".").lower()
    if not h:
        return ""
    if ":" in h or h[-1].isdigit():
        try:
            return str(ipaddress.ip_address(h.split("%", 1)[0]))
        except ValueError:
            pass
    if not h.isascii():
        # not encodable: keep the lower-cased text; it still groups consistently
        with contextlib.suppress(UnicodeError):
            h = h.encode("idna").decode("ascii")
    return h


def is_ip(host: str) -> bool:
    # a host name's last label never ends in a digit, and only IPv6 has colons: most hosts
    # are told apart without parsing (and the exception a failed parse costs)
    if not host or (":" not in host and not host[-1].isdigit()):
        return False
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def registrable_domain(host: str) -> str:
    """The registrable domain ("eTLD+1") of ``host``: ``a.b.example.co.uk`` → ``example.co.uk``.

    IP literals are their own domain; ``localhost`` and ``*.localhost`` are ``localhost``; a
    host under an unknown suffix groups by its last two labels (``api.school.lan`` →
    ``school.lan``); a bare public suffix is returned as it is.
    """
    hit = _cache.get(host)
    if hit is not None:
        return hit
    h = normalize_host(host)
    if not h:
        result = ""
    elif is_ip(h):
        result = h
    elif h == LOCALHOST or h.endswith(".localhost"):
        result = LOCALHOST
    else:
        ext = _get_extractor()(h)
        result = ext.top_domain_under_public_suffix
        if not result:
            labels = h.split(".")
            result = ".".join(labels[-2:]) if not ext.suffix and len(labels) >= 2 else h
    if len(_cache) < _CACHE_MAX:
        _cache[host] = result
    return result


def host_suffixes(host: str) -> list[str]:
    """``a.b.c`` → ``["a.b.c", "b.c", "c"]``: the keys a suffix-keyed list is searched with."""
    out = [host]
    i = host.find(".")
    while i != -1:
        out.append(host[i + 1 :])
        i = host.find(".", i + 1)
    return out


# --------------------------------------------------------------------------- first party

_SCORE_FIRST_FLOW = 2.0  # the first request of a capture is usually the page or app start
_SCORE_REFERER = 3.0  # Referer/Origin say whose page made the request: the strongest sign
_SCORE_FLOWS = 1.0  # share of all flows


@dataclass(frozen=True, slots=True, kw_only=True)
class FirstParty:
    """The audited app's own registrable domains, and how they were decided."""

    domains: tuple[str, ...]
    inferred: bool
    organizations: tuple[str, ...] = ()  # owners of ``domains`` per the lists (entity-aware)
    reason: str = ""  # one sentence for the report: what the decision was based on
    owner: Callable[[str], str | None] | None = field(default=None, repr=False, compare=False)
    _org_keys: frozenset[str] = field(default=frozenset(), repr=False, compare=False)

    def __post_init__(self) -> None:
        # party() runs once per observation: normalise the owners' names once
        object.__setattr__(self, "_org_keys", frozenset(_norm_org(o) for o in self.organizations))

    def party(self, host: str) -> Party:
        """FIRST for the app's own domains and for hosts its owner owns; THIRD otherwise."""
        domain = registrable_domain(host)
        if domain and domain in self.domains:
            return Party.FIRST
        if self.organizations and self.owner is not None:
            org = self.owner(host)
            if org is not None and _norm_org(org) in self._org_keys:
                return Party.FIRST
        return Party.THIRD

    @classmethod
    def resolve(
        cls, given: Sequence[str], flows: Sequence[FlowSummary], db: TrackerDB
    ) -> FirstParty:
        """Decide the first party from ``--first-party`` values, or infer it from ``flows``.

        Inference scores each registrable domain seen in the capture by: its share of flows;
        holding the earliest flow; and how often it appears in the Referer or Origin of
        requests (read from each FlowSummary's signals, when the signals stage kept them).
        Domains the lists place in a third-party service category (advertising, analytics,
        CDN, SSO ...) are only chosen when nothing else was seen.
        """

        owner = db.owner_of

        if given:
            named = tuple(d for d in _dedupe(registrable_domain(g) for g in given) if d)
            orgs = _dedupe(o for o in (owner(d) for d in named) if o)
            return cls(
                domains=named,
                inferred=False,
                organizations=orgs,
                reason="given with --first-party",
                owner=owner,
            )
        chosen, reason = _infer(flows, db)
        if chosen is None:
            return cls(domains=(), inferred=True, reason=reason, owner=owner)
        orgs = tuple(o for o in (owner(chosen),) if o)
        domains: tuple[str, ...] = (chosen,)
        if orgs:
            # entity-aware: every other domain seen in the capture with the same owner
            seen = _dedupe(registrable_domain(f.host) for f in flows if f.host)
            same = tuple(d for d in seen if d != chosen and _same_org(owner(d), orgs[0]))
            domains = domains + same
            if same:
                reason += f"; also first party as owned by {orgs[0]}: {', '.join(same)}"
        return cls(domains=domains, inferred=True, organizations=orgs, reason=reason, owner=owner)


def _norm_org(name: str) -> str:
    return " ".join(name.casefold().replace(",", " ").replace(".", " ").split())


def _same_org(a: str | None, b: str) -> bool:
    return a is not None and _norm_org(a) == _norm_org(b)


def _dedupe(items: Any) -> tuple[str, ...]:
    return tuple(dict.fromkeys(items))


def _referer_hosts(flow: FlowSummary) -> list[str]:
    out = []
    for f in flow.signals:
        name = (f.key or f.location.rsplit(":", 1)[-1]).lower()
        if name in ("referer", "referrer", "origin") and f.value:
            host = urlsplit(f.value.strip()).hostname
            if host:
                out.append(host)
    return out


def _infer(flows: Sequence[FlowSummary], db: TrackerDB) -> tuple[str | None, str]:
    counts: Counter[str] = Counter()
    refs: Counter[str] = Counter()
    first: tuple[float, int, str] | None = None
    for f in flows:
        domain = registrable_domain(f.host) if f.host else ""
        if not domain:
            continue
        counts[domain] += 1
        key = (f.time if f.time is not None else float("inf"), f.index, domain)
        if first is None or key < first:
            first = key
        for h in _referer_hosts(f):
            d = registrable_domain(h)
            if d:
                refs[d] += 1
    if not counts:
        return None, "no flows to infer the first party from"
    candidates = [d for d in counts if not db.is_service(d)] or list(counts)
    total = sum(counts.values())
    total_refs = sum(refs.values())
    first_domain = first[2] if first else ""

    def score(d: str) -> tuple[float, int, str]:
        s = _SCORE_FLOWS * counts[d] / total
        if d == first_domain:
            s += _SCORE_FIRST_FLOW
        if total_refs:
            s += _SCORE_REFERER * refs[d] / total_refs
        return (s, counts[d], d)

    best = max(candidates, key=score)
    parts = [f"{counts[best]} of {total} flows"]
    if best == first_domain:
        parts.append("the first flow")
    if refs[best]:
        parts.append(f"{refs[best]} Referer/Origin headers")
    return best, f"inferred from the capture ({', '.join(parts)})"
