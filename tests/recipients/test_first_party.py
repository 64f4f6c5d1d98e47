"""The first party inferred from the capture's evidence: pages, documents, Referer/Origin, flows.

The corpus cases are real third-party captures (../shared/corpus) on which the inference used
to name a tracker or a bystander as the app; they skip where ../shared is absent.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from conftest import shared_path

from edscan.models import Confidence, Field, FlowSummary, Party
from edscan.pipeline import scan
from edscan.recipients.first_party import FirstParty, page_urls
from edscan.recipients.trackers import TrackerDB, load_trackers


@pytest.fixture(scope="module")
def db() -> TrackerDB:
    with tempfile.TemporaryDirectory() as empty:
        return load_trackers(Path(empty))


def _flow(
    i: int, host: str, *, phase: str | None = None, sig: tuple[Field, ...] = ()
) -> FlowSummary:
    return FlowSummary(
        index=i,
        host=host,
        method="GET",
        url=f"https://{host}/p{i}",
        scheme="https",
        status=200,
        phase=phase,
        time=float(i),
        request_bytes=0,
        response_bytes=0,
        tls_intercepted=None,
        error=None,
        signals=sig,
    )


def _ref(url: str) -> tuple[Field, ...]:
    return (Field(location="header:referer", key="referer", value=url),)


_DOC = (Field(location="header:sec-fetch-dest", key="sec-fetch-dest", value="document"),)


def test_page_urls_are_read_from_har_page_titles() -> None:
    assert page_urls("https://mitmproxy.org/") == ["https://mitmproxy.org/"]
    assert page_urls("Run 1, First View for https://en.wikipedia.org/wiki/Main_Page") == [
        "https://en.wikipedia.org/wiki/Main_Page"
    ]
    assert page_urls("mitmproxy - an interactive HTTPS proxy") == []
    assert page_urls("login") == []


def test_a_page_that_was_never_contacted_is_the_app_when_its_referer_says_so(
    db: TrackerDB,
) -> None:
    # one Meta Pixel event fired from a school site: the site is the app, Meta the recipient
    flows = [_flow(0, "www.facebook.com", sig=_ref("https://sports.myschool.example/games"))]
    fp = FirstParty.resolve([], flows, db)
    assert fp.domains == ("myschool.example",)
    assert fp.party("www.facebook.com") is Party.THIRD
    assert fp.basis is not None and fp.basis.confidence is Confidence.MEDIUM
    assert "1 Referer/Origin header" in fp.reason


def test_an_unlisted_collector_first_in_the_capture_is_not_the_app(db: TrackerDB) -> None:
    # the first and only flow goes to a collector the lists do not know, from another site's page
    flows = [_flow(0, "collector.metrics-vendor.example", sig=_ref("https://tools.example/"))]
    fp = FirstParty.resolve([], flows, db)
    assert fp.domains == ("tools.example",)
    assert fp.party("collector.metrics-vendor.example") is Party.THIRD


def test_page_and_document_outweigh_referers_and_the_split_is_said(db: TrackerDB) -> None:
    flows = [
        _flow(0, "widgets.other.example", sig=_ref("https://widgets.other.example/")),
        _flow(1, "app.myschool.example", phase="https://app.myschool.example/", sig=_DOC),
        _flow(2, "widgets.other.example", sig=_ref("https://widgets.other.example/")),
    ]
    fp = FirstParty.resolve([], flows, db)
    assert fp.domains == ("myschool.example",)
    assert fp.basis is not None and fp.basis.split
    assert fp.basis.confidence is Confidence.MEDIUM
    assert "split with other.example" in fp.reason
    assert [c.domain for c in fp.basis.candidates] == ["myschool.example", "other.example"]
    assert fp.basis.candidates[0].evidence[:2] == ("1 page URL", "1 top-level document")


def test_clear_page_evidence_is_high_confidence_and_flow_counts_alone_are_low(
    db: TrackerDB,
) -> None:
    strong = FirstParty.resolve(
        [], [_flow(0, "www.myschool.example", phase="https://www.myschool.example/", sig=_DOC)], db
    )
    assert strong.basis is not None and strong.basis.confidence is Confidence.HIGH
    weak = FirstParty.resolve([], [_flow(0, "api.myschool.example")], db)
    assert weak.domains == ("myschool.example",)
    assert weak.basis is not None and weak.basis.confidence is Confidence.LOW


def test_a_tracker_with_the_strongest_evidence_is_set_aside(db: TrackerDB) -> None:
    flows = [
        _flow(i, "www.facebook.com", phase="https://www.facebook.com/", sig=_DOC) for i in range(4)
    ] + [_flow(4, "www.myschool.example")]
    fp = FirstParty.resolve([], flows, db)
    assert fp.domains == ("myschool.example",)
    assert "set aside as trackers" in fp.reason and "facebook.com" in fp.reason
    excluded = {c.domain: c.excluded for c in fp.basis.candidates} if fp.basis else {}
    assert excluded["facebook.com"].startswith("the lists class it as")
    assert excluded["myschool.example"] == ""


def test_an_unlisted_domain_named_after_the_app_is_grouped_with_it(db: TrackerDB) -> None:
    flows = [
        _flow(0, "www.quillpad.example", phase="https://www.quillpad.example/"),
        _flow(1, "x.quillpadcdn.example"),
        _flow(2, "quillpad-static.example"),
        _flow(3, "quillpadding.example"),  # a different name that happens to share a prefix
    ]
    fp = FirstParty.resolve([], flows, db)
    assert fp.domains == ("quillpad.example", "quillpadcdn.example", "quillpad-static.example")
    assert fp.basis is not None
    assert dict(fp.basis.grouped)["quillpadcdn.example"] == "named after quillpad.example"
    assert fp.party("quillpadding.example") is Party.THIRD


def test_given_first_party_says_so(db: TrackerDB) -> None:
    fp = FirstParty.resolve(["www.facebook.com"], [], db)
    assert fp.basis is not None and fp.basis.to_dict()["method"] == "given"
    assert fp.basis.confidence is Confidence.HIGH and not fp.inferred


# --------------------------------------------------------------------------- real captures


@pytest.mark.parametrize(
    ("capture", "app", "third", "confidence"),
    [
        # Chrome's HAR: the page is mitmproxy.org; Chrome's own calls to google.com came first
        ("mitmproxy/har_files/chrome.har", "mitmproxy.org", "google.com", "medium"),
        # one POST to an ad-tech collector, sent from reqbin.com's page (its Referer)
        ("mitmproxy/har_files/postdata.har", "reqbin.com", "s-onetag.com", "medium"),
        # a real-time-bidding call made from thedrive.com's page
        ("mitmproxy/dumpfile-019.mitm", "thedrive.com", "rtb-seller.com", "medium"),
        ("edtech/teacher-login-www.classdojo.com.har", "classdojo.com", "facebook.com", "high"),
        ("har-tools/cnn-chrome.har", "cnn.com", "doubleclick.net", "high"),
    ],
)
def test_real_captures_name_the_site_not_its_trackers(
    capture: str, app: str, third: str, confidence: str
) -> None:
    path = shared_path("corpus", *capture.split("/"))
    with tempfile.TemporaryDirectory() as empty:
        result = scan(path, data_dir=Path(empty))
    assert result.first_party[0] == app
    basis = result.first_party_basis
    assert basis is not None and basis.confidence is not None
    assert basis.confidence.value == confidence
    parties = {r.domain: r.party for r in result.recipients}
    assert parties[third] is Party.THIRD
