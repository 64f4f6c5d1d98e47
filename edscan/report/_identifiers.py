"""The report's identifier view: which identifiers reached which companies, and the ID syncs.

Read from the observations (what each identifier is, from the endpoint knowledge or the element's
name) and from ``ScanResult.id_links``; nothing is recomputed. Values never appear: a row names
the identifier and its recipients, not the id.
"""

from __future__ import annotations

from dataclasses import dataclass

from edscan.models import Confidence, Party, ScanResult
from edscan.report._common import element_info, endpoint_context
from edscan.report.redact import Redactor

MAX_ROWS = 40
MAX_NAMES = 6
_SYNC = "dev.sync_id"
_IDENTIFIER_ELEMENTS = ("sid.provider", "net.ip")


@dataclass(frozen=True, slots=True, kw_only=True)
class IdentifierRow:
    what: str  # "Google Analytics client id (browser) (Google Analytics)"
    element: str  # the element's name
    recipients: str  # "doubleclick.net, adnxs.com"
    confidence: str
    flows: int


@dataclass(frozen=True, slots=True, kw_only=True)
class SyncRow:
    source: str  # "Google LLC (doubleclick.net)"
    receivers: str
    how: str
    key: str
    confidence: str
    flows: int


@dataclass(frozen=True, slots=True, kw_only=True)
class IdentifierView:
    identifiers: tuple[IdentifierRow, ...]
    more_identifiers: int
    syncs: tuple[SyncRow, ...]
    more_syncs: int
    # what the tracking endpoints' documented fields told them about the request: the page
    # viewed, the referrer, the event, the screen, the language, the consent state
    context: tuple[IdentifierRow, ...] = ()
    more_context: int = 0


def _is_identifier(element: str) -> bool:
    return (element.startswith("dev.") and element != _SYNC) or element in _IDENTIFIER_ELEMENTS


def _names(items: list[str]) -> str:
    shown = ", ".join(items[:MAX_NAMES])
    return shown + (f" and {len(items) - MAX_NAMES} more" if len(items) > MAX_NAMES else "")


def view(result: ScanResult, red: Redactor) -> IdentifierView | None:
    """The identifier rows (third parties only), or None when there is nothing to show."""
    groups: dict[tuple[str, str], tuple[dict[str, None], set[int], Confidence]] = {}
    context: dict[tuple[str, str], tuple[dict[str, None], set[int], Confidence]] = {}
    for o in result.observations:
        if o.party is Party.THIRD and endpoint_context(o):
            hosts, flows, best = context.get((o.element, o.detail), ({}, set(), Confidence.LOW))
            hosts[o.host] = None
            flows.add(o.flow)
            context[(o.element, o.detail)] = (hosts, flows, max(best, o.confidence))
            continue
        if o.party is not Party.THIRD or not _is_identifier(o.element):
            continue
        name = element_info(o.element).label
        # the endpoint knowledge's words when it spoke ("… (Vendor)"), else the element's name
        what = o.detail if o.detail.endswith(")") and o.detector.value == "pattern" else name
        key = (o.element, what)
        hosts, flows, best = groups.get(key, ({}, set(), Confidence.LOW))
        hosts[o.host] = None
        flows.add(o.flow)
        groups[key] = (hosts, flows, max(best, o.confidence))
    rows = _rows(groups, red)
    context_rows = _rows(context, red)
    syncs = [
        SyncRow(
            source=red.text(f"{k.source} ({k.source_domain})"),
            receivers=red.text(_names(list(k.receivers))),
            how=k.how,
            key=red.text(k.key),
            confidence=k.confidence.value,
            flows=len({s.flow for s in k.sightings}),
        )
        for k in result.id_links
    ]
    if not rows and not syncs and not context_rows:
        return None
    return IdentifierView(
        identifiers=tuple(rows[:MAX_ROWS]),
        more_identifiers=max(0, len(rows) - MAX_ROWS),
        syncs=tuple(syncs[:MAX_ROWS]),
        more_syncs=max(0, len(syncs) - MAX_ROWS),
        context=tuple(context_rows[:MAX_ROWS]),
        more_context=max(0, len(context_rows) - MAX_ROWS),
    )


def _rows(
    groups: dict[tuple[str, str], tuple[dict[str, None], set[int], Confidence]], red: Redactor
) -> list[IdentifierRow]:
    return sorted(
        (
            IdentifierRow(
                what=red.text(what),
                element=red.text(element_info(element).label),
                recipients=red.text(_names(list(hosts))),
                confidence=best.value,
                flows=len(flows),
            )
            for (element, what), (hosts, flows, best) in groups.items()
        ),
        key=lambda r: (-Confidence(r.confidence).rank, -r.flows, r.what),
    )
