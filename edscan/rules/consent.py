"""Consent and age: child-directed flags missing or contradictory, collection before the login,
consent or age gate."""

from __future__ import annotations

from collections.abc import Iterable

from edscan.models import Confidence, Finding, FlowSummary, Observation, Severity
from edscan.rules import law, patterns, vocab
from edscan.rules.base import Context, Ref, Rule, best, element_list, make, weakest
from edscan.rules.signals import NON_PERSONALISED_KEYS, is_set, is_unset

FAMILY = "consent"

_FLAGGED = vocab.AD_TECH | vocab.MEASUREMENT | {vocab.SOCIAL}


def is_ad_request(ctx: Context, flow: FlowSummary) -> bool:
    if ctx.signals(flow.index, "openrtb"):
        return True
    cats = ctx.categories(ctx.domain_of(flow.host))
    return patterns.is_ad_request(
        flow.url, flow.host, advertising=bool(cats & {vocab.ADVERTISING, vocab.AD_TRACKING})
    )


def _child_flags(ctx: Context, rule: Rule) -> Iterable[Finding]:
    app_says_child = ctx.child_directed
    for domain in ctx.third_party_domains():
        cats = ctx.categories(domain)
        if not cats & _FLAGGED:
            continue
        off: list[Ref] = []
        with_ids: list[Observation] = []
        missing: list[Ref] = []
        for f in ctx.flows_by_domain[domain]:
            child = ctx.signals(f.index, "child")
            if any(is_set(s.value) for s in child):
                with_ids.extend(
                    o
                    for o in ctx.observations_by_flow.get(f.index, [])
                    if vocab.is_device_id(o.element) or vocab.is_identity(o.element)
                )
            off.extend(ctx.evidence_of_flow(f, s.location) for s in child if is_unset(s.value))
            if not child and cats & vocab.AD_TECH and is_ad_request(ctx, f):
                npa = any(
                    s.key.lower() in NON_PERSONALISED_KEYS and is_set(s.value)
                    for s in ctx.signals(f.index, "consent")
                )
                if not npa:
                    missing.append(ctx.evidence_of_flow(f))
        if not (off or with_ids or missing):
            continue
        reasons: list[str] = []
        contradictory = bool(with_ids) or (bool(off) and app_says_child)
        if with_ids:
            reasons.append(
                "requests flagged as child-directed still carried "
                f"{element_list({o.element for o in with_ids})}"
            )
        if off:
            reasons.append(
                "the child-directed flag was explicitly off"
                + (" although other requests in the session set it" if app_says_child else "")
            )
        if missing:
            reasons.append(
                "ad requests carried no child-directed flag and no non-personalised-ads flag"
                + (" although other requests in the session set one" if app_says_child else "")
            )
        severity = Severity.HIGH if contradictory or app_says_child else Severity.MEDIUM
        evidence = off + missing + ctx.evidence_of(with_ids)
        confidence = Confidence.HIGH
        if with_ids:
            confidence = best(o.confidence for o in with_ids)
        if missing and not (off or with_ids):
            confidence = weakest(Confidence.HIGH, ctx.attribution_confidence(domain))
        text = "; ".join(reasons)
        yield make(
            ctx,
            rule,
            observed=f"requests to {ctx.who(domain)} where {text}",
            severity=severity,
            confidence=confidence,
            elements={o.element for o in with_ids},
            recipients=(domain,),
            evidence=evidence,
            why=""
            if app_says_child
            else "Whether the app is directed to children under 13 "
            "decides how much this matters; edscan cannot tell from traffic.",
        )


def _before_gate(ctx: Context, rule: Rule) -> Iterable[Finding]:
    if ctx.gate is None:
        return
    gate_index, gate_name = ctx.gate
    for domain in ctx.third_party_domains():
        before = [f for f in ctx.flows_by_domain[domain] if f.index < gate_index]
        if not before:
            continue
        cats = ctx.categories(domain)
        obs = [
            o
            for f in before
            for o in ctx.observations_by_flow.get(f.index, [])
            if ctx.is_third_observation(o) and ctx.relevant(o)
        ]
        tracking = cats & vocab.TRACKING
        if not tracking and not obs:
            continue
        elements = {o.element for o in obs}
        persistent = {e for e in elements if vocab.is_device_id(e) or vocab.is_identity(e)}
        adtech = bool(cats & vocab.AD_TECH)
        severity = Severity.HIGH if adtech and persistent else Severity.MEDIUM
        confidence = best(o.confidence for o in obs) if obs else Confidence.LOW
        if tracking:
            confidence = max(confidence, ctx.attribution_confidence(domain))
        what = f"{element_list(elements)} sent to " if elements else "requests to "
        yield make(
            ctx,
            rule,
            observed=f"{what}{ctx.who(domain)} before the {gate_name!r} phase began",
            severity=severity,
            confidence=confidence,
            elements=elements,
            recipients=(domain,),
            evidence=ctx.evidence_of(obs) if obs else [ctx.evidence_of_flow(f) for f in before],
        )


RULES: tuple[Rule, ...] = (
    Rule(
        id="EDS005",
        title="Child-directed flag missing or contradictory in ad or analytics requests",
        severity=Severity.HIGH,
        family=FAMILY,
        evidence_class="E1",
        explanation=(
            "Ad and analytics SDKs take a flag that tells them a user may be a child "
            "(tfcd, tag_for_child_directed_treatment, coppa=1, OpenRTB regs.coppa); with it, "
            "they should switch off personalised ads and drop identifiers. The flag was "
            "missing from ad requests, explicitly off, or set while identifiers were sent "
            "anyway."
        ),
        escalations=(
            "High when flags are contradictory, or when the app sets the flag elsewhere and "
            "it was not passed on (mediation).",
            "Medium when the flag is only missing and the app never sets it (edscan cannot "
            "tell whether the app is directed to children).",
        ),
        concerns=(law.CONSENT, law.THIRD_PARTIES),
        provisions=("coppa-5", "coppa-2", "coppa-5c7", "ct-cc-b1"),
        questions=(
            "Is the app directed to children under 13, or used by them in schools?",
            "Do all ad and analytics SDKs, including mediated ad networks, receive the "
            "child-directed setting?",
        ),
        unless="the app is not directed to children and knows its users are 13 or older",
        check=_child_flags,
    ),
    Rule(
        id="EDS015",
        title="Third-party collection before login or consent",
        severity=Severity.MEDIUM,
        family=FAMILY,
        evidence_class="E1",
        explanation=(
            "Third-party trackers were contacted, or received data, before the phase the "
            "auditor marked as login or consent. Nothing the student or parent agrees to later "
            "covers what was already sent."
        ),
        escalations=(
            "High when persistent identifiers or student identifiers go to an advertising "
            "company before the gate.",
        ),
        concerns=(law.CONSENT, law.SURVEILLANCE, law.NOTICE),
        provisions=("coppa-5", "ct-cc-b2", "ferpa-30"),
        questions=(
            "Why are third-party trackers loaded before the student logs in or consent is given?",
            "Can third-party scripts and SDKs wait until after login and consent?",
        ),
        unless="the calls are strictly necessary for the service and carry no identifiers",
        data_tier=0,
        check=_before_gate,
    ),
)
