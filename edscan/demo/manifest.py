"""What the demo session is designed to show, in one place.

The scripted client (``client.py``), the local answering addon (``upstream.py``) and the
end-to-end test all read this module: the hosts the session contacts, the phase each third party
is first contacted in, and what a scan of the session must find — every recipient, data element
and rule, and nothing else. Change the session and this manifest together.

The app is fictional: "Brindlewick Classroom" on ``*.brindlewick.test`` (``.test`` is reserved
by RFC 2606, so the names can never reach a real server). Third parties keep their real
hostnames so the real tracker lists apply; the demo addon answers them on the machine.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

APP_NAME: Final = "Brindlewick Classroom"
FIRST_PARTY_DOMAIN: Final = "brindlewick.test"
APP_PACKAGE: Final = "com.brindlewick.classroom"

# first-party hosts, all served by the loopback app server (app.py)
APP_HOST: Final = "app.brindlewick.test"  # the web app the Android shell's web view loads
API_HOST: Final = "api.brindlewick.test"  # JSON API
CDN_HOST: Final = "cdn.brindlewick.test"  # scripts, video
ID_HOST: Final = "id.brindlewick.test"  # the single-sign-on identity provider
FIRST_PARTY_HOSTS: Final = frozenset({APP_HOST, API_HOST, CDN_HOST, ID_HOST})

# where the recorder answers phase marks (never forwarded)
MARK_HOST: Final = "edscan.mark"

PHASES: Final = ("launch", "login", "assignment", "quiz", "essay", "video", "logout")


@dataclass(frozen=True, slots=True, kw_only=True)
class ThirdParty:
    """One third party the session talks to, the way its SDK does, and what a scan must say."""

    host: str
    domain: str  # registrable domain, as a recipient in the report
    sdk: str  # what the client imitates
    phases: tuple[str, ...]  # every phase that contacts it
    elements: frozenset[str]  # data elements observed going to it
    rules: frozenset[str]  # rules with a finding naming it
    # EDS026: persistent ids to analytics companies; EDS027: the persona is 15 or 16, so
    # advertising companies receiving its values get the teen finding
    scheme: str = "https"


def _set(*items: str) -> frozenset[str]:
    return frozenset(items)


THIRD_PARTIES: Final[tuple[ThirdParty, ...]] = (
    ThirdParty(
        host="app-measurement.com",
        domain="app-measurement.com",
        sdk="Google Analytics for Firebase (protobuf batch) with the advertising ID",
        phases=("launch", "video"),
        # the ad ID in field 19 at launch, the app instance id (21) and Firebase installation
        # id (30) in every bundle; the app's user id as user property _id later
        elements=_set("dev.ad_id", "dev.install_id", "sid.provider"),
        rules=_set("EDS015", "EDS019", "EDS026"),
    ),
    ThirdParty(
        host="www.google-analytics.com",
        domain="google-analytics.com",
        sdk="Google Analytics 4 (gtag.js /g/collect)",
        phases=("launch", "login", "logout"),
        # cid before login; uid, and the OAuth callback URL (code and all) as dl
        elements=_set("dev.install_id", "sid.provider", "cred.oauth_code"),
        rules=_set("EDS008", "EDS015", "EDS016", "EDS019", "EDS026"),
    ),
    ThirdParty(
        host="www.facebook.com",
        domain="facebook.com",
        sdk="Meta Pixel with advanced matching (SHA-256 ud[em], ud[fn], ud[ln], ud[external_id])",
        phases=("launch", "login"),
        elements=_set(
            "dev.install_id", "st_contact.email", "st.name", "sid.provider", "cred.oauth_code"
        ),
        rules=_set("EDS001", "EDS003", "EDS008", "EDS011", "EDS015", "EDS016", "EDS027"),
    ),
    ThirdParty(
        host="analytics.tiktok.com",
        domain="tiktok.com",
        sdk="TikTok Pixel with advanced matching",
        phases=("login",),
        elements=_set("dev.install_id", "st_contact.email", "sid.provider", "cred.oauth_code"),
        rules=_set("EDS001", "EDS003", "EDS008", "EDS011", "EDS027"),
    ),
    ThirdParty(
        host="api.segment.io",
        domain="segment.io",
        sdk="Segment analytics.js batch (identify traits in clear)",
        phases=("login", "video"),
        elements=_set(
            "dev.install_id", "sid.provider", "sid.local", "st_contact.email", "st.name", "demo.dob"
        ),
        rules=_set("EDS019", "EDS026"),
    ),
    ThirdParty(
        host="sdk.iad-01.braze.com",
        domain="braze.com",
        sdk="Braze SDK /api/v3/data with user attributes",
        phases=("login",),
        elements=_set("dev.install_id", "sid.provider", "st_contact.email", "st.name", "demo.dob"),
        rules=_set("EDS019", "EDS026"),
    ),
    ThirdParty(
        host="api-js.mixpanel.com",
        domain="mixpanel.com",
        sdk="Mixpanel JS (form data= of base64 JSON)",
        phases=("assignment",),
        elements=_set("dev.install_id", "sid.provider", "st_contact.email"),
        rules=_set("EDS019", "EDS026"),
    ),
    ThirdParty(
        host="b.scorecardresearch.com",
        domain="scorecardresearch.com",
        sdk="Comscore beacon over plain HTTP with the page title",
        phases=("assignment",),
        elements=_set("st.name"),
        rules=_set("EDS007", "EDS016", "EDS019"),
        scheme="http",
    ),
    ThirdParty(
        host="api2.amplitude.com",
        domain="amplitude.com",
        sdk="Amplitude Android SDK (HTTP V2) with the quiz score and an IEP flag",
        phases=("quiz",),
        elements=_set(
            "dev.install_id",
            "dev.ad_id",
            "dev.android_id",
            "sid.provider",
            "enr.grade",
            "enr.school",
            "si.iep_504",
        ),
        rules=_set("EDS002", "EDS004", "EDS019", "EDS026"),
    ),
    ThirdParty(
        host="o450123.ingest.sentry.io",
        domain="sentry.io",
        sdk="Sentry error envelope with user and debugging extras",
        phases=("quiz",),
        elements=_set("sid.provider", "sid.username", "sid.local", "sid.state", "st_contact.email"),
        rules=_set("EDS019", "EDS020"),
    ),
    ThirdParty(
        host="rs.fullstory.com",
        domain="fullstory.com",
        sdk="FullStory session-replay bundle (gzip) with identify and keystrokes",
        phases=("essay",),
        # FullStory's own browser id and session id ride in the bundle's query (UserId, SessionId)
        elements=_set(
            "dev.install_id", "sid.provider", "st_contact.email", "st.name", "work.content"
        ),
        rules=_set("EDS009", "EDS010"),
    ),
    ThirdParty(
        host="api.openai.com",
        domain="openai.com",
        sdk="OpenAI Chat Completions with the essay draft, called from the client",
        phases=("essay",),
        # the app's own API key rides along as a bearer token: observed, but not a finding,
        # since it is not the student's credential
        elements=_set("st.name", "st_contact.email", "work.content", "cred.access_token"),
        rules=_set("EDS014"),
    ),
    ThirdParty(
        host="api.deepgram.com",
        domain="deepgram.com",
        sdk="Deepgram speech-to-text (raw WAV upload of the read-aloud check)",
        phases=("essay",),
        # a recording carries no text edscan can read: the finding rests on the upload itself
        elements=_set(),
        rules=_set("EDS028"),
    ),
    ThirdParty(
        host="hbopenbid.pubmatic.com",
        domain="pubmatic.com",
        sdk="OpenRTB 2.5 bid request (Prebid.js), COPPA flag off",
        phases=("video",),
        # device.ifa, device.dpidsha1 (the hashed Android ID), device.geo, user.id, user.yob
        elements=_set("dev.ad_id", "dev.install_id", "geo.precise", "sid.provider", "demo.dob"),
        rules=_set("EDS001", "EDS003", "EDS005", "EDS006", "EDS013", "EDS019", "EDS027"),
    ),
    ThirdParty(
        host="idsync.rlcdn.com",
        domain="rlcdn.com",
        sdk="LiveRamp cookie sync with the app's user id, setting a one-year cookie",
        phases=("video",),
        elements=_set("sid.provider"),
        rules=_set("EDS001", "EDS012", "EDS016", "EDS017", "EDS027"),
    ),
)

THIRD_PARTY_HOSTS: Final = frozenset(t.host for t in THIRD_PARTIES)

# What the app itself receives: the sign-in form, its tokens, the submitted essay, the tablet's
# location.
FIRST_PARTY_ELEMENTS: Final = _set(
    "sid.username",
    "sid.password",
    "cred.oauth_code",
    "cred.access_token",
    "work.content",
    "geo.precise",  # the tablet's location, logged when an assignment opens
)
# the OAuth code in the callback URL, and precise location the reading app does not need
FIRST_PARTY_RULES: Final = _set("EDS008", "EDS029")


@dataclass(frozen=True, slots=True, kw_only=True)
class Quirk:
    """A result of the scan that differs from the design, and why (fix it, then delete it)."""

    domain: str
    element: str | None = None  # reported although not designed ("+") ...
    missing_element: str | None = None  # ... or designed but not reported
    rule: str | None = None
    missing_rule: str | None = None
    why: str = ""


QUIRKS: Final[tuple[Quirk, ...]] = (
    Quirk(
        domain="pubmatic.com",
        element="dev.idfa",
        missing_element="dev.ad_id",
        why="OpenRTB device.ifa is platform-neutral (ext.ifa_type says aaid), but the taxonomy "
        "files the key `ifa` under the iOS IDFA",
    ),
)


# The session sends one student's ids to many SDKs at once: the same user id to Google
# Analytics, Segment, Amplitude, Braze, Mixpanel, Sentry, FullStory, PubMatic and LiveRamp; the
# same device id to Segment, Amplitude, Braze and Mixpanel; the same ad id to Google's App
# Measurement, Amplitude and PubMatic; the same hashed e-mail and external id to Meta and TikTok.
# EDS030 names every company of each shared id (the ids are reported under their own elements,
# so the ID-sync element is not added to them).
SHARED_ID_SOURCES: Final = frozenset(
    {"google-analytics.com", "app-measurement.com", "segment.io", "facebook.com"}
)
SHARED_ID_RECEIVERS: Final = frozenset(
    {
        "amplitude.com",
        "braze.com",
        "fullstory.com",
        "mixpanel.com",
        "pubmatic.com",
        "rlcdn.com",
        "segment.io",
        "sentry.io",
        "tiktok.com",
    }
)


# The request context the tracking endpoints' own fields carry (edscan.detect.known_ids): the
# page viewed, the referrer and the event name (aus.interaction); the language, the screen, the
# user agent and consent flags (atm.other). Technical metadata (tier 0): reported, not scored.
_PAGE_AND_DEVICE: Final = frozenset({"aus.interaction", "atm.other"})
CONTEXT: Final[dict[str, frozenset[str]]] = {
    "google-analytics.com": _PAGE_AND_DEVICE,  # dl, dt, en; ul, sr
    "facebook.com": _PAGE_AND_DEVICE,  # dl, ev; sw, sh
    "tiktok.com": _PAGE_AND_DEVICE,  # context.page, event; context.userAgent
    "segment.io": _PAGE_AND_DEVICE,  # context.page, event; context.locale, userAgent
    "mixpanel.com": _PAGE_AND_DEVICE,  # event, $current_url; mp_lib
    "amplitude.com": _PAGE_AND_DEVICE,  # event_type; language, platform
    "sentry.io": frozenset({"aus.interaction"}),  # request.url
    "pubmatic.com": _PAGE_AND_DEVICE,  # site.page, site.ref; device.language, regs.coppa
}


def expected() -> dict[str, tuple[frozenset[str], frozenset[str]]]:
    """``domain -> (elements, rules)`` a scan of the session reports, quirks included."""
    out = {
        t.domain: (set(t.elements) | CONTEXT.get(t.domain, set()), set(t.rules))
        for t in THIRD_PARTIES
    }
    out[FIRST_PARTY_DOMAIN] = (set(FIRST_PARTY_ELEMENTS), set(FIRST_PARTY_RULES))
    for domain in SHARED_ID_SOURCES | SHARED_ID_RECEIVERS:
        out[domain][1].add("EDS030")
    for q in QUIRKS:
        elements, rules = out[q.domain]
        if q.missing_element:
            elements.discard(q.missing_element)
        if q.element:
            elements.add(q.element)
        if q.missing_rule:
            rules.discard(q.missing_rule)
        if q.rule:
            rules.add(q.rule)
    return {d: (frozenset(e), frozenset(r)) for d, (e, r) in out.items()}
