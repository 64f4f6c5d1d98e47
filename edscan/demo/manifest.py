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
    """One third party the session talks to, the way its SDK does."""

    host: str
    domain: str  # registrable domain, as a recipient in the report
    sdk: str  # what the client imitates
    phases: tuple[str, ...]  # every phase that contacts it
    scheme: str = "https"


THIRD_PARTIES: Final[tuple[ThirdParty, ...]] = (
    ThirdParty(
        host="app-measurement.com",
        domain="app-measurement.com",
        sdk="Google Analytics for Firebase (protobuf batch)",
        phases=("launch", "video"),
    ),
    ThirdParty(
        host="www.google-analytics.com",
        domain="google-analytics.com",
        sdk="Google Analytics 4 (gtag.js /g/collect)",
        phases=("launch", "login", "logout"),
    ),
    ThirdParty(
        host="www.facebook.com",
        domain="facebook.com",
        sdk="Meta Pixel with advanced matching",
        phases=("launch", "login"),
    ),
    ThirdParty(
        host="analytics.tiktok.com",
        domain="tiktok.com",
        sdk="TikTok Pixel",
        phases=("login",),
    ),
    ThirdParty(
        host="api.segment.io",
        domain="segment.io",
        sdk="Segment analytics.js batch",
        phases=("login", "video"),
    ),
    ThirdParty(
        host="sdk.iad-01.braze.com",
        domain="braze.com",
        sdk="Braze SDK /api/v3/data",
        phases=("login",),
    ),
    ThirdParty(
        host="api-js.mixpanel.com",
        domain="mixpanel.com",
        sdk="Mixpanel JS (base64 data=)",
        phases=("assignment",),
    ),
    ThirdParty(
        host="b.scorecardresearch.com",
        domain="scorecardresearch.com",
        sdk="Comscore beacon over plain HTTP",
        phases=("assignment",),
        scheme="http",
    ),
    ThirdParty(
        host="api2.amplitude.com",
        domain="amplitude.com",
        sdk="Amplitude HTTP V2",
        phases=("quiz",),
    ),
    ThirdParty(
        host="o450123.ingest.sentry.io",
        domain="sentry.io",
        sdk="Sentry envelope",
        phases=("quiz",),
    ),
    ThirdParty(
        host="rs.fullstory.com",
        domain="fullstory.com",
        sdk="FullStory session-replay bundle (gzip)",
        phases=("essay",),
    ),
    ThirdParty(
        host="api.openai.com",
        domain="openai.com",
        sdk="OpenAI Chat Completions",
        phases=("essay",),
    ),
    ThirdParty(
        host="hbopenbid.pubmatic.com",
        domain="pubmatic.com",
        sdk="OpenRTB 2.5 bid request (Prebid.js)",
        phases=("video",),
    ),
    ThirdParty(
        host="idsync.rlcdn.com",
        domain="rlcdn.com",
        sdk="LiveRamp cookie sync",
        phases=("video",),
    ),
)

THIRD_PARTY_HOSTS: Final = frozenset(t.host for t in THIRD_PARTIES)
