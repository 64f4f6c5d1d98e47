"""The Detector on hand-built fields: persona variants, gating, boundaries, derived ids, inbound."""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass, field
from urllib.parse import quote

import pytest

from edscan.detect.detector import Detector
from edscan.detect.persona import Persona, parse_persona
from edscan.models import Confidence, Field, Flow, Observation, Party
from edscan.models import Detector as Kind

PERSONA = {
    "student": {
        "first_name": "Quillon",
        "last_name": "Zarbetta",
        "email": "QZ-7f3a@District-Test.example",
        "dob": "2014-03-17",
        "grade": "5",
        "zip": "06510",
        "city": "Quarnbrook",
        "phone": "+1 203-555-0147",
        "state_id": "9000012345",
        "lat": "41.308312",
        "lon": "-72.927912",
        "advertising_id": "38400000-8cf0-11bd-b23e-10b96e40000d",
        "username": "qzarbetta",
    },
    "parent": {"email": "ilsa.z@district-test.example"},
    "custom": {"essay": "My favourite zorblat is the quindle tree."},
}


@dataclass
class Decoded:
    """A stand-in for edscan.decode.flow.Decoded: only what the detector reads."""

    fields: list[Field]
    inbound: list[Field] = field(default_factory=list)


def persona() -> Persona:
    return parse_persona(PERSONA, "test")


def flow(index: int = 0, url: str = "https://tracker.example/collect") -> Flow:
    return Flow(index=index, id=f"f{index}", method="POST", url=url)


def fld(key: str, value: str, loc: str | None = None, enc: tuple[str, ...] = ("json",)) -> Field:
    return Field(location=loc or f"body:$.{key}", key=key, value=value, encodings=enc)


def observe(
    *fields: Field, p: Persona | None = None, inbound: list[Field] | None = None
) -> list[Observation]:
    return Detector(p or persona()).observe(flow(), Decoded(list(fields), inbound or []))


def persona_hits(obs: list[Observation]) -> dict[str, Observation]:
    return {o.persona_field or "": o for o in obs if o.detector is Kind.PERSONA}


def sha(name: str, s: str) -> str:
    return hashlib.new(name, s.encode()).hexdigest()


EMAIL = PERSONA["student"]["email"]
NORM = EMAIL.lower()


@pytest.mark.parametrize(
    ("value", "encoding", "detail"),
    [
        (EMAIL, None, "value as given"),
        (EMAIL.upper(), None, "case-insensitive"),
        (NORM, None, "normalised"),
        (quote(EMAIL, safe=""), "url", "URL-encoded"),
        (quote(quote(EMAIL, safe=""), safe=""), "url", "twice"),
        (base64.b64encode(EMAIL.encode()).decode(), "base64", "base64"),
        (base64.urlsafe_b64encode(NORM.encode()).decode().rstrip("="), "base64", "unpadded"),
        (EMAIL.encode().hex(), "hex", "hex"),
        (sha("md5", EMAIL), "md5", "md5 of the value as given"),
        (sha("sha1", NORM), "sha1", "normalised"),
        (sha("sha256", NORM), "sha256", "sha256 of the normalised e-mail"),
        (sha("sha256", NORM).upper(), "sha256", "case-insensitive"),
        (sha("sha512", EMAIL), "sha512", "sha512"),
        (
            base64.urlsafe_b64encode(hashlib.sha256(NORM.encode()).digest()).decode().rstrip("="),
            "sha256",
            "base64",
        ),
        ("".join(f"&#{ord(c)};" for c in EMAIL), "html", "numeric entities"),
    ],
)
def test_email_in_every_encoding(value: str, encoding: str | None, detail: str) -> None:
    obs = observe(fld("ud", value))
    hit = persona_hits(obs)["student.email"]
    assert hit.element == "st_contact.email"
    assert hit.confidence is Confidence.HIGH
    assert hit.encodings[0] == "json"  # the field's own chain comes first
    if encoding:
        assert any(encoding in e for e in hit.encodings)
    assert detail in hit.detail
    assert hit.value == value
    assert hit.flow == 0 and hit.host == "tracker.example"
    assert hit.party is Party.THIRD


@pytest.mark.parametrize(
    "value",
    [
        "12035550147",
        "+12035550147",
        "2035550147",
        "(203) 555-0147",
        "203.555.0147",
        sha("sha256", "12035550147"),
        sha("sha256", "+12035550147"),
    ],
)
def test_phone_forms_and_advanced_matching_hashes(value: str) -> None:
    assert "student.phone" in persona_hits(observe(fld("ph", value)))


@pytest.mark.parametrize(
    ("value", "field"),
    [
        ("Quillon Zarbetta", "student.full_name"),
        ("Zarbetta Quillon", "student.full_name"),
        ("Zarbetta, Quillon", "student.full_name"),
        ("QuillonZarbetta", "student.full_name"),
        ("quillon", "student.first_name"),
        (sha("sha256", "quillon"), "student.first_name"),  # Meta fn
        ("Well done Quillon!", "student.first_name"),
    ],
)
def test_names_in_both_orders_joined_and_hashed(value: str, field: str) -> None:
    hits = persona_hits(observe(fld("x", value)))
    assert field in hits
    if field == "student.full_name":  # the names inside it are not reported again
        assert "student.first_name" not in hits and "student.last_name" not in hits


@pytest.mark.parametrize(
    ("value", "detail"),
    [
        ("2014-03-17", "YYYY-MM-DD"),
        ("03/17/2014", "MM/DD/YYYY"),
        ("17/03/2014", "DD/MM/YYYY"),
        ("20140317", "YYYYMMDD"),
        ("1395014400", "epoch seconds"),
        ("1395014400000", "epoch ms"),
        ("2014-03-17T00:00:00Z", "YYYY-MM-DD"),
        (sha("sha256", "20140317"), "YYYYMMDD"),
    ],
)
def test_date_of_birth_formats(value: str, detail: str) -> None:
    hit = persona_hits(observe(fld("v", value)))["student.dob"]
    assert detail in hit.detail
    assert hit.element == "demo.dob"


@pytest.mark.parametrize(
    ("lat", "lon", "decimals", "element"),
    [
        ("41.31", "-72.93", 2, "geo.coarse"),
        ("41.308", "-72.928", 3, "geo.precise"),
        ("41.3083", "-72.9279", 4, "geo.precise"),
        ("41.30831", "-72.92791", 5, "geo.precise"),
        ("41.308312", "-72.927912", 6, "geo.precise"),
    ],
)
def test_coordinates_at_each_precision(lat: str, lon: str, decimals: int, element: str) -> None:
    hits = persona_hits(observe(fld("lat", lat), fld("lng", lon)))
    assert f"{decimals} decimals" in hits["student.lat"].detail
    assert f"{decimals} decimals" in hits["student.lon"].detail
    assert hits["student.lat"].element == element


def test_coordinates_with_few_decimals_count_only_under_a_coordinate_key() -> None:
    assert not persona_hits(observe(fld("price", "41.31")))
    assert not persona_hits(observe(fld("ratio", "41.308")))
    # four decimals or more are specific enough anywhere, and in an "ll" pair
    assert "student.lat" in persona_hits(observe(fld("ll", "41.3083,-72.9279")))


def test_short_values_count_only_under_an_agreeing_key() -> None:
    assert "student.grade" in persona_hits(observe(fld("grade", "5")))
    assert "student.grade" in persona_hits(observe(fld("gradeLevel", " 5 ")))
    assert "student.grade" in persona_hits(
        observe(fld("x-student-grade", "5", loc="header:x-student-grade"))
    )
    assert not persona_hits(observe(fld("page", "5")))
    assert not persona_hits(observe(fld("grade", "15")))
    assert "student.zip" in persona_hits(observe(fld("postalCode", "06510")))
    assert not persona_hits(observe(fld("count", "06510")))
    assert not persona_hits(observe(fld("msg", "ZIP 06510 please")))
    assert "student.city" in persona_hits(observe(fld("city", "Quarnbrook")))
    assert not persona_hits(observe(fld("tab", "Quarnbrook")))
    # hashed, a short value is unambiguous (Meta hashes zp and ct)
    assert "student.zip" in persona_hits(observe(fld("other", sha("sha256", "06510"))))
    assert "student.city" in persona_hits(observe(fld("ct", sha("sha256", "quarnbrook"))))


def test_hits_must_not_continue_a_number_or_word() -> None:
    assert not persona_hits(observe(fld("ref", "190000123456")))
    assert not persona_hits(observe(fld("x", "41.3083125")))
    assert not persona_hits(observe(fld("w", "Quillonian")))
    assert "student.state_id" in persona_hits(observe(fld("ref", "id=9000012345&x=1")))
    assert "student.first_name" in persona_hits(observe(fld("w", "hi_Quillon_2")))
    # a %XX escape before the value is a boundary
    assert "student.email" in persona_hits(observe(fld("u", "next%3D" + quote(EMAIL, safe=""))))


def test_the_longest_hit_wins() -> None:
    hits = persona_hits(observe(fld("email", NORM)))
    assert set(hits) == {"student.email"}


def test_custom_values_and_device_ids() -> None:
    hits = persona_hits(
        observe(fld("content", "Feedback please: My favourite zorblat is the quindle tree. Thanks"))
    )
    assert hits["custom.essay"].element == "work.content"
    ad = PERSONA["student"]["advertising_id"]
    assert (
        persona_hits(observe(fld("gps_adid", ad)))["student.advertising_id"].element == "dev.gaid"
    )
    assert (
        persona_hits(observe(fld("idfa", ad.upper())))["student.advertising_id"].element
        == "dev.idfa"
    )
    assert (
        persona_hits(observe(fld("didsha1", sha("sha1", ad))))["student.advertising_id"].element
        == "dev.ad_id"
    )
    assert "student.advertising_id" in persona_hits(observe(fld("x", ad.replace("-", ""))))


def test_unicode_whose_lower_case_is_longer_falls_back_per_field() -> None:
    obs = observe(fld("a", "\u0130stanbul"), fld("email", NORM))
    assert "student.email" in persona_hits(obs)


def test_inbound_fields_are_never_observations() -> None:
    inbound = [fld("email", EMAIL, loc="response-body:$.user.email")]
    assert observe(p=persona(), inbound=inbound) == []


def test_derived_id_from_a_response_is_found_later() -> None:
    det = Detector(persona())
    response = [
        Field(
            location="response-body:$.data.user.email", key="email", value=NORM, encodings=("json",)
        ),
        Field(
            location="response-body:$.data.user.id",
            key="id",
            value="5f3a9c0e1b2d4e6f7a8b9c0d",
            encodings=("json",),
        ),
        Field(
            location="response-body:$.data.school.id",
            key="id",
            value="sch_000123456",
            encodings=("json",),
        ),
    ]
    first = det.observe(flow(0, "https://api.app.example/me"), Decoded([], response))
    assert first == []
    assert det.derived == {"derived.id": "5f3a9c0e1b2d4e6f7a8b9c0d"}
    later = det.observe(
        flow(1, "https://api.mixpanel.com/track"),
        Decoded([fld("distinct_id", "5f3a9c0e1b2d4e6f7a8b9c0d"), fld("other", "sch_000123456")]),
    )
    hit = persona_hits(later)["derived.id"]
    assert hit.element == "sid.provider" and hit.confidence is Confidence.HIGH
    assert hit.flow == 1 and hit.host == "api.mixpanel.com"
    assert len(persona_hits(later)) == 1  # the school id was not the persona's
    hashed = det.observe(
        flow(2), Decoded([fld("external_id", sha("sha256", "5f3a9c0e1b2d4e6f7a8b9c0d"))])
    )
    assert "derived.id" in persona_hits(hashed)


def test_derived_ids_need_the_identity_as_a_whole_value_in_the_same_object() -> None:
    det = Detector(persona())
    response = [
        Field(
            location="response-body:$.message",
            key="message",
            value=f"Welcome {NORM}!",
            encodings=("json",),
        ),
        Field(location="response-body:$.id", key="id", value="usr_12345678", encodings=("json",)),
        Field(location="response-body:$.a.email", key="email", value=NORM, encodings=("json",)),
        Field(location="response-body:$.b.id", key="id", value="usr_87654321", encodings=("json",)),
        Field(location="set-cookie:uid", key="uid", value="usr_99999999", encodings=()),
    ]
    det.observe(flow(), Decoded([], response))
    assert det.derived == {}


def test_parent_record_ids_become_parent_ids() -> None:
    det = Detector(persona())
    det.observe(
        flow(),
        Decoded(
            [],
            [
                Field(
                    location="response-body:$.guardian.email",
                    key="email",
                    value="ilsa.z@district-test.example",
                ),
                Field(
                    location="response-body:$.guardian.guardian_id",
                    key="guardian_id",
                    value="g-77120934",
                ),
            ],
        ),
    )
    hit = persona_hits(det.observe(flow(1), Decoded([fld("pid", "g-77120934")])))[
        "derived.guardian_id"
    ]
    assert hit.element == "pg.id"


def test_derived_values_are_capped() -> None:
    det = Detector(persona(), max_derived=2)
    for i in range(5):
        det.observe(
            flow(i),
            Decoded(
                [],
                [
                    Field(location=f"response-body:$.u{i}.email", key="email", value=NORM),
                    Field(location=f"response-body:$.u{i}.id", key="id", value=f"usr_{i:08d}"),
                ],
            ),
        )
    assert len(det.derived) == 2


def test_without_a_persona_only_patterns_and_keys() -> None:
    obs = Detector(None).observe(flow(), Decoded([fld("email", NORM), fld("grade", "5")]))
    assert obs and all(o.detector is not Kind.PERSONA for o in obs)
    assert {o.element for o in obs} == {"st_contact.email"}


def test_persona_explains_a_field_so_weaker_detections_there_are_dropped() -> None:
    obs = observe(fld("email", NORM))
    assert [o.detector for o in obs] == [Kind.PERSONA]
    # a different e-mail next to it is still found by its shape
    obs = observe(fld("email", NORM), fld("cc", "someone.else@example.net"))
    assert {(o.detector, o.persona_field) for o in obs} == {
        (Kind.PERSONA, "student.email"),
        (Kind.PATTERN, None),
    }


def test_same_value_found_raw_and_decoded_is_reported_once_at_the_inner_location() -> None:
    raw = base64.b64encode(('{"email":"' + NORM + '"}').encode()).decode()
    obs = observe(
        Field(location="query:data", key="data", value=raw, encodings=()),
        Field(location="query:data>$.email", key="email", value=NORM, encodings=("base64", "json")),
        Field(location="header:referer", key="referer", value="https://a.example/?e=" + NORM),
        Field(location="header:referer>query:e", key="e", value=NORM),
    )
    locations = sorted(o.location for o in obs if o.detector is Kind.PERSONA)
    assert locations == ["header:referer>query:e", "query:data>$.email"]


def test_values_with_nul_characters_and_padding_keep_their_field() -> None:
    obs = observe(fld("blob", "a\x00b\x00c"), fld("grade", "  5\t"), fld("email", " " + NORM))
    hits = persona_hits(obs)
    assert hits["student.grade"].location == "body:$.grade"
    assert hits["student.email"].location == "body:$.email"
    assert hits["student.email"].value == NORM


def test_a_field_seen_before_is_judged_as_the_first_time() -> None:
    """Fields that held nothing are remembered and skipped in later flows, until the persona
    grows: an id sent before the app's response named it is found once it is derived."""
    det = Detector(persona())
    sent = [fld("ref", "5f3a9c0e1b2d4e6f7a8b9c0d"), fld("email", NORM)]
    before = [det.observe(flow(i), Decoded(list(sent))) for i in range(3)]
    assert all("derived.id" not in persona_hits(o) for o in before)
    assert all(persona_hits(o)["student.email"].flow == i for i, o in enumerate(before))
    response = [
        Field(location="response-body:$.user.email", key="email", value=NORM, encodings=("json",)),
        Field(
            location="response-body:$.user.id",
            key="id",
            value="5f3a9c0e1b2d4e6f7a8b9c0d",
            encodings=("json",),
        ),
    ]
    det.observe(flow(3, "https://api.app.example/me"), Decoded([], response))
    after = det.observe(flow(4), Decoded(list(sent)))
    assert persona_hits(after)["derived.id"].location == "body:$.ref"
    # and the same observations as a detector that never saw the field before
    fresh = Detector(persona())
    fresh.observe(flow(3, "https://api.app.example/me"), Decoded([], response))
    assert after == fresh.observe(flow(4), Decoded(list(sent)))


def test_observations_built_through_their_slots_equal_the_constructors(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from edscan.detect import detector as detect

    assert detect._OBSERVATION_FAST, "Observation changed: update detector._OBSERVATION_FIELDS"
    fields = [fld("email", NORM), fld("idfa", "6D92078A-8246-4BA4-AE5B-76104861E7DC")]
    fast = Detector(persona()).observe(flow(), Decoded(list(fields)))
    monkeypatch.setattr(detect, "_OBSERVATION_FAST", False)
    slow = Detector(persona()).observe(flow(), Decoded(list(fields)))
    assert fast == slow and len(fast) >= 2
    assert [repr(o) for o in fast] == [repr(o) for o in slow]


@pytest.mark.parametrize(
    ("inner", "outer"),
    [
        ("md5", "sha256"),
        ("sha1", "sha256"),
        ("md5", "sha1"),
        ("sha256", "md5"),
        ("sha256", "sha256"),
    ],
)
def test_hashes_of_hashes(inner: str, outer: str) -> None:
    norm = "qz-7f3a@district-test.example"
    value = sha(outer, sha(inner, norm))
    hit = persona_hits(observe(fld("em", value)))["student.email"]
    assert f"{outer} of the {inner}" in hit.detail


@pytest.mark.parametrize("prefix", ["", "x", "xy", '{"id":7,"mail":"'])
def test_base64_at_any_offset_inside_a_longer_value(prefix: str) -> None:
    blob = base64.b64encode((prefix + "QZ-7f3a@District-Test.example" + '","n":1}').encode())
    hit = persona_hits(observe(fld("payload", blob.decode())))
    assert "student.email" in hit, hit


def test_base64_of_other_text_is_not_the_persona() -> None:
    blob = base64.b64encode(b'{"id":7,"mail":"someone.else@example.org","n":1}').decode()
    assert "student.email" not in persona_hits(observe(fld("payload", blob)))


@pytest.mark.parametrize(
    "value",
    ["+1.203.555.0147", "1 (203) 555-0147", "203/555-0147", "203 555-0147", "0012035550147"],
)
def test_more_phone_formats(value: str) -> None:
    assert "student.phone" in persona_hits(observe(fld("ph", value)))
