"""Who received traffic: one Recipient per registrable domain, with owner, categories and SDKs.

Every flow is attributed with its host and path, so a domain's SDK list says "Meta Pixel"
where a request matched the endpoint table. Per domain: the organisation and parent are those
of the host that carried the most flows among hosts whose owner is known; categories, SDKs and
sources are the union over all its flows, in order of first appearance.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from edscan.models import Attribution, FlowSummary, Party, Recipient
from edscan.recipients.domains import normalize_host, registrable_domain
from edscan.recipients.first_party import FirstParty
from edscan.recipients.trackers import TrackerDB


@dataclass(slots=True)
class _Acc:
    hosts: dict[str, int] = field(default_factory=dict)  # host -> flows
    owners: dict[tuple[str, str | None], int] = field(default_factory=dict)
    categories: dict[str, None] = field(default_factory=dict)
    sdk: dict[str, None] = field(default_factory=dict)
    sources: dict[str, None] = field(default_factory=dict)
    flows: int = 0
    first: float | None = None
    last: float | None = None

    def add(self, host: str, a: Attribution, time: float | None) -> None:
        self.flows += 1
        self.hosts[host] = self.hosts.get(host, 0) + 1
        if a.organization:
            key = (a.organization, a.parent)
            self.owners[key] = self.owners.get(key, 0) + 1
        self.categories.update(dict.fromkeys(a.categories))
        self.sdk.update(dict.fromkeys(a.sdk))
        self.sources.update(dict.fromkeys(a.sources))
        if time is not None:
            self.first = time if self.first is None else min(self.first, time)
            self.last = time if self.last is None else max(self.last, time)


def _path(url: str) -> str:
    try:
        return urlsplit(url).path or "/"
    except ValueError:
        return "/"


def build_recipients(
    flows: Sequence[FlowSummary], db: TrackerDB, fp: FirstParty
) -> list[Recipient]:
    """Group ``flows`` by registrable domain and attribute each group.

    Sorted first-party domains first, then by flow count (most first), then by domain, so the
    order is stable from run to run. Flows without a host (malformed URLs) are not counted.
    """
    acc: dict[str, _Acc] = {}
    for f in flows:
        host = normalize_host(f.host) if f.host else ""
        if not host:
            continue
        domain = registrable_domain(host)
        attribution = db.attribute(host, _path(f.url))
        acc.setdefault(domain, _Acc()).add(host, attribution, f.time)
    out = []
    for domain, a in acc.items():
        org, parent = max(a.owners, key=lambda k: (a.owners[k], k[0])) if a.owners else (None, None)
        out.append(
            Recipient(
                domain=domain,
                hosts=tuple(sorted(a.hosts)),
                organization=org,
                parent=parent,
                categories=tuple(a.categories),
                party=fp.party(domain),
                sdk=tuple(a.sdk),
                sources=tuple(a.sources),
                flows=a.flows,
                first_seen=a.first,
                last_seen=a.last,
            )
        )
    out.sort(key=lambda r: (r.party is not Party.FIRST, -r.flows, r.domain))
    return out
