"""ID sync: identifier values seen at several organisations become links naming both ends."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from conftest import shared_path

from edscan.detect.id_values import IdValues, Sighting
from edscan.models import Confidence, Party
from edscan.pipeline import scan
from edscan.recipients import id_sync
from edscan.recipients.first_party import FirstParty
from edscan.recipients.trackers import TrackerDB, load_trackers


@pytest.fixture(scope="module")
def db() -> TrackerDB:
    with tempfile.TemporaryDirectory() as empty:
        return load_trackers(Path(empty))


def _s(flow: int, host: str, location: str, *, sent: bool = True) -> Sighting:
    return Sighting(
        flow=flow,
        host=host,
        location=location,
        key=location.rsplit(":", 1)[-1],
        sent=sent,
        time=float(flow),
    )


def _values(**by_value: list[Sighting]) -> IdValues:
    return IdValues(seen=dict(by_value))


def test_a_redirect_passing_an_id_to_another_company_is_a_high_confidence_link(
    db: TrackerDB,
) -> None:
    fp = FirstParty.resolve(["news.example"], [], db)
    values = _values(
        uid=[
            _s(
                0,
                "sync.search.spotxchange.com",
                "response-header:location>query:partner_uid",
                sent=False,
            ),
            _s(1, "beacon.krxd.net", "query:partner_uid"),
        ]
    )
    [link] = id_sync.links(values, db, fp)
    assert (link.how, link.confidence) == ("redirect", Confidence.HIGH)
    assert link.source_domain == "spotxchange.com" and link.receivers == ("krxd.net",)
    assert link.organizations[1] == "Salesforce, Inc."
    [obs] = id_sync.observations([link], fp)
    assert (obs.element, obs.host, obs.flow, obs.party) == (
        "dev.sync_id",
        "beacon.krxd.net",
        1,
        Party.THIRD,
    )
    assert "passed on in a redirect by" in obs.detail and "spotxchange.com" in obs.detail


def test_one_company_or_the_apps_own_domains_make_no_link(db: TrackerDB) -> None:
    fp = FirstParty.resolve(["classdojo.com"], [], db)
    values = _values(
        same_company=[  # Google to Google: no sync between companies
            _s(0, "cm.g.doubleclick.net", "set-cookie:IDE", sent=False),
            _s(1, "www.google-analytics.com", "query:cid"),
        ],
        own=[  # the app's id to the app's own API
            _s(0, "www.classdojo.com", "set-cookie:dojo", sent=False),
            _s(1, "api.classdojo.com", "cookie:dojo"),
        ],
    )
    assert id_sync.links(values, db, fp) == []


def test_the_same_value_sent_to_two_companies_is_medium_and_a_cookie_is_high(
    db: TrackerDB,
) -> None:
    fp = FirstParty.resolve(["school.example"], [], db)
    values = _values(
        same=[_s(0, "www.facebook.com", "query:fbp"), _s(1, "analytics.tiktok.com", "body:$.fbp")],
        cookie=[
            _s(2, "ib.adnxs.com", "set-cookie:uuid2", sent=False),
            _s(3, "us-u.openx.net", "query:val"),
        ],
    )
    by = {k.how: k for k in id_sync.links(values, db, fp)}
    assert by["same value"].confidence is Confidence.MEDIUM
    assert by["cookie"].confidence is Confidence.HIGH
    assert by["cookie"].receivers == ("openx.net",)
    assert "value" not in by["cookie"].to_dict()  # the value never leaves through the JSON


def test_real_cookie_sync_chains_are_named_and_negative_controls_have_none() -> None:
    cnn = shared_path("corpus", "har-tools", "cnn-chrome.har")
    wiki = shared_path("corpus", "har-tools", "en.wikipedia.org.spdy-wpt.har")
    with tempfile.TemporaryDirectory() as empty:
        result = scan(cnn, data_dir=Path(empty))
        control = scan(wiki, data_dir=Path(empty))
    pairs = {(k.source_domain, r, k.how) for k in result.id_links for r in k.receivers}
    # SpotX redirects to Krux's usermatch with its own user id (flow 161 of the HAR)
    assert ("spotxchange.com", "krxd.net", "redirect") in pairs
    # The Trade Desk sets its TDID cookie, and the value is sent on to Krux
    assert ("adsrvr.org", "krxd.net", "cookie") in pairs
    assert len(result.id_links) >= 20
    assert all(k.confidence is not Confidence.LOW for k in result.id_links)
    eds030 = [f for f in result.findings if f.rule == "EDS030"]
    assert len(eds030) >= 15 and all("may be inconsistent with" in f.summary for f in eds030)
    assert control.id_links == () and not [f for f in control.findings if f.rule == "EDS030"]
