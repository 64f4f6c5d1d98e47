"""``edscan rules`` and ``edscan elements``: what edscan knows."""

from __future__ import annotations

import click

from edscan.cli.options import emit, output_options


@click.command("rules")
@output_options(("text", "json"), "text")
def rules_command(fmt: str, output: str | None) -> None:
    """List every rule edscan applies: id, base severity and title.

    With `-f json`, each rule also has its plain-language explanation, escalations, the
    concerns it touches, the provisions it may implicate, and the questions to ask the vendor.

    \b
    Example:
        edscan rules
        edscan rules -f json | jq '.rules[] | select(.severity == "critical") | .id'
    """

    from edscan.rules.listing import rules_json, rules_text

    text = rules_json() if fmt == "json" else rules_text()
    emit(text, output)


@click.command("elements")
@output_options(("text", "json", "markdown"), "text")
def elements_command(fmt: str, output: str | None) -> None:
    """List the student-data elements edscan detects: id, tier, COPPA flag, Exhibit B row.

    Ids are stable (reports and rules refer to them). Tiers: T0 technical, T1 identifier or
    contact, T2 education record, T3 sensitive. `coppa` marks what 16 CFR 312.2 names as
    personal information on its own.

    \b
    Example:
        edscan elements
        edscan elements -f json | jq '.elements[] | select(.tier == "T3") | .id'
    """
    import json

    from edscan.detect.taxonomy import CATEGORIES, ELEMENTS

    if fmt == "json":
        text = (
            json.dumps(
                {
                    "categories": [
                        {"id": c.id, "name": c.name, "exhibit_b": c.exhibit_b}
                        for c in CATEGORIES.values()
                    ],
                    "elements": [e.to_dict() for e in ELEMENTS.values()],
                },
                indent=2,
            )
            + "\n"
        )
    elif fmt == "markdown":
        lines = [
            "| id | element | category | tier | COPPA PI | Exhibit B row |",
            "|---|---|---|---|---|---|",
        ]
        for e in ELEMENTS.values():
            lines.append(
                f"| `{e.id}` | {e.name} | {CATEGORIES[e.category].name} | {e.tier} | "
                f"{'yes' if e.coppa_pi else 'no'} | {'' if e.in_exhibit_b else f'`{e.exhibit_b}`'} |"
            )
        text = "\n".join(lines) + "\n"
    else:
        lines = []
        for c in CATEGORIES.values():
            lines.append(f"{c.name}{'' if c.exhibit_b else '  (not in Exhibit B)'}")
            for eid in c.elements:
                e = ELEMENTS[eid]
                coppa = "coppa" if e.coppa_pi else "     "
                lines.append(f"  {e.id:<24} {e.tier}  {coppa}  {e.name}")
        text = "\n".join(lines) + "\n"
    emit(text, output)
