"""How renderers show the declared-vs-observed comparison (``--declared``).

Presentation only: ``view`` labels, orders and redacts ``result.declared`` for the report's
"Declared vs observed" section, ``text_lines`` gives the text summary's short block and
``record`` the JSON ``declared`` object. Nothing is matched or decided here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from edscan.declared.records import DeclaredComparison, RecipientCheck
from edscan.models import ScanResult
from edscan.report._common import element_info
from edscan.report.redact import Redactor

MAX_ROWS = 80
MATCHED_BY = {"domain": "by domain", "organization": "by company", "parent": "by parent company"}


@dataclass(frozen=True, slots=True, kw_only=True)
class Chip:
    text: str
    note: str
    css: str  # t0..t3, tx: tier classes of the report's stylesheet


@dataclass(frozen=True, slots=True, kw_only=True)
class PartyRow:
    name: str
    domain: str
    categories: str
    listed: bool
    listed_as: str
    matched_by: str
    purpose: str
    note: str
    elements: tuple[Chip, ...]
    flows: int


@dataclass(frozen=True, slots=True, kw_only=True)
class ElementRow:
    element: Chip
    element_id: str
    row: str  # the Exhibit B row it falls under, when not itself
    recipients: str
    third_party: bool
    confidence: str
    flows: int


@dataclass(frozen=True, slots=True, kw_only=True)
class DeclaredView:
    source: str
    sha256: str
    vendor: str
    agreement: str
    elements_compared: bool
    parties_compared: bool
    declared_elements: int
    declared_parties: int
    summary: str
    undeclared_parties: tuple[PartyRow, ...]
    listed_parties: tuple[PartyRow, ...]
    more_parties: int
    undeclared_elements: tuple[ElementRow, ...]
    more_elements: int
    not_observed: tuple[str, ...]
    parties_not_seen: tuple[str, ...]


def chip(element_id: str, red: Redactor) -> Chip:
    info = element_info(element_id)
    css = f"t{info.tier}" if info.tier in (0, 1, 2, 3) else "tx"
    return Chip(text=red.text(info.label), note=red.text(f"{element_id}; {info.category}"), css=css)


def summary(d: DeclaredComparison) -> str:
    """One sentence: what the comparison found."""
    text = "; ".join(summary_parts(d))
    return text[0].upper() + text[1:] + "."


def summary_parts(d: DeclaredComparison) -> list[str]:
    """What the comparison found: one clause for third parties, one for data elements."""
    parts = []
    if d.parties is None:
        parts.append("third parties were not compared (the declaration lists none)")
    elif not d.recipients:
        parts.append("the app contacted no third party")
    else:
        undeclared = d.undeclared_recipients
        with_data = sum(1 for r in undeclared if r.received_data)
        total = f"{len(d.recipients)} third part{'y' if len(d.recipients) == 1 else 'ies'}"
        if not undeclared:
            parts.append(f"all {total} contacted are listed in the agreement")
        else:
            parts.append(
                f"{len(undeclared)} of the {total} contacted "
                f"{'is' if len(undeclared) == 1 else 'are'} not listed in the agreement "
                f"({with_data} received student data)"
            )
    if d.elements is None:
        parts.append("data elements were not compared (the declaration gives no Exhibit B)")
    elif not d.undeclared_elements:
        parts.append("every data element detected is declared in Exhibit B")
    else:
        n = len(d.undeclared_elements)
        parts.append(
            f"{n} data element{'' if n == 1 else 's'} sent "
            f"{'is' if n == 1 else 'are'} not declared in Exhibit B"
        )
    return parts


def view(result: ScanResult, red: Redactor) -> DeclaredView | None:
    d = result.declared
    if d is None:
        return None
    by_domain = {r.domain: r for r in result.recipients}

    def who(domain: str) -> str:
        r = by_domain.get(domain)
        if r is not None and r.organization:
            return f"{red.text(r.organization)} ({red.text(domain)})"
        return red.text(domain)

    def party_row(rc: RecipientCheck) -> PartyRow:
        return PartyRow(
            name=red.text(rc.organization or rc.domain),
            domain=red.text(rc.domain),
            categories=red.text(", ".join(rc.categories)) or "not classified",
            listed=rc.declared,
            listed_as=red.text(rc.declared_as or ""),
            matched_by=MATCHED_BY.get(rc.matched_by or "", ""),
            purpose=red.text(rc.purpose),
            note=red.text(rc.note),
            elements=tuple(chip(e, red) for e in rc.elements),
            flows=rc.flows,
        )

    # not listed first, those that received data first among them
    undeclared = sorted(d.undeclared_recipients, key=lambda r: (not r.received_data, r.domain))
    listed = [r for r in d.recipients if r.declared]
    elements = [
        ElementRow(
            element=chip(u.element, red),
            element_id=red.text(u.element),
            row="" if u.exhibit_b == u.element else red.text(element_info(u.exhibit_b).label),
            recipients=", ".join(who(x) for x in u.recipients[:6])
            + (f" and {len(u.recipients) - 6} more" if len(u.recipients) > 6 else ""),
            third_party=u.third_party,
            confidence=u.confidence.value,
            flows=u.flows,
        )
        for u in d.undeclared_elements
    ]
    return DeclaredView(
        source=red.text(d.source),
        sha256=red.text(d.sha256),
        vendor=red.text(d.vendor),
        agreement=red.text(d.agreement),
        elements_compared=d.elements is not None,
        parties_compared=d.parties is not None,
        declared_elements=len(d.elements or ()),
        declared_parties=len(d.parties or ()),
        summary=red.text(summary(d)),
        undeclared_parties=tuple(party_row(r) for r in undeclared[:MAX_ROWS]),
        listed_parties=tuple(party_row(r) for r in listed[:MAX_ROWS]),
        more_parties=max(0, len(undeclared) - MAX_ROWS) + max(0, len(listed) - MAX_ROWS),
        undeclared_elements=tuple(elements[:MAX_ROWS]),
        more_elements=max(0, len(elements) - MAX_ROWS),
        not_observed=tuple(red.text(element_info(e).label) for e in d.not_observed),
        parties_not_seen=tuple(red.text(p) for p in d.parties_not_seen),
    )


def text_lines(result: ScanResult, red: Redactor, limit: int = 8) -> list[str]:
    """The text summary's block (empty without a declaration)."""
    d = result.declared
    if d is None:
        return []
    by_domain = {r.domain: r for r in result.recipients}
    who = d.vendor or "the vendor"
    lines = [f"Declared vs observed ({red.text(d.source)}, {red.text(who)}):"]
    lines += [f"  {red.text(part[0].upper() + part[1:])}." for part in summary_parts(d)]
    undeclared = sorted(d.undeclared_recipients, key=lambda r: (not r.received_data, r.domain))
    for rc in undeclared[:limit]:
        name = red.text(rc.organization or rc.domain)
        if rc.organization:
            name += f" ({red.text(rc.domain)})"
        got = ", ".join(rc.elements) if rc.elements else "contacted, no student data detected"
        lines.append(f"  not listed: {name}: {red.text(got)}")
    if len(undeclared) > limit:
        lines.append(f"  … and {len(undeclared) - limit} more third parties not listed")
    for u in d.undeclared_elements[:limit]:
        to = ", ".join(
            red.text((by_domain[x].organization or x) if x in by_domain else x)
            for x in u.recipients[:3]
        )
        lines.append(
            f"  not in Exhibit B: {u.element} ({red.text(element_info(u.element).label)}) to {to}"
        )
    if len(d.undeclared_elements) > limit:
        lines.append(f"  … and {len(d.undeclared_elements) - limit} more undeclared elements")
    if d.not_observed or d.parties_not_seen:
        lines.append(
            f"  declared but not seen in this session: {_count(len(d.not_observed), 'element')}, "
            f"{_count(len(d.parties_not_seen), 'third party', 'third parties')} "
            "(traffic cannot prove absence)"
        )
    return lines


def _count(n: int, one: str, many: str = "") -> str:
    return f"{n} {one if n == 1 else (many or one + 's')}"


def record(d: DeclaredComparison, red: Redactor) -> dict[str, Any]:
    """The JSON ``declared`` object: the comparison as data, strings redacted."""
    doc = d.to_dict()
    doc["source"] = red.text(d.source)
    doc["summary"] = red.text(summary(d))
    redacted: dict[str, Any] = _redact_strings(doc, red)
    return redacted


def _redact_strings(value: Any, red: Redactor) -> Any:
    if isinstance(value, str):
        return red.text(value)
    if isinstance(value, dict):
        return {k: _redact_strings(v, red) for k, v in value.items()}
    if isinstance(value, list):
        return [_redact_strings(v, red) for v in value]
    return value
