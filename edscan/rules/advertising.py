"""Advertising: retargeting and conversion pixels, social SDK events, identity resolution and
cookie syncs, ads served in a student context."""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit

from edscan.models import Confidence, Finding, FlowSummary, Severity
from edscan.rules import law, patterns, vocab
from edscan.rules.base import Context, Ref, Rule, best, element_list, make, weakest
from edscan.rules.consent import is_ad_request

FAMILY = "advertising"

# identifiers that turn an ad request into a targeted one (OpenRTB user.id, device.ifa, geo,
# age, gender)
_TARGETING_PREFIXES = ("demo.dob", "demo.gender")


def _pixel_flows(ctx: Context, domain: str) -> tuple[list[FlowSummary], bool]:
    """The pixel or app-event flows to ``domain``, and whether a known endpoint matched."""
    cats = ctx.categories(domain)
    known: list[FlowSummary] = []
    by_event: list[FlowSummary] = []
    for f in ctx.flows_by_domain[domain]:
        if patterns.is_pixel(f.url, f.host):
            known.append(f)
        elif cats & vocab.PIXEL_CATEGORIES and ctx.signals(f.index, "event"):
            by_event.append(f)
    return known + by_event, bool(known)


def _pixels(ctx: Context, rule: Rule) -> Iterable[Finding]:
    for domain in ctx.third_party_domains():
        flows, known = _pixel_flows(ctx, domain)
        if not flows:
            continue
        obs = [
            o
            for f in flows
            for o in ctx.observations_by_flow.get(f.index, [])
            if ctx.is_third_observation(o) and vocab.tier(o.element) >= 1
        ]
        identity = {o.element for o in obs if vocab.is_identity(o.element)}
        matching = any(ctx.signals(f.index, "match") for f in flows)
        events = sorted({s.value for f in flows for s in ctx.signals(f.index, "event") if s.value})
        reasons = []
        if identity:
            reasons.append(f"The events carried {element_list(identity)} (advanced matching).")
        elif matching:
            reasons.append("The events carried advanced-matching fields (hashed contact details).")
        if events:
            shown = ", ".join(events[:6]) + (" …" if len(events) > 6 else "")
            reasons.append(f"Events: {shown}.")
        confidence = Confidence.HIGH if known else ctx.attribution_confidence(domain)
        seen = {o.flow for o in obs}
        evidence = ctx.evidence_of(obs) + [
            ctx.evidence_of_flow(f) for f in flows if f.index not in seen
        ]
        yield make(
            ctx,
            rule,
            observed=f"retargeting, conversion or app-event requests to {ctx.who(domain)}",
            severity=Severity.CRITICAL if identity or matching else Severity.HIGH,
            confidence=confidence,
            elements={o.element for o in obs},
            recipients=(domain,),
            evidence=evidence,
            why=" ".join(reasons),
        )


def _identity_sync(ctx: Context, rule: Rule) -> Iterable[Finding]:
    for domain in ctx.third_party_domains():
        cats = ctx.categories(domain)
        broker = vocab.DATA_BROKER in cats
        adtech = bool(cats & vocab.AD_TECH)
        syncs: list[FlowSummary] = []
        chained: list[tuple[FlowSummary, str]] = []
        for f in ctx.flows_by_domain[domain]:
            if adtech and patterns.is_sync(f.url, f.host):
                syncs.append(f)
            for s in ctx.signals(f.index, "redirect"):
                target = ctx.domain_of((urlsplit(s.value).hostname or "").lower())
                if (
                    target
                    and target != domain
                    and ctx.categories(target) & vocab.AD_TECH
                    and not ctx.same_organization(domain, target)
                ):
                    chained.append((f, target))
        if not (broker or syncs or chained):
            continue
        evidence: list[Ref] = [ctx.evidence_of_flow(f, "header:location") for f, _ in chained]
        evidence += [ctx.evidence_of_flow(f) for f in syncs]
        parts = []
        if broker:
            parts.append(
                f"requests to {ctx.who(domain)}, an identity-resolution or data-broker company"
            )
            if not evidence:
                evidence = [ctx.evidence_of_flow(f) for f in ctx.flows_by_domain[domain]]
        if syncs:
            parts.append(f"cookie- or ID-sync requests to {ctx.who(domain)}")
        if chained:
            targets = ", ".join(sorted({t for _, t in chained}))
            parts.append(f"redirects from {domain} passing the visitor on to {targets}")
        if broker or chained:
            confidence = ctx.attribution_confidence(domain)
        else:
            confidence = weakest(Confidence.MEDIUM, ctx.attribution_confidence(domain))
        yield make(
            ctx,
            rule,
            observed="; ".join(parts),
            severity=Severity.CRITICAL,
            confidence=confidence,
            recipients={domain, *(t for _, t in chained)},
            evidence=evidence,
            key=domain,  # a chain A→B and one B→A name the same domains
        )


def _is_targeting(element: str) -> bool:
    return (
        vocab.is_device_id(element)
        or vocab.is_identity(element)
        or vocab.is_location(element)
        or element.startswith(_TARGETING_PREFIXES)
    )


def _ads_served(ctx: Context, rule: Rule) -> Iterable[Finding]:
    for domain in ctx.third_party_domains():
        if not ctx.categories(domain) & {vocab.ADVERTISING, vocab.AD_TRACKING}:
            continue
        requests = [f for f in ctx.flows_by_domain[domain] if is_ad_request(ctx, f)]
        if not requests:
            continue
        obs = [
            o
            for f in requests
            for o in ctx.observations_by_flow.get(f.index, [])
            if ctx.is_third_observation(o) and _is_targeting(o.element)
        ]
        elements = {o.element for o in obs}
        seen = {o.flow for o in obs}
        evidence = ctx.evidence_of(obs) + [
            ctx.evidence_of_flow(f) for f in requests if f.index not in seen
        ]
        yield make(
            ctx,
            rule,
            observed=f"ad requests to {ctx.who(domain)}"
            + (f" carrying {element_list(elements)}" if elements else ""),
            severity=Severity.HIGH if elements else Severity.MEDIUM,
            confidence=weakest(
                best(o.confidence for o in obs) if obs else Confidence.HIGH,
                ctx.attribution_confidence(domain),
            ),
            elements=elements,
            recipients=(domain,),
            evidence=evidence,
            why="Identifiers in an ad request allow the ad to be targeted at the student."
            if elements
            else "No identifiers were recognised, so these may be contextual ads.",
        )


RULES: tuple[Rule, ...] = (
    Rule(
        id="EDS011",
        title="Retargeting or conversion pixel, or social SDK events, on student screens",
        severity=Severity.HIGH,
        family=FAMILY,
        evidence_class="E1/E2",
        explanation=(
            "Advertising pixels (Meta, Google Ads, TikTok, Snap, Pinterest, LinkedIn, "
            "Microsoft, X) and social SDK app events tell an ad platform what the student did, "
            "so the platform can build audiences and target ads later."
        ),
        escalations=(
            "Critical with advanced matching (hashed e-mail or phone) or a student identifier "
            "in the events.",
        ),
        concerns=(law.ACCESS_AND_USE, law.SURVEILLANCE, law.CONSENT),
        provisions=(
            "ct-cc-b1",
            "ct-cc-b2",
            "ct-bb-ads",
            "sopipa-b1",
            "ndpa-iv7",
            "coppa-5c7",
            "coppa-5",
        ),
        questions=(
            "Why are advertising pixels present on pages or screens students use?",
            "Can the pixels be removed from every student-facing page and screen?",
        ),
        unless="the pixel never loads for students (for example, only on marketing pages)",
        data_tier=1,
        check=_pixels,
    ),
    Rule(
        id="EDS012",
        title="Identity resolution, cookie sync or data-broker calls",
        severity=Severity.CRITICAL,
        family=FAMILY,
        evidence_class="E2",
        explanation=(
            "Identity-resolution companies and data brokers link a browser or device to "
            "profiles held elsewhere; cookie syncs pass a visitor's ID from one ad company to "
            "the next. Both are how profiles are built and traded."
        ),
        concerns=(law.ACCESS_AND_USE, law.BREACH, law.SURVEILLANCE),
        provisions=("ct-cc-b2", "ct-cc-b3", "sopipa-b2", "sopipa-b3", "ndpa-iv7"),
        questions=(
            "Why does the app contact identity-resolution or data-broker companies?",
            "Which companies receive a student's identifiers through these syncs?",
        ),
        unless="no student-session identifier is ever passed on",
        data_tier=1,
        check=_identity_sync,
    ),
    Rule(
        id="EDS013",
        title="Ads requested in a student context",
        severity=Severity.MEDIUM,
        family=FAMILY,
        evidence_class="E1/E2",
        explanation=(
            "The app asked ad servers or exchanges for ads while a student used it. Contextual "
            "ads are allowed by the Connecticut, NDPA and SOPIPA definitions; ads targeted "
            "with identifiers, location or age are not."
        ),
        escalations=(
            "High when the ad requests carry a user or device identifier, location, age or gender.",
        ),
        concerns=(law.ACCESS_AND_USE, law.CONSENT),
        provisions=("ct-cc-b1", "sopipa-b1", "ndpa-iv7", "coppa-5c7", "coppa-5"),
        questions=(
            "Are ads shown to students, and are they strictly contextual?",
            "Which identifiers do the ad requests carry?",
        ),
        unless="the ads are contextual and the requests carry no identifiers",
        data_tier=0,
        check=_ads_served,
    ),
)
