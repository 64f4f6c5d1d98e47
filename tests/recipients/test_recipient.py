"""Recipients: flows grouped by registrable domain, attributed, with party and SDKs."""

from __future__ import annotations

from pathlib import Path

import pytest

from edscan.models import FlowSummary, Party
from edscan.recipients.first_party import FirstParty
from edscan.recipients.recipient import build_recipients
from edscan.recipients.trackers import TrackerDB, load_trackers


@pytest.fixture(scope="module")
def db() -> TrackerDB:
    import tempfile

    with tempfile.TemporaryDirectory() as empty:
        return load_trackers(Path(empty))


def flow(i: int, url: str, t: float | None = None) -> FlowSummary:
    from urllib.parse import urlsplit

    return FlowSummary(
        index=i,
        host=urlsplit(url).hostname or "",
        method="GET",
        url=url,
        scheme="https",
        status=200,
        phase=None,
        time=t,
        request_bytes=0,
        response_bytes=0,
        tls_intercepted=None,
        error=None,
    )


FLOWS = [
    flow(0, "https://www.classdojo.com/", 100.0),
    flow(1, "https://connect.facebook.net/en_US/fbevents.js", 101.0),
    flow(2, "https://www.facebook.com/tr/?id=1&ev=PageView", 102.0),
    flow(3, "https://api.classdojo.com/api/session", 103.0),
    flow(4, "https://www.facebook.com/tr/?id=1&ev=SubscribedButtonClick", 104.5),
    flow(5, "https://analytics.tiktok.com/api/v2/pixel", 105.0),
    flow(6, "https://cdn.unknown-widget.example/w.js", None),
    flow(7, "not a url", 107.0),
    flow(8, "https://www.google-analytics.com/g/collect?v=2", 108.0),
    flow(9, "https://10.0.0.5:8443/health", 109.0),
]


def test_recipients_grouped_attributed_and_sorted(db: TrackerDB) -> None:
    fp = FirstParty.resolve(["classdojo.com"], FLOWS, db)
    rs = build_recipients(FLOWS, db, fp)
    by = {r.domain: r for r in rs}
    assert list(by) == [
        "classdojo.com",  # first party first
        "facebook.com",  # then by flows, most first
        "10.0.0.5",
        "facebook.net",
        "google-analytics.com",
        "tiktok.com",
        "unknown-widget.example",
    ]
    dojo = by["classdojo.com"]
    assert dojo.party is Party.FIRST
    assert dojo.hosts == ("api.classdojo.com", "www.classdojo.com")
    assert (dojo.organization, dojo.flows) == ("ClassDojo, Inc.", 2)
    assert dojo.categories == ("ed-tech vendor",)

    fb = by["facebook.com"]
    assert fb.party is Party.THIRD
    assert (fb.organization, fb.sdk, fb.flows) == ("Meta Platforms, Inc.", ("Meta Pixel",), 2)
    assert (fb.first_seen, fb.last_seen) == (102.0, 104.5)
    assert "advertising" in fb.categories
    assert fb.sources == ("bundled:edscan-trackers@2026.11", "bundled:edscan-sdk@2026.11")

    assert by["facebook.net"].sdk == ("Meta Pixel (loader)",)
    assert by["tiktok.com"].sdk == ("TikTok Pixel",)
    assert by["google-analytics.com"].sdk == ("Google Analytics 4",)
    unknown = by["unknown-widget.example"]
    assert (unknown.organization, unknown.categories, unknown.sources) == (None, (), ())
    assert (unknown.first_seen, unknown.last_seen) == (None, None)
    assert by["10.0.0.5"].party is Party.THIRD
    assert sum(r.flows for r in rs) == 9  # the flow without a host is not counted


def test_recipient_json_contract(db: TrackerDB) -> None:
    fp = FirstParty.resolve([], FLOWS, db)
    assert fp.inferred and fp.domains == ("classdojo.com",)
    r = build_recipients(FLOWS, db, fp)[1].to_dict()
    for key in ("domain", "hosts", "organization", "parent", "categories", "party", "sdk"):
        assert key in r
    assert r["party"] == "third" and isinstance(r["hosts"], list) and isinstance(r["flows"], int)
    assert r["sources"] and isinstance(r["sdk"], list)


def test_same_owner_domains_are_first_party_with_the_app(db: TrackerDB) -> None:
    flows = [
        flow(0, "https://www.khanacademy.org/math", 1.0),
        flow(1, "https://cdn.kastatic.org/genfiles/app.js", 2.0),
        flow(2, "https://www.google-analytics.com/g/collect", 3.0),
    ]
    fp = FirstParty.resolve([], flows, db)
    rs = {r.domain: r.party for r in build_recipients(flows, db, fp)}
    assert rs == {
        "khanacademy.org": Party.FIRST,
        "kastatic.org": Party.FIRST,
        "google-analytics.com": Party.THIRD,
    }


def test_hosts_of_one_domain_are_merged(db: TrackerDB) -> None:
    # One registrable domain, two hosts the bundled list describes differently (Google's
    # generic domain, and a host of it filed as an ed-tech product): owner and union.
    flows = [flow(i, "https://www.google.com/search", float(i)) for i in range(3)]
    flows.append(flow(3, "https://classroom.google.com/c/1", 3.0))
    [r] = build_recipients(flows, db, FirstParty.resolve(["myschool.example"], flows, db))
    assert r.organization == "Google LLC" and r.parent == "Alphabet Inc."
    assert r.hosts == ("classroom.google.com", "www.google.com")
    assert r.categories == ("ed-tech vendor",) and r.sdk == ("Google Classroom",)
