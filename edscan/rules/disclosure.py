"""Student data disclosed to third parties: to ad-tech, sensitive data, location, state ids,
AI model providers, and (last) whatever student data no more specific rule reported."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

from edscan.models import Confidence, Finding, Observation, Severity
from edscan.rules import law, vocab
from edscan.rules.base import Context, Rule, best, element_list, make, weakest

FAMILY = "disclosure"


def third_party_observations(
    ctx: Context, keep: Callable[[Observation], bool]
) -> Iterator[tuple[str, list[Observation]]]:
    """(domain, observations) for every third-party domain with observations that ``keep``."""
    for domain in sorted(ctx.observations_by_domain):
        if not domain or ctx.is_first(domain):
            continue
        obs = [o for o in ctx.observations_by_domain[domain] if ctx.is_third_observation(o)]
        obs = [o for o in obs if keep(o)]
        if obs:
            yield domain, obs


def is_hashed(o: Observation) -> bool:
    text = (o.detail + " " + " ".join(o.encodings)).lower()
    return any(h in text for h in ("sha", "md5", "hash"))


def _identity_to_adtech(ctx: Context, rule: Rule) -> Iterable[Finding]:
    for domain, obs in third_party_observations(ctx, lambda o: vocab.is_identity(o.element)):
        if not ctx.categories(domain) & vocab.AD_TECH:
            continue
        elements = {o.element for o in obs}
        ctx.covered.update((domain, e) for e in elements)
        why = ""
        if any(is_hashed(o) for o in obs):
            why = "Some values were hashed; a hashed e-mail or phone number still identifies the student to the recipient."
        yield make(
            ctx,
            rule,
            observed=f"{element_list(elements)} sent to {ctx.who(domain)}",
            severity=Severity.CRITICAL,
            confidence=weakest(best(o.confidence for o in obs), ctx.attribution_confidence(domain)),
            elements=elements,
            recipients=(domain,),
            evidence=ctx.evidence_of(obs),
            why=why,
        )


def _is_sensitive(o: Observation) -> bool:
    e = o.element
    return vocab.tier(e) >= 3 and not vocab.is_location(e) and not vocab.is_credential(e)


def _sensitive_to_third_party(ctx: Context, rule: Rule) -> Iterable[Finding]:
    for domain, obs in third_party_observations(ctx, _is_sensitive):
        elements = {o.element for o in obs}
        ctx.covered.update((domain, e) for e in elements)
        yield make(
            ctx,
            rule,
            observed=f"{element_list(elements)} sent to {ctx.who(domain)}",
            severity=Severity.CRITICAL,
            confidence=best(o.confidence for o in obs),
            elements=elements,
            recipients=(domain,),
            evidence=ctx.evidence_of(obs),
        )


def _location_to_third_party(ctx: Context, rule: Rule) -> Iterable[Finding]:
    for domain, obs in third_party_observations(ctx, lambda o: vocab.is_location(o.element)):
        elements = {o.element for o in obs}
        ctx.covered.update((domain, e) for e in elements)
        adtech = bool(ctx.categories(domain) & vocab.AD_TECH)
        details = sorted({o.detail for o in obs if o.detail})
        why = f"Precision as sent: {'; '.join(details[:3])}." if details else ""
        if adtech:
            why += " The recipient is an advertising or data-broker company."
        yield make(
            ctx,
            rule,
            observed=f"{element_list(elements)} sent to {ctx.who(domain)}",
            severity=Severity.CRITICAL if adtech else Severity.HIGH,
            confidence=best(o.confidence for o in obs),
            elements=elements,
            recipients=(domain,),
            evidence=ctx.evidence_of(obs),
            why=why.strip(),
        )


def _state_id_to_third_party(ctx: Context, rule: Rule) -> Iterable[Finding]:
    for domain, obs in third_party_observations(ctx, lambda o: o.element == vocab.STATE_ID):
        ctx.covered.add((domain, vocab.STATE_ID))
        yield make(
            ctx,
            rule,
            observed=f"{element_list({vocab.STATE_ID})} sent to {ctx.who(domain)}",
            severity=Severity.CRITICAL,
            confidence=best(o.confidence for o in obs),
            elements=(vocab.STATE_ID,),
            recipients=(domain,),
            evidence=ctx.evidence_of(obs),
        )


def _content_to_ai(ctx: Context, rule: Rule) -> Iterable[Finding]:
    for domain in ctx.third_party_domains():
        if vocab.AI_PROVIDER not in ctx.categories(domain):
            continue
        obs = [
            o
            for o in ctx.observations_by_domain.get(domain, [])
            if ctx.is_third_observation(o) and vocab.tier(o.element) >= 1 and ctx.relevant(o)
        ]
        attribution = ctx.attribution_confidence(domain)
        if obs:
            elements = {o.element for o in obs}
            ctx.covered.update((domain, e) for e in elements)
            sensitive = vocab.max_tier(elements) >= 3
            yield make(
                ctx,
                rule,
                observed=f"{element_list(elements)} sent to {ctx.who(domain)}",
                severity=Severity.HIGH if sensitive else Severity.MEDIUM,
                confidence=weakest(best(o.confidence for o in obs), attribution),
                elements=elements,
                recipients=(domain,),
                evidence=ctx.evidence_of(obs),
            )
            continue
        # audio, video and image uploads are EDS028's (voice, face or biometric data)
        uploads = [
            f
            for f in ctx.flows_by_domain[domain]
            if f.request_bytes > 0 and not ctx.is_media_upload(f)
        ]
        if uploads:
            yield make(
                ctx,
                rule,
                observed=f"requests with content sent to {ctx.who(domain)}",
                severity=Severity.MEDIUM,
                confidence=Confidence.LOW,
                recipients=(domain,),
                evidence=[ctx.evidence_of_flow(f) for f in uploads],
                why="edscan recognised no student data element in them; "
                "check whether they carry student work.",
            )


def _residual(ctx: Context, rule: Rule) -> Iterable[Finding]:
    """Student data (tier 1+) to a third party that no more specific rule reported."""

    def keep(o: Observation) -> bool:
        return vocab.tier(o.element) >= 1 and not vocab.is_credential(o.element)

    for domain, obs in third_party_observations(ctx, keep):
        obs = [o for o in obs if (domain, o.element) not in ctx.covered]
        if not obs:
            continue
        elements = {o.element for o in obs}
        yield make(
            ctx,
            rule,
            observed=f"{element_list(elements)} sent to {ctx.who(domain)}",
            severity=Severity.HIGH if vocab.max_tier(elements) >= 2 else Severity.MEDIUM,
            confidence=best(o.confidence for o in obs),
            elements=elements,
            recipients=(domain,),
            evidence=ctx.evidence_of(obs),
        )


_DISCLOSURE_PROVISIONS = ("ct-cc-b4", "ct-bb-a3", "ferpa-33", "ferpa-31", "ndpa-ii5")

RULES: tuple[Rule, ...] = (
    Rule(
        id="EDS001",
        title="Student identifiers or contact details sent to an advertising company",
        severity=Severity.CRITICAL,
        family=FAMILY,
        evidence_class="E1/E2",
        explanation=(
            "The app sent a student's name, ID, username, e-mail, phone or address (hashed or "
            "not) to a company whose business is advertising or ad-motivated tracking. Hashing "
            "does not anonymise: the recipient matches the hash against its own records."
        ),
        concerns=(law.ACCESS_AND_USE, law.THIRD_PARTIES, law.BREACH, law.CONSENT, law.FERPA),
        provisions=(
            "ct-cc-b1",
            "ct-cc-b2",
            "ct-cc-b4",
            "ct-bb-ads",
            "ct-bb-a3",
            "ferpa-33",
            "ferpa-31",
            "coppa-2",
            "coppa-5",
            "sopipa-b1",
            "sopipa-b4",
            "ndpa-iv7",
        ),
        questions=(
            "Why does the app send student identifiers or contact details to this company?",
            "Is this company bound by a written contract that forbids advertising use, "
            "profiling and redisclosure of student data?",
            "Can the integration be removed from student-facing screens, or configured to "
            "send nothing that identifies a student?",
        ),
        unless=(
            "the recipient is bound by contract as a service provider that uses the data "
            "only for the school service and never for advertising"
        ),
        check=_identity_to_adtech,
    ),
    Rule(
        id="EDS002",
        title="Sensitive student information sent to a third party",
        severity=Severity.CRITICAL,
        family=FAMILY,
        evidence_class="E1",
        explanation=(
            "The app sent information in the most sensitive tier (special-education, "
            "disability, health, free or reduced lunch, English-learner, discipline, race or "
            "ethnicity, biometrics, protected survey answers) to a company other than the "
            "app vendor."
        ),
        escalations=(
            "Medium instead of Critical when the recipient is a declared, contract-bound "
            "subprocessor whose purpose needs the data (checked by the reviewer).",
        ),
        concerns=(law.ACCESS_AND_USE, law.THIRD_PARTIES, law.BREACH, law.FERPA),
        provisions=(*_DISCLOSURE_PROVISIONS, "ct-dd", "ppra", "coppa-7"),
        questions=(
            "Which subprocessor agreement covers this recipient, and why does it need this "
            "sensitive information?",
            "Is the recipient listed in the signed data privacy agreement (Exhibit B and the "
            "subprocessor list)?",
            "Can the data be removed or minimised before it leaves the app?",
        ),
        unless=(
            "the recipient is a declared subprocessor bound by contract, and the data is "
            "needed for the service the school asked for"
        ),
        data_tier=3,
        check=_sensitive_to_third_party,
    ),
    Rule(
        id="EDS006",
        title="Precise location sent to a third party",
        severity=Severity.HIGH,
        family=FAMILY,
        evidence_class="E1",
        explanation=(
            "The app sent coordinates precise enough to find a street (three or more "
            "decimal places, or GPS) to a company other than the app vendor."
        ),
        escalations=(
            "Critical when the recipient is an advertising company or data broker.",
            "Medium when the recipient is a declared subprocessor with a stated purpose such "
            "as bus tracking (checked by the reviewer).",
        ),
        concerns=(law.SURVEILLANCE, law.ACCESS_AND_USE, law.THIRD_PARTIES),
        provisions=("coppa-2", "coppa-5", "ct-cc-b2", "ct-cc-b4", "ferpa-33"),
        questions=(
            "Why does this recipient need a student's precise location?",
            "Can location be turned off, or coarsened to city level, for student accounts?",
        ),
        unless="the location is needed for a declared school purpose and sent to a bound subprocessor",
        data_tier=3,
        check=_location_to_third_party,
    ),
    Rule(
        id="EDS014",
        title="Student content or personal data sent to an AI model provider",
        severity=Severity.MEDIUM,
        family=FAMILY,
        evidence_class="E1",
        explanation=(
            "Student work or personal data went to an AI model provider. Whether that is "
            "acceptable depends on the contract: a declared subprocessor with no-training and "
            "zero-retention terms differs from an undeclared one."
        ),
        escalations=(
            "High when the data includes sensitive (tier 3) information.",
            "Low when the provider is declared with no-training and zero-retention terms "
            "(checked by the reviewer).",
        ),
        concerns=(law.ACCESS_AND_USE, law.THIRD_PARTIES, law.TRANSPARENCY),
        provisions=("ct-cc-b4", "ndpa-ii5", "ndpa-iv7", "coppa-5", "ferpa-33"),
        questions=(
            "Is the AI provider listed as a subprocessor, and do its terms forbid training on "
            "student data and require zero retention?",
            "What student content is sent, and is it minimised or de-identified first?",
        ),
        unless=(
            "the provider is a declared subprocessor contractually barred from training on or "
            "retaining student data"
        ),
        data_tier=2,
        check=_content_to_ai,
    ),
    Rule(
        id="EDS020",
        title="State student ID sent to a third party",
        severity=Severity.CRITICAL,
        family=FAMILY,
        evidence_class="E1",
        explanation=(
            "The state-assigned student identifier (in Connecticut the 10-digit SASID) links "
            "records across the state's data systems; it went to a company other than the "
            "app vendor."
        ),
        concerns=(law.STATE_SYSTEMS, law.BREACH, law.FERPA, law.THIRD_PARTIES),
        provisions=("ct-cc-b4", "ferpa-33", "ferpa-31", "ct-dd"),
        questions=(
            "Why does this recipient receive the state student ID?",
            "Can an app-specific identifier be used instead?",
        ),
        unless="the recipient is a contract-bound service provider that needs the state ID",
        check=_state_id_to_third_party,
    ),
    Rule(
        id="EDS019",
        title="Student data sent to a third party",
        severity=Severity.MEDIUM,
        family=FAMILY,
        evidence_class="E1",
        explanation=(
            "Student data went to a company other than the app vendor (and no more specific "
            "finding covers it). This is acceptable only for a subprocessor the school knows "
            "about and that is bound by contract."
        ),
        escalations=("High when the data includes education-record content (tier 2).",),
        concerns=(law.THIRD_PARTIES, law.TRANSPARENCY, law.NOTICE, law.FERPA),
        provisions=(*_DISCLOSURE_PROVISIONS, "coppa-4", "sopipa-b4"),
        questions=(
            "Is this company listed as a subprocessor in the data privacy agreement?",
            "What does it do with the data, and is it bound not to use or redisclose it?",
        ),
        unless="the recipient is a declared subprocessor bound by a written agreement",
        runs_last=True,
        check=_residual,
    ),
)
