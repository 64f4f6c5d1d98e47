"""ID sync and cookie matching: one identifier value that reaches more than one organisation.

``links(values, db, fp)`` reads the sightings ``edscan.detect.id_values.IdValues`` collected and
keeps the values seen at two or more organisations (owners per the lists; an unlisted domain is
its own organisation), where at least one organisation other than the first received it. Each
becomes an ``IdLink`` naming the company that handed the id out and those that received it:

- **redirect**: one company's redirect ``Location`` carried the id to the next hop (the classic
  cookie-sync chain: SpotX → ``beacon.krxd.net/usermatch.gif?partner_uid=…``); high confidence;
- **cookie**: one company set the id as a cookie, and another received the same value; high;
- **same value**: the same opaque value was sent to two organisations; medium (two companies
  can receive one id from the page's script without passing it to each other, but either way
  both now hold the same key to the browser).

The value itself travels only for ``--reveal``; ``digest`` (a SHA-256 prefix) identifies it.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from edscan.detect.id_values import IdValues, Sighting
from edscan.models import Confidence, Detector, Observation, Party
from edscan.recipients.domains import registrable_domain

if TYPE_CHECKING:
    from edscan.recipients.first_party import FirstParty
    from edscan.recipients.trackers import TrackerDB

SYNC_ELEMENT = "dev.sync_id"
MAX_LINKS = 500  # per capture: enough for any report, bounded for the JSON
_HANDED_OUT_BY_REDIRECT = "response-header:location"


@dataclass(frozen=True, slots=True, kw_only=True)
class IdLink:
    """One identifier value seen at several organisations, and how it got from one to the next."""

    digest: str  # first 16 hex digits of the value's SHA-256: its identity without the value
    key: str  # the key name it was most often sent under ("partner_uid", "cookie uuid2" …)
    how: str  # "redirect" | "cookie" | "same value"
    source: str  # the organisation that handed it out (or first received it)
    source_domain: str
    receivers: tuple[str, ...]  # registrable domains of the other organisations that received it
    organizations: tuple[str, ...]  # every organisation involved, source first
    first_party: bool  # the source is the audited app itself
    sightings: tuple[Sighting, ...]
    confidence: Confidence
    value: str = ""  # as seen; renderers redact it unless asked to reveal

    def to_dict(self) -> dict[str, Any]:
        return {
            "digest": self.digest,
            "key": self.key,
            "how": self.how,
            "source": self.source,
            "source_domain": self.source_domain,
            "receivers": list(self.receivers),
            "organizations": list(self.organizations),
            "first_party_source": self.first_party,
            "confidence": self.confidence.value,
            "flows": sorted({s.flow for s in self.sightings}),
        }


def links(values: IdValues, db: TrackerDB, fp: FirstParty) -> list[IdLink]:
    """Every identifier shared between organisations, most organisations first."""
    out: list[IdLink] = []
    for value, sightings in values.shared():
        link = _link(value, sightings, db, fp)
        if link is not None:
            out.append(link)
    out.sort(key=lambda k: (-len(k.organizations), k.source, k.digest))
    return out[:MAX_LINKS]


def attach(
    observed: list[Observation], found: Iterable[IdLink], fp: FirstParty
) -> list[Observation]:
    """``observed`` plus the sync observations of ``found``; where a field was already reported
    as a sync id (a known sync endpoint's parameter), the link's words join that observation;
    where it was reported as something else (the persona's user id, a known SDK's device id),
    that observation stands alone: the link itself is in ``id_links`` and rule EDS030, and the
    id is not counted twice."""
    new = observations(found, fp)
    if not new:
        return observed
    described = {(o.flow, o.location) for o in observed if o.element != SYNC_ELEMENT}
    by_place = {(o.flow, o.location): o for o in new if (o.flow, o.location) not in described}
    out = []
    for o in observed:
        link = by_place.get((o.flow, o.location)) if o.element == SYNC_ELEMENT else None
        if link is None:
            out.append(o)
            continue
        del by_place[(o.flow, o.location)]
        confidence = max(o.confidence, link.confidence)
        detail = f"{o.detail}; {link.detail}" if o.detail else link.detail
        out.append(dataclasses.replace(o, confidence=confidence, detail=detail))
    return out + list(by_place.values())


def observations(found: Iterable[IdLink], fp: FirstParty) -> list[Observation]:
    """A sync-identifier observation for each time a receiver got a shared id."""
    out = []
    for link in found:
        for s in link.sightings:
            domain = registrable_domain(s.host)
            if not s.sent or domain not in link.receivers:
                continue
            out.append(
                Observation(
                    flow=s.flow,
                    host=s.host,
                    element=SYNC_ELEMENT,
                    detector=Detector.PATTERN,
                    confidence=link.confidence,
                    location=s.location,
                    party=fp.party(s.host),
                    value=link.value,
                    detail=f"the same id was {_handed(link)} {link.source} ({link.source_domain})",
                )
            )
    return out


def _handed(link: IdLink) -> str:
    if link.how == "redirect":
        return "passed on in a redirect by"
    if link.how == "cookie":
        return "set as a cookie by"
    return "also sent to"


def _org(host: str, db: TrackerDB) -> tuple[str, str]:
    domain = registrable_domain(host)
    return (db.attribute(host).organization or domain), domain


def _link(value: str, sightings: list[Sighting], db: TrackerDB, fp: FirstParty) -> IdLink | None:
    ordered = sorted(
        sightings, key=lambda s: (s.time if s.time is not None else float("inf"), s.flow)
    )
    orgs = {s.host: _org(s.host, db) for s in ordered}
    if len({o for o, _ in orgs.values()}) < 2:
        return None
    handed = [s for s in ordered if not s.sent]
    origin = handed[0] if handed else ordered[0]
    source, source_domain = orgs[origin.host]
    received = [s for s in ordered if s.sent and orgs[s.host][0] != source]
    # the app giving its own id to its own CDN is no sync; one third party receiving is enough
    received = [s for s in received if fp.party(s.host) is Party.THIRD]
    if not received:
        return None
    if origin.location.startswith(_HANDED_OUT_BY_REDIRECT) and any(
        s.flow > origin.flow for s in received
    ):
        how, confidence = "redirect", Confidence.HIGH
    elif not origin.sent and origin.location.startswith("set-cookie:"):
        how, confidence = "cookie", Confidence.HIGH
    else:
        how, confidence = "same value", Confidence.MEDIUM
    receivers = tuple(dict.fromkeys(orgs[s.host][1] for s in received))
    names = tuple(dict.fromkeys([source, *(orgs[s.host][0] for s in received)]))
    keys = Counter(s.key or s.location for s in received)
    return IdLink(
        digest=hashlib.sha256(value.encode("utf-8")).hexdigest()[:16],
        key=keys.most_common(1)[0][0],
        how=how,
        source=source,
        source_domain=source_domain,
        receivers=receivers,
        organizations=names,
        first_party=fp.party(origin.host) is Party.FIRST,
        sightings=tuple(ordered),
        confidence=confidence,
        value=value,
    )
