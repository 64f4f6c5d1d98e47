"""Endpoint knowledge: known fields at known endpoints, and identifier cookies, without a persona."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from conftest import shared_path

from edscan.detect.known_ids import field_path, known_ids, merge, parse_known_ids
from edscan.errors import EdscanError
from edscan.models import Confidence, Detector, Field, Flow, Observation
from edscan.pipeline import scan


@dataclass
class Decoded:
    fields: list[Field] = field(default_factory=list)


def _observe(url: str, *fields: tuple[str, str]) -> dict[str, Observation]:
    flow = Flow(index=0, id="x", method="POST", url=url)
    decoded = Decoded(
        [
            Field(location=loc, key=loc.rsplit(".", 1)[-1].rsplit(":", 1)[-1], value=v)
            for loc, v in fields
        ]
    )
    return {o.location: o for o in known_ids().observe(flow, decoded)}


def test_field_paths_drop_prefixes_indexes_and_outer_layers() -> None:
    assert field_path("query:cid") == "cid"
    assert field_path("body:$.batch[0].userId") == "batch.userid"
    assert field_path("body:$.data>$[0].properties.distinct_id") == "properties.distinct_id"
    assert field_path("body:$.user.ext.eids[1].uids[0].id") == "user.ext.eids.uids.id"


@pytest.mark.parametrize(
    ("url", "location", "element", "words"),
    [
        (
            "https://www.google-analytics.com/g/collect?v=2",
            "query:cid",
            "dev.install_id",
            "client id",
        ),
        ("https://www.google-analytics.com/g/collect?v=2", "query:uid", "sid.provider", "user id"),
        ("https://www.facebook.com/tr/", "query:fbp", "dev.install_id", "Meta Pixel browser id"),
        (
            "https://analytics.tiktok.com/api/v2/pixel/act",
            "body:$.context.user.anonymous_id",
            "dev.install_id",
            "TikTok",
        ),
        (
            "https://api.segment.io/v1/batch",
            "body:$.batch[0].anonymousId",
            "dev.install_id",
            "Segment anonymous id",
        ),
        (
            "https://api2.amplitude.com/2/httpapi",
            "body:$.events[0].user_id",
            "sid.provider",
            "Amplitude",
        ),
        ("https://app.adjust.com/session", "body:adid", "dev.install_id", "not an advertising id"),
        (
            "https://hbopenbid.pubmatic.com/translator",
            "body:$.user.buyeruid",
            "dev.sync_id",
            "synced",
        ),
        (
            "https://hbopenbid.pubmatic.com/translator",
            "body:$.user.ext.eids[0].uids[0].id",
            "dev.sync_id",
            "extended id",
        ),
        ("https://ib.adnxs.com/getuid?https://x.example/", "query:uid", "dev.sync_id", "ID sync"),
        (
            "https://cm.g.doubleclick.net/pixel",
            "query:google_gid",
            "dev.sync_id",
            "cookie-matching",
        ),
        (
            "https://o1.ingest.sentry.io/api/12/envelope/",
            "body:$[2].user.id",
            "sid.provider",
            "error report",
        ),
    ],
)
def test_known_fields_at_known_endpoints_are_high_confidence(
    url: str, location: str, element: str, words: str
) -> None:
    hits = _observe(url, (location, "a1b2c3d4e5f60718"))
    assert location in hits, hits
    o = hits[location]
    assert (o.element, o.confidence, o.detector) == (element, Confidence.HIGH, Detector.PATTERN)
    assert words in o.detail


def test_the_same_key_elsewhere_means_nothing_and_placeholders_are_skipped() -> None:
    assert _observe("https://api.school.example/collect", ("query:cid", "a1b2c3d4e5")) == {}
    # a known domain, but not the collect endpoint
    assert _observe("https://www.google-analytics.com/analytics.js", ("query:cid", "a1b2c3")) == {}
    assert (
        _observe("https://o1.ingest.sentry.io/api/1/store/", ("body:$.user.ip_address", "{{auto}}"))
        == {}
    )


def test_cookies_by_name_high_at_the_vendor_medium_elsewhere_generic_names_only_at_the_vendor() -> (
    None
):
    at = _observe("https://www.facebook.com/tr/", ("cookie:_fbp", "fb.1.1700072231010.647886218"))
    assert at["cookie:_fbp"].confidence is Confidence.HIGH
    away = _observe("https://cdn.widgets.example/w.js", ("cookie:_ga", "GA1.2.123.456"))
    assert away["cookie:_ga"].confidence is Confidence.MEDIUM
    assert "Google Analytics client id" in away["cookie:_ga"].detail
    assert _observe("https://cdn.widgets.example/w.js", ("cookie:uuid", "abc-123-def")) == {}
    ga4 = _observe("https://www.google-analytics.com/g/collect", ("cookie:_ga_XYZ123", "GS1.1.17"))
    assert ga4["cookie:_ga_XYZ123"].confidence is Confidence.HIGH
    adnxs = _observe("https://ib.adnxs.com/ut/v3", ("cookie:uuid2", "8943548492833015130"))
    assert "Xandr" in adnxs["cookie:uuid2"].detail


def test_known_observations_replace_key_name_guesses_but_not_persona_hits() -> None:
    def obs(loc: str, element: str, detector: Detector) -> Observation:
        return Observation(
            flow=0,
            host="h.example",
            element=element,
            detector=detector,
            confidence=Confidence.LOW,
            location=loc,
        )

    guess = obs("query:uid", "sid.provider", Detector.KEYNAME)
    persona = obs("query:cid", "dev.install_id", Detector.PERSONA)
    known_uid = obs("query:uid", "dev.sync_id", Detector.PATTERN)
    known_cid = obs("query:cid", "dev.install_id", Detector.PATTERN)
    merged = merge([guess, persona], [known_uid, known_cid])
    assert merged == [persona, known_uid]


def test_a_malformed_table_is_a_clear_error() -> None:
    with pytest.raises(EdscanError, match="unknown element"):
        parse_known_ids(
            '{"vendors": [{"name": "X", "domains": [], "paths": [], '
            '"fields": {"a": ["no.such", "m"]}, "cookies": {}}]}',
            "t.json",
            ["dev.install_id"],
        )
    with pytest.raises(EdscanError, match="malformed"):
        parse_known_ids('{"vendors": [{"name": "X"}]}', "t.json", [])


def test_real_captures_say_what_each_identifier_is() -> None:
    dojo = shared_path("corpus", "edtech", "teacher-login-www.classdojo.com.har")
    with tempfile.TemporaryDirectory() as empty:
        result = scan(dojo, data_dir=Path(empty))
    third = [o for o in result.observations if o.party.value == "third"]
    # one place can hold two observations: the id itself, and the ID sync it takes part in
    by = {(o.host, o.location): o for o in third if o.element != "dev.sync_id"}
    fbp = by[("www.facebook.com", "query:fbp")]
    assert (fbp.element, fbp.confidence) == ("dev.install_id", Confidence.HIGH)
    ttp = by[("analytics.tiktok.com", "cookie:_ttp")]
    assert ttp.confidence is Confidence.HIGH and "TikTok" in ttp.detail
    # before the endpoint table these were key-name guesses at low confidence, or nothing
    assert all(o.confidence is not Confidence.LOW for o in third)
