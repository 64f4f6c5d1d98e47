"""Declared against observed: the vendor's agreement (``--declared``) beside the capture.

A pure stage after the recipients (and before the rules, which turn its gaps into findings):

- **data elements**: every element observed (sent to anyone, the app's own servers included)
  that the declared Exhibit B does not cover. An element is covered when it is declared itself,
  or the Exhibit B row it falls under is (declaring "Other application technology meta data"
  covers device identifiers, which Exhibit B does not name). Session tokens and sign-in codes
  sent to the app's own servers are how sign-in works, not a data element it collects, and a
  third party's own cookie or the app's API key are not the student's; both are left out, as
  in the rules.
- **third parties**: every third-party recipient, matched against the declared parties by
  registrable domain (a declared domain covers its subdomains; a declared host covers its
  registrable domain), then by organisation, then by parent. Names are compared without case,
  punctuation, spaces or legal forms (Inc., LLC, GmbH …); a name in brackets counts as an
  alias ("The Rocket Science Group LLC (Mailchimp)").
- **declared but not observed**: information only. Traffic cannot prove absence: the session
  may not have exercised what sends it.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Sequence
from functools import lru_cache

from edscan.declared.declaration import Declaration, normalise_domain
from edscan.declared.records import (
    DeclaredComparison,
    DeclaredParty,
    RecipientCheck,
    UndeclaredElement,
)
from edscan.detect import taxonomy
from edscan.models import (
    Confidence,
    Observation,
    Recipient,
    ScanResult,
)
from edscan.recipients.domains import registrable_domain
from edscan.rules import vocab
from edscan.rules.base import Context

# legal forms dropped from the end of an organisation's name (after punctuation is removed
# and runs of single letters are joined: "S.p.A." -> "spa", "B.V." -> "bv")
# fmt: off
LEGAL_FORMS = frozenset((
    "inc", "incorporated", "llc", "lllp", "llp", "lp", "ltd", "limited", "corp", "corporation",
    "co", "company", "plc", "gmbh", "ag", "kg", "sa", "sas", "sarl", "spa", "srl", "bv", "nv",
    "oy", "ab", "as", "asa", "se", "pte", "pty", "kk", "ulc",
))
# fmt: on
_PARENS = re.compile(r"\(([^()]*)\)")
_WORD = re.compile(r"[^\W_]+")


def compare(declaration: Declaration, result: ScanResult) -> DeclaredComparison:
    """The declaration against ``result`` (its findings and score are not read)."""
    ctx = Context(result)
    collected = [o for o in result.observations if _collected(ctx, o)]

    undeclared: tuple[UndeclaredElement, ...] = ()
    not_observed: tuple[str, ...] = ()
    if declaration.elements is not None:
        declared = frozenset(declaration.elements)
        undeclared = _undeclared_elements(ctx, collected, declared)
        seen_rows = {e for o in collected for e in (o.element, exhibit_row(o.element))}
        not_observed = tuple(e for e in declaration.elements if e not in seen_rows)

    checks: tuple[RecipientCheck, ...] = ()
    not_seen: tuple[str, ...] = ()
    if declaration.parties is not None:
        checks = tuple(
            _check(ctx, r, declaration.parties)
            for r in sorted(result.recipients, key=lambda r: r.domain)
            if r.domain and not ctx.is_first(r.domain)
        )
        matched = {c.declared_as for c in checks if c.declared_as is not None}
        not_seen = tuple(p.label for p in declaration.parties if p.label not in matched)

    return DeclaredComparison(
        source=declaration.source,
        sha256=declaration.sha256,
        vendor=declaration.vendor,
        agreement=declaration.agreement,
        elements=declaration.elements,
        parties=declaration.parties,
        undeclared_elements=undeclared,
        recipients=checks,
        not_observed=not_observed,
        parties_not_seen=not_seen,
    )


# --------------------------------------------------------------------------- data elements


def exhibit_row(element: str) -> str:
    """The Exhibit B element ``element`` falls under (itself for Exhibit B rows and unknown ids)."""
    el = taxonomy.ELEMENTS.get(element)
    return el.exhibit_b if el is not None else element


def is_covered(element: str, declared: frozenset[str]) -> bool:
    return element in declared or exhibit_row(element) in declared


def _collected(ctx: Context, o: Observation) -> bool:
    """Whether the observation shows the vendor's app collecting or passing on the element."""
    if not vocab.is_credential(o.element):
        return True
    if ctx.is_third_observation(o):
        return ctx.is_student_credential(o)
    return o.element == vocab.PASSWORD  # the app's own session tokens are how sign-in works


def _undeclared_elements(
    ctx: Context, collected: Iterable[Observation], declared: frozenset[str]
) -> tuple[UndeclaredElement, ...]:
    by_element: dict[str, list[Observation]] = defaultdict(list)
    for o in collected:
        if not is_covered(o.element, declared):
            by_element[o.element].append(o)
    order = {e: i for i, e in enumerate(taxonomy.ELEMENTS)}
    out = []
    for element in sorted(by_element, key=lambda e: (order.get(e, len(order)), e)):
        obs = by_element[element]
        out.append(
            UndeclaredElement(
                element=element,
                exhibit_b=exhibit_row(element),
                recipients=tuple(sorted({ctx.domain_of(o.host) for o in obs} - {""})),
                third_party=any(ctx.is_third_observation(o) for o in obs),
                confidence=max((o.confidence for o in obs), default=Confidence.LOW),
                flows=len({o.flow for o in obs}),
            )
        )
    return tuple(out)


# --------------------------------------------------------------------------- third parties


def _check(ctx: Context, r: Recipient, parties: Sequence[DeclaredParty]) -> RecipientCheck:
    data = [
        o
        for o in ctx.observations_by_domain.get(r.domain, [])
        if ctx.is_third_observation(o) and ctx.relevant(o) and vocab.tier(o.element) >= 1
    ]
    hit = match_party(r, parties)
    party, how = hit if hit is not None else (None, None)
    note = ""
    if party is not None and how != "domain" and party.domains:
        note = (
            f"matched by {how}; the agreement lists {party.label} with other domains "
            f"({', '.join(party.domains)})"
        )
    return RecipientCheck(
        domain=r.domain,
        organization=r.organization,
        parent=r.parent,
        categories=r.categories,
        declared_as=party.label if party is not None else None,
        matched_by=how,
        purpose=party.purpose if party is not None else "",
        received_data=bool(data),
        elements=tuple(sorted({o.element for o in data})),
        flows=r.flows,
        note=note,
    )


def match_party(r: Recipient, parties: Sequence[DeclaredParty]) -> tuple[DeclaredParty, str] | None:
    """The declared party ``r`` belongs to and how it matched: by domain first (the surest),
    then organisation, then parent; None when the agreement does not list it."""
    for p in parties:
        if any(domain_matches(r.domain, d) for d in _party_domains(p)):
            return p, "domain"
    for how, owner in (("organization", r.organization), ("parent", r.parent)):
        keys = org_aliases(owner or "")
        if not keys:
            continue
        for p in parties:
            if p.name and org_aliases(p.name) & keys:
                return p, how
    return None


def _party_domains(p: DeclaredParty) -> tuple[str, ...]:
    """The declared domains, plus the name when the reviewer wrote a domain there."""
    if p.name and " " not in p.name.strip() and "." in p.name:
        d = normalise_domain(p.name)
        if d is not None:
            return (*p.domains, d)
    return p.domains


def domain_matches(recipient_domain: str, declared: str) -> bool:
    """A declared domain covers itself and its subdomains; a declared host its registrable
    domain (``o1.ingest.sentry.io`` covers ``sentry.io``)."""
    rd = recipient_domain.lower()
    return rd == declared or rd.endswith("." + declared) or registrable_domain(declared) == rd


@lru_cache(maxsize=4096)
def org_aliases(name: str) -> frozenset[str]:
    """The comparison keys of an organisation name: the whole name, the name without its
    bracketed part, and the bracketed part ("Padlet (Wallwisher, Inc.)" -> padlet, wallwisher,
    padletwallwisher)."""
    names = [name, _PARENS.sub(" ", name), *_PARENS.findall(name)]
    return frozenset(k for k in (_org_key(n) for n in names) if k)


def _org_key(name: str) -> str:
    text = unicodedata.normalize("NFKD", name).casefold().replace("&", " and ")
    text = "".join(c for c in text if not unicodedata.combining(c))  # é -> e
    words = _join_initials(_WORD.findall(text))
    if words and words[0] == "the" and len(words) > 1:
        words = words[1:]
    while len(words) > 1 and words[-1] in LEGAL_FORMS:
        words = words[:-1]
    return "".join(words)


def _join_initials(words: list[str]) -> list[str]:
    """Runs of single letters become one word: ``s p a`` -> ``spa`` (from "S.p.A.")."""
    out: list[str] = []
    run = ""
    for w in words:
        if len(w) == 1 and w.isalpha():
            run += w
            continue
        if run:
            out.append(run)
            run = ""
        out.append(w)
    if run:
        out.append(run)
    return out
