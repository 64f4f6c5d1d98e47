"""Security of transmission: plaintext, credentials in URLs or to third parties, student data in
URLs, outdated TLS, forged certificates accepted (a ``--tls-check`` capture)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from edscan.capture.coverage import handshake_completed
from edscan.models import Confidence, Finding, FlowSummary, Observation, Severity
from edscan.rules import law, vocab
from edscan.rules.base import Context, Ref, Rule, best, element_list, is_loopback, make
from edscan.rules.locations import URL_KINDS, in_copied_url, location_key, location_kind

FAMILY = "security"

OAUTH_KEYS = frozenset({"code", "state", "session_state"})
_SECURITY = (
    "ct-bb-security",
    "ct-bb-a5",
    "ct-cc-a1",
    "coppa-8",
    "sopipa-d1",
    "ferpa-31-ii",
    "ndpa-v3",
)


def is_plaintext(flow: FlowSummary) -> bool:
    scheme = flow.scheme.lower()
    url = flow.url.lower()
    return scheme in ("http", "ws") or url.startswith(("http://", "ws://"))


def _plaintext(ctx: Context, rule: Rule) -> Iterable[Finding]:
    flows: dict[str, list[FlowSummary]] = defaultdict(list)
    obs_by: dict[str, list[Observation]] = defaultdict(list)
    for f in sorted(ctx.result.flows, key=lambda f: f.index):
        if not is_plaintext(f) or is_loopback(f.host):
            continue
        obs = [
            o
            for o in ctx.observations_by_flow.get(f.index, [])
            if vocab.tier(o.element) >= 1 or vocab.is_credential(o.element)
        ]
        # a bare GET answered by a redirect is the usual upgrade to HTTPS
        if not obs and f.method == "GET" and f.status is not None and 300 <= f.status < 400:
            continue
        domain = ctx.domain_of(f.host)
        flows[domain].append(f)
        obs_by[domain].extend(obs)
    for domain in sorted(flows):
        obs = obs_by[domain]
        elements = {o.element for o in obs}
        if any(vocab.is_credential(e) or vocab.tier(e) >= 3 for e in elements):
            severity = Severity.CRITICAL
        elif elements:
            severity = Severity.HIGH
        else:
            severity = Severity.LOW
        seen = {o.flow for o in obs}
        evidence = ctx.evidence_of(obs) + [
            ctx.evidence_of_flow(f) for f in flows[domain] if f.index not in seen
        ]
        what = element_list(elements) if elements else "requests (page, cookies, device details)"
        yield make(
            ctx,
            rule,
            observed=f"{what} sent without encryption to {ctx.who(domain)}",
            severity=severity,
            confidence=best(o.confidence for o in obs) if obs else Confidence.HIGH,
            elements=elements,
            recipients=(domain,),
            evidence=evidence,
            why="Anyone on the same network (school Wi-Fi, a café, the ISP) can read or alter "
            "plain HTTP and WS traffic.",
        )


def _credentials(ctx: Context, rule: Rule) -> Iterable[Finding]:
    for domain in sorted(ctx.observations_by_domain):
        obs = [o for o in ctx.observations_by_domain[domain] if vocab.is_credential(o.element)]
        if not obs:
            continue
        trusted = ctx.is_first(domain) or vocab.SSO in ctx.categories(domain)
        third = (
            [o for o in obs if ctx.is_third_observation(o) and ctx.is_student_credential(o)]
            if not trusted
            else []
        )
        if not trusted and not third:
            continue
        if third:
            hits = third
            severity = Severity.CRITICAL
            copied = any(in_copied_url(o.location) for o in hits)
            why = (
                "The credential was copied from the app's own URL (the Referer header or a "
                "page address the tracker records)."
                if copied
                else "A third party holding a student's credential or "
                "session token can act as the student."
            )
            observed = f"{element_list({o.element for o in hits})} sent to {ctx.who(domain)}"
        else:
            hits = [o for o in obs if location_kind(o.location) in URL_KINDS]
            if not hits:
                continue  # a token in a header or body to the app itself is how logins work
            oauth = all(location_key(o.location) in OAUTH_KEYS for o in hits)
            severity = Severity.MEDIUM if oauth else Severity.HIGH
            why = (
                "An OAuth authorization code in a redirect URL is the standard flow; it "
                "should be single-use and short-lived."
                if oauth
                else "URLs are written to server, proxy and browser logs and leak through the "
                "Referer header."
            )
            observed = f"{element_list({o.element for o in hits})} in the URL of requests to {ctx.who(domain)}"
        yield make(
            ctx,
            rule,
            observed=observed,
            severity=severity,
            confidence=best(o.confidence for o in hits),
            elements={o.element for o in hits},
            recipients=(domain,),
            evidence=ctx.evidence_of(hits),
            why=why,
        )


def _in_url(o: Observation) -> bool:
    e = o.element
    # a key name alone in a URL is usually the vendor's own parameter (FullStory's UserId)
    return (
        o.confidence >= Confidence.MEDIUM
        and (location_kind(o.location) in URL_KINDS or in_copied_url(o.location))
        and not vocab.is_credential(e)
        and (vocab.is_identity(e) or vocab.tier(e) >= 3)
    )


def _sensitive_in_url(ctx: Context, rule: Rule) -> Iterable[Finding]:
    for domain in sorted(ctx.observations_by_domain):
        obs = [o for o in ctx.observations_by_domain[domain] if _in_url(o)]
        if not obs:
            continue
        third = not ctx.is_first(domain) and any(ctx.is_third_observation(o) for o in obs)
        referer = any(location_kind(o.location) == "referer" for o in obs)
        elements = {o.element for o in obs}
        where = "in the Referer header of requests to" if referer else "in the URL of requests to"
        yield make(
            ctx,
            rule,
            observed=f"{element_list(elements)} {where} {ctx.who(domain)}",
            severity=Severity.HIGH if third else Severity.MEDIUM,
            confidence=best(o.confidence for o in obs),
            elements=elements,
            recipients=(domain,),
            evidence=ctx.evidence_of(obs),
            why="URLs are kept in server, proxy and browser logs and are copied to third "
            "parties in the Referer header and by analytics scripts.",
        )


def _weak_tls(ctx: Context, rule: Rule) -> Iterable[Finding]:
    by_domain: dict[str, list[Ref]] = defaultdict(list)
    versions: dict[str, set[str]] = defaultdict(set)
    for f in ctx.result.flows:
        for s in f.signals:  # by location: no need to group every flow's signals
            if s.location != "tls":
                continue
            domain = ctx.domain_of(f.host)
            by_domain[domain].append(ctx.evidence_of_flow(f, "tls"))
            versions[domain].add(s.value)
    for domain in sorted(by_domain):
        yield make(
            ctx,
            rule,
            observed=f"connections to {ctx.who(domain)} using {', '.join(sorted(versions[domain]))}",
            severity=Severity.MEDIUM,
            confidence=Confidence.HIGH,
            recipients=(domain,),
            evidence=by_domain[domain],
        )


def _forged_certificate(ctx: Context, rule: Rule) -> Iterable[Finding]:
    # only a capture made with the CA NOT trusted (edscan capture --tls-check) says this: in
    # any other capture a completed handshake is what the auditor set up
    if not ctx.result.capture.tls_check:
        return
    flows: dict[str, list[FlowSummary]] = defaultdict(list)
    for f in sorted(ctx.result.flows, key=lambda f: f.index):
        if handshake_completed(f):
            flows[ctx.domain_of(f.host) or f.host].append(f)
    for domain in sorted(flows):
        hosts = sorted({f.host for f in flows[domain]})
        obs = [o for f in flows[domain] for o in ctx.observations_by_flow.get(f.index, [])]
        elements = {o.element for o in obs}
        seen = {o.flow for o in obs}
        evidence = ctx.evidence_of(obs) + [
            ctx.evidence_of_flow(f, "tls") for f in flows[domain] if f.index not in seen
        ]
        sent = (
            f"then sent {element_list(elements)}"
            if elements
            else f"then sent {len(flows[domain])} request(s), with no student data recognised"
        )
        yield make(
            ctx,
            rule,
            observed=f"the app completed TLS handshakes with {', '.join(hosts)} using a forged "
            f"certificate (the device did not trust the proxy's CA) and {sent} to "
            f"{ctx.who(domain)}",
            severity=Severity.CRITICAL,
            confidence=Confidence.HIGH,
            elements=elements,
            recipients=(domain,),
            evidence=evidence,
            why="An app that accepts any certificate lets anyone on the same network (school "
            "Wi-Fi, a café, a compromised router) read and alter what it sends, as this "
            "capture did.",
        )


RULES: tuple[Rule, ...] = (
    Rule(
        id="EDS007",
        title="Student data or credentials sent without encryption",
        severity=Severity.HIGH,
        family=FAMILY,
        evidence_class="E1",
        explanation=(
            "Requests went over plain HTTP or WS, which anyone on the network path can read "
            "and alter. With student data in them, that data is exposed."
        ),
        escalations=(
            "Critical when the requests carry passwords, tokens or sensitive (tier 3) data.",
            "Low when no student data was recognised in them.",
        ),
        concerns=(law.SECURITY, law.BREACH),
        provisions=_SECURITY,
        questions=(
            "Why are these requests not sent over HTTPS?",
            "Does the service enforce HTTPS (HSTS) for every endpoint the app uses?",
        ),
        unless="no student information or identifier is ever sent this way",
        check=_plaintext,
    ),
    Rule(
        id="EDS008",
        title="Credentials or session tokens in URLs or sent to third parties",
        severity=Severity.CRITICAL,
        family=FAMILY,
        evidence_class="E1",
        explanation=(
            "A password, session token or sign-in code went to a company other than the app "
            "and its sign-in provider (including through the Referer header), or was put in a "
            "URL, where logs and Referer headers expose it."
        ),
        escalations=(
            "High (not Critical) when the credential stays with the app or its sign-in "
            "provider but sits in a URL.",
            "Medium when it is an OAuth authorization code in a redirect URL.",
        ),
        concerns=(law.SECURITY, law.BREACH),
        provisions=("ct-cc-a1", "ct-bb-a5", "ndpa-v3", "ferpa-31-ii", "coppa-8"),
        questions=(
            "Why do credentials or session tokens reach this recipient?",
            "Are tokens kept out of URLs (sent in headers or POST bodies), and is a strict "
            "Referrer-Policy set?",
        ),
        unless="the credential only ever goes to the app and its sign-in provider, outside URLs",
        data_tier=3,
        check=_credentials,
    ),
    Rule(
        id="EDS016",
        title="Student data in URLs",
        severity=Severity.MEDIUM,
        family=FAMILY,
        evidence_class="E1",
        explanation=(
            "Names, e-mail addresses, IDs or sensitive information were put in URLs (query "
            "strings or paths). URLs end up in logs and browser history, and are copied to "
            "third parties in Referer headers and analytics beacons."
        ),
        escalations=(
            "High when the URL reached a third party (directly, in a page-URL field, or "
            "through the Referer header).",
        ),
        concerns=(law.SECURITY, law.BREACH),
        provisions=_SECURITY[:5],
        questions=(
            "Can student data be moved out of URLs into POST bodies?",
            "Is a strict Referrer-Policy set on pages that show student data?",
        ),
        unless="the values are opaque, non-identifying tokens",
        check=_sensitive_in_url,
    ),
    Rule(
        id="EDS021",
        title="Outdated TLS version",
        severity=Severity.MEDIUM,
        family=FAMILY,
        evidence_class="E1",
        explanation=(
            "Connections used TLS 1.0 or 1.1, which are deprecated and below current "
            "industry standards for protecting data in transit."
        ),
        concerns=(law.SECURITY,),
        provisions=("ct-cc-a1", "ct-bb-security", "ndpa-v3", "coppa-8"),
        questions=("When will the service require TLS 1.2 or later?",),
        unless="no student data crosses these connections",
        data_tier=1,
        check=_weak_tls,
    ),
    Rule(
        id="EDS031",
        title="Forged TLS certificate accepted (certificates not validated)",
        severity=Severity.CRITICAL,
        family=FAMILY,
        evidence_class="E1",
        explanation=(
            "The capture was made with edscan capture --tls-check, on a device that was not "
            "told to trust the proxy's certificate authority. The app still completed TLS "
            "handshakes with the proxy's forged certificate for these hosts, so it does not "
            "check whom it is talking to: anyone on the network path can read and alter the "
            "data it sends, as the proxy did."
        ),
        concerns=(law.SECURITY, law.BREACH),
        provisions=_SECURITY,
        questions=(
            "Why does the app accept a certificate no trusted authority issued for these "
            "hosts (a disabled trust manager, hostname verifier or WebView error handler)?",
            "Which app versions and platforms are affected, and when will certificate "
            "validation be restored?",
            "Was student data exposed on untrusted networks, and will affected schools be told?",
        ),
        unless="the device had the proxy's CA installed after all (the capture is then no "
        "TLS check)",
        check=_forged_certificate,
    ),
)
