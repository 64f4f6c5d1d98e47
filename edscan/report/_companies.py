"""The recipients table: one row per company, its domains, hosts and SDKs nested inside.

A company with seven domains is one row, not seven: requests are summed, the data elements are
the union ("connection only" when nothing was detected), and the rows are ordered by risk, what
the company received times what it does, with the app's own servers last.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from edscan.models import Party, Recipient
from edscan.report import _palette, _timeline
from edscan.report._common import element_info, iso
from edscan.report._grouping import company_key
from edscan.report._palette import Group
from edscan.report._view_model import Named
from edscan.report.redact import Redactor

MAX_COMPANY_ROWS = 60
MAX_DOMAINS = 12  # per company, in its <details>
MAX_HOSTS = 4  # per domain
MAX_ELEMENTS = 6  # per company cell

# what a company does, as a weight (the riskier, the heavier); unknown owners sit mid-way
_DOES = {
    "ads": 5,
    "social": 5,
    "replay": 4,
    "ai": 3,
    "analytics": 3,
    "unknown": 2,
    "edtech": 2,
    "monitoring": 2,
    "sso": 1,
    "infra": 1,
    "first": 0,
}


@dataclass(frozen=True, slots=True, kw_only=True)
class Source:
    """A list that named the owner: ``edscan-trackers 2026.11`` read as one unbreakable line."""

    name: str
    version: str
    raw: str  # as the result holds it: ``bundled:edscan-trackers@2026.11``


@dataclass(frozen=True, slots=True, kw_only=True)
class DomainLine:
    domain: str
    hosts: tuple[str, ...]
    more_hosts: int
    flows: int
    sdk: str
    data: bool  # any data element detected in what this domain received


@dataclass(frozen=True, slots=True, kw_only=True)
class CompanyRow:
    key: str
    name: str
    parent: str
    party: str  # "first party" / "third party"
    group: Group
    categories: str
    sdk: str
    domains: tuple[DomainLine, ...]
    more_domains: int
    hosts: int  # hosts over all its domains
    elements: tuple[Named, ...]
    more_elements: int
    flows: int
    first_seen: str
    last_seen: str
    first_seen_iso: str
    last_seen_iso: str
    sources: tuple[Source, ...]


def source(raw: str) -> Source:
    """``bundled:NAME@VERSION`` / ``NAME@VERSION`` / ``NAME``, split for reading."""
    text = raw.split(":", 1)[1] if raw.startswith("bundled:") else raw
    name, _, version = text.rpartition("@") if "@" in text else (text, "", "")
    return Source(name=name, version=version, raw=raw)


def risk(group: Group, tiers: Sequence[int]) -> int:
    """What it received (the most sensitive tier, 1 for a connection only) × what it does."""
    received = (max(tiers) + 2) if tiers else 1
    return received * _DOES.get(group.key, 2)


def rows(
    recipients: Sequence[Recipient],
    rc_to_el: Mapping[str, Mapping[str, None]],
    named_element: Callable[[str], Named],
    red: Redactor,
    start: float | None,
) -> tuple[list[CompanyRow], int]:
    """The table's rows, riskiest first and the first party last, and how many were left out."""
    companies: dict[str, list[Recipient]] = {}
    for r in recipients:
        companies.setdefault(company_key(r), []).append(r)
    built = [_row(k, rs, rc_to_el, named_element, red, start) for k, rs in companies.items()]
    built.sort(key=lambda c: c[0])
    out = [row for _, row in built]
    return out[:MAX_COMPANY_ROWS], max(0, len(out) - MAX_COMPANY_ROWS)


def _row(
    key: str,
    rs: list[Recipient],
    rc_to_el: Mapping[str, Mapping[str, None]],
    named_element: Callable[[str], Named],
    red: Redactor,
    start: float | None,
) -> tuple[tuple[object, ...], CompanyRow]:
    rs = sorted(rs, key=lambda r: (-len(rc_to_el.get(r.domain, {})), -r.flows, r.domain))
    first = any(r.party is Party.FIRST for r in rs)
    group = min((_palette.group_of(r) for r in rs), key=_palette.rank)
    els = list(dict.fromkeys(e for r in rs for e in rc_to_el.get(r.domain, {})))
    els.sort(key=lambda e: (-(element_info(e).tier or 0), e))
    tiers = [element_info(e).tier or 0 for e in els]
    flows = sum(r.flows for r in rs)
    seen = [t for r in rs for t in (r.first_seen, r.last_seen) if t is not None]
    first_seen = min(seen) if seen else None
    last_seen = max(seen) if seen else None
    raw_sources = list(dict.fromkeys(s for r in rs for s in r.sources))
    lines = tuple(
        DomainLine(
            domain=red.text(r.domain),
            hosts=tuple(red.text(h) for h in r.hosts[:MAX_HOSTS]),
            more_hosts=max(0, len(r.hosts) - MAX_HOSTS),
            flows=r.flows,
            sdk=red.text(", ".join(r.sdk)),
            data=bool(rc_to_el.get(r.domain)),
        )
        for r in rs[:MAX_DOMAINS]
    )
    row = CompanyRow(
        key=red.text(key),
        name=red.text(rs[0].organization or rs[0].domain),
        parent=red.text(next((r.parent for r in rs if r.parent), "")),
        party="first party" if first else "third party",
        group=group,
        categories=red.text(", ".join(dict.fromkeys(c for r in rs for c in r.categories)))
        or "not classified",
        sdk=red.text(", ".join(dict.fromkeys(s for r in rs for s in r.sdk))),
        domains=lines,
        more_domains=max(0, len(rs) - MAX_DOMAINS),
        hosts=sum(len(r.hosts) for r in rs),
        elements=tuple(named_element(e) for e in els[:MAX_ELEMENTS]),
        more_elements=max(0, len(els) - MAX_ELEMENTS),
        flows=flows,
        first_seen=_timeline.clock(first_seen, start),
        last_seen=_timeline.clock(last_seen, start),
        first_seen_iso=iso(first_seen) or "",
        last_seen_iso=iso(last_seen) or "",
        sources=tuple(source(red.text(s)) for s in raw_sources)
        or (Source(name="no list (unknown domain)", version="", raw=""),),
    )
    order = (first, -risk(group, tiers), -len(els), -flows, key)
    return order, row
