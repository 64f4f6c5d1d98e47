"""``sarif``: SARIF 2.1.0 for CI and code-scanning dashboards.

One run; one rule per rule id among the findings; one result per finding with its level from the
severity, each evidence flow as a location in the capture (the flow index is the logical
location ``flows[N]``), and the finding's fingerprint as a partial fingerprint so dashboards
track a finding across runs.
"""

from __future__ import annotations

import json
from pathlib import PurePosixPath, PureWindowsPath
from typing import Any

from edscan.models import Finding, ScanResult, Severity
from edscan.report._common import TOOL, finding_record, mode_note, sorted_findings
from edscan.report.redact import Redactor

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
INFORMATION_URI = "https://pypi.org/project/edscan/"
MAX_LOCATIONS = 20  # per result; the rest are counted in properties

LEVEL = {
    Severity.CRITICAL: "error",
    Severity.HIGH: "error",
    Severity.MEDIUM: "warning",
    Severity.LOW: "note",
    Severity.INFO: "note",
}
# The numeric scale code-scanning dashboards sort by (0.0 - 10.0).
SECURITY_SEVERITY = {
    Severity.CRITICAL: "9.5",
    Severity.HIGH: "8.0",
    Severity.MEDIUM: "5.5",
    Severity.LOW: "3.0",
    Severity.INFO: "0.0",
}


def render(result: ScanResult, *, reveal: bool = False) -> str:
    return json.dumps(document(result, reveal=reveal), indent=2, ensure_ascii=False) + "\n"


def document(result: ScanResult, *, reveal: bool = False) -> dict[str, Any]:
    red = Redactor.for_result(result, reveal=reveal)
    findings = sorted_findings(result.findings)
    rule_ids: list[str] = []
    rules: list[dict[str, Any]] = []
    for f in findings:
        if f.rule not in rule_ids:
            rule_ids.append(f.rule)
            rules.append(_rule(f, red))
    uri = _uri(red.text(result.capture.path))
    results = [_result(f, rule_ids.index(f.rule), uri, red) for f in findings]
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": TOOL,
                "version": result.tool_version,
                "semanticVersion": result.tool_version,
                "informationUri": INFORMATION_URI,
                "rules": rules,
            }
        },
        "artifacts": [
            {
                "location": {"uri": uri},
                "hashes": {"sha-256": result.capture.sha256},
                "description": {
                    "text": f"{result.capture.format} capture, {result.capture.flows} flows"
                },
            }
        ],
        "results": results,
        "columnKind": "unicodeCodePoints",
        "properties": {
            "redacted": not reveal,
            "mode": mode_note(reveal),
            "score": result.score.to_dict() if result.score is not None else None,
            "firstParty": sorted(result.first_party),
            "firstPartyInferred": result.first_party_inferred,
        },
    }
    return {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [run]}


def _rule(f: Finding, red: Redactor) -> dict[str, Any]:
    questions = [red.text(q) for q in f.questions]
    help_text = "Questions to ask the vendor:\n" + "\n".join(f"- {q}" for q in questions)
    return {
        "id": f.rule,
        "name": f.rule,
        "shortDescription": {"text": red.text(f.title)},
        "fullDescription": {"text": red.text(f.title)},
        "help": {"text": help_text if questions else red.text(f.title)},
        "defaultConfiguration": {"level": LEVEL[f.severity]},
        "properties": {
            "tags": ["privacy", *f.concerns],
            "security-severity": SECURITY_SEVERITY[f.severity],
            "provisions": list(f.provisions),
        },
    }


def _result(f: Finding, rule_index: int, uri: str, red: Redactor) -> dict[str, Any]:
    record = finding_record(f, red)
    evidence = record["evidence"]
    locations = []
    for ev in evidence[:MAX_LOCATIONS]:
        locations.append(
            {
                "physicalLocation": {"artifactLocation": {"uri": uri}},
                "logicalLocations": [
                    {
                        "name": f"flow {ev['flow']}",
                        "fullyQualifiedName": f"flows[{ev['flow']}]",
                        "kind": "object",
                    }
                ],
                "message": {"text": f"{ev['method']} {ev['url']} ({ev['location'] or 'request'})"},
                "properties": {
                    "flow": ev["flow"],
                    "method": ev["method"],
                    "url": ev["url"],
                    "location": ev["location"],
                    "encodings": ev["encodings"],
                    "phase": ev["phase"],
                },
            }
        )
    if not locations:
        locations.append({"physicalLocation": {"artifactLocation": {"uri": uri}}})
    return {
        "ruleId": f.rule,
        "ruleIndex": rule_index,
        "level": LEVEL[f.severity],
        "message": {"text": record["summary"] or record["title"]},
        "locations": locations,
        "partialFingerprints": {"edscanFingerprint/v1": f.fingerprint or f.rule},
        "properties": {
            "severity": f.severity.value,
            "confidence": f.confidence.value,
            "elements": list(f.elements),
            "recipients": list(f.recipients),
            "concerns": list(f.concerns),
            "provisions": list(f.provisions),
            # each provision as read on the capture's date, with its date, source and status
            "citations": record["citations"],
            "occurrences": max(f.occurrences, len(evidence)),
            "evidenceNotListed": max(
                0, max(f.occurrences, len(evidence)) - len(evidence[:MAX_LOCATIONS])
            ),
        },
    }


def _uri(path: str) -> str:
    """The capture path as a SARIF artifact URI (absolute paths as ``file://``)."""
    if PureWindowsPath(path).drive:
        return PureWindowsPath(path).as_uri()
    p = PurePosixPath(path)
    if p.is_absolute():
        return p.as_uri()
    from urllib.parse import quote

    return quote(p.as_posix(), safe="/")
