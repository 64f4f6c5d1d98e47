"""Declared against observed: what the traffic shows beyond the vendor's signed agreement.

These rules read ``result.declared`` (made by ``edscan.declared.compare.compare`` from the
reviewer's ``--declared`` file) and are silent without it. They check the capture against a
document (evidence class E3): a third party the agreement does not list that received student
data or was contacted, and a data element the declared Exhibit B does not cover.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

from edscan.declared.records import RecipientCheck
from edscan.models import Confidence, Finding, Severity
from edscan.rules import law, vocab
from edscan.rules.base import Context, Rule, best, element_list, fingerprint, make, weakest

FAMILY = "declared"


def _why_not_listed(ctx: Context, rc: RecipientCheck) -> str:
    source = ctx.result.declared.source if ctx.result.declared else "the declaration"
    owner = " or its owner" if rc.organization else ""
    why = f"The third parties declared in {source} name neither this domain{owner}."
    if not rc.organization:
        why += " The tracker lists do not name its owner, so only its domain could be matched."
    return why


def _owner_confidence(rc: RecipientCheck) -> Confidence:
    """Unknown owner: the agreement may list it under a name edscan cannot connect."""
    return Confidence.HIGH if rc.organization else Confidence.MEDIUM


def _undeclared_with_data(ctx: Context, rule: Rule) -> Iterable[Finding]:
    declared = ctx.result.declared
    if declared is None:
        return
    for rc in declared.undeclared_recipients:
        if not rc.received_data:
            continue
        obs = [
            o
            for o in ctx.observations_by_domain.get(rc.domain, [])
            if ctx.is_third_observation(o) and ctx.relevant(o) and o.element in rc.elements
        ]
        yield make(
            ctx,
            rule,
            observed=f"{element_list(rc.elements)} sent to {ctx.who(rc.domain)}",
            severity=Severity.HIGH,
            confidence=weakest(best(o.confidence for o in obs), _owner_confidence(rc)),
            elements=rc.elements,
            recipients=(rc.domain,),
            evidence=ctx.evidence_of(obs),
            why=_why_not_listed(ctx, rc),
        )


def _undeclared_contacted(ctx: Context, rule: Rule) -> Iterable[Finding]:
    declared = ctx.result.declared
    if declared is None:
        return
    for rc in declared.undeclared_recipients:
        if rc.received_data:
            continue
        flows = ctx.flows_by_domain.get(rc.domain, [])
        if not flows:
            continue
        yield make(
            ctx,
            rule,
            observed=f"requests to {ctx.who(rc.domain)}",
            severity=Severity.LOW,
            confidence=_owner_confidence(rc),
            recipients=(rc.domain,),
            evidence=[ctx.evidence_of_flow(f) for f in flows],
            why=_why_not_listed(ctx, rc)
            + " Every request discloses the device's IP address and browser details.",
        )


def _undeclared_elements(ctx: Context, rule: Rule) -> Iterable[Finding]:
    declared = ctx.result.declared
    if declared is None:
        return
    for ue in declared.undeclared_elements:
        obs = [
            o
            for d in ue.recipients
            for o in ctx.observations_by_domain.get(d, [])
            if o.element == ue.element
        ]
        row = vocab.label(ue.exhibit_b)
        under = (
            "" if ue.exhibit_b == ue.element else f", nor the Exhibit B row it falls under ({row})"
        )
        who = ", ".join(ctx.who(d) for d in ue.recipients[:4])
        more = len(ue.recipients) - 4
        who += f" and {more} more" if more > 0 else ""
        finding = make(
            ctx,
            rule,
            observed=f"{element_list((ue.element,))} sent to {who}",
            severity=Severity.MEDIUM,
            confidence=ue.confidence,
            elements=(ue.element,),
            recipients=ue.recipients,
            evidence=ctx.evidence_of(obs),
            why=f"The Exhibit B declared in {declared.source} does not list it{under}.",
        )
        # identity is the element alone: the same gap keeps its fingerprint when the set of
        # recipients changes between versions of the app
        yield dataclasses.replace(finding, fingerprint=fingerprint(rule.id, (ue.element,), ()))


_THIRD_PARTY_PROVISIONS = ("ndpa-ii5", "ct-cc-b4", "ct-bb-a3", "ferpa-31", "coppa-4", "sopipa-b4")

RULES: tuple[Rule, ...] = (
    Rule(
        id="EDS022",
        title="Third party not listed in the vendor's agreement received student data",
        severity=Severity.HIGH,
        family=FAMILY,
        evidence_class="E3",
        explanation=(
            "Student data went to a company that the vendor's signed agreement (as entered "
            "with --declared) does not list as a subprocessor, neither by domain nor by owner. "
            "The district cannot know what binds that company."
        ),
        concerns=(law.THIRD_PARTIES, law.TRANSPARENCY, law.FERPA, law.ACCESS_AND_USE),
        provisions=(*_THIRD_PARTY_PROVISIONS, "ferpa-33"),
        questions=(
            "Why is this company not in the subprocessor list of the signed agreement, and "
            "what student data does it receive?",
            "Is there a written agreement with it, no less stringent than the district's? "
            "Please send it, or remove the integration.",
        ),
        unless=(
            "the agreement lists the company under another name, or the district approved "
            "it in writing as a subprocessor"
        ),
        check=_undeclared_with_data,
    ),
    Rule(
        id="EDS023",
        title="Third party not listed in the vendor's agreement was contacted",
        severity=Severity.LOW,
        family=FAMILY,
        evidence_class="E3",
        explanation=(
            "The app contacted a company that the vendor's signed agreement (as entered with "
            "--declared) does not list, although edscan saw no student data element go to it. "
            "The request itself gives it the device's IP address and browser details, which "
            "the NDPA counts as metadata."
        ),
        concerns=(law.THIRD_PARTIES, law.TRANSPARENCY, law.NOTICE),
        provisions=_THIRD_PARTY_PROVISIONS,
        questions=(
            "What does this service do for the app, and is it a subprocessor that the "
            "agreement should list?",
        ),
        unless="the service receives no student data and is not a subprocessor",
        data_tier=0,
        check=_undeclared_contacted,
    ),
    Rule(
        id="EDS024",
        title="Student data element not declared in Exhibit B",
        severity=Severity.MEDIUM,
        family=FAMILY,
        evidence_class="E3",
        explanation=(
            "The app sent a data element that the Exhibit B of the vendor's signed agreement "
            "(as entered with --declared) does not list, neither itself nor the Exhibit B row "
            "it falls under. The agreement only covers the data it lists."
        ),
        concerns=(law.TRANSPARENCY, law.NOTICE, law.ACCESS_AND_USE),
        provisions=("ndpa-i2", "ct-bb-a3", "ferpa-31"),
        questions=(
            "The app sends data elements that the signed Exhibit B does not list: will the "
            "vendor stop collecting them, or amend Exhibit B?",
        ),
        unless="Exhibit B lists the element under another row, or an amendment adds it",
        check=_undeclared_elements,
    ),
)
