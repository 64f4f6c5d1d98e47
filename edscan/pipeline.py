"""The analysis pipeline: capture → flows → fields → observations → recipients → findings → score.

Flows are streamed one at a time; only observations and a compact summary of each flow outlive
it, so memory stays flat as captures grow.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from edscan import __version__
from edscan.capture.coverage import CoverageTally, coverage
from edscan.capture.source import open_source
from edscan.decode.flow import decode_flow
from edscan.detect.detector import Detector
from edscan.detect.id_values import IdValues
from edscan.detect.known_ids import known_ids, merge
from edscan.detect.persona import Persona
from edscan.models import (
    CaptureInfo,
    Field,
    Flow,
    FlowSummary,
    Observation,
    ScanResult,
    StoredItem,
)
from edscan.recipients import id_sync
from edscan.recipients.first_party import FirstParty
from edscan.recipients.recipient import build_recipients
from edscan.recipients.trackers import TrackerDB, load_trackers
from edscan.rules import run_rules
from edscan.rules.children import AGE_BAND_SETTING
from edscan.rules.law import day_of
from edscan.rules.score import score
from edscan.rules.signals import signals

if TYPE_CHECKING:
    from edscan.declared.declaration import Declaration


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def summarize(flow: Flow, kept: tuple[Field, ...]) -> FlowSummary:
    req = flow.request_body
    resp = flow.response_body
    return FlowSummary(
        index=flow.index,
        host=flow.host,
        method=flow.method,
        url=flow.url,
        scheme=flow.scheme,
        status=flow.status,
        phase=flow.phase,
        time=flow.request_start,
        request_bytes=req.size if req else 0,
        response_bytes=resp.size if resp else 0,
        tls_intercepted=flow.tls_intercepted,
        error=flow.error,
        signals=kept,
    )


def _settings(
    accept_noncommercial: bool, persona: Persona | None, start: float | None
) -> dict[str, object]:
    settings: dict[str, object] = {"accept_noncommercial": accept_noncommercial}
    if persona is not None:
        # the age the persona stands for on the capture's date: the teen rule (EDS027) reads it
        day = dt.date.fromisoformat(day_of(start))
        band = persona.age_band_on(day)
        if band is not None:
            settings[AGE_BAND_SETTING] = band
    return settings


def stored_items(
    records: Sequence[dict[str, Any]], db: TrackerDB, fp: FirstParty
) -> tuple[StoredItem, ...]:
    """The cookies and local storage of the last ``browser_storage`` record, attributed."""
    storage = [r for r in records if r.get("record") == "browser_storage"]
    if not storage:
        return ()
    last = storage[-1]
    items: list[StoredItem] = []
    for c in last.get("cookies", []):
        domain = str(c.get("domain", ""))
        items.append(
            StoredItem(
                kind="cookie",
                name=str(c.get("name", "")),
                domain=domain,
                organization=db.attribute(domain).organization if domain else None,
                party=fp.party(domain),
                lifetime_days=c.get("lifetime_days"),
                http_only=bool(c.get("http_only")),
                secure=bool(c.get("secure")),
                size=int(c.get("size", 0)),
            )
        )
    for item in last.get("local_storage", []):
        host = urlsplit(str(item.get("origin", ""))).hostname or ""
        items.append(
            StoredItem(
                kind="local_storage",
                name=str(item.get("name", "")),
                domain=host,
                organization=db.attribute(host).organization if host else None,
                party=fp.party(host),
                size=int(item.get("size", 0)),
            )
        )
    return tuple(items)


def scan(
    path: str | Path,
    *,
    persona: Persona | None = None,
    first_party: Sequence[str] = (),
    data_dir: Path | None = None,
    accept_noncommercial: bool = False,
    declared: Declaration | None = None,
    tls_keylog: Path | None = None,
) -> ScanResult:
    """Run the whole analysis on one capture (edscan, HAR or .mitm).

    ``declared`` (the vendor's agreement, ``edscan.declared.declaration.load_declaration``) adds the
    declared-against-observed comparison, and with it the ``declared`` rule family.
    ``tls_keylog`` is the TLS key log for a packet capture (pcap, pcapng).
    """
    source = open_source(path, tls_keylog=tls_keylog)
    detector = Detector(persona)
    summaries: list[FlowSummary] = []
    observations: list[Observation] = []
    limits: list[str] = []
    cut_off = 0  # flows the capture's stop cut off: analysed like any other, and counted
    ids = IdValues()
    endpoints = known_ids()
    tally = CoverageTally()  # what the coverage needs from whole flows (headers, body caps)
    for flow in source:
        if flow.cut_off:
            cut_off += 1
        decoded = decode_flow(flow, response_body=detector.learns)
        observations.extend(
            merge(detector.observe(flow, decoded), endpoints.observe(flow, decoded))
        )
        ids.add(flow, decoded)
        summaries.append(summarize(flow, signals(flow, decoded)))
        limits.extend(f"flow {flow.index}: {m}" for m in decoded.limits)
        tally.add(flow, len(decoded.limits))

    db = load_trackers(data_dir, accept_noncommercial=accept_noncommercial)
    fp = FirstParty.resolve(first_party, summaries, db)
    observations = [dataclasses.replace(o, party=fp.party(o.host)) for o in observations]
    # ID sync needs every flow's identifiers and who owns each host: known only now
    links = tuple(id_sync.links(ids, db, fp))
    observations = id_sync.attach(observations, links, fp)
    recipients = build_recipients(summaries, db, fp)
    stored = stored_items(getattr(source, "records", ()), db, fp)

    # recorded with edscan capture --tls-check: the TLS-check rule (EDS031) applies
    tls_checked = bool(getattr(source, "tls_check", False))
    times = [s.time for s in summaries if s.time is not None]
    phases = tuple(dict.fromkeys(s.phase for s in summaries if s.phase))
    p = Path(path)
    capture = CaptureInfo(
        path=str(p),
        sha256=file_sha256(p),
        format=source.format,
        flows=len(summaries),
        start=min(times) if times else None,
        end=max(times) if times else None,
        phases=phases,
        warnings=tuple(source.warnings) + tuple(db.problems) + tuple(limits),
        cut_off=cut_off,
        tls_check=tls_checked,
    )
    result = ScanResult(
        tool_version=__version__,
        capture=capture,
        first_party=fp.domains,
        first_party_inferred=fp.inferred,
        first_party_reason=fp.reason,
        first_party_basis=fp.basis,
        id_links=links,
        flows=tuple(summaries),
        observations=tuple(observations),
        recipients=tuple(recipients),
        lists=tuple(db.lists()),
        persona_fields=tuple(persona.fields()) if persona else (),
        settings=_settings(accept_noncommercial, persona, capture.start),
        # packet captures list their own gaps, with byte counts; the others are read from flows
        coverage=coverage(
            summaries, getattr(source, "gaps", ()), tally=tally, tls_checked=tls_checked
        ),
        browser_storage=stored,
    )
    if declared is not None:
        from edscan.declared.compare import compare  # only with --declared: ~20 ms of imports

        result = dataclasses.replace(result, declared=compare(declared, result))
    result = dataclasses.replace(result, findings=tuple(run_rules(result)))
    return dataclasses.replace(result, score=score(result))
