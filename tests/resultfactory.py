"""Synthetic ``ScanResult``s for renderer tests and benchmarks (no capture, no pipeline).

- ``realistic_result()``: a classroom writing app ("Quillpad") that sends a test student's
  values to trackers in several encodings, with findings, a score and list provenance.
- ``big_result(n)``: the same shape scaled to ``n`` flows (the 100k-flow report benchmark).
- ``hostile_result()``: script, HTML and SVG payloads in every string a renderer prints.
- ``PERSONA`` and ``persona_forms()``: the seeded values and every encoding of them that must
  never appear in redacted output.

Everything is deterministic: the same call gives the same result.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import json
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, quote_plus

from edscan.models import (
    CaptureInfo,
    Confidence,
    Detector,
    Evidence,
    Field,
    Finding,
    FlowSummary,
    ListInfo,
    Observation,
    Party,
    Recipient,
    ScanResult,
    Score,
    Severity,
)

T0 = 1767258000.0  # 2026-01-01 09:00 UTC: a school morning
FIRST_PARTY = "quillpad.example"

PERSONA: dict[str, str] = {
    "student.full_name": "Quillon Zarbetta",
    "student.email": "qz-7f3a@district-test.example",
    "student.student_id": "88A7Q31",
    "student.state_id": "9000012345",
    "student.dob": "2014-03-17",
    "student.username": "quillon.zarbetta",
    "student.password": "Tr0ub4dor&3-canary",
    "student.lat": "41.76583",
    "student.lon": "-72.67341",
    "custom.essay": "My grandmother crossed the Dnieper on a raft in 1943",
    "custom.accommodation": "extended time on written tests per IEP",
}


def b64(s: str) -> str:
    return base64.b64encode(s.encode()).decode()


def sha256(s: str) -> str:
    return hashlib.sha256(s.strip().lower().encode()).hexdigest()


def md5(s: str) -> str:
    return hashlib.md5(s.encode()).hexdigest()


def persona_forms(value: str) -> set[str]:
    """Every form of a persona value a redacted output must not contain."""
    v = value
    forms = {
        v,
        v.lower(),
        quote(v, safe=""),
        quote_plus(v),
        quote(quote(v, safe=""), safe=""),
        b64(v),
        b64(v).rstrip("="),
        base64.urlsafe_b64encode(v.encode()).decode().rstrip("="),
        v.encode().hex(),
        md5(v),
        hashlib.sha1(v.encode()).hexdigest(),
        hashlib.sha256(v.encode()).hexdigest(),
        sha256(v),
        json.dumps(v)[1:-1],
    }
    return {f for f in forms if len(f) >= 4}


# --------------------------------------------------------------------------- building blocks


@dataclass
class _Obs:
    element: str
    location: str
    value: str
    detector: Detector = Detector.PERSONA
    confidence: Confidence = Confidence.HIGH
    persona_field: str | None = None
    encodings: tuple[str, ...] = ()
    detail: str = ""


@dataclass
class _Call:
    url: str
    phase: str | None
    t: float
    method: str = "GET"
    status: int | None = 200
    obs: list[_Obs] = field(default_factory=list)
    error: str | None = None
    tls_intercepted: bool | None = True
    request_bytes: int = 420
    response_bytes: int = 1800
    signals: tuple[Field, ...] = ()


def _p(key: str, element: str, location: str, value: str, *enc: str, detail: str = "") -> _Obs:
    return _Obs(
        element=element,
        location=location,
        value=value,
        persona_field=key,
        encodings=tuple(enc),
        detail=detail,
    )


E = PERSONA["student.email"]
NAME = PERSONA["student.full_name"]
SID = PERSONA["student.student_id"]
ESSAY = PERSONA["custom.essay"]
MIXPANEL_DATA = b64(
    json.dumps({"event": "essay_saved", "properties": {"name": NAME, "token": "x"}})
)

_RECIPIENTS: dict[str, dict[str, Any]] = {
    FIRST_PARTY: {
        "organization": "Quillpad Learning, Inc.",
        "parent": None,
        "categories": ("ed-tech vendor",),
        "sdk": (),
        "party": Party.FIRST,
        "sources": ("given: --first-party",),
    },
    "google-analytics.com": {
        "organization": "Google LLC",
        "parent": "Alphabet Inc.",
        "categories": ("analytics",),
        "sdk": ("Google Analytics 4",),
    },
    "googletagmanager.com": {
        "organization": "Google LLC",
        "parent": "Alphabet Inc.",
        "categories": ("tag manager",),
        "sdk": ("Google Tag Manager",),
    },
    "doubleclick.net": {
        "organization": "Google LLC",
        "parent": "Alphabet Inc.",
        "categories": ("advertising",),
        "sdk": ("Google Ads remarketing",),
    },
    "facebook.com": {
        "organization": "Meta Platforms, Inc.",
        "parent": None,
        "categories": ("advertising", "social network"),
        "sdk": ("Meta Pixel",),
    },
    "facebook.net": {
        "organization": "Meta Platforms, Inc.",
        "parent": None,
        "categories": ("advertising", "social network"),
        "sdk": ("Meta Pixel",),
    },
    "tiktok.com": {
        "organization": "TikTok Pte. Ltd.",
        "parent": "ByteDance Ltd.",
        "categories": ("advertising", "social network"),
        "sdk": ("TikTok Pixel",),
    },
    "fullstory.com": {
        "organization": "FullStory, Inc.",
        "parent": None,
        "categories": ("session replay",),
        "sdk": ("FullStory",),
    },
    "openai.com": {
        "organization": "OpenAI, L.L.C.",
        "parent": None,
        "categories": ("AI model provider",),
        "sdk": ("OpenAI API",),
    },
    "rlcdn.com": {
        "organization": "LiveRamp, Inc.",
        "parent": None,
        "categories": ("identity resolution / data broker",),
        "sdk": ("LiveRamp RampID sync",),
    },
    "mixpanel.com": {
        "organization": "Mixpanel, Inc.",
        "parent": None,
        "categories": ("analytics",),
        "sdk": ("Mixpanel",),
    },
    "segment.io": {
        "organization": "Segment.io, Inc.",
        "parent": "Twilio Inc.",
        "categories": ("analytics", "customer engagement / messaging"),
        "sdk": ("Segment",),
    },
    "sentry.io": {
        "organization": "Functional Software, Inc. (Sentry)",
        "parent": None,
        "categories": ("error monitoring",),
        "sdk": ("Sentry",),
    },
    "cloudfront.net": {
        "organization": "Amazon.com, Inc.",
        "parent": None,
        "categories": ("CDN / hosting",),
        "sdk": (),
    },
    "clever.com": {
        "organization": "Clever Inc.",
        "parent": "Kahoot! ASA",
        "categories": ("SSO / identity",),
        "sdk": ("Clever Instant Login",),
    },
    "adexchange.example": {
        "organization": None,
        "parent": None,
        "categories": (),
        "sdk": (),
    },
    "pinnedsdk.example": {
        "organization": "Pinned SDK Co.",
        "parent": None,
        "categories": ("analytics",),
        "sdk": ("PinnedSDK",),
    },
}


def _domain(host: str) -> str:
    if ".tracker" in host:  # big_result's synthetic trackers: cdn7.tracker7.example
        return ".".join(host.split(".")[-2:])
    for d in sorted(_RECIPIENTS, key=len, reverse=True):
        if host == d or host.endswith("." + d):
            return d
    return host


def _calls() -> list[_Call]:
    fp = f"https://app.{FIRST_PARTY}"
    ga = "https://www.google-analytics.com/g/collect?v=2&tid=G-QP12345&cid=555.1767258000&en={en}&uid={uid}"
    c: list[_Call] = [
        _Call(f"{fp}/", "launch", 0.0),
        _Call("https://www.googletagmanager.com/gtag/js?id=G-QP12345", "launch", 0.4),
        _Call("https://connect.facebook.net/en_US/fbevents.js", "launch", 0.5),
        _Call("https://d1x2y3z4.cloudfront.net/assets/app.4f9c.js", "launch", 0.6),
        _Call(
            ga.format(en="page_view", uid="anon"),
            "launch",
            1.2,
            method="POST",
            status=204,
        ),
        _Call(
            "https://www.facebook.com/tr/?id=1234567890&ev=PageView&dl=https%3A%2F%2Fapp.quillpad.example%2F",
            "launch",
            1.3,
            signals=(Field(location="cookie:_fbp", key="_fbp", value="max-age=7776000"),),
        ),
        _Call(
            "https://clever.com/oauth/authorize?response_type=code&client_id=qp&code=c1ev3r-0auth-c0de-99",
            "login",
            20.0,
            obs=[
                _Obs(
                    element="cred.oauth_code",
                    location="query:code",
                    value="c1ev3r-0auth-c0de-99",
                    detector=Detector.KEYNAME,
                    confidence=Confidence.MEDIUM,
                    detail="OAuth authorisation code",
                )
            ],
        ),
        _Call(
            f"{fp}/api/login",
            "login",
            24.0,
            method="POST",
            obs=[
                _p("student.email", "st_contact.email", "body:$.email", E, "json"),
                _p(
                    "student.password",
                    "sid.password",
                    "body:$.password",
                    PERSONA["student.password"],
                    "json",
                ),
            ],
        ),
        _Call(
            f"{fp}/api/students/{SID}/profile",
            "login",
            25.0,
            obs=[_p("student.student_id", "sid.local", "path:/api/students/{}/profile", SID)],
        ),
        _Call(
            f"https://www.facebook.com/tr/?id=1234567890&ev=CompleteRegistration&ud[em]={sha256(E)}",
            "login",
            26.0,
            obs=[
                _p(
                    "student.email",
                    "st_contact.email",
                    "query:ud[em]",
                    sha256(E),
                    "sha256",
                    detail="sha256 of the trimmed, lower-cased e-mail",
                ),
            ],
        ),
        _Call(
            ga.format(en="login", uid=SID),
            "login",
            26.5,
            method="POST",
            status=204,
            obs=[_p("student.student_id", "sid.local", "query:uid", SID)],
        ),
        _Call(
            f"https://analytics.tiktok.com/api/v2/pixel?event=CompleteRegistration&email={quote(E, safe='')}",
            "login",
            27.0,
            obs=[_p("student.email", "st_contact.email", "query:email", E, "url")],
        ),
        _Call(
            f"https://api.segment.io/v1/users/{quote(E, safe='')}/traits?dob={PERSONA['student.dob']}",
            "login",
            27.5,
            method="POST",
            obs=[
                _p("student.email", "st_contact.email", "path:/v1/users/{}/traits", E, "url"),
                _p("student.dob", "demo.dob", "query:dob", PERSONA["student.dob"]),
            ],
        ),
        _Call(
            f"https://rs.fullstory.com/rec/bundle?OrgId=QP1&UserId={b64(E)}&Seq=1",
            "assignment",
            60.0,
            method="POST",
            request_bytes=48211,
            obs=[
                _p("student.email", "st_contact.email", "query:UserId", b64(E), "base64"),
                _p("custom.essay", "work.content", "body:$.evts[3].text", ESSAY, "gzip", "json"),
                _p(
                    "custom.accommodation",
                    "si.iep_504",
                    "body:$.evts[9].text",
                    PERSONA["custom.accommodation"],
                    "gzip",
                    "json",
                ),
            ],
        ),
        _Call(
            "https://api.openai.com/v1/chat/completions",
            "assignment",
            75.0,
            method="POST",
            obs=[
                _p("custom.essay", "work.content", "body:$.messages[1].content", ESSAY, "json"),
                _p("student.full_name", "st.name", "body:$.user", NAME, "json"),
            ],
        ),
        _Call(
            f"https://idsync.rlcdn.com/712345.gif?partner_uid={md5(E)}&redirect=1",
            "assignment",
            76.0,
            obs=[_p("student.email", "st_contact.email", "query:partner_uid", md5(E), "md5")],
        ),
        _Call(
            f"https://api.mixpanel.com/track?data={quote(MIXPANEL_DATA, safe='')}&ip=1",
            "assignment",
            80.0,
            obs=[
                _p(
                    "student.full_name",
                    "st.name",
                    "query:data→$.properties.name",
                    NAME,
                    "url",
                    "base64",
                    "json",
                ),
            ],
        ),
        _Call(
            f"http://bid.adexchange.example/openrtb/bid?lat={PERSONA['student.lat']}&lon={PERSONA['student.lon']}&ifa=6D92078A-8246-4BA4-AE5B-76104861E7DC",
            "quiz",
            120.0,
            obs=[
                _p(
                    "student.lat",
                    "geo.precise",
                    "query:lat",
                    PERSONA["student.lat"],
                    detail="5 decimals",
                ),
                _Obs(
                    element="dev.ad_id",
                    location="query:ifa",
                    value="6D92078A-8246-4BA4-AE5B-76104861E7DC",
                    detector=Detector.PATTERN,
                    confidence=Confidence.MEDIUM,
                ),
            ],
        ),
        _Call(
            "https://o123456.ingest.sentry.io/api/4504/envelope/?sentry_key=abcdef0123456789&sentry_version=7",
            "quiz",
            121.0,
            method="POST",
            obs=[
                _Obs(
                    element="sid.username",
                    location="body:$.user.username",
                    value=PERSONA["student.username"],
                    detector=Detector.PERSONA,
                    persona_field="student.username",
                    encodings=("json",),
                )
            ],
        ),
        _Call(
            f"https://googleads.g.doubleclick.net/pagead/viewthroughconversion/987654/?random=1767258123&cv=11&fst=1767258123000&guid=ON&ref={quote('https://app.quillpad.example/quiz?student=' + SID, safe='')}",
            "quiz",
            122.0,
            obs=[_p("student.student_id", "sid.local", "query:ref→query:student", SID, "url")],
        ),
        _Call(
            "https://api.pinnedsdk.example/v1/config",
            "quiz",
            123.0,
            status=None,
            error="Client TLS handshake failed. The client does not trust the proxy's certificate for api.pinnedsdk.example (certificate unknown)",
            tls_intercepted=False,
        ),
        _Call(f"{fp}/api/logout", "logout", 180.0, method="POST"),
    ]
    # background analytics beacons, a few per phase (a real session has many)
    extra = []
    for i, (phase, t) in enumerate(
        [("launch", 2.0), ("login", 28.0), ("assignment", 90.0), ("quiz", 130.0), ("logout", 181.0)]
    ):
        for j in range(3):
            extra.append(
                _Call(
                    ga.format(en="scroll", uid="anon"),
                    phase,
                    t + j * 3 + i,
                    method="POST",
                    status=204,
                )
            )
            extra.append(_Call(f"{fp}/api/ping?v=2", phase, t + j * 3 + i + 0.5))
    return sorted(c + extra, key=lambda k: k.t)


def _flows_and_observations(
    calls: Sequence[_Call],
) -> tuple[list[FlowSummary], list[Observation]]:
    flows: list[FlowSummary] = []
    observations: list[Observation] = []
    for index, call in enumerate(calls):
        host = call.url.split("/")[2].lower()
        party = Party.FIRST if _domain(host) == FIRST_PARTY else Party.THIRD
        flows.append(
            FlowSummary(
                index=index,
                host=host,
                method=call.method,
                url=call.url,
                scheme=call.url.split(":")[0],
                status=call.status,
                phase=call.phase,
                time=T0 + call.t,
                request_bytes=call.request_bytes,
                response_bytes=call.response_bytes,
                tls_intercepted=call.tls_intercepted,
                error=call.error,
                signals=call.signals,
            )
        )
        for o in call.obs:
            observations.append(
                Observation(
                    flow=index,
                    host=host,
                    element=o.element,
                    detector=o.detector,
                    confidence=o.confidence,
                    location=o.location,
                    encodings=o.encodings,
                    persona_field=o.persona_field,
                    party=party,
                    value=o.value,
                    detail=o.detail,
                )
            )
    return flows, observations


def _recipients(flows: Iterable[FlowSummary]) -> list[Recipient]:
    by_domain: dict[str, list[FlowSummary]] = {}
    for f in flows:
        by_domain.setdefault(_domain(f.host), []).append(f)
    out = []
    for domain, fs in sorted(by_domain.items()):
        meta = _RECIPIENTS.get(domain, {})
        times = [f.time for f in fs if f.time is not None]
        out.append(
            Recipient(
                domain=domain,
                hosts=tuple(sorted({f.host for f in fs})),
                organization=meta.get("organization"),
                parent=meta.get("parent"),
                categories=tuple(meta.get("categories", ())),
                party=meta.get("party", Party.THIRD),
                sdk=tuple(meta.get("sdk", ())),
                sources=tuple(meta.get("sources", ("bundled:edscan-trackers@2026.01",))),
                flows=len(fs),
                first_seen=min(times) if times else None,
                last_seen=max(times) if times else None,
            )
        )
    return out


def _ev(flows: Sequence[FlowSummary], index: int, location: str, *enc: str) -> Evidence:
    f = flows[index]
    return Evidence(
        flow=index,
        method=f.method,
        url=f.url,
        location=location,
        encodings=tuple(enc),
        phase=f.phase,
    )


def _find(flows: Sequence[FlowSummary], needle: str) -> int:
    for f in flows:
        if needle in f.url:
            return f.index
    raise KeyError(needle)


CONCERNS = {
    "AU": "access and use",
    "TPV": "third-party vendors and subcontractors",
    "BR": "breach and misuse",
    "C": "consent",
    "SUR": "surveillance",
    "SEC": "security",
    "T": "transparency",
    "N": "notice",
    "FERPA": "FERPA",
}


def _findings(flows: Sequence[FlowSummary]) -> list[Finding]:
    fb = _find(flows, "ud[em]")
    tt = _find(flows, "tiktok.com")
    rl = _find(flows, "rlcdn.com")
    fs = _find(flows, "fullstory.com")
    ai = _find(flows, "openai.com")
    mp = _find(flows, "mixpanel.com")
    geo = _find(flows, "adexchange.example")
    seg = _find(flows, "segment.io")
    dc = _find(flows, "doubleclick.net")
    ga = _find(flows, "en=login")
    c = CONCERNS
    return [
        Finding(
            rule="EDS001",
            title="Student contact data sent to an advertising tracker",
            severity=Severity.CRITICAL,
            confidence=Confidence.HIGH,
            summary=(
                "Observed the test student's e-mail address (SHA-256 hashed, and URL-encoded) "
                "sent to Meta Pixel and the TikTok Pixel. This may be inconsistent with CGS "
                "§10-234cc(b)(1) and (b)(4), NDPA Article IV §7 and COPPA 16 CFR 312.5."
            ),
            elements=("st_contact.email",),
            recipients=("facebook.com", "tiktok.com"),
            evidence=(
                _ev(flows, fb, "query:ud[em]", "sha256"),
                _ev(flows, tt, "query:email", "url"),
            ),
            concerns=(c["AU"], c["TPV"], c["BR"], c["C"], c["FERPA"]),
            provisions=(
                "CGS §10-234cc(b)(1)",
                "CGS §10-234cc(b)(4)",
                "NDPA Art. IV §7",
                "COPPA 16 CFR 312.5(a)(2)",
                "SOPIPA Cal. Bus. & Prof. Code §22584(b)(1)",
            ),
            questions=(
                "Why does the app send students' e-mail addresses, even hashed, to Meta and TikTok?",
                "Is the Meta Pixel's advanced matching turned on in student-facing pages, and can it be turned off?",
                "Are Meta and TikTok bound by contract as service providers that may not use the data for advertising?",
            ),
            fingerprint="f-eds001-contact-ads",
        ),
        Finding(
            rule="EDS012",
            title="Identity-resolution (data broker) endpoint contacted",
            severity=Severity.CRITICAL,
            confidence=Confidence.HIGH,
            summary=(
                "Observed an ID-sync call to LiveRamp carrying an MD5 hash of the student's "
                "e-mail. This is an indicator of cross-site profile building and may be "
                "inconsistent with CGS §10-234cc(b)(2) and NDPA Article IV §7(b)."
            ),
            elements=("st_contact.email",),
            recipients=("rlcdn.com",),
            evidence=(_ev(flows, rl, "query:partner_uid", "md5"),),
            concerns=(c["AU"], c["BR"]),
            provisions=("CGS §10-234cc(b)(2)", "CGS §10-234cc(b)(3)", "NDPA Art. IV §7(b)"),
            questions=("Which data broker receives student identifiers, and under what contract?",),
            fingerprint="f-eds012-idsync",
        ),
        Finding(
            rule="EDS009",
            title="Session-replay vendor receives recordings of student screens",
            severity=Severity.CRITICAL,
            confidence=Confidence.HIGH,
            summary=(
                "Observed FullStory recording uploads that contain the student's essay text and "
                "an accommodation note that mentions an IEP. This may be inconsistent with CGS "
                "§10-234cc(b)(4) and NDPA Article II §5."
            ),
            elements=("work.content", "si.iep_504", "st_contact.email"),
            recipients=("fullstory.com",),
            evidence=(
                _ev(flows, fs, "body:$.evts[3].text", "gzip", "json"),
                _ev(flows, fs, "body:$.evts[9].text", "gzip", "json"),
                _ev(flows, fs, "query:UserId", "base64"),
            ),
            concerns=(c["SUR"], c["C"], c["T"], c["TPV"]),
            provisions=("CGS §10-234cc(b)(4)", "NDPA Art. II §5", "NDPA Art. IV §7(b)"),
            questions=(
                "Is session recording enabled on pages students use, and which fields are excluded from recording?",
                "Is FullStory listed as a subprocessor in the signed data privacy agreement?",
            ),
            fingerprint="f-eds009-replay",
        ),
        Finding(
            rule="EDS006",
            title="Precise location and an advertising ID sent over plain HTTP to an ad exchange",
            severity=Severity.HIGH,
            confidence=Confidence.HIGH,
            summary=(
                "Observed latitude and longitude at 5 decimals (street level) and a device "
                "advertising ID in an unencrypted bid request. This may be inconsistent with "
                "COPPA 16 CFR 312.2 and CGS §10-234cc(a)(1)."
            ),
            elements=("geo.precise", "dev.ad_id"),
            recipients=("adexchange.example",),
            evidence=(_ev(flows, geo, "query:lat"), _ev(flows, geo, "query:ifa")),
            concerns=(c["SUR"], c["SEC"]),
            provisions=("COPPA 16 CFR 312.2", "CGS §10-234cc(a)(1)", "NDPA Art. V §3"),
            questions=(
                "Why does a quiz request the device's precise location, and who receives it?",
            ),
            fingerprint="f-eds006-geo-http",
        ),
        Finding(
            rule="EDS020",
            title="Student writing and name sent to an AI model provider",
            severity=Severity.MEDIUM,
            confidence=Confidence.HIGH,
            summary=(
                "Observed the student's essay text and full name in a request to the OpenAI API. "
                "This may be inconsistent with NDPA Article IV §7(c) unless OpenAI is a declared "
                "subprocessor that does not train on the data."
            ),
            elements=("work.content", "st.name"),
            recipients=("openai.com",),
            evidence=(_ev(flows, ai, "body:$.messages[1].content", "json"),),
            concerns=(c["AU"], c["TPV"], c["T"]),
            provisions=("NDPA Art. IV §7(c)", "CGS §10-234cc(b)(4)(E)"),
            questions=(
                "Does the AI provider keep or train on student writing? Is there a zero-retention agreement?",
                "Is FullStory listed as a subprocessor in the signed data privacy agreement?",
            ),
            fingerprint="f-eds020-ai",
        ),
        Finding(
            rule="EDS004",
            title="Student identifiers sent to analytics",
            severity=Severity.HIGH,
            confidence=Confidence.HIGH,
            summary=(
                "Observed the student's local ID, name and date of birth sent to Google "
                "Analytics, Mixpanel, Segment and a Google Ads conversion tag."
            ),
            elements=("sid.local", "st.name", "demo.dob", "st_contact.email"),
            recipients=("google-analytics.com", "mixpanel.com", "segment.io", "doubleclick.net"),
            evidence=(
                _ev(flows, ga, "query:uid"),
                _ev(flows, mp, "query:data→$.properties.name", "url", "base64", "json"),
                _ev(flows, seg, "path:/v1/users/{}/traits", "url"),
                _ev(flows, seg, "query:dob"),
                _ev(flows, dc, "query:ref→query:student", "url"),
                _ev(flows, fb, "query:ud[em]", "sha256"),
                _ev(flows, tt, "query:email", "url"),
            ),
            concerns=(c["AU"], c["TPV"]),
            provisions=("FERPA 34 CFR 99.33", "CGS §10-234cc(b)(4)"),
            questions=("Which analytics vendors receive student identifiers, and why?",),
            fingerprint="f-eds004-ids-analytics",
        ),
        Finding(
            rule="EDS021",
            title="Third-party trackers contacted before login",
            severity=Severity.MEDIUM,
            confidence=Confidence.HIGH,
            summary="Observed Google Analytics and Meta Pixel calls in the launch phase, before the student logged in.",
            elements=(),
            recipients=("google-analytics.com", "facebook.com"),
            evidence=(_ev(flows, 4, ""), _ev(flows, 5, "")),
            concerns=(c["C"], c["N"]),
            provisions=("COPPA 16 CFR 312.5",),
            questions=("Can third-party tags be held back until a teacher or parent has agreed?",),
            fingerprint="f-eds021-prelogin",
        ),
        Finding(
            rule="EDS023",
            title="Long-lived third-party cookie",
            severity=Severity.LOW,
            confidence=Confidence.MEDIUM,
            summary="Observed a Meta `_fbp` cookie set to last 90 days.",
            elements=("atm.ip_cookies",),
            recipients=("facebook.com",),
            evidence=(_ev(flows, 5, "cookie:_fbp"),),
            concerns=(c["SUR"],),
            provisions=("COPPA 16 CFR 312.2",),
            questions=(),
            fingerprint="f-eds023-cookie",
        ),
        Finding(
            rule="EDS030",
            title="Third parties contacted",
            severity=Severity.INFO,
            confidence=Confidence.HIGH,
            summary="The app contacted 15 third-party domains owned by 12 organisations.",
            recipients=(),
            fingerprint="f-eds030-info",
        ),
    ]


LISTS = (
    ListInfo(
        name="edscan-trackers",
        version="2026.01",
        sha256="5d41402abc4b2a76b9719d911017c592" * 2,
        licence="Apache-2.0",
        source="bundled",
        records=612,
    ),
    ListInfo(
        name="adguard-companiesdb",
        version="2025-12-18",
        sha256="7c4a8d09ca3762af61e59520943dc26494f8941b" + "0" * 24,
        licence="CC-BY-SA-4.0",
        source="https://github.com/AdguardTeam/companiesdb",
        records=10432,
    ),
)

SCORE = Score(
    value=91,
    grade="F",
    verdict="do not approve until fixed",
    formula=(
        "points = base[severity] × tier × recipient × child × confidence, base critical 40, "
        "high 20, medium 8, low 3, info 0; score = 100 × (1 − Π(1 − min(points, 60)/100))"
    ),
    contributions=(("f-eds001-contact-ads", 60.0), ("f-eds012-idsync", 60.0)),
    not_verifiable=(
        "A written contract with the district (CGS §10-234bb(a))",
        "Deletion of student data on request and at the end of the contract",
        "Breach notification within the statutory time limits",
        "Parents' right to review and correct their child's data",
    ),
)


def realistic_result(*, score: bool = True, reveal_settings: bool = False) -> ScanResult:
    calls = _calls()
    flows, observations = _flows_and_observations(calls)
    recipients = _recipients(flows)
    return ScanResult(
        tool_version="0.1.0",
        capture=CaptureInfo(
            path="captures/quillpad-grade5.edscan.jsonl",
            sha256=hashlib.sha256(b"quillpad capture").hexdigest(),
            format="edscan",
            flows=len(flows),
            start=flows[0].time,
            end=flows[-1].time,
            phases=("launch", "login", "assignment", "quiz", "logout"),
            warnings=("flow 14: request body cut at 4 MiB",),
        ),
        first_party=(FIRST_PARTY,),
        first_party_inferred=False,
        flows=tuple(flows),
        observations=tuple(observations),
        recipients=tuple(recipients),
        findings=tuple(_findings(flows)),
        score=SCORE if score else None,
        lists=LISTS,
        persona_fields=tuple(sorted(PERSONA)),
        settings={
            "persona": "personas/quillon.toml",
            "first_party": [FIRST_PARTY],
            "accept_noncommercial": False,
            "max_body": 4194304,
        },
    )


# --------------------------------------------------------------------------- big


def big_result(n_flows: int = 100_000, *, seed: int = 5) -> ScanResult:
    """The realistic result's traffic repeated to ``n_flows`` flows, with 40+ recipients."""
    rng = random.Random(seed)
    base = realistic_result()
    template = list(base.flows)
    base_obs: dict[int, list[Observation]] = {}
    for o in base.observations:
        base_obs.setdefault(o.flow, []).append(o)
    extra_hosts = [f"cdn{i}.tracker{i % 60}.example" for i in range(90)]
    device_id = "3f9c2a71-5d4e-4b8a-9c1f-0e6d7b2a8c45"
    flows: list[FlowSummary] = []
    observations: list[Observation] = []
    phases = base.capture.phases
    duration = 3 * 3600.0
    used = 0  # template flows placed so far (every one of them recurs)
    copies: dict[int, list[int]] = {}  # template flow -> its copies
    for i in range(n_flows):
        t = T0 + duration * i / n_flows
        phase = phases[min(len(phases) - 1, i * len(phases) // n_flows)]
        if i % 4 == 3:
            host = rng.choice(extra_hosts)
            f = FlowSummary(
                index=i,
                host=host,
                method="GET",
                url=f"https://{host}/p.gif?cb={rng.getrandbits(40)}&v=2",
                scheme="https",
                status=200,
                phase=phase,
                time=t,
                request_bytes=300,
                response_bytes=43,
                tls_intercepted=True,
                error=None,
            )
            flows.append(f)
            if i % 8 == 3:  # half of them carry an SDK device id
                observations.append(
                    Observation(
                        flow=i,
                        host=host,
                        element="dev.install_id",
                        detector=Detector.PATTERN,
                        confidence=Confidence.MEDIUM,
                        location="query:did",
                        value=device_id,
                    )
                )
            continue
        src = template[used % len(template)]
        used += 1
        copies.setdefault(src.index, []).append(i)
        flows.append(dataclasses.replace(src, index=i, time=t, phase=phase))
        for o in base_obs.get(src.index, ()):
            observations.append(dataclasses.replace(o, flow=i))
    recipients = _recipients(flows)
    # make the synthetic trackers real-looking recipients
    recipients = [
        r
        if not r.domain.startswith("tracker")
        else dataclasses.replace(
            r,
            organization=f"Tracker Company {r.domain.split('.')[0][7:]}",
            categories=(
                rng.choice(["analytics", "advertising", "audience measurement", "CDN / hosting"]),
            ),
        )
        for r in recipients
    ]
    findings = []
    for f in base.findings:
        ev = [
            dataclasses.replace(e, flow=i, phase=flows[i].phase)
            for e in f.evidence
            for i in copies.get(e.flow, [])[:400]
        ]
        findings.append(dataclasses.replace(f, evidence=tuple(ev), occurrences=len(ev) * 3))
    by_domain: dict[str, list[FlowSummary]] = {}
    for fl in flows:
        if ".tracker" in fl.host:
            by_domain.setdefault(".".join(fl.host.split(".")[-2:]), []).append(fl)
    for k, (domain, fls) in enumerate(sorted(by_domain.items())):
        findings.append(
            Finding(
                rule="EDS021",
                title=f"Device identifier sent to {domain} before login",
                severity=(Severity.HIGH, Severity.MEDIUM, Severity.LOW)[k % 3],
                confidence=Confidence.MEDIUM,
                summary=f"Observed an SDK device identifier sent to {domain} in {len(fls):,} requests.",
                elements=("dev.install_id",),
                recipients=(domain,),
                evidence=tuple(_ev(flows, fl.index, "query:did") for fl in fls[:50]),
                concerns=(CONCERNS["C"], CONCERNS["SUR"]),
                provisions=("COPPA 16 CFR 312.5",),
                questions=(f"Why is {domain} contacted before a teacher or parent has agreed?",),
                fingerprint=f"f-eds021-{domain}",
                occurrences=len(fls),
            )
        )
    return dataclasses.replace(
        base,
        capture=dataclasses.replace(
            base.capture, flows=n_flows, start=flows[0].time, end=flows[-1].time
        ),
        flows=tuple(flows),
        observations=tuple(observations),
        recipients=tuple(recipients),
        findings=tuple(findings),
    )


# --------------------------------------------------------------------------- hostile

PAYLOADS = (
    "<script>window.__xss=1</script>",
    '"><img src=x onerror="window.__xss=1;alert(1)">',
    "'><svg onload=alert(1)>",
    "</style><script>window.__xss=1</script>",
    "</title><script>alert(1)</script>",
    "<svg><script>window.__xss=1</script></svg>",
    "]]><script>alert(1)</script>",
    "javascript:alert(1)",
    '<a href="javascript:window.__xss=1">x</a>',
    "<iframe srcdoc='<script>parent.__xss=1</script>'></iframe>",
    "{{ 7*7 }}{% raw %}",
)

# Further payloads for the every-field test: each tries another way out of text, an attribute,
# a URL, a style, a comment, a template or an SVG/MathML island; each would set window.__xss or
# open a dialog if it ran.
MORE_PAYLOADS = (
    "<img src=x onerror=window.__xss=1>",
    "<body onload=window.__xss=1>",
    "<details open ontoggle=window.__xss=1>",
    "<video><source onerror=window.__xss=1></video>",
    "<audio src=x onerror=window.__xss=1>",
    "<input autofocus onfocus=window.__xss=1>",
    "<select autofocus onfocus=window.__xss=1>",
    "<textarea autofocus onfocus=window.__xss=1>",
    "<marquee onstart=window.__xss=1>",
    "<object data=javascript:window.__xss=1>",
    "<embed src=javascript:window.__xss=1>",
    "<form action=javascript:window.__xss=1><button>x</button></form>",
    "<math><mtext><script>window.__xss=1</script></mtext></math>",
    "<svg><animate onbegin=window.__xss=1 attributeName=x dur=1s>",
    "<svg><a xlink:href=javascript:window.__xss=1><text>x</text></a></svg>",
    "<svg/onload=window.__xss=1>",
    "<scr<script>ipt>window.__xss=1</scr</script>ipt>",
    "<SCRIPT>window.__xss=1</SCRIPT>",
    "<script\x0c>window.__xss=1</script>",
    "<script src=data:text/javascript,window.__xss=1></script>",
    "<script src=//127.0.0.1:9/x.js></script>",
    "<link rel=stylesheet href=//127.0.0.1:9/x.css>",
    "<meta http-equiv=refresh content='0;url=javascript:window.__xss=1'>",
    "<base href=//127.0.0.1:9/>",
    "<style>@import '//127.0.0.1:9/x.css';</style>",
    '<div style="background:url(//127.0.0.1:9/x.png)">x</div>',
    '" onmouseover="window.__xss=1" x="',
    "' onfocus='window.__xss=1' autofocus x='",
    '" autofocus onfocus=window.__xss=1 "',
    "` onerror=window.__xss=1 `",
    "--><script>window.__xss=1</script><!--",
    "<!--<img src=--><img src=x onerror=window.__xss=1//-->",
    "</textarea><script>window.__xss=1</script>",
    "</noscript><script>window.__xss=1</script>",
    "</template><script>window.__xss=1</script>",
    "</script><script>window.__xss=1</script>",
    "';window.__xss=1;//",
    '";window.__xss=1;//',
    "\\u003cscript\\u003ewindow.__xss=1\\u003c/script\\u003e",
    "&lt;script&gt;window.__xss=1&lt;/script&gt;",
    "%3Cscript%3Ewindow.__xss=1%3C/script%3E",
    "java\tscript:window.__xss=1",
    "data:text/html,<script>window.__xss=1</script>",
    "vbscript:msgbox(1)",
    "${alert(1)}",
    "{{constructor.constructor('window.__xss=1')()}}",
    "\u202e<script>window.__xss=1</script>",
    "\ufeff<img src=x onerror=window.__xss=1>",
)
ALL_PAYLOADS = PAYLOADS + MORE_PAYLOADS


def hostile_result(*, every_payload: bool = False) -> ScanResult:
    """Every string a renderer prints carries a script, HTML or SVG payload.

    ``every_payload``: each field holds all of ``ALL_PAYLOADS`` one after another, so every
    payload is tried in every field in one report (the default spreads ``PAYLOADS`` over them).
    """
    base = realistic_result()
    pl = (("".join(ALL_PAYLOADS),) * len(PAYLOADS)) if every_payload else PAYLOADS

    def p(i: int) -> str:
        return pl[i % len(pl)]

    flows = [
        dataclasses.replace(
            f,
            host=f"{f.host}{p(i)}",
            url=f"{f.url}/{p(i + 1)}?{p(i + 2)}={p(i + 3)}",
            phase=f"{f.phase}{p(i + 4)}",
            error=f"certificate unknown {p(i + 5)}" if f.error else None,
            method=f"GET{p(i)}" if i % 7 == 0 else f.method,
            signals=(Field(location=f"header:{p(i)}", key=p(i + 1), value=p(i + 2)),),
        )
        for i, f in enumerate(base.flows)
    ]
    observations = [
        dataclasses.replace(
            o,
            host=f"{o.host}{p(i)}",
            element=o.element if i % 3 else f"{o.element}{p(i)}",
            location=f'body:$["{p(i + 1)}"].{p(i + 2)}',
            encodings=(*o.encodings, p(i + 3)),
            persona_field=(o.persona_field or "student.x") + p(i + 4),
            # with every payload in one string, a value that is only it would mask it
            # everywhere (the report masks each observed value wherever it appears)
            value=f"value {i} {p(i + 5)}" if every_payload else p(i + 5),
            detail=p(i + 6),
        )
        for i, o in enumerate(base.observations)
    ]
    recipients = [
        dataclasses.replace(
            r,
            domain=f"{r.domain}{p(i)}" if i % 2 else r.domain,
            hosts=(*r.hosts, f"evil{p(i + 1)}.{r.domain}"),
            organization=f"{r.organization or 'Org'} {p(i + 2)}",
            parent=p(i + 3),
            categories=(*r.categories, p(i + 4)),
            sdk=(p(i + 5),),
            sources=(p(i + 6),),
        )
        for i, r in enumerate(base.recipients)
    ]
    findings = [
        dataclasses.replace(
            f,
            title=f"{f.title} {p(i)}",
            summary=f"{f.summary} {p(i + 1)}",
            elements=(*f.elements, p(i + 2)),
            recipients=(*f.recipients, p(i + 3)),
            evidence=tuple(
                dataclasses.replace(
                    e,
                    url=f"{e.url}&{p(i + 4)}={p(i + 5)}#{p(i + 6)}",
                    method=f"{e.method}{p(i)}",
                    location=p(i + 7),
                    encodings=(p(i + 8),),
                    phase=p(i + 9),
                )
                for e in f.evidence
            ),
            concerns=(*f.concerns, p(i + 1)),
            provisions=(*f.provisions, p(i + 2)),
            questions=(*f.questions, p(i + 3)),
            rule=f.rule,
        )
        for i, f in enumerate(base.findings)
    ]
    score = dataclasses.replace(
        SCORE,
        verdict=f"do not approve until fixed {pl[0]}",
        formula=f"{SCORE.formula} {pl[1]}",
        not_verifiable=(*SCORE.not_verifiable, pl[2]),
    )
    return dataclasses.replace(
        base,
        tool_version=f"0.1.0{pl[3]}",
        capture=dataclasses.replace(
            base.capture,
            path=f"captures/{pl[4]}.har",
            format=f"har{pl[5]}",
            sha256=f"abc{pl[6]}",
            phases=tuple(f"{ph}{p(i)}" for i, ph in enumerate(base.capture.phases)),
            warnings=(pl[7], pl[8]),
        ),
        first_party=(f"{FIRST_PARTY}{pl[9]}",),
        flows=tuple(flows),
        observations=tuple(observations),
        recipients=tuple(recipients),
        findings=tuple(findings),
        score=score,
        lists=tuple(
            dataclasses.replace(li, name=f"{li.name}{p(i)}", licence=p(i + 1), source=p(i + 2))
            for i, li in enumerate(base.lists)
        ),
        persona_fields=tuple(f"student.{p(i)}" for i in range(4)),
        settings={p(0): p(1), "nested": {p(2): [p(3), p(4)]}, "persona": p(5)},
    )
