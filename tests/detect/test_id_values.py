"""IdValues: which values are identifier-shaped, and where each was sent or handed out."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from edscan.detect.id_values import IdValues, canonical
from edscan.models import Field, Flow


@dataclass
class Decoded:
    fields: list[Field] = field(default_factory=list)
    inbound: list[Field] = field(default_factory=list)


def _f(location: str, value: str) -> Field:
    return Field(location=location, key=location.rsplit(":", 1)[-1].rsplit(".", 1)[-1], value=value)


@pytest.mark.parametrize(
    "value",
    [
        "ae5e7ac5-c86a-11e7-9d1e-149736260006",  # a UUID
        "CAESENa0_Td1zak1LQNpPSYPgLU",  # Google's cookie-matching id
        "1040401897999263856",  # a numeric partner uid
        "fb.1.1700072231010.647886218",  # Meta's _fbp
        "WgmJ9wAAAG2DFEOG",  # mixed case, few digits, but random
    ],
)
def test_identifier_shapes(value: str) -> None:
    assert canonical(value) is not None


@pytest.mark.parametrize(
    "value",
    [
        "ad_rect_btf_02",  # an ad slot's name
        "1510574583823",  # a time stamp in milliseconds
        "1510574583",  # and in seconds
        "2017-11-13T14:03:03",  # a date
        "1.2.3.4567.89",  # a version
        "https://x.example/a1b2c3d4e5",  # a URL
        "short1234",  # too short
        "aaaaaaaaaaaa1111",  # too few distinct characters
        "homepage-section-news",  # no digits
    ],
)
def test_not_identifiers(value: str) -> None:
    assert canonical(value) is None


def test_uuids_compare_without_case_or_hyphens() -> None:
    assert canonical("AE5E7AC5-C86A-11E7-9D1E-149736260006") == canonical(
        "ae5e7ac5c86a11e79d1e149736260006"
    )


def test_sightings_keep_direction_and_skip_consent_and_page_urls() -> None:
    ids = IdValues()
    uid = "ae5e7ac5-c86a-11e7-9d1e-149736260006"
    tcf = "CPzHq4APzHq4AAGABCENDeCgAP_AAH_AAAqIHvtf"
    ids.add(
        Flow(index=0, id="a", method="GET", url="https://sync.a-ads.example/s"),
        Decoded(
            fields=[
                _f("query:gdpr_consent", tcf),  # a consent string reaches everyone by design
                _f("header:referer>query:uid", "9f8e7d6c5b4a39281706"),  # the page's own URL
            ],
            inbound=[_f("response-header:location>query:partner_uid", uid)],
        ),
    )
    ids.add(
        Flow(index=1, id="b", method="GET", url="https://match.b-dmp.example/m"),
        Decoded(fields=[_f("query:partner_uid", uid), _f("query:gdpr_consent", tcf)]),
    )
    shared = dict(ids.shared())
    assert list(shared) == [canonical(uid)]
    handed, received = shared[canonical(uid) or ""]
    assert (handed.host, handed.sent, handed.flow) == ("sync.a-ads.example", False, 0)
    assert (received.host, received.sent, received.location) == (
        "match.b-dmp.example",
        True,
        "query:partner_uid",
    )
