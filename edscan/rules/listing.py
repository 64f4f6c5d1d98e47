"""``edscan rules``: every rule as a table (text) or with its full metadata (JSON)."""

from __future__ import annotations

import json

from edscan.rules import RETIRED, RULES
from edscan.rules.law import CONCERNS, LAW_DATE, LAWS, NOT_YET_CHECKED

CITATION_NOTE = (
    "Findings say what was observed and which provisions it may be inconsistent with; traffic "
    "cannot show what a contract allows or how a recipient uses data. Subsection letters of "
    "CGS §10-234bb(c)/(d), §10-234cc(b) and §10-234dd follow secondary sources; check them "
    "against the statute before relying on them. Each citation says how far it was checked; "
    "the laws under not_yet_checked are not cited. A capture is read against the law in force "
    "on its date. This is not legal advice."
)


def rules_text() -> str:
    width = max(len(r.title) for r in RULES)
    lines = [f"{'ID':<7} {'SEVERITY':<9} {'TITLE':<{width}}".rstrip()]
    lines += [f"{r.id:<7} {r.severity.value:<9} {r.title}" for r in RULES]
    lines.append("")
    lines.append(f"{len(RULES)} rules. Severity shown is the base; findings may escalate it.")
    lines.append(
        "`edscan rules -f json` adds explanations, escalations, concerns, provisions and questions."
    )
    return "\n".join(lines) + "\n"


def rules_json() -> str:
    doc = {
        "schema": "edscan-rules/1",
        "rules": [r.to_dict() for r in RULES],
        "retired": sorted(RETIRED),
        "concerns": list(CONCERNS),
        "laws": list(LAWS),
        "note": CITATION_NOTE,
        # additive: the day the citations were reviewed, and what was not cited and why
        "law_date": LAW_DATE,
        "not_yet_checked": [
            {"law": law, "summary": summary, "sources": sources, "status": status}
            for law, summary, sources, status in NOT_YET_CHECKED
        ],
    }
    return json.dumps(doc, indent=2, ensure_ascii=False, sort_keys=True) + "\n"
