"""``json``: the whole result, schema ``edscan-result/1``, sorted and stable.

The schema ships as ``reports/edscan-result-1.schema.json``; every field is documented in the
README. Keys are sorted and lists are in a fixed order, so two runs on one capture give the same
bytes and ``diff`` shows real changes only.
"""

from __future__ import annotations

import json
import math
from typing import Any

from edscan.models import ScanResult
from edscan.report._common import (
    SCHEMA,
    TOOL,
    finding_record,
    observation_record,
    recipient_record,
    sorted_findings,
    sorted_observations,
    sorted_recipients,
)
from edscan.report._declared import record as declared_record
from edscan.report._grouping import group_keys
from edscan.report.redact import Redactor


def document(result: ScanResult, *, reveal: bool = False) -> dict[str, Any]:
    """The JSON document as Python data (what ``render`` serialises)."""
    red = Redactor.for_result(result, reveal=reveal)
    capture = result.capture.to_dict()
    capture["path"] = red.text(result.capture.path)
    capture["phases"] = [red.phase(p) for p in result.capture.phases]
    capture["warnings"] = [red.text(w) for w in result.capture.warnings]
    settings = {str(k): _jsonable(v, red) for k, v in result.settings.items()}
    settings["redacted"] = not reveal
    groups = group_keys(result.findings, result.recipients)
    doc: dict[str, Any] = {
        "schema": SCHEMA,
        "tool": {"name": TOOL, "version": result.tool_version},
        "capture": capture,
        "first_party": _first_party(result, red),
        "lists": [
            li.to_dict() for li in sorted(result.lists, key=lambda li: (li.name, li.version))
        ],
        "observations": _observations(result, red),
        "recipients": [recipient_record(r, red) for r in sorted_recipients(result.recipients)],
        "findings": [
            {**finding_record(f, red), "group": red.text(groups[id(f)])}
            for f in sorted_findings(result.findings)
        ],
        "score": result.score.to_dict() if result.score is not None else None,
        "persona_fields": sorted(result.persona_fields),
        # additive: identifiers seen at several organisations (ID sync); never the values
        "id_syncs": [link.to_dict() for link in result.id_links],
        "settings": settings,
    }
    if result.coverage is not None:
        cov = result.coverage.to_dict()
        cov["summary"] = red.text(cov["summary"])
        for item in cov["gaps"] + cov["http3_quiet"]:
            item["host"] = red.text(item["host"])
        if "tls_check" in cov:  # hosts, like the gaps': redacted as any captured text
            cov["tls_check"] = {k: [red.text(h) for h in v] for k, v in cov["tls_check"].items()}
        doc["coverage"] = cov
    if result.browser_storage:  # only for --browser captures: earlier outputs stay as they were
        doc["browser_storage"] = [
            {**s.to_dict(), "name": red.text(s.name)} for s in result.browser_storage
        ]
    if result.declared is not None:  # only with --declared: earlier outputs stay as they were
        doc["declared"] = declared_record(result.declared, red)
    return doc


def _observations(result: ScanResult, red: Redactor) -> list[dict[str, Any]]:
    """Observation records, each with the time and phase of its request (for datasets)."""
    flows = {s.index: s for s in result.flows}
    out = []
    for o in sorted_observations(result.observations):
        d = observation_record(o, red)
        flow = flows.get(o.flow)
        d["time"] = flow.time if flow is not None else None
        d["phase"] = red.phase(flow.phase) if flow is not None and flow.phase else None
        out.append(d)
    return out


def _first_party(result: ScanResult, red: Redactor) -> dict[str, Any]:
    out: dict[str, Any] = {
        "domains": sorted(result.first_party),
        "inferred": result.first_party_inferred,
    }
    basis = result.first_party_basis
    if basis is not None:  # additive: how the first party was decided, and how sure it is
        extra = basis.to_dict()
        extra["reason"] = red.text(extra["reason"])
        out.update(extra)
    return out


def render(result: ScanResult, *, reveal: bool = False) -> str:
    return (
        json.dumps(
            document(result, reveal=reveal),
            sort_keys=True,
            indent=2,
            ensure_ascii=False,
            allow_nan=False,
        )
        + "\n"
    )


def _jsonable(value: Any, red: Redactor) -> Any:
    """Settings values as plain JSON (strings redacted; anything exotic as its text)."""
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, str):
        return red.text(value)
    if isinstance(value, dict):
        return {str(k): _jsonable(v, red) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = [_jsonable(v, red) for v in value]
        return sorted(items, key=str) if isinstance(value, set | frozenset) else items
    return red.text(str(value))
