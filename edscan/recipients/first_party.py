"""Who the audited app is: the first party, given or inferred from the capture's own evidence.

``FirstParty.resolve`` takes ``--first-party`` when given. Otherwise each registrable domain the
capture names is scored on the evidence, strongest first:

1. **page URLs**: the HAR's pages (their titles become phases; a title that is or holds a URL,
   ``https://mitmproxy.org/`` or ``Run 1, First View for https://en.wikipedia.org/``, names the
   page the user had open) and edscan phases named with a URL;
2. **top-level documents**: requests sent with ``Sec-Fetch-Dest: document`` (a page load);
3. **Referer and Origin** of requests: whose page made them; the page's domain counts even when it
   was never contacted in the capture (a HAR of one pixel event from a school site);
4. the **first flow** and each domain's **share of flows** (weak: a tracker can be the busiest).

A domain the lists class as advertising, social, analytics or another tracking category is never
inferred as the app, however strong its evidence: one wrong guess would turn the report upside
down (a tracker read as the app is a grade A with no third party). Only ``--first-party`` can make
such a domain the first party. Service domains (CDN, SSO, hosting ...) are chosen only when nothing
else was seen. The decision keeps its candidates and the evidence for each, so the report can say
how sure it is and why (``FirstPartyBasis``).

Same owner: every other domain of the capture that the lists give to the app's owner is first
party too (the app's CDN and API domains), and so is an unlisted domain named after the app
(``classdojo-cdn.com`` next to ``classdojo.com``, ``cnn.io`` next to ``cnn.com``).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from edscan.models import Confidence, FlowSummary, Party
from edscan.recipients.basis import Candidate, FirstPartyBasis
from edscan.recipients.domains import registrable_domain
from edscan.recipients.listformat import TRACKING_CATEGORIES

if TYPE_CHECKING:
    from edscan.recipients.trackers import TrackerDB

# weights of each kind of evidence, applied to the domain's share of that evidence
_W_PAGE = 4.0
_W_DOCUMENT = 3.0
_W_REFERER = 3.0
_W_FIRST_FLOW = 1.0
_W_FLOWS = 1.0
# a runner-up at or above this share of the winner's score means the evidence is split
_SPLIT = 0.5
_SHOWN_CANDIDATES = 5

_URL_RX = re.compile(r"https?://[^\s\"'<>]+", re.I)
# second-level labels an app's own asset or API domain is commonly named with
_OWN_SUFFIXES = (
    "cdn",
    "static",
    "assets",
    "img",
    "images",
    "media",
    "api",
    "apis",
    "app",
    "apps",
    "content",
    "files",
    "usercontent",
)


@dataclass(frozen=True, slots=True, kw_only=True)
class FirstParty:
    """The audited app's own registrable domains, and how they were decided."""

    domains: tuple[str, ...]
    inferred: bool
    organizations: tuple[str, ...] = ()  # owners of ``domains`` per the lists (entity-aware)
    reason: str = ""  # one sentence for the report: what the decision was based on
    basis: FirstPartyBasis | None = None  # the evidence, candidates and confidence
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
        """Decide the first party from ``--first-party`` values, or infer it from ``flows``."""
        owner = db.owner_of
        if given:
            named = _dedupe(d for d in (registrable_domain(g) for g in given) if d)
            orgs = _dedupe(o for o in (owner(d) for d in named) if o)
            reason = "given with --first-party"
            basis = FirstPartyBasis(method="given", confidence=Confidence.HIGH, reason=reason)
            return cls(
                domains=named,
                inferred=False,
                organizations=orgs,
                reason=reason,
                basis=basis,
                owner=owner,
            )
        basis = infer(flows, db)
        if basis.chosen is None:
            return cls(domains=(), inferred=True, reason=basis.reason, basis=basis, owner=owner)
        chosen = basis.chosen
        orgs = tuple(o for o in (owner(chosen),) if o)
        seen = _dedupe(registrable_domain(f.host) for f in flows if f.host)
        grouped: list[tuple[str, str]] = []
        for d in seen:
            if d == chosen:
                continue
            if orgs and _same_org(owner(d), orgs[0]):
                grouped.append((d, f"owned by {orgs[0]}"))
            elif _named_after(d, chosen) and not db.attribute(d).organization:
                grouped.append((d, f"named after {chosen}"))
        reason = basis.reason
        if grouped:
            reason += "; also first party: " + ", ".join(f"{d} ({why})" for d, why in grouped)
        basis = basis.with_grouped(tuple(grouped), reason)
        return cls(
            domains=(chosen, *(d for d, _ in grouped)),
            inferred=True,
            organizations=orgs,
            reason=reason,
            basis=basis,
            owner=owner,
        )


@dataclass(slots=True)
class _Tally:
    flows: Counter[str] = field(default_factory=Counter)
    # flows that carry no Referer/Origin of another site: a request made from another site's
    # page says that site is the app, not its recipient (a tracker can be the first flow)
    own_flows: Counter[str] = field(default_factory=Counter)
    pages: Counter[str] = field(default_factory=Counter)
    documents: Counter[str] = field(default_factory=Counter)
    referers: Counter[str] = field(default_factory=Counter)
    first: str = ""

    def evidence(self, d: str) -> tuple[str, ...]:
        out = []
        if self.pages[d]:
            out.append(_count(self.pages[d], "page URL", "page URLs"))
        if self.documents[d]:
            out.append(_count(self.documents[d], "top-level document", "top-level documents"))
        if self.referers[d]:
            out.append(_count(self.referers[d], "Referer/Origin header", "Referer/Origin headers"))
        if d == self.first:
            out.append("the first flow")
        out.append(f"{self.flows[d]} of {sum(self.flows.values())} flows")
        return tuple(out)

    def score(self, d: str) -> float:
        s = _W_FLOWS * _share(self.own_flows, d) + _W_PAGE * _share(self.pages, d)
        s += _W_DOCUMENT * _share(self.documents, d) + _W_REFERER * _share(self.referers, d)
        return s + (_W_FIRST_FLOW if d == self.first else 0.0)


def infer(flows: Sequence[FlowSummary], db: TrackerDB) -> FirstPartyBasis:
    """The first party the capture's evidence points to, with its candidates and confidence."""
    t = _tally(flows)
    domains = _dedupe([*t.pages, *t.documents, *t.referers, *t.flows])
    if not domains:
        return FirstPartyBasis(
            method="none", confidence=None, reason="no flows to infer the first party from"
        )
    excluded = {d: why for d in domains if (why := _excluded(d, db))}
    scored = sorted(domains, key=lambda d: (-t.score(d), -t.flows[d], d))
    usable = [d for d in scored if d not in excluded]
    # a service (CDN, SSO, hosting ...) is the app only when nothing else was seen
    preferred = [d for d in usable if not db.is_service(d)] or usable
    candidates = tuple(
        Candidate(
            domain=d,
            score=round(t.score(d), 3),
            evidence=t.evidence(d),
            excluded=excluded.get(d, ""),
        )
        for d in scored[:_SHOWN_CANDIDATES]
    )
    if not preferred:
        names = ", ".join(excluded)
        return FirstPartyBasis(
            method="none",
            confidence=None,
            reason=f"not inferred: every domain seen is a tracker ({names}); "
            "name the app with --first-party",
            candidates=candidates,
        )
    best = preferred[0]
    rival = next((d for d in preferred[1:] if t.score(d) >= _SPLIT * t.score(best)), None)

    def strong(d: str) -> bool:
        return bool(t.pages[d] or t.documents[d])

    if rival is not None:
        # a page or a page load outweighs Referers and flow counts, but the split is still said
        confidence = Confidence.MEDIUM if strong(best) and not strong(rival) else Confidence.LOW
    elif strong(best):
        confidence = Confidence.HIGH
    elif t.referers[best]:
        confidence = Confidence.MEDIUM
    else:
        confidence = Confidence.LOW
    reason = f"inferred from the capture ({', '.join(t.evidence(best))})"
    if rival is not None:
        reason += f"; the evidence is split with {rival} ({', '.join(t.evidence(rival))})"
    # the trackers whose evidence outweighed the choice: the reader should know they were set aside
    louder = sorted(d for d in excluded if t.score(d) > t.score(best))
    if louder:
        reason += "; set aside as trackers, never inferred as the app: " + ", ".join(louder)
    return FirstPartyBasis(
        method="inferred",
        confidence=confidence,
        reason=reason,
        chosen=best,
        candidates=candidates,
        split=rival is not None,
    )


def page_urls(phase: str) -> list[str]:
    """The URLs a phase (a HAR page title, an edscan phase) names: ``Run 1 for https://x/``."""
    return [m.group(0).rstrip(".,;)") for m in _URL_RX.finditer(phase)]


def _tally(flows: Sequence[FlowSummary]) -> _Tally:
    t = _Tally()
    first: tuple[float, int, str] | None = None
    phases: dict[str, None] = {}
    for f in flows:
        domain = registrable_domain(f.host) if f.host else ""
        if f.phase:
            phases[f.phase] = None
        if not domain:
            continue
        t.flows[domain] += 1
        cross_site = False
        for s in f.signals:
            loc = s.location
            if loc in ("header:referer", "header:origin") and s.value:
                d = _domain_of_url(s.value)
                if d:
                    t.referers[d] += 1
                    cross_site = cross_site or d != domain
            elif loc == "header:sec-fetch-dest" and s.value.strip().lower() == "document":
                t.documents[domain] += 1
        if cross_site:
            continue
        t.own_flows[domain] += 1
        key = (f.time if f.time is not None else float("inf"), f.index, domain)
        if first is None or key < first:
            first = key
    for phase in phases:  # each page once, however many requests it made
        for d in dict.fromkeys(_domain_of_url(u) for u in page_urls(phase)):
            if d:
                t.pages[d] += 1
    t.first = first[2] if first else ""
    return t


def _excluded(domain: str, db: TrackerDB) -> str:
    cats = [c for c in db.attribute(domain).categories if c in TRACKING_CATEGORIES]
    if not cats:
        return ""
    return "the lists class it as " + ", ".join(cats)


def _domain_of_url(url: str) -> str:
    try:
        host = urlsplit(url.strip()).hostname
    except ValueError:
        return ""
    return registrable_domain(host) if host else ""


def _named_after(domain: str, app: str) -> bool:
    """``cnn.io`` / ``classdojocdn.com`` / ``myapp-static.net`` next to ``cnn.com`` / ``myapp.com``."""
    a, b = app.split(".", 1)[0], domain.split(".", 1)[0]
    if len(a) < 3 or not b.startswith(a):
        return False
    rest = b[len(a) :].lstrip("-")
    return rest == "" or rest in _OWN_SUFFIXES


def _share(c: Counter[str], d: str) -> float:
    total = c.total()
    return c[d] / total if total else 0.0


def _count(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def _norm_org(name: str) -> str:
    return " ".join(name.casefold().replace(",", " ").replace(".", " ").split())


def _same_org(a: str | None, b: str) -> bool:
    return a is not None and _norm_org(a) == _norm_org(b)


def _dedupe(items: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(items))
