"""``csv``: three tables (findings, recipients, observations) with fixed headers.

``render`` returns the findings table (what ``-f csv`` prints); ``tables`` returns all three.
Written to a file, ``-o NAME.csv`` becomes ``NAME.findings.csv``, ``NAME.recipients.csv`` and
``NAME.observations.csv`` side by side (see ``edscan.report.write``). Lists inside a cell are
joined with ``; ``; times are ISO 8601 UTC. Each row says whether it was redacted, and cells
that a spreadsheet would run as a formula are prefixed with ``'``: captures are hostile input.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import Any

from edscan.models import ScanResult
from edscan.report._common import (
    elements_by_domain,
    finding_record,
    iso,
    observation_record,
    recipient_record,
    sorted_findings,
    sorted_observations,
    sorted_recipients,
)
from edscan.report.redact import Redactor

TABLES = ("findings", "recipients", "observations")

FINDINGS_COLUMNS = (
    "rule",
    "severity",
    "confidence",
    "title",
    "summary",
    "elements",
    "recipients",
    "occurrences",
    "evidence_count",
    "flows",
    "first_evidence_url",
    "concerns",
    "provisions",
    "questions",
    "fingerprint",
    "redacted",
)
RECIPIENTS_COLUMNS = (
    "domain",
    "organization",
    "parent",
    "categories",
    "party",
    "sdk",
    "hosts",
    "elements",
    "flows",
    "first_seen",
    "last_seen",
    "sources",
    "redacted",
)
OBSERVATIONS_COLUMNS = (
    "flow",
    "host",
    "element",
    "detector",
    "confidence",
    "location",
    "encodings",
    "persona_field",
    "party",
    "detail",
    "value",
    "redacted",
)
COLUMNS = {
    "findings": FINDINGS_COLUMNS,
    "recipients": RECIPIENTS_COLUMNS,
    "observations": OBSERVATIONS_COLUMNS,
}
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def render(result: ScanResult, *, reveal: bool = False) -> str:
    return tables(result, reveal=reveal)["findings"]


def tables(result: ScanResult, *, reveal: bool = False) -> dict[str, str]:
    """The three tables as CSV text, keyed ``findings``, ``recipients``, ``observations``."""
    red = Redactor.for_result(result, reveal=reveal)
    flag = "false" if reveal else "true"

    findings = []
    for f in sorted_findings(result.findings):
        d = finding_record(f, red)
        findings.append(
            {
                **d,
                "evidence_count": len(d["evidence"]),
                "flows": sorted({e["flow"] for e in d["evidence"]}),
                "first_evidence_url": d["evidence"][0]["url"] if d["evidence"] else "",
                "redacted": flag,
            }
        )

    elements = elements_by_domain(result)
    recipients = []
    for r in sorted_recipients(result.recipients):
        d = recipient_record(r, red)
        d["elements"] = elements.get(r.domain, [])
        d["first_seen"] = iso(r.first_seen)
        d["last_seen"] = iso(r.last_seen)
        d["redacted"] = flag
        recipients.append(d)

    observations = [
        {**observation_record(o, red), "redacted": flag}
        for o in sorted_observations(result.observations)
    ]
    return {
        "findings": _table(FINDINGS_COLUMNS, findings),
        "recipients": _table(RECIPIENTS_COLUMNS, recipients),
        "observations": _table(OBSERVATIONS_COLUMNS, observations),
    }


def _table(columns: Sequence[str], rows: Iterable[dict[str, Any]]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_cell(row.get(c)) for c in columns])
    return buf.getvalue()


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    text = "; ".join(_cell(v) for v in value) if isinstance(value, list | tuple) else str(value)
    if isinstance(value, str) and text.startswith(_FORMULA_START):
        return "'" + text
    return text
