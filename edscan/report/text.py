"""``text``: the terminal summary (the default of ``edscan scan``).

Grade and verdict, the most serious findings, the third-party recipients and the counts, in
plain text that fits an 100-column terminal. Everything else is in the JSON and the report.
"""

from __future__ import annotations

import textwrap

from edscan.models import Party, Recipient, ScanResult
from edscan.report._common import (
    elements_by_domain,
    mode_note,
    severity_counts,
    span,
)
from edscan.report._declared import text_lines as declared_lines
from edscan.report._grouping import company_key, group_findings
from edscan.report.redact import Redactor

TOP_FINDINGS = 10
TOP_RECIPIENTS = 12
WIDTH = 100


def render(result: ScanResult, *, reveal: bool = False) -> str:
    red = Redactor.for_result(result, reveal=reveal)
    cap = result.capture
    lines: list[str] = []
    add = lines.append

    add(_fit(f"edscan {red.text(result.tool_version)}: privacy risk summary"))
    add(_fit(f"Capture: {red.text(cap.path)}"))
    add(
        _fit(
            f"         {red.text(cap.format)}, {cap.flows:,} flows, {span(cap.start, cap.end)}, "
            f"sha256 {red.text(cap.sha256[:16])}…"
        )
    )
    if cap.cut_off:
        add(
            _fit(
                f"         {cap.cut_off:,} flows cut off by the stop (responses missing or partial)"
            )
        )
    fp = red.text(", ".join(result.first_party)) or "none identified"
    add(_fit(f"First party: {fp}{' (inferred)' if result.first_party_inferred else ''}"))
    basis = result.first_party_basis
    if result.first_party_inferred and basis is not None:
        sure = f"{basis.confidence.value} confidence" if basis.confidence else "not decided"
        add(_fit(f"             {sure}: {red.text(basis.reason)}"))
    if result.id_links:
        synced = {d for k in result.id_links for d in (k.source_domain, *k.receivers)}
        add(
            _fit(
                f"ID sync: {len(result.id_links)} identifier"
                f"{'s' if len(result.id_links) != 1 else ''} shared between "
                f"{len(synced)} companies (see id_syncs in -f json)"
            )
        )
    add("")

    if result.score is not None:
        s = result.score
        add(f"Grade {s.grade}   risk {s.value}/100   verdict: {s.verdict}")
    else:
        add("Grade: not scored")
    add("")

    # one line per rule and company, as the HTML report shows them (the JSON keeps each finding)
    groups = group_findings(result.findings, result.recipients)
    counts = severity_counts(g.lead for g in groups)
    summary = ", ".join(f"{n} {sev}" for sev, n in counts.items())
    raised = f"; {len(result.findings)} in the JSON" if len(groups) != len(result.findings) else ""
    add(_fit(f"Findings: {len(groups)} by rule and company ({summary}){raised}"))
    orgs = {r.domain: r.organization or r.domain for r in result.recipients}
    for g in groups[:TOP_FINDINGS]:
        f = g.lead
        names = list(dict.fromkeys(orgs.get(d, d) for d in g.domains))
        who = ", ".join(names[:3]) + (" …" if len(names) > 3 else "")
        domains = ", ".join(g.domains[:4]) + (" …" if len(g.domains) > 4 else "")
        add(_fit(f"  {f.severity.value.upper():<8} {f.rule}  {red.text(f.title)}"))
        where = f"{red.text(who)} ({red.text(domains)})" if who else ""
        add(_fit(f"{'':<19}{f.confidence.value} confidence" + (f" · {where}" if where else "")))
    if len(groups) > TOP_FINDINGS:
        add(f"  … and {len(groups) - TOP_FINDINGS:,} more (all of them: -f json or the report)")
    add("")

    # one line per company, its domains together (as the report's recipients table)
    elements = elements_by_domain(result)
    companies: dict[str, list[Recipient]] = {}
    for r in result.recipients:
        if r.party is Party.THIRD:
            companies.setdefault(company_key(r), []).append(r)

    def received(rs: list[Recipient]) -> list[str]:
        return list(dict.fromkeys(e for r in rs for e in elements.get(r.domain, ())))

    third = sorted(
        companies.values(),
        key=lambda rs: (-len(received(rs)), -sum(r.flows for r in rs), company_key(rs[0])),
    )
    n_domains = sum(len(rs) for rs in third)
    add(
        f"Third-party recipients: {len(third)} compan{'y' if len(third) == 1 else 'ies'}, "
        f"{n_domains} of "
        f"{len(result.recipients)} domains"
    )
    for rs in third[:TOP_RECIPIENTS]:
        add(_fit(_company_line(rs, received(rs), red)))
    if len(third) > TOP_RECIPIENTS:
        add(f"  … and {len(third) - TOP_RECIPIENTS:,} more")
    add("")

    declared = declared_lines(result, red)  # only with --declared
    if declared:
        lines.extend(_fit(line) for line in declared)
        add("")

    to_third = sum(1 for o in result.observations if o.party is Party.THIRD)
    distinct = len({o.element for o in result.observations})
    add(
        f"Observations: {len(result.observations):,} ({to_third:,} to third parties), "
        f"{distinct} data elements, {cap.flows:,} flows"
    )
    if result.browser_storage:
        add("Browser storage at the end (--browser; names only, never values):")
        for item in result.browser_storage:
            life = "session" if item.lifetime_days is None else f"{item.lifetime_days:g} days"
            life = life if item.kind == "cookie" else "local storage"
            owner = f"{red.text(item.organization)}, " if item.organization else ""
            add(
                _fit(
                    f"  {red.text(item.name)} · {owner}{red.text(item.domain)} ({item.party.value}) · {life}"
                )
            )
    if cap.warnings:
        add(f"Capture warnings: {len(cap.warnings)} (see the report's methodology section)")
    lines.extend(textwrap.wrap(mode_note(reveal), WIDTH))
    return "\n".join(line.translate(_CONTROLS) for line in lines) + "\n"


def _company_line(rs: list[Recipient], elements: list[str], red: Redactor) -> str:
    rs = sorted(rs, key=lambda r: (-r.flows, r.domain))
    name = red.text(rs[0].organization or rs[0].domain)
    if rs[0].organization:
        more = f" +{len(rs) - 1}" if len(rs) > 1 else ""
        name += f" ({red.text(rs[0].domain)}{more})"
    cats = list(dict.fromkeys(c for r in rs for c in r.categories))
    category = red.text(", ".join(cats[:2])) or "not classified"
    flows = sum(r.flows for r in rs)
    data = f"{len(elements)} data element{'s' if len(elements) != 1 else ''}" if elements else ""
    return f"  {_cut(name, 40):<40} {_cut(category, 26):<26} {flows:>7,} flows  {data}"


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


# Captured text may carry terminal escape sequences: show control characters as "?".
_CONTROLS = {c: "?" for c in (*range(0x00, 0x20), *range(0x7F, 0xA0))}


def _fit(line: str) -> str:
    line = line.translate(_CONTROLS)
    return line if len(line) <= WIDTH else line[: WIDTH - 1] + "…"
