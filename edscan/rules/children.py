"""Children and teenagers: what the amended COPPA Rule and the FTC's ed-tech orders bear on.

- a child-directed app disclosing children's personal information to advertising companies
  (the separate consent the 2025 amendments require);
- persistent identifiers to analytics or advertising companies (the internal-operations use the
  operator now has to explain in its notice);
- a 13-17 year-old test student's data to advertising companies (the teen persona);
- voice, face or biometric data to third parties (biometric identifiers as personal information);
- precise location collected by the app itself (data minimisation; the FTC's Edmodo order).

The state minors' laws (Connecticut's 2025 amendments, Oregon HB 2008, the Texas SCOPE Act) are
named in the explanations but not cited: their text was not checked (``law.NOT_YET_CHECKED``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from edscan.models import Confidence, Finding, FlowSummary, Observation, Party, Severity
from edscan.rules import law, vocab
from edscan.rules.base import Context, Rule, best, element_list, make, weakest
from edscan.rules.disclosure import third_party_observations

FAMILY = "children"

TEEN_BAND = "13-17"
AGE_BAND_SETTING = "persona_age_band"  # set by the pipeline from the persona (age_band or dob)
BIOMETRIC = "bio.biometric"
VOICE = "asmt.voice"
PRECISE = "geo.precise"
# hosts and paths of speech, vision and face services
_MEDIA_SERVICE = re.compile(
    r"speech|voice|vision|transcri|\basr\b|\bstt\b|face|whisper|audio|rekognition", re.I
)


def is_persistent_id(element: str) -> bool:
    """A persistent identifier in COPPA's sense: device, advertising or install ids and the
    app's own user id."""
    return vocab.is_device_id(element) or element == "sid.provider"


def _childs_pi(o: Observation) -> bool:
    e = o.element
    return not vocab.is_credential(e) and (vocab.coppa_pi(e) or is_persistent_id(e))


def _sent_to(
    ctx: Context,
    rule: Rule,
    domain: str,
    obs: list[Observation],
    *,
    what: str,
    severity: Severity,
    why: str,
) -> Finding:
    """One finding for the observations that reached ``domain``: "<elements> <what> <who>"."""
    elements = {o.element for o in obs}
    return make(
        ctx,
        rule,
        observed=f"{element_list(elements)} {what} {ctx.who(domain)}",
        severity=severity,
        confidence=weakest(best(o.confidence for o in obs), ctx.attribution_confidence(domain)),
        elements=elements,
        recipients=(domain,),
        evidence=ctx.evidence_of(obs),
        why=why,
    )


def _child_data_to_adtech(ctx: Context, rule: Rule) -> Iterable[Finding]:
    if not ctx.child_directed:
        return
    for domain, obs in third_party_observations(ctx, _childs_pi):
        if not ctx.categories(domain) & vocab.AD_TECH:
            continue
        yield _sent_to(
            ctx,
            rule,
            domain,
            obs,
            what="from a child-directed app sent to",
            severity=Severity.HIGH,
            why="The app marks itself child-directed; disclosing a child's personal information "
            "to an advertising company is not integral to a school service.",
        )


def _persistent_ids_explained(ctx: Context, rule: Rule) -> Iterable[Finding]:
    watched = vocab.AD_TECH | vocab.MEASUREMENT
    for domain, obs in third_party_observations(ctx, lambda o: is_persistent_id(o.element)):
        if not ctx.categories(domain) & watched:
            continue
        # identifiers an advertising rule already reported (EDS001, EDS003) need no second
        # finding: those findings already ask about advertising use
        obs = [o for o in obs if (domain, o.element) not in ctx.covered]
        if not obs:
            continue
        yield _sent_to(
            ctx,
            rule,
            domain,
            obs,
            what="sent to",
            severity=Severity.MEDIUM if ctx.child_directed else Severity.LOW,
            why="If the operator relies on the internal-operations exception for these "
            "identifiers, its notice has to say which operations they serve.",
        )


def age_band(ctx: Context) -> str:
    value = ctx.result.settings.get(AGE_BAND_SETTING)
    return value if isinstance(value, str) else ""


def _teen_data_to_adtech(ctx: Context, rule: Rule) -> Iterable[Finding]:
    if age_band(ctx) != TEEN_BAND:
        return

    def keep(o: Observation) -> bool:
        return bool(o.persona_field) and not vocab.is_credential(o.element)

    for domain, obs in third_party_observations(ctx, keep):
        if not ctx.categories(domain) & vocab.AD_TECH:
            continue
        yield _sent_to(
            ctx,
            rule,
            domain,
            obs,
            what="of a test student aged 13 to 17 sent to",
            severity=Severity.HIGH,
            why="The values are the seeded persona's, and the persona is marked 13-17.",
        )


def _media_flows(ctx: Context, domain: str) -> list[FlowSummary]:
    ai = vocab.AI_PROVIDER in ctx.categories(domain)
    out = []
    for f in ctx.flows_by_domain[domain]:
        if not ctx.is_media_upload(f):
            continue
        if ai or _MEDIA_SERVICE.search(f.host) or _MEDIA_SERVICE.search(f.url):
            out.append(f)
    return out


def _biometric_uploads(ctx: Context, rule: Rule) -> Iterable[Finding]:
    by_domain = dict(third_party_observations(ctx, lambda o: o.element in (BIOMETRIC, VOICE)))
    for domain in ctx.third_party_domains():
        obs = by_domain.get(domain, [])
        media = _media_flows(ctx, domain)
        if not obs and not media:
            continue
        elements = {o.element for o in obs}
        seen = {o.flow for o in obs}
        evidence = ctx.evidence_of(obs) + [
            ctx.evidence_of_flow(f, "header:content-type") for f in media if f.index not in seen
        ]
        parts = []
        if elements:
            parts.append(f"{element_list(elements)} sent to {ctx.who(domain)}")
        if media:
            parts.append(f"audio, video or image uploads to {ctx.who(domain)}")
        # an element the detector named is as sure as its detection; a media body to a speech
        # or vision service says what it is, not whose voice or face it holds
        confidence = best(o.confidence for o in obs) if obs else Confidence.MEDIUM
        yield make(
            ctx,
            rule,
            observed="; ".join(parts),
            severity=Severity.HIGH,
            confidence=confidence,
            elements=elements,
            recipients=(domain,),
            evidence=evidence,
            why="A recording of a child's voice or a picture of the face is personal "
            "information, and a voiceprint or facial template made from it is a biometric "
            "identifier.",
        )


def _precise_location_collected(ctx: Context, rule: Rule) -> Iterable[Finding]:
    own = [
        o
        for o in ctx.result.observations
        if o.element == PRECISE and (o.party is Party.FIRST or ctx.is_first(ctx.domain_of(o.host)))
    ]
    by_domain: dict[str, list[Observation]] = {}
    for o in own:
        by_domain.setdefault(ctx.domain_of(o.host), []).append(o)
    for domain, obs in sorted(by_domain.items()):
        details = sorted({o.detail for o in obs if o.detail})
        yield make(
            ctx,
            rule,
            observed=f"{element_list({PRECISE})} collected by the app itself ({domain})",
            severity=Severity.MEDIUM,
            confidence=best(o.confidence for o in obs),
            elements=(PRECISE,),
            recipients=(domain,),
            evidence=ctx.evidence_of(obs),
            why=(f"Precision as sent: {'; '.join(details[:3])}. " if details else "")
            + "Few school features need a student's street-level location.",
        )


RULES: tuple[Rule, ...] = (
    Rule(
        id="EDS025",
        title="Children's personal information from a child-directed app sent to an "
        "advertising company",
        severity=Severity.HIGH,
        family=FAMILY,
        evidence_class="E1/E2",
        explanation=(
            "The app marks itself child-directed, and a child's personal information "
            "(identifiers, contact details, device or advertising IDs) went to an advertising "
            "or ad-motivated tracking company. Under the COPPA Rule as amended in 2025 "
            "(compliance from 2026-04-22), disclosing a child's personal information to third "
            "parties for purposes not integral to the service, targeted advertising among "
            "them, needs separate verifiable parental consent. School consent does not cover "
            "it: the proposed school-authorisation rule was not adopted, and the FTC's "
            "guidance allows school consent only for the school's own educational use."
        ),
        concerns=(law.CONSENT, law.ACCESS_AND_USE, law.THIRD_PARTIES),
        provisions=("coppa-5", "coppa-2", "coppa-5c7", "ct-cc-b1", "sopipa-b1", "ndpa-iv7"),
        questions=(
            "Does the app obtain separate verifiable parental consent before disclosing "
            "children's personal information to advertising companies, and how?",
            "Which third parties receive children's personal information, and for which "
            "purposes that are integral to the service?",
        ),
        unless=(
            "verifiable parental consent covering this disclosure was obtained (from "
            "2026-04-22, a consent separate from the one to collect), or the disclosure is "
            "integral to the service"
        ),
        check=_child_data_to_adtech,
    ),
    Rule(
        id="EDS026",
        title="Persistent identifiers sent to an analytics or advertising company",
        severity=Severity.LOW,
        family=FAMILY,
        evidence_class="E1/E3",
        explanation=(
            "A device, advertising or install ID, or the app's own user ID, went to an "
            "analytics or advertising company. Such identifiers recognise the student over "
            "time. COPPA allows collecting them without consent only to support internal "
            "operations, and since the 2025 amendments the operator's notice must say which "
            "internal operations they serve and how other uses are prevented."
        ),
        escalations=("Medium when the app marks itself child-directed.",),
        concerns=(law.TRANSPARENCY, law.NOTICE, law.CONSENT),
        provisions=("coppa-4-internal", "coppa-5c7", "coppa-2", "ct-cc-b2"),
        questions=(
            "For which internal operations are persistent identifiers sent to this company, "
            "and where does the notice to parents and schools say so?",
            "How is the company kept from using the identifiers for advertising or profiles?",
        ),
        unless=(
            "the identifiers serve only internal operations, and the notice names them and "
            "how other uses are prevented"
        ),
        data_tier=1,
        check=_persistent_ids_explained,
    ),
    Rule(
        id="EDS027",
        title="Data of a 13-17 year-old student sent to an advertising company",
        severity=Severity.HIGH,
        family=FAMILY,
        evidence_class="E1/E2",
        explanation=(
            "The seeded test student is marked 13 to 17 (the persona's age_band, or a date of "
            "birth that makes the student 13 to 17 on the capture's date), and the persona's "
            "values went to an advertising or ad-motivated tracking company. Connecticut law "
            "bars targeted advertising based on student information for every student. "
            "State laws on minors' data also restrict targeted advertising to teenagers and "
            "the sale of their data: Connecticut's 2025 amendments to its Data Privacy Act "
            "(in force 2026-07-01), Oregon HB 2008 (under 16, 2026-01-01) and the Texas SCOPE "
            "Act (2024-09-01, partly enjoined). Their texts are not yet checked, so they are "
            "named here but not cited."
        ),
        concerns=(law.ACCESS_AND_USE, law.THIRD_PARTIES, law.CONSENT),
        provisions=("ct-cc-b1", "ct-cc-b3", "ct-bb-ads", "sopipa-b1", "ndpa-iv7"),
        questions=(
            "Does the app treat users it knows to be 13 to 17 differently: no targeted "
            "advertising, no sale or sharing of their data?",
            "Why does an advertising company receive a teenage student's data?",
        ),
        unless=(
            "the recipient is bound by contract as a service provider that never uses the "
            "data for advertising, and nothing is sold"
        ),
        check=_teen_data_to_adtech,
    ),
    Rule(
        id="EDS028",
        title="Voice, face or biometric data sent to a third party",
        severity=Severity.HIGH,
        family=FAMILY,
        evidence_class="E1",
        explanation=(
            "Audio, video or image uploads went to a speech, vision or AI service, or a "
            "biometric template or voice recording went to a third party. A recording of a "
            "child's voice or image is personal information under COPPA, and the 2025 "
            "amendments add biometric identifiers (voiceprints, facial templates) to it."
        ),
        concerns=(law.SURVEILLANCE, law.THIRD_PARTIES, law.CONSENT),
        provisions=("coppa-2", "coppa-5", "ct-cc-b4", "ferpa-33", "ndpa-ii5"),
        questions=(
            "Which features send students' voice or images to this service, and is it a "
            "declared subprocessor?",
            "Does the service create or keep voiceprints or facial templates, and for how long?",
        ),
        unless=(
            "the service is a declared subprocessor bound not to keep, train on or derive "
            "biometric identifiers from the recordings"
        ),
        data_tier=3,
        check=_biometric_uploads,
    ),
    Rule(
        id="EDS029",
        title="Precise location collected by the app",
        severity=Severity.MEDIUM,
        family=FAMILY,
        evidence_class="E1",
        explanation=(
            "The app's own servers received the student's street-level location. Collecting "
            "more than a feature needs, such as precise location in a reading app, may be "
            "inconsistent with COPPA's data-minimisation rule; in its 2023 Edmodo order the "
            "FTC read it as barring ed-tech from requiring more personal information than "
            "needed."
        ),
        concerns=(law.SURVEILLANCE, law.ACCESS_AND_USE, law.TRANSPARENCY),
        provisions=("coppa-7", "ftc-edmodo", "coppa-2", "ndpa-i2"),
        questions=(
            "Which feature needs the student's precise location, and can it use city-level "
            "location instead?",
            "Is precise location listed in the data privacy agreement (Exhibit B)?",
        ),
        unless="a feature the school asked for needs the location, and the agreement lists it",
        data_tier=3,
        check=_precise_location_collected,
    ),
)
