"""Request shapes the rules recognise by URL: pixels, ad requests, ID syncs, replay uploads.

The tracker lists say who a host belongs to and what the company does; these patterns say what a
particular request is (a conversion pixel on a domain that also serves ads, an ad request, a
cookie sync), from the vendors' documented endpoints. Each pattern is (host suffix, path regex);
a host matches its suffix exactly or as a subdomain.
"""

from __future__ import annotations

import re

_Pattern = tuple[str, re.Pattern[str]]


def _p(host: str, path: str) -> _Pattern:
    return (host, re.compile(path, re.I))


# retargeting and conversion pixels, and social SDK app-event logging
PIXELS: tuple[_Pattern, ...] = (
    _p("facebook.com", r"^/tr/?($|\?)"),
    _p("graph.facebook.com", r"/activities/?$"),
    _p("doubleclick.net", r"^/pagead/(viewthroughconversion|conversion)/"),
    _p("td.doubleclick.net", r"^/td/rul/"),
    _p("ad.doubleclick.net", r"^/activity"),
    _p("fls.doubleclick.net", r"^/activity"),
    _p("google.com", r"^/pagead/(1p-user-list|1p-conversion|conversion)/"),
    _p("googleadservices.com", r"^/pagead/conversion"),
    _p("analytics.tiktok.com", r"^/api/v2/pixel"),
    _p("business-api.tiktok.com", r"/pixel/(track|batch)"),
    _p("tr.snapchat.com", r"^/"),
    _p("tr-shadow.snapchat.com", r"^/"),
    _p("ct.pinterest.com", r"^/(v3|user|event)"),
    _p("px.ads.linkedin.com", r"^/(collect|wa|attribution_trigger)"),
    _p("bat.bing.com", r"^/action"),
    _p("analytics.twitter.com", r"^/i/adsct"),
    _p("t.co", r"^/i/adsct"),
    _p("alb.reddit.com", r"^/rp"),
    _p("q.quora.com", r"^/_/ad/"),
)

# ad requests: the ad itself is being asked for (header bidding, ad servers)
AD_REQUESTS: tuple[_Pattern, ...] = (
    _p("doubleclick.net", r"^/(gampad/ads|pagead/ads|pagead/adview|mads/gma|getconfig/sodar)"),
    _p("googlesyndication.com", r"^/pagead/(ads|html|adview)"),
    _p("amazon-adsystem.com", r"^/(e/dtb/bid|e/cm|x/getad)"),
    _p("adnxs.com", r"^/(ut/v3|ttj|ptj|jpt|openrtb2)"),
    _p("rubiconproject.com", r"^/(openrtb2|a/api/fastlane)"),
    _p("pubmatic.com", r"^/(translator|openrtb)"),
    _p("openx.net", r"^/(w/1\.0/arj|openrtb)"),
    _p("casalemedia.com", r"^/(cygnus|openrtb)"),
    _p("criteo.com", r"^/(cdb|delivery)"),
    _p("unityads.unity3d.com", r"/(ads|campaign|auction)"),
    _p("applovin.com", r"/(ad|mediate|bid)"),
    _p("vungle.com", r"/(ads|api/v\d+/ads|bid)"),
)
# an ad-request-shaped path on any advertising host
AD_PATH = re.compile(
    r"/(openrtb2?|ortb2?|bids?|bidrequest|prebid|auction|adrequest|getads?|ads|adserver|hb)"
    r"(/|\.|$)",
    re.I,
)

# cookie syncing and ID syncing
SYNC_PATH = re.compile(
    r"/(usersync|user[-_]?sync|cookie[-_]?sync|cksync|setuid|getuid|idsync|id[-_]?sync|sync|"
    r"match|cm|pixel[-_]?sync|ecm\d*)(/|\.|$)",
    re.I,
)
SYNC_HOST = re.compile(r"^(sync|idsync|cm|match|pixel-sync|ups|usersync|cookiesync)[0-9-]*\.", re.I)

# session-replay uploads to vendors whose domain alone does not say "replay"
REPLAY_UPLOADS: tuple[_Pattern, ...] = (
    _p("datadoghq.com", r"/api/v2/replay"),
    _p("datadoghq.eu", r"/api/v2/replay"),
    _p("posthog.com", r"^/s/?"),
    _p("sentry.io", r"/replay"),
)


_PATH = re.compile(r"(?:[A-Za-z][A-Za-z0-9+.-]*://)?[^/?#]*([^?#]*)")


def url_path(url: str) -> str:
    """The path of an absolute URL, without parsing the rest (``urlsplit`` is slow)."""
    m = _PATH.match(url)
    return (m.group(1) if m else "") or "/"


def _host_matches(host: str, suffix: str) -> bool:
    return host == suffix or host.endswith("." + suffix)


_candidates: dict[tuple[int, str], tuple[re.Pattern[str], ...]] = {}


def matches(url: str, host: str, patterns: tuple[_Pattern, ...]) -> bool:
    # the path regexes that apply to a host are found once per host, not once per flow
    ident = (id(patterns), host)
    rxs = _candidates.get(ident)
    if rxs is None:
        rxs = tuple(rx for h, rx in patterns if _host_matches(host, h))
        if len(_candidates) < 65536:
            _candidates[ident] = rxs
    if not rxs:
        return False
    path = url_path(url)
    return any(rx.search(path) for rx in rxs)


def is_pixel(url: str, host: str) -> bool:
    return matches(url, host, PIXELS)


def is_ad_request(url: str, host: str, *, advertising: bool) -> bool:
    """A request for an ad: a known ad endpoint, or an ad-shaped path on an advertising host."""
    if matches(url, host, AD_REQUESTS):
        return True
    return advertising and bool(AD_PATH.search(url_path(url)))


def is_sync(url: str, host: str) -> bool:
    """A cookie- or ID-sync shaped request (to be read with the host's categories)."""
    return bool(SYNC_HOST.match(host)) or bool(SYNC_PATH.search(url_path(url)))


def is_replay_upload(url: str, host: str) -> bool:
    return matches(url, host, REPLAY_UPLOADS)
