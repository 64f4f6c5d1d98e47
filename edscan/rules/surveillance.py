"""Watching the student: session-replay recordings, form and keystroke capture before submit."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from edscan.models import Confidence, Finding, FlowSummary, Observation, Severity
from edscan.rules import law, patterns, vocab
from edscan.rules.base import Context, Ref, Rule, best, element_list, make
from edscan.rules.signals import REPLAY_TYPES

FAMILY = "surveillance"


def is_upload(flow: FlowSummary) -> bool:
    """A flow that carries something out: a body, or a WebSocket (recordings stream over WS)."""
    return (
        flow.request_bytes > 0
        or flow.method.upper() in ("POST", "PUT", "PATCH")
        or flow.url.lower().startswith(("ws://", "wss://"))
    )


def _replay_payload(ctx: Context, flow: FlowSummary) -> bool:
    if patterns.is_replay_upload(flow.url, flow.host):
        return True
    return any(s.value.lower() in REPLAY_TYPES for s in ctx.signals(flow.index, "event"))


def _session_replay(ctx: Context, rule: Rule) -> Iterable[Finding]:
    for domain in ctx.third_party_domains():
        vendor = vocab.SESSION_REPLAY in ctx.categories(domain)
        recordings = [
            f
            for f in ctx.flows_by_domain[domain]
            if is_upload(f) and (vendor or _replay_payload(ctx, f))
        ]
        if not recordings:
            continue
        obs = [
            o
            for f in recordings
            for o in ctx.observations_by_flow.get(f.index, [])
            if vocab.tier(o.element) >= 1 and ctx.relevant(o)
        ]
        elements = {o.element for o in obs}
        reasons: list[str] = []
        sensitive = {
            e
            for e in elements
            if vocab.tier(e) >= 3 or vocab.is_credential(e) or vocab.is_content(e)
        }
        if sensitive:
            reasons.append(f"The recordings carried {element_list(sensitive)}.")
        if any(ctx.signals(f.index, "form") for f in recordings):
            reasons.append("The recordings include form-field or keystroke data.")
        if ctx.gate is not None and any(f.index < ctx.gate[0] for f in recordings):
            reasons.append(f"Recording began before the {ctx.gate[1]!r} phase.")
        # a replay vendor by the lists, or a payload that says it is a replay
        confidence = ctx.attribution_confidence(domain) if vendor else Confidence.HIGH
        seen = {o.flow for o in obs}
        evidence = ctx.evidence_of(obs) + [
            ctx.evidence_of_flow(f) for f in recordings if f.index not in seen
        ]
        ctx.covered.update((domain, e) for e in elements)
        yield make(
            ctx,
            rule,
            observed=f"session recordings uploaded to {ctx.who(domain)}",
            severity=Severity.CRITICAL if reasons else Severity.HIGH,
            confidence=confidence,
            elements=elements,
            recipients=(domain,),
            evidence=evidence,
            why=" ".join(reasons),
        )


def _form_capture(ctx: Context, rule: Rule) -> Iterable[Finding]:
    # when the app itself first received each persona value: the submit
    submitted: dict[str, int] = {}
    for o in ctx.result.observations:
        if o.persona_field and not ctx.is_third_observation(o):
            submitted[o.persona_field] = min(submitted.get(o.persona_field, o.flow), o.flow)
    markers: dict[str, list[Ref]] = defaultdict(list)
    early: dict[str, list[Observation]] = defaultdict(list)
    for domain in ctx.third_party_domains():
        for f in ctx.flows_by_domain[domain]:
            markers[domain].extend(
                ctx.evidence_of_flow(f, s.location) for s in ctx.signals(f.index, "form")
            )
        if not ctx.categories(domain) & (vocab.TRACKING | {vocab.SESSION_REPLAY}):
            continue
        for o in ctx.observations_by_domain.get(domain, []):
            if not ctx.is_third_observation(o) or not o.persona_field:
                continue
            first = submitted.get(o.persona_field)
            if first is not None and o.flow < first:
                early[domain].append(o)
    for domain in sorted(set(markers) | set(early)):
        obs = early.get(domain, [])
        marks = markers.get(domain, [])
        if not obs and not marks:
            continue
        elements = {o.element for o in obs}
        critical = any(vocab.tier(e) >= 3 or vocab.is_credential(e) for e in elements)
        parts = []
        why = []
        if obs:
            why.append(
                "What the student typed reached the third party before the app itself "
                "received it, that is, before the student submitted it."
            )
        if marks:
            why.append(
                "Automatic form or keystroke capture sends the values a student enters in "
                "form fields to the third party."
            )
        if obs:
            parts.append(
                f"{element_list(elements)} sent to {ctx.who(domain)} before the app itself received them"
            )
        if marks:
            parts.append(f"form-field or keystroke capture data sent to {ctx.who(domain)}")
        # a marker key shows capture happened; what it held is not known without a persona
        confidence = best(o.confidence for o in obs) if obs else Confidence.MEDIUM
        yield make(
            ctx,
            rule,
            observed="; ".join(parts),
            severity=Severity.CRITICAL if critical else Severity.HIGH,
            confidence=confidence,
            elements=elements,
            recipients=(domain,),
            evidence=ctx.evidence_of(obs) + marks,
            why=" ".join(why),
        )


RULES: tuple[Rule, ...] = (
    Rule(
        id="EDS009",
        title="Session recordings sent to a session-replay service",
        severity=Severity.HIGH,
        family=FAMILY,
        evidence_class="E1",
        explanation=(
            "Session replay records what the student sees and does (clicks, scrolling, typing, "
            "page content) and sends it to a third party that can play it back like a video."
        ),
        escalations=(
            "Critical when the recordings carry form fields, keystrokes, student work, "
            "credentials or sensitive (tier 3) data, or start before login.",
        ),
        concerns=(
            law.SURVEILLANCE,
            law.CONSENT,
            law.TRANSPARENCY,
            law.THIRD_PARTIES,
        ),
        provisions=(
            "ct-cc-b2",
            "ct-cc-b4",
            "ct-bb-a3",
            "ndpa-ii5",
            "ndpa-iv7",
            "coppa-5",
            "ferpa-33",
        ),
        questions=(
            "Is session replay enabled on student screens, and why?",
            "Which fields and pages are masked from recording, and is the replay vendor a "
            "declared subprocessor?",
            "Can session replay be disabled for student accounts?",
        ),
        unless="the vendor is a declared, bound subprocessor and student screens are masked",
        check=_session_replay,
    ),
    Rule(
        id="EDS010",
        title="Form fields or keystrokes captured by a third party",
        severity=Severity.HIGH,
        family=FAMILY,
        evidence_class="E1",
        explanation=(
            "What a student typed reached a third party before it reached the app (before "
            "the student submitted it), or a third party received values from form fields or "
            "keystrokes through automatic capture."
        ),
        escalations=("Critical when the captured data is sensitive (tier 3) or a credential.",),
        concerns=(law.SURVEILLANCE, law.CONSENT),
        provisions=("coppa-7", "coppa-5", "ct-cc-b2", "ct-cc-b4"),
        questions=(
            "Which scripts read form fields as the student types, and why?",
            "Can automatic form and keystroke capture be turned off?",
        ),
        unless="the capture is masked so no typed content leaves the device",
        check=_form_capture,
    ),
)
