"""Persistent identifiers: device and ad ids to ad-tech, resettable next to non-resettable ids,
long-lived third-party cookies, fingerprinting."""

from __future__ import annotations

from collections.abc import Iterable

from edscan.models import Confidence, Finding, Observation, Severity
from edscan.rules import law, vocab
from edscan.rules.base import Context, Ref, Rule, best, element_list, make, weakest
from edscan.rules.disclosure import third_party_observations
from edscan.rules.signals import is_set

FAMILY = "identifiers"

LONG_LIVED = 365 * 24 * 3600  # seconds: a cookie that outlives a school year


def _device_ids_to_adtech(ctx: Context, rule: Rule) -> Iterable[Finding]:
    for domain, obs in third_party_observations(ctx, lambda o: vocab.is_device_id(o.element)):
        if not ctx.categories(domain) & vocab.AD_TECH:
            continue
        elements = {o.element for o in obs}
        ctx.covered.update((domain, e) for e in elements)
        severity = Severity.HIGH
        reasons = []
        flagged = any(is_set(s.value) for o in obs for s in ctx.signals(o.flow, "child"))
        if ctx.child_directed and not flagged:
            severity = Severity.CRITICAL
            reasons.append(
                "The app marks itself child-directed elsewhere, but these requests carry no "
                "child-directed flag."
            )
        identity = {e for d, e in ctx.covered if d == domain and vocab.is_identity(e)}
        if identity:
            severity = Severity.CRITICAL
            reasons.append(
                f"The same company also received {element_list(identity)}, which ties the "
                "device to a named student."
            )
        yield make(
            ctx,
            rule,
            observed=f"{element_list(elements)} sent to {ctx.who(domain)}",
            severity=severity,
            confidence=weakest(best(o.confidence for o in obs), ctx.attribution_confidence(domain)),
            elements=elements,
            recipients=(domain,),
            evidence=ctx.evidence_of(obs),
            why=" ".join(reasons),
        )


def _resettable_with_hardware(ctx: Context, rule: Rule) -> Iterable[Finding]:
    def keep(o: Observation) -> bool:
        return vocab.is_ad_id(o.element) or vocab.is_hardware_id(o.element)

    for domain, obs in third_party_observations(ctx, keep):
        ad = [o for o in obs if vocab.is_ad_id(o.element)]
        hw = [o for o in obs if vocab.is_hardware_id(o.element)]
        if not ad or not hw:
            continue
        same_flow = {o.flow for o in ad} & {o.flow for o in hw}
        elements = {o.element for o in obs}
        # in one request the link is certain; across requests it is the recipient's to make
        confidence = weakest(best(o.confidence for o in ad), best(o.confidence for o in hw))
        if not same_flow:
            confidence = weakest(confidence, Confidence.MEDIUM)
        yield make(
            ctx,
            rule,
            observed=f"{element_list(elements)} sent together to {ctx.who(domain)}",
            severity=Severity.HIGH,
            confidence=confidence,
            elements=elements,
            recipients=(domain,),
            evidence=ctx.evidence_of(obs),
            why="Resetting the advertising ID does not help when a non-resettable ID travels "
            "with it.",
        )


def _long_lived_cookies(ctx: Context, rule: Rule) -> Iterable[Finding]:
    start = ctx.result.capture.start
    for domain in ctx.third_party_domains():
        names: dict[str, int] = {}
        evidence: list[Ref] = []
        for f in ctx.flows_by_domain[domain]:
            # read by location: cheaper than grouping every flow's signals by kind
            for s in f.signals:
                if not s.location.startswith("set-cookie:"):
                    continue
                seconds = _lifetime(s.key, s.value, f.time if f.time is not None else start)
                if seconds is None or seconds < LONG_LIVED:
                    continue
                name = s.location.partition(":")[2]
                names[name] = max(names.get(name, 0), seconds)
                evidence.append(ctx.evidence_of_flow(f, s.location))
        if not names:
            continue
        adtech = bool(ctx.categories(domain) & vocab.AD_TECH)
        listed = ", ".join(f"{n} ({_years(s)})" for n, s in sorted(names.items())[:6]) + (
            f" and {len(names) - 6} more" if len(names) > 6 else ""
        )
        yield make(
            ctx,
            rule,
            observed=f"{ctx.who(domain)} setting cookies that last a year or more: {listed}",
            severity=Severity.MEDIUM if adtech else Severity.LOW,
            confidence=Confidence.HIGH,
            recipients=(domain,),
            evidence=evidence,
        )


def _lifetime(key: str, value: str, reference: float | None) -> int | None:
    try:
        number = int(value)
    except ValueError:
        return None
    if key == "max-age":
        return number
    if key == "expires" and reference is not None:
        return int(number - reference)
    return None


def _years(seconds: int) -> str:
    days = seconds / 86400
    return f"{days / 365:.1f} years" if days >= 365 else f"{days:.0f} days"


def _fingerprinting(ctx: Context, rule: Rule) -> Iterable[Finding]:
    by_element = dict(third_party_observations(ctx, lambda o: vocab.is_fingerprint(o.element)))
    for domain in ctx.third_party_domains():
        obs = by_element.get(domain, [])
        vendor = vocab.FINGERPRINTING in ctx.categories(domain)
        if not obs and not vendor:
            continue
        elements = {o.element for o in obs}
        ctx.covered.update((domain, e) for e in elements)
        if obs:
            observed = f"{element_list(elements)} sent to {ctx.who(domain)}"
            confidence = best(o.confidence for o in obs)
            evidence = ctx.evidence_of(obs)
        else:
            observed = f"requests to {ctx.who(domain)}, a fingerprinting vendor"
            confidence = ctx.attribution_confidence(domain)
            evidence = [ctx.evidence_of_flow(f) for f in ctx.flows_by_domain[domain]]
        yield make(
            ctx,
            rule,
            observed=observed,
            severity=Severity.MEDIUM,
            confidence=confidence,
            elements=elements,
            recipients=(domain,),
            evidence=evidence,
        )


RULES: tuple[Rule, ...] = (
    Rule(
        id="EDS003",
        title="Persistent device or advertising ID sent to an advertising company",
        severity=Severity.HIGH,
        family=FAMILY,
        evidence_class="E1/E2",
        explanation=(
            "A device or advertising identifier (IDFA, Android advertising ID, Android ID, "
            "IMEI …) lets an advertising company recognise the student's device over time and "
            "across apps. COPPA treats such identifiers as personal information, and "
            "Connecticut law names persistent unique identifiers."
        ),
        escalations=(
            "Critical when the app marks itself child-directed but these requests carry no "
            "child-directed flag.",
            "Critical when the same company also receives student identifiers or contact details.",
        ),
        concerns=(law.ACCESS_AND_USE, law.SURVEILLANCE, law.CONSENT),
        provisions=("coppa-2", "coppa-5c7", "coppa-5", "ct-cc-b1", "ct-cc-b2", "ndpa-iv7"),
        questions=(
            "Why does an advertising company receive device identifiers from student devices?",
            "Is the SDK configured for child-directed treatment, with advertising identifiers "
            "disabled?",
        ),
        unless="the identifier is used solely to support internal operations",
        check=_device_ids_to_adtech,
    ),
    Rule(
        id="EDS004",
        title="Resettable advertising ID sent together with a non-resettable device ID",
        severity=Severity.HIGH,
        family=FAMILY,
        evidence_class="E1",
        explanation=(
            "The advertising ID can be reset by the user; an Android ID, IMEI, serial number "
            "or MAC address cannot. Sending both lets the recipient link the new advertising "
            "ID to the old one, defeating the reset."
        ),
        concerns=(law.SURVEILLANCE, law.ACCESS_AND_USE),
        provisions=("coppa-2", "coppa-7", "ct-cc-b2"),
        questions=(
            "Why are both a resettable and a non-resettable identifier sent to this company?",
            "Can the non-resettable identifier be removed from these requests?",
        ),
        unless="the non-resettable identifier is needed for a declared purpose and never linked",
        check=_resettable_with_hardware,
    ),
    Rule(
        id="EDS017",
        title="Long-lived third-party cookies",
        severity=Severity.LOW,
        family=FAMILY,
        evidence_class="E1",
        explanation=(
            "A third party set cookies lasting a year or more. They let it recognise the "
            "student's browser long after the session, and suggest data kept beyond the "
            "school's use."
        ),
        escalations=("Medium when the cookie is set by an advertising company or data broker.",),
        concerns=(law.SURVEILLANCE, law.TRANSPARENCY),
        provisions=("ct-bb-a7", "ct-cc-b2", "coppa-2", "coppa-10"),
        questions=(
            "Why does this third party need cookies that outlive the school year?",
            "Are third-party cookies disabled for student sessions?",
        ),
        unless="the cookie carries no identifier and serves only the requested service",
        data_tier=0,
        check=_long_lived_cookies,
    ),
    Rule(
        id="EDS018",
        title="Device fingerprinting by a third party",
        severity=Severity.MEDIUM,
        family=FAMILY,
        evidence_class="E1",
        explanation=(
            "Fingerprinting combines many device attributes (canvas, fonts, audio, screen) "
            "into an identifier that survives clearing cookies and resetting ad IDs."
        ),
        concerns=(law.SURVEILLANCE,),
        provisions=("ct-cc-b2", "coppa-2", "sopipa-b2"),
        questions=(
            "Why does the app let a third party fingerprint student devices?",
            "Is the fingerprint used for anything other than fraud or abuse prevention?",
        ),
        unless="it is used only for security or fraud prevention under contract",
        data_tier=1,
        check=_fingerprinting,
    ),
)
