"""What each field means at the common tracking endpoints: a labelled table of request shapes.

Every row is a request as the endpoint receives it (parameter names and nesting from the
captures in ``../shared/corpus`` and from ``../shared/reference/sdk-endpoints.md``; the values
are made up), decoded by edscan's own decoders, and the fields edscan must explain: which element
and at what confidence, and the words of the meaning the report shows (``cid: Google Analytics
client id``). Negatives: the same field names where they mean nothing known (another host, a
path that is not the endpoint, an empty value), which must stay unexplained.
"""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urlencode

import pytest
from conftest import shared_path

from edscan.decode.flow import decode_flow
from edscan.detect.known_ids import known_ids
from edscan.models import Body, Confidence, Flow, Observation

PAGE = "aus.interaction"
META = "atm.other"
HASH = "5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8"
UUID = "2a7c0b1e-5d3f-4c69-9e21-7b8d4f6a1c03"


def _observe(method: str, url: str, body: object = None) -> dict[str, Observation]:
    raw = b""
    headers: tuple[tuple[str, str], ...] = ()
    if isinstance(body, dict | list):
        raw = json.dumps(body).encode()
        headers = (("content-type", "application/json"),)
    elif isinstance(body, str):
        raw = body.encode()
        headers = (("content-type", "application/x-www-form-urlencoded"),)
    flow = Flow(
        index=0,
        id="x",
        method=method,
        url=url,
        request_headers=headers,
        request_body=Body(content=raw, size=len(raw)) if raw else None,
    )
    return {o.location: o for o in known_ids().observe(flow, decode_flow(flow))}


# (endpoint, method, url, body, {location: (element, words in the meaning)})
POSITIVES: list[tuple[str, str, str, object, dict[str, tuple[str, str]]]] = [
    (
        "Google Analytics 4 /g/collect",
        "POST",
        "https://region1.google-analytics.com/g/collect?"
        + urlencode(
            {
                "v": "2",
                "tid": "G-7QX2K9LM3B",
                "cid": "1234567890.1717000000",
                "uid": "s-4411",
                "sid": "1717000000",
                "ul": "en-us",
                "sr": "1512x982",
                "dl": "https://school.example/classes",
                "dr": "https://search.example/",
                "dt": "Classes",
                "en": "page_view",
                "gcs": "G111",
                "gcd": "13l3l3l3l1",
                "npa": "0",
            }
        ),
        None,
        {
            "query:cid": ("dev.install_id", "cid: Google Analytics client id"),
            "query:uid": ("sid.provider", "user id"),
            "query:sid": ("dev.install_id", "session id"),
            "query:ul": (META, "language"),
            "query:sr": (META, "screen"),
            "query:dl": (PAGE, "page viewed"),
            "query:dr": (PAGE, "referrer"),
            "query:dt": (PAGE, "title"),
            "query:en": (PAGE, "event"),
            "query:gcs": (META, "consent"),
            "query:gcd": (META, "consent"),
            "query:npa": (META, "consent"),
        },
    ),
    (
        "Universal Analytics /r/collect (as on nytimes.com)",
        "GET",
        "https://www.google-analytics.com/r/collect?v=1&_v=j66&a=1&t=pageview&_s=1"
        "&dl=https%3A%2F%2Fschool.example%2F&ul=en-us&de=UTF-8&dt=Home&sd=24-bit&sr=1440x900"
        "&vp=1440x789&je=0&cid=123456789.1500000000&tid=UA-58581-1",
        None,
        {
            "query:cid": ("dev.install_id", "client id"),
            "query:t": (PAGE, "hit type"),
            "query:vp": (META, "viewport"),
            "query:sd": (META, "colour depth"),
        },
    ),
    (
        "Google Signals stats.g.doubleclick.net/r/collect",
        "GET",
        "https://stats.g.doubleclick.net/r/collect?v=1&aip=1&t=dc&tid=UA-1-1&cid=1.2&jid=3",
        None,
        {"query:cid": ("dev.install_id", "client id")},
    ),
    (
        "GA4 Measurement Protocol /mp/collect",
        "POST",
        "https://www.google-analytics.com/mp/collect?measurement_id=G-1&api_secret=x",
        {
            "client_id": "1.2",
            "user_id": "s-4411",
            "user_data": {"sha256_email_address": HASH},
            "consent": {"ad_user_data": "DENIED"},
            "events": [{"name": "login", "params": {"page_location": "https://school.example/"}}],
        },
        {
            "body:$.client_id": ("dev.install_id", "client id"),
            "body:$.user_id": ("sid.provider", "user id"),
            "body:$.user_data.sha256_email_address": ("st_contact.email", "hashed e-mail"),
            "body:$.consent.ad_user_data": (META, "consent"),
            "body:$.events[0].params.page_location": (PAGE, "page viewed"),
        },
    ),
    (
        "Google Ads remarketing (viewthroughconversion)",
        "GET",
        "https://googleads.g.doubleclick.net/pagead/viewthroughconversion/925133270/?"
        "url=https%3A%2F%2Fschool.example%2F&ref=https%3A%2F%2Fsearch.example%2F&tiba=Home"
        "&auid=1651234567.1717000000&gcs=G111&npa=0&tfcd=1",
        None,
        {
            "query:url": (PAGE, "page viewed"),
            "query:ref": (PAGE, "referrer"),
            "query:tiba": (PAGE, "title"),
            "query:auid": ("dev.install_id", "conversion-linker"),
            "query:tfcd": (META, "child-directed"),
        },
    ),
    (
        "AdSense ad request (as on nytimes.com)",
        "GET",
        "https://googleads.g.doubleclick.net/pagead/ads?client=ca-pub-1&ga_vid=1.2&u_w=1440"
        "&u_h=900&biw=1440&bih=789&rdid=" + UUID,
        None,
        {
            "query:ga_vid": ("dev.install_id", "client id"),
            "query:u_w": (META, "screen width"),
            "query:rdid": ("dev.ad_id", "advertising id"),
        },
    ),
    (
        "Google cookie matching cm.g.doubleclick.net/pixel",
        "GET",
        "https://cm.g.doubleclick.net/pixel?google_nid=rubicon&google_hm=QUJDREVGMTIz&google_cm",
        None,
        {"query:google_hm": ("dev.sync_id", "cookie matching")},
    ),
    (
        "Meta Pixel /tr (as on classdojo.com)",
        "GET",
        "https://www.facebook.com/tr/?id=172748793147724&ev=SubscribedButtonClick"
        "&dl=https%3A%2F%2Fschool.example%2F&rl=https%3A%2F%2Fsearch.example%2F&if=false"
        "&ts=1700072365125&sw=1440&sh=900&fbp=fb.1.1700072290000.1234567890"
        "&ud[em]=" + HASH + "&ud[ph]=" + HASH + "&ud[external_id]=s-4411"
        "&cd[buttonFeatures]=%7B%22innerText%22%3A%22Log%20in%22%7D",
        None,
        {
            "query:ev": (PAGE, "event"),
            "query:dl": (PAGE, "page viewed"),
            "query:rl": (PAGE, "referrer"),
            "query:sw": (META, "screen"),
            "query:fbp": ("dev.install_id", "fbp: Meta Pixel browser id"),
            "query:ud[em]": ("st_contact.email", "ud[em]: hashed e-mail"),
            "query:ud[ph]": ("st_contact.phone", "hashed phone"),
            "query:ud[external_id]": ("sid.provider", "user id"),
            "query:cd[buttonFeatures]": (PAGE, "button clicked"),
        },
    ),
    (
        "Meta Conversions API /<pixel>/events",
        "POST",
        "https://graph.facebook.com/v19.0/172748793147724/events",
        {
            "data": [
                {
                    "event_name": "Lead",
                    "event_source_url": "https://school.example/signup",
                    "user_data": {"em": [HASH], "external_id": "s-4411", "fbp": "fb.1.2.3"},
                }
            ]
        },
        {
            "body:$.data[0].event_source_url": (PAGE, "page viewed"),
            "body:$.data[0].user_data.em[0]": ("st_contact.email", "hashed e-mail"),
            "body:$.data[0].user_data.external_id": ("sid.provider", "user id"),
            "body:$.data[0].user_data.fbp": ("dev.install_id", "browser id"),
        },
    ),
    (
        "TikTok Pixel /api/v2/pixel/act (as on classdojo.com)",
        "POST",
        "https://analytics.tiktok.com/api/v2/pixel/act",
        {
            "event": "ClickButton",
            "context": {
                "user": {"anonymous_id": "iiulhQoZuEGKaBff7VNT2IzMMzK", "email": HASH},
                "page": {"url": "https://school.example/", "referrer": "https://search.example/"},
                "session_id": "319405f6-83e3-11ee-91c8-02001702397c::jXe1Igu47OP8M4KiFD14",
                "userAgent": "Mozilla/5.0",
            },
        },
        {
            "body:$.event": (PAGE, "event"),
            "body:$.context.user.anonymous_id": ("dev.install_id", "TikTok Pixel browser id"),
            "body:$.context.user.email": ("st_contact.email", "hashed e-mail"),
            "body:$.context.page.url": (PAGE, "page viewed"),
            "body:$.context.page.referrer": (PAGE, "referrer"),
        },
    ),
    (
        "Microsoft UET /action/0 (as on cnn.com)",
        "GET",
        "https://bat.bing.com/action/0?ti=5090135&Ver=2&mid=" + UUID + "&evt=pageLoad"
        "&sid=0bd4b7a0&vid=5c1f2a60&lg=en-US&sw=1440&sh=900&sc=24&tl=Home&kw=school"
        "&p=https%3A%2F%2Fschool.example%2F&r=&msclkid=N&asc=D",
        None,
        {
            "query:vid": ("dev.install_id", "visitor id"),
            "query:sid": ("dev.install_id", "session id"),
            "query:evt": (PAGE, "event"),
            "query:p": (PAGE, "page viewed"),
            "query:tl": (PAGE, "title"),
            "query:lg": (META, "language"),
            "query:sw": (META, "screen"),
            "query:asc": (META, "consent"),
        },
    ),
    (
        "LinkedIn Insight /collect",
        "GET",
        "https://px.ads.linkedin.com/collect?v=2&fmt=js&pid=123&time=1717000000000"
        "&url=https%3A%2F%2Fschool.example%2F&li_fat_id=" + UUID,
        None,
        {
            "query:url": (PAGE, "page viewed"),
            "query:li_fat_id": ("dev.install_id", "LinkedIn"),
        },
    ),
    (
        "LinkedIn Insight /wa/",
        "POST",
        "https://px.ads.linkedin.com/wa/",
        {
            "pids": [123],
            "url": "https://school.example/",
            "pageTitle": "Home",
            "signalType": "CLICK",
            "domAttributes": {"innerText": "Parents"},
        },
        {
            "body:$.url": (PAGE, "page viewed"),
            "body:$.pageTitle": (PAGE, "title"),
            "body:$.domAttributes.innerText": (PAGE, "clicked"),
        },
    ),
    (
        "Pinterest tag /v3/ (ed, pd, ad JSON strings)",
        "GET",
        "https://ct.pinterest.com/v3/?"
        + urlencode(
            {
                "tid": "2612345678901",
                "event": "pagevisit",
                "pd": json.dumps({"em": HASH}),
                "ad": json.dumps({"loc": "https://school.example/", "ref": "", "sh": 900}),
            }
        ),
        None,
        {
            "query:event": (PAGE, "event"),
            "query:pd>$.em": ("st_contact.email", "hashed e-mail"),
            "query:ad>$.loc": (PAGE, "page viewed"),
            "query:ad>$.sh": (META, "screen"),
        },
    ),
    (
        "Snap Pixel /p",
        "POST",
        "https://tr.snapchat.com/p",
        "pid=" + UUID + "&ev=PAGE_VIEW&u_hem=" + HASH + "&u_hpn=" + HASH + "&u_c1=" + UUID,
        {
            "body:$.ev": (PAGE, "event"),
            "body:$.u_hem": ("st_contact.email", "hashed e-mail"),
            "body:$.u_hpn": ("st_contact.phone", "hashed phone"),
            "body:$.u_c1": ("dev.install_id", "_scid"),
        },
    ),
    (
        "Hotjar visit data",
        "POST",
        "https://in.hotjar.com/api/v2/client/sites/3512345/visit-data?sv=7",
        {"site_id": 3512345, "user_id": UUID},
        {"body:$.user_id": ("dev.install_id", "Hotjar user id")},
    ),
    (
        "Segment /v1/p page call",
        "POST",
        "https://api.segment.io/v1/p",
        {
            "anonymousId": UUID,
            "userId": "s-4411",
            "properties": {"url": "https://school.example/", "title": "Home"},
            "context": {"locale": "en-US", "page": {"referrer": "https://search.example/"}},
        },
        {
            "body:$.anonymousId": ("dev.install_id", "anonymous id"),
            "body:$.userId": ("sid.provider", "user id"),
            "body:$.properties.url": (PAGE, "page viewed"),
            "body:$.context.page.referrer": (PAGE, "referrer"),
            "body:$.context.locale": (META, "language"),
        },
    ),
    (
        "Amplitude /2/httpapi",
        "POST",
        "https://api2.amplitude.com/2/httpapi",
        {
            "api_key": "k",
            "events": [
                {
                    "device_id": UUID,
                    "user_id": "s-4411",
                    "event_type": "lesson_completed",
                    "language": "en-US",
                    "idfa": UUID,
                }
            ],
        },
        {
            "body:$.events[0].device_id": ("dev.install_id", "device id"),
            "body:$.events[0].user_id": ("sid.provider", "user id"),
            "body:$.events[0].event_type": (PAGE, "event"),
            "body:$.events[0].language": (META, "language"),
            "body:$.events[0].idfa": ("dev.idfa", "advertising id"),
        },
    ),
    (
        "Mixpanel /track",
        "POST",
        "https://api-js.mixpanel.com/track/",
        {
            "event": "Lesson Opened",
            "properties": {
                "distinct_id": UUID,
                "$current_url": "https://school.example/",
                "$referrer": "https://search.example/",
                "$screen_width": 1440,
            },
        },
        {
            "body:$.event": (PAGE, "event"),
            "body:$.properties.distinct_id": ("dev.install_id", "distinct id"),
            "body:$.properties.$current_url": (PAGE, "page viewed"),
            "body:$.properties.$referrer": (PAGE, "referrer"),
            "body:$.properties.$screen_width": (META, "screen"),
        },
    ),
    (
        "Firebase Installations",
        "POST",
        "https://firebaseinstallations.googleapis.com/v1/projects/p/installations",
        {"fid": "cX1a2B3c4D5e6F7g8H9i0J", "appId": "1:1:android:1", "authVersion": "FIS_v2"},
        {"body:$.fid": ("dev.install_id", "installation id")},
    ),
    (
        "AppsFlyer launch event",
        "POST",
        "https://abc123.inapps.appsflyersdk.com/api/v6.12/androidevent?app_id=com.x",
        {
            "uid": "1717000000000-1234567890123456789",
            "advertiserId": UUID,
            "appUserId": "s-4411",
            "eventName": "af_login",
            "lang_code": "en",
        },
        {
            "body:$.uid": ("dev.install_id", "AppsFlyer device id"),
            "body:$.advertiserId": ("dev.ad_id", "advertising id"),
            "body:$.appUserId": ("sid.provider", "user id"),
            "body:$.eventName": (PAGE, "event"),
            "body:$.lang_code": (META, "language"),
        },
    ),
    (
        "Adjust /session",
        "POST",
        "https://app.adjust.com/session",
        "app_token=2fm9gkqubvpc&gps_adid="
        + UUID
        + "&adid=9f8e7d6c5b4a&android_uuid="
        + UUID
        + "&language=en&screen_size=normal&tracking_enabled=1",
        {
            "body:$.gps_adid": ("dev.gaid", "Google advertising id"),
            "body:$.adid": ("dev.install_id", "not an advertising id"),
            "body:$.language": (META, "language"),
            "body:$.screen_size": (META, "screen"),
            "body:$.tracking_enabled": (META, "consent"),
        },
    ),
    (
        "Branch /v1/open",
        "POST",
        "https://api2.branch.io/v1/open",
        {
            "hardware_id": "fdfcdca66163780b",
            "google_advertising_id": UUID,
            "identity": "s-4411",
            "screen_width": 1080,
            "language": "en",
        },
        {
            "body:$.hardware_id": ("dev.install_id", "device id"),
            "body:$.google_advertising_id": ("dev.gaid", "advertising id"),
            "body:$.identity": ("sid.provider", "user id"),
            "body:$.screen_width": (META, "screen"),
        },
    ),
    (
        "OneSignal user model /apps/<id>/users",
        "POST",
        "https://api.onesignal.com/apps/0a1b2c3d/users",
        {
            "identity": {"external_id": "s-4411"},
            "properties": {"language": "en", "timezone_id": "America/New_York"},
            "subscriptions": [{"type": "ChromePush", "token": "https://fcm.example/abc"}],
        },
        {
            "body:$.identity.external_id": ("sid.provider", "user id"),
            "body:$.properties.language": (META, "language"),
            "body:$.subscriptions[0].token": ("dev.install_id", "push subscription token"),
        },
    ),
    (
        "Microsoft Clarity upload (envelope, dimensions, identify)",
        "POST",
        "https://e.clarity.ms/collect",
        {
            # [version, sequence, start, duration, projectId, userId, sessionId, pageNum,
            #  upload, end]; events are [time, type, key, value, key, value ...]
            "e": ["0.7.49", 2, 1200, 5400, "kq8z3x1abc", "1x9k2ab3cd4ef", "1h7yq2w3e4r", 1, 0, 0],
            "a": [
                [1201, 1, 0, ["Mozilla/5.0"], 1, ["https://school.example/grades"], 3, ["Grades"]],
                [1250, 0, 14, 1440, 15, 900],
                [1300, 34, "userId", ["5fb1c2d3e4f5"], "userHint", ["Ann"]],
            ],
            "p": [[1202, 5, 1, 2, "div", "class", "grades"]],
        },
        {
            "body:$.e[4]": (META, "e[4]: Clarity project id"),
            "body:$.e[5]": ("dev.install_id", "e[5]: Microsoft Clarity user id"),
            "body:$.e[6]": ("dev.install_id", "Clarity session id"),
            "body:$.a[0][3][0]": (META, "user agent"),
            "body:$.a[0][5][0]": (PAGE, "page viewed"),
            "body:$.a[0][7][0]": (PAGE, "title of the page"),
            "body:$.a[1][3]": (META, "screen width"),
            "body:$.a[1][5]": (META, "screen height"),
            "body:$.a[2][3][0]": ("sid.provider", "user id the site gave Clarity"),
        },
    ),
    (
        "Sentry store (legacy JSON event)",
        "POST",
        "https://o450123.ingest.sentry.io/api/5512345/store/",
        {
            "user": {"id": "s-4411", "email": "x@school.example", "ip_address": "203.0.113.9"},
            "request": {"url": "https://school.example/classes"},
        },
        {
            "body:$.user.id": ("sid.provider", "user id"),
            "body:$.user.email": ("st_contact.email", "e-mail"),
            "body:$.user.ip_address": ("net.ip", "IP address"),
            "body:$.request.url": (PAGE, "URL"),
        },
    ),
    (
        "OpenRTB 2.5 bid request (Prebid)",
        "POST",
        "https://hbopenbid.pubmatic.com/translator?source=prebid-client",
        {
            "id": "1",
            "imp": [{"id": "1"}],
            "site": {"page": "https://school.example/", "ref": "https://search.example/"},
            "device": {"ifa": UUID, "ip": "203.0.113.9", "language": "en", "w": 1440},
            "user": {"buyeruid": "b-77", "yob": 2012, "ext": {"consent": "CPabc"}},
            "regs": {"coppa": 1, "ext": {"us_privacy": "1YNN"}},
        },
        {
            "body:$.site.page": (PAGE, "page viewed"),
            "body:$.site.ref": (PAGE, "referrer"),
            "body:$.device.ifa": ("dev.ad_id", "advertising id"),
            "body:$.device.ip": ("net.ip", "IP address"),
            "body:$.device.language": (META, "language"),
            "body:$.user.buyeruid": ("dev.sync_id", "synced"),
            "body:$.user.yob": ("demo.dob", "year of birth"),
            "body:$.user.ext.consent": (META, "consent"),
            "body:$.regs.coppa": (META, "COPPA"),
        },
    ),
]


@pytest.mark.parametrize(
    ("method", "url", "body", "expected"),
    [row[1:] for row in POSITIVES],
    ids=[row[0] for row in POSITIVES],
)
def test_known_endpoint_fields_say_what_they_are(
    method: str, url: str, body: object, expected: dict[str, tuple[str, str]]
) -> None:
    got = _observe(method, url, body)
    for location, (element, words) in expected.items():
        assert location in got, f"{location} not explained; got {sorted(got)}"
        o = got[location]
        assert o.element == element, (location, o.element)
        assert o.confidence is Confidence.HIGH, location  # known endpoint + known field
        assert words.lower() in o.detail.lower(), (location, o.detail)


def test_every_endpoint_of_the_issue_is_in_the_table() -> None:
    names = " ".join(row[0] for row in POSITIVES)
    for endpoint in (
        "Google Analytics 4",
        "Universal Analytics",
        "Google Ads",
        "Meta Pixel",
        "Meta Conversions API",
        "TikTok",
        "Microsoft UET",
        "LinkedIn",
        "Pinterest",
        "Snap",
        "Hotjar",
        "Microsoft Clarity",
        "Segment",
        "Amplitude",
        "Mixpanel",
        "Firebase",
        "AppsFlyer",
        "Adjust",
        "Branch",
        "OneSignal",
        "Sentry",
        "OpenRTB",
    ):
        assert endpoint in names, endpoint


NEGATIVES: list[tuple[str, str, str, object]] = [
    # the same parameter names at a host no vendor owns: a key name is not endpoint knowledge
    (
        "GA-like query on the app's own host",
        "GET",
        "https://api.school.example/collect?cid=1.2&dl=https%3A%2F%2Fx%2F&ul=en&gcs=G111",
        None,
    ),
    (
        "Meta-like query on a CDN",
        "GET",
        "https://cdn.school.example/tr/?ev=PageView&dl=x&sw=1",
        None,
    ),
    # the vendor's domain, but not the endpoint the fields belong to
    (
        "Google Analytics script",
        "GET",
        "https://www.google-analytics.com/analytics.js?cid=1.2&dl=x",
        None,
    ),
    ("Segment settings", "GET", "https://cdn.segment.com/v1/projects/k/settings?url=x", None),
    ("Meta SDK script", "GET", "https://connect.facebook.net/en_US/fbevents.js?ev=x&dl=y", None),
    # Clarity's upload shape elsewhere, and Clarity's loader: no position means anything there
    (
        "Clarity-like upload on the app's own host",
        "POST",
        "https://api.school.example/collect",
        {"e": ["0.7.49", 2, 0, 0, "p", "1x9k2ab3cd4ef", "s"], "a": [[1, 1, 1, ["https://x/"]]]},
    ),
    ("Clarity loader", "GET", "https://www.clarity.ms/tag/kq8z3x1abc?e=1x9k2ab3cd4ef", None),
    # the endpoint, with the fields empty or template placeholders
    (
        "GA4 hit with empty fields",
        "GET",
        "https://www.google-analytics.com/g/collect?v=2&cid=&uid=&dr=&ul=",
        None,
    ),
    (
        "Meta Pixel with an unfilled macro",
        "GET",
        "https://www.facebook.com/tr/?ud[em]={{email}}&ev=",
        None,
    ),
]


@pytest.mark.parametrize(
    ("method", "url", "body"), [row[1:] for row in NEGATIVES], ids=[row[0] for row in NEGATIVES]
)
def test_fields_elsewhere_or_empty_are_not_explained(method: str, url: str, body: object) -> None:
    assert _observe(method, url, body) == {}


def test_a_page_url_field_keeps_the_e_mail_found_in_it() -> None:
    """Context stands beside the detections of the same field, never instead of them."""
    from edscan.detect.detector import Detector

    url = (
        "https://www.google-analytics.com/g/collect?v=2&cid=1.2&dl="
        "https%3A%2F%2Fschool.example%2F%3Femail%3Djo.pupil%40mail.example"
    )
    flow = Flow(index=0, id="x", method="GET", url=url)
    decoded = decode_flow(flow)
    from edscan.detect.known_ids import merge

    merged = merge(Detector(None).observe(flow, decoded), known_ids().observe(flow, decoded))
    at_dl = {o.element for o in merged if o.location.startswith("query:dl")}
    assert PAGE in at_dl
    assert "st_contact.email" in at_dl


def _har_requests(path: Path) -> list[tuple[str, str, object]]:
    doc = json.loads(path.read_text(encoding="utf-8-sig"))
    out: list[tuple[str, str, object]] = []
    for e in doc["log"]["entries"]:
        req = e["request"]
        text = (req.get("postData") or {}).get("text")
        body: object = None
        if text:
            try:
                body = json.loads(text)
            except ValueError:
                body = text
        out.append((req["method"], req["url"], body))
    return out


@pytest.mark.parametrize(
    ("capture", "host", "location", "element"),
    [
        ("har-tools/www.nytimes.com.har", "www.google-analytics.com", "query:dl", PAGE),
        (
            "har-tools/www.nytimes.com.har",
            "www.google-analytics.com",
            "query:cid",
            "dev.install_id",
        ),
        ("har-tools/www.nytimes.com.har", "www.facebook.com", "query:dl", PAGE),
        ("har-tools/cnn-chrome.har", "bat.bing.com", "query:p", PAGE),
        ("har-tools/cnn-chrome.har", "bat.bing.com", "query:lg", META),
        (
            "edtech/teacher-login-www.classdojo.com.har",
            "analytics.tiktok.com",
            "body:$.context.page.url",
            PAGE,
        ),
        (
            "edtech/teacher-login-www.classdojo.com.har",
            "analytics.tiktok.com",
            "body:$.context.user.anonymous_id",
            "dev.install_id",
        ),
        ("edtech/teacher-login-www.classdojo.com.har", "www.facebook.com", "query:ev", PAGE),
    ],
)
def test_real_captures_get_the_fields_explained(
    capture: str, host: str, location: str, element: str
) -> None:
    path = shared_path("corpus", *capture.split("/"))
    seen = set()
    for method, url, body in _har_requests(path):
        if f"//{host}/" not in url:
            continue
        o = _observe(method, url, body).get(location)
        if o is not None:
            seen.add((o.element, o.confidence))
    assert (element, Confidence.HIGH) in seen


def test_a_compressed_clarity_upload_is_explained_and_its_playback_is_not() -> None:
    """Clarity gzips every upload but a page's last (``Accept: application/x-clarity-gzip``,
    no Content-Encoding); playback events (``p``) and event times carry no meaning."""
    import gzip

    upload = {
        "e": ["0.7.49", 3, 0, 900, "kq8z3x1abc", "1x9k2ab3cd4ef", "1h7yq2w3e4r", 2, 0, 0],
        "a": [[5, 1, 2, ["https://search.example/?q=ann"]], [6, 24, "grade", "7"]],
        "p": [[7, 6, 1, "p", ["https://school.example/"]]],
    }
    raw = gzip.compress(json.dumps(upload).encode())
    flow = Flow(
        index=0,
        id="x",
        method="POST",
        url="https://k.clarity.ms/collect",
        request_headers=(("accept", "application/x-clarity-gzip"),),
        request_body=Body(content=raw, size=len(raw)),
    )
    got = {o.location: o for o in known_ids().observe(flow, decode_flow(flow))}
    assert got["body:$.e[5]"].encodings[0] == "gzip"
    assert "referrer" in got["body:$.a[0][3][0]"].detail
    # a custom event (24) is not in the table; times, types, keys and playback never are
    assert not [loc for loc in got if loc.startswith(("body:$.p", "body:$.a[1]"))]
    assert "body:$.a[0][0]" not in got and "body:$.a[0][2]" not in got
    assert set(got) >= {"body:$.e[4]", "body:$.e[5]", "body:$.e[6]", "body:$.e[7]"}
