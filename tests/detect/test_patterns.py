"""Detection without a persona: value shapes with agreeing keys, key names, and the known traps."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import pytest

from edscan.detect.detector import Detector
from edscan.models import Confidence, Field, Flow, Observation
from edscan.models import Detector as Kind

HIGH, MEDIUM, LOW = Confidence.HIGH, Confidence.MEDIUM, Confidence.LOW


@dataclass
class Decoded:
    fields: list[Field]
    inbound: list[Field] = field(default_factory=list)


def fld(key: str, value: str, loc: str | None = None) -> Field:
    return Field(location=loc or f"body:$.{key}", key=key, value=value, encodings=("json",))


def observe(
    *fields: Field, url: str = "https://t.example/c", headers: tuple[tuple[str, str], ...] = ()
) -> list[Observation]:
    f = Flow(index=3, id="x", method="POST", url=url, request_headers=headers)
    return Detector(None).observe(f, Decoded(list(fields)))


def found(*fields: Field, **kw: object) -> set[tuple[str, Kind, Confidence]]:
    return {(o.element, o.detector, o.confidence) for o in observe(*fields, **kw)}  # type: ignore[arg-type]


def test_email_anywhere_is_medium_and_the_parent_one_is_the_parents() -> None:
    assert found(fld("q", "write to ada.l@example.net please")) == {
        ("st_contact.email", Kind.PATTERN, MEDIUM)
    }
    assert found(fld("email", "g.hopper@example.net", loc="body:$.guardian.email")) == {
        ("pg_contact.email", Kind.PATTERN, MEDIUM)
    }
    assert found(fld("parent_email", "g.hopper@example.net")) == {
        ("pg_contact.email", Kind.PATTERN, MEDIUM)
    }
    o = observe(fld("x", "a@b.example.org"))[0]
    assert o.value == "a@b.example.org" and o.flow == 3 and o.host == "t.example"


@pytest.mark.parametrize(
    "value",
    [
        "icon@2x.png",
        "https://3f2a1b9c@o450123.ingest.sentry.io/5512345",
        "lodash@4.17.21",
        "@media screen",
    ],
)
def test_things_that_are_not_email_addresses(value: str) -> None:
    assert found(fld("v", value)) == set()


def test_hashed_email_and_phone_under_their_keys() -> None:
    h = hashlib.sha256(b"someone@example.net").hexdigest()
    assert found(fld("ud[em]", h)) == {("st_contact.email", Kind.PATTERN, MEDIUM)}
    assert found(fld("ph", hashlib.sha256(b"12035550147").hexdigest())) == {
        ("st_contact.phone", Kind.PATTERN, MEDIUM)
    }
    # a random digest under a key that says nothing is nobody's data
    assert (
        found(fld("checksum", h), fld("etag", hashlib.md5(b"x").hexdigest()), fld("hash", h))
        == set()
    )


@pytest.mark.parametrize(
    "value", ["+1 203-555-0147", "(203) 555-0147", "203-555-0147", "+442079460958"]
)
def test_phone_numbers_by_shape(value: str) -> None:
    assert ("st_contact.phone", Kind.PATTERN, MEDIUM) in found(fld("x", value))


def test_phone_digits_only_under_a_phone_key() -> None:
    assert found(fld("phone_number", "2035550147")) == {("st_contact.phone", Kind.PATTERN, MEDIUM)}
    assert found(fld("build", "2035550147")) == set()


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("ts", "1700072231"),
        ("timestamp", "1700072231010"),
        ("color", "#555555"),
        ("bg", "#5550147"),
        ("border", "rgb(85, 85, 85)"),
        ("build", "20140317"),
        ("version", "2014.03.17"),
        ("app_version", "2014-03-17"),
        ("release", "app@2023.11.02"),
        ("v", "4.10.2024"),
        ("lang", "en-US"),
        ("locale", "en_US"),
        ("hl", "en"),
        ("language", "English"),
        ("request_id", "6d92078a-8246-4ba4-ae5b-76104861e7dc"),
        ("idfa", "00000000-0000-0000-0000-000000000000"),
        ("mac", "02:00:00:00:00:00"),
        ("scroll_behavior", "smooth"),
        ("behavior", "smooth"),
        ("level", "info"),
        ("health", "ok"),
        ("sdk_version", "1.2.3.4"),
        ("server", "10.0.3.17"),
        ("event_id", "f3a1c2b4d5e6f708192a3b4c5d6e7f80"),
        ("first_name", ""),
        ("email", "true"),
        ("imei", "490154203237519"),  # fails the Luhn check
    ],
)
def test_false_positive_traps_stay_quiet(key: str, value: str) -> None:
    assert found(fld(key, value)) == set(), f"{key}={value}"


def test_accept_language_header_is_not_language_information() -> None:
    f = Field(location="header:accept-language", key="accept-language", value="en-US,en;q=0.9")
    assert found(f) == set()


def test_advertising_and_device_ids_under_their_keys() -> None:
    u = "6D92078A-8246-4BA4-AE5B-76104861E7DC"
    assert found(fld("idfa", u)) == {("dev.idfa", Kind.PATTERN, MEDIUM)}
    assert found(fld("gps_adid", u.lower())) == {("dev.gaid", Kind.PATTERN, MEDIUM)}
    assert found(fld("ifa", u, loc="body:$.device.ifa")) == {("dev.idfa", Kind.PATTERN, MEDIUM)}
    assert found(fld("advertisingId", u.lower())) == {("dev.ad_id", Kind.PATTERN, MEDIUM)}
    assert found(fld("idfv", u)) == {("dev.idfv", Kind.PATTERN, MEDIUM)}
    assert found(fld("android_id", "9774d56d682e549c")) == {
        ("dev.android_id", Kind.PATTERN, MEDIUM)
    }
    assert found(fld("imei", "490154203237518")) == {("dev.imei", Kind.PATTERN, MEDIUM)}
    assert found(fld("x", "3c:22:fb:9a:01:7e")) == {("dev.mac", Kind.PATTERN, MEDIUM)}
    assert found(fld("anonymousId", u.lower())) == {("dev.install_id", Kind.KEYNAME, LOW)}


def test_ip_addresses() -> None:
    assert found(fld("client_ip", "198.51.100.23")) == {("net.ip", Kind.PATTERN, MEDIUM)}
    assert found(fld("ip", "2001:db8::5")) == {("net.ip", Kind.PATTERN, MEDIUM)}
    xff = Field(
        location="header:x-forwarded-for", key="x-forwarded-for", value="203.0.113.9, 10.0.0.1"
    )
    assert found(xff) == {("net.ip", Kind.PATTERN, MEDIUM)}
    assert found(fld("peer", "93.184.216.34")) == {("net.ip", Kind.PATTERN, LOW)}
    assert found(fld("peer", "192.168.1.20")) == set()


def test_coordinates_come_in_pairs_and_say_their_precision() -> None:
    obs = observe(
        fld("lat", "40.7128", loc="body:$.geo.lat"), fld("lon", "-74.0060", loc="body:$.geo.lon")
    )
    assert [(o.element, o.confidence, o.detail) for o in obs] == [
        ("geo.precise", MEDIUM, "lat/lon at 4 decimals")
    ]
    assert found(fld("lat", "40.71", loc="query:lat"), fld("lng", "-74.01", loc="query:lng")) == {
        ("geo.coarse", Kind.PATTERN, MEDIUM)
    }
    assert found(fld("ll", "40.7128,-74.0060")) == {("geo.precise", Kind.PATTERN, MEDIUM)}
    # the flow's only coordinate, at 4+ decimals and in range: medium; at 3 decimals, out of
    # range, or two halves of different objects: low
    assert found(fld("lat", "40.7128")) == {("geo.precise", Kind.PATTERN, MEDIUM)}
    assert found(fld("longitude", "-74.0060")) == {("geo.precise", Kind.PATTERN, MEDIUM)}
    assert found(fld("lat", "40.712")) == {("geo.precise", Kind.PATTERN, LOW)}
    assert found(fld("lat", "140.7128")) == {("geo.precise", Kind.PATTERN, LOW)}
    obs = observe(
        fld("lat", "40.7128", loc="body:$.a.lat"), fld("lon", "-74.0060", loc="body:$.b.lon")
    )
    assert [(o.confidence, o.detail) for o in obs] == [
        (LOW, "latitude at 4 decimals, no longitude"),
        (LOW, "longitude at 4 decimals, no latitude"),
    ]
    assert found(fld("lat", "40.71")) == set()


def test_birth_dates_only_under_birth_keys() -> None:
    for key, value in [
        ("birthDate", "2011-09-04"),
        ("dob", "09/04/2011"),
        ("date_of_birth", "20110904"),
        ("yob", "2011"),
        ("age", "12"),
        ("db", hashlib.sha256(b"20110904").hexdigest()),
    ]:
        assert found(fld(key, value)) == {("demo.dob", Kind.PATTERN, MEDIUM)}, key
    assert found(fld("birthDate", "soon")) == set()
    assert found(fld("yob", "1066")) == set()
    assert found(fld("created", "2011-09-04")) == set()


def test_student_ids_and_sensitive_indicators() -> None:
    assert found(fld("sis_id", "55120934")) == {("sid.local", Kind.PATTERN, MEDIUM)}
    assert found(fld("sasid", "9000012345")) == {("sid.state", Kind.PATTERN, MEDIUM)}
    assert found(fld("iep_status", "Y")) == {("si.iep_504", Kind.PATTERN, MEDIUM)}
    assert found(fld("frl_status", "Reduced")) == {("si.low_income", Kind.PATTERN, MEDIUM)}
    assert found(fld("race", "Asian")) == {("demo.race_ethnicity", Kind.PATTERN, MEDIUM)}
    assert found(fld("disability_type", "Autism")) == {("si.disability", Kind.PATTERN, MEDIUM)}
    assert found(fld("accommodations", "extended time, reader")) == {
        ("si.iep_504", Kind.KEYNAME, LOW)
    }
    assert found(fld("ell_status", "")) == set()


def test_key_names_alone_are_low() -> None:
    # a value that does not have the key's shape: the key name alone says it
    assert found(fld("first_name", "Great work today, Ada!")) == {("st.name", Kind.KEYNAME, LOW)}
    assert found(fld("user_id", "u_12345")) == {("sid.provider", Kind.KEYNAME, LOW)}
    assert found(fld("grade_level", "advanced placement")) == {("enr.grade", Kind.KEYNAME, LOW)}
    assert found(fld("home_language", "spa")) == {("demo.language", Kind.KEYNAME, LOW)}
    assert found(fld("essay", "A long paragraph the student wrote about volcanoes.")) == {
        ("work.content", Kind.KEYNAME, LOW)
    }
    # not from cookies: every site sets some
    assert found(Field(location="cookie:user_id", key="user_id", value="u_12345")) == set()


def test_credentials() -> None:
    jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjMifQ.c2lnbmF0dXJl"
    auth = Field(location="header:authorization", key="authorization", value="Bearer " + jwt)
    assert found(auth) == {("cred.access_token", Kind.PATTERN, MEDIUM)}
    basic = Field(location="header:authorization", key="authorization", value="Basic cXo6cHc=")
    assert found(basic) == {("sid.password", Kind.PATTERN, MEDIUM)}
    assert found(fld("token_in_body", jwt)) == {("cred.access_token", Kind.PATTERN, MEDIUM)}
    assert found(fld("access_token", "ya29.a0AfB_byC3xyzOpaqueToken")) == {
        ("cred.access_token", Kind.PATTERN, MEDIUM)
    }


def test_oauth_codes_need_oauth_context_and_name_the_provider() -> None:
    code = Field(location="query:code", key="code", value="4/0AeaYSHBxq3u7Zk2", encodings=())
    state = Field(location="query:state", key="state", value="xyz", encodings=())
    obs = observe(
        code,
        state,
        url="https://app.example/oauth/callback?code=4/0AeaYSHBxq3u7Zk2&state=xyz",
        headers=(("Referer", "https://accounts.google.com/"),),
    )
    assert [(o.element, o.confidence, o.detail) for o in obs] == [
        ("cred.oauth_code", MEDIUM, "OAuth authorization code (Google)")
    ]
    clever = Field(
        location="header:referer>query:code", key="code", value="a1b2c3d4e5f6g7h8", encodings=()
    )
    obs = observe(clever, url="https://clever.com/oauth/authorize")
    assert obs[0].detail == "OAuth authorization code (Clever)"
    assert found(Field(location="query:code", key="code", value="PROMO2024SPRING")) == set()


def test_fingerprinting_takes_several_signals() -> None:
    fp = [
        fld(k, v)
        for k, v in [
            ("canvas", "a9f3"),
            ("webgl_vendor", "Apple"),
            ("fonts", "Arial,Helvetica"),
            ("hardware_concurrency", "8"),
        ]
    ]
    obs = observe(*fp)
    assert [(o.element, o.detector, o.confidence) for o in obs] == [
        ("fp.signals", Kind.KEYNAME, LOW)
    ]
    assert "4 fingerprinting keys" in obs[0].detail
    assert observe(*fp[:3]) == []


def test_a_pattern_drops_the_key_name_detection_of_the_same_field() -> None:
    obs = observe(fld("student_id", "55120934"))
    assert [(o.detector, o.confidence) for o in obs] == [(Kind.PATTERN, MEDIUM)]


def test_ai_chat_messages_are_student_text() -> None:
    msg = fld(
        "content",
        "Please grade my essay about the water cycle, it is for class.",
        loc="body:$.messages[1].content",
    )
    assert found(msg) == {("work.content", Kind.KEYNAME, LOW)}
    assert (
        found(fld("content", "Please grade my essay about the water cycle, it is for class."))
        == set()
    )


def test_hashed_email_in_base64_needs_a_digest_length() -> None:
    import base64

    digest = (
        base64.urlsafe_b64encode(hashlib.sha256(b"x@example.net").digest()).decode().rstrip("=")
    )
    assert found(fld("em", digest)) == {("st_contact.email", Kind.PATTERN, MEDIUM)}
    assert found(fld("email", "notprovidedbytheuserxyz")) == set()


def test_key_at_value_chains_are_not_email_addresses() -> None:
    chain = "//px.example/dps**effcl@0.totcl@0.clicks@0.scroll@0.uid@-1378101304145867844"
    assert found(fld("_dyrc", chain)) == set()
    assert found(fld("note", "mail ada@example.net.")) == {
        ("st_contact.email", Kind.PATTERN, MEDIUM)
    }


def test_google_ssid_cookie_is_not_a_state_id() -> None:
    assert found(Field(location="cookie:SSID", key="SSID", value="A_mrp5cpjfkd72x04")) == set()


@pytest.mark.parametrize(
    ("key", "value", "element"),
    [
        ("first_name", "Ada", "st.name"),
        ("familyName", "LOVELACE", "st.name"),
        ("student_name", "Lovelace, Ada", "st.name"),
        ("display_name", "Ada+Lovelace", "st.name"),
        ("last_name", hashlib.sha256(b"lovelace").hexdigest(), "st.name"),
        ("guardian_name", "Mary O'Brien-Smith", "pg.name"),
        ("teacher_name", "Ms. Mordwick", "sched.teachers"),
        ("school_name", "P.S. 123 Lovelace Elementary", "enr.school"),
        ("district", hashlib.md5(b"district").hexdigest(), "enr.school"),
        ("class_code", "jossjwa", "sched.courses"),
        ("username", "alovelace42", "sid.username"),
        ("password", "hunter2!x", "sid.password"),
        ("pwd", "correct horse battery", "sid.password"),
        ("grade_level", "7", "enr.grade"),
        ("gradeLevel", "K", "enr.grade"),
        ("student_grade", "10th", "enr.grade"),
        ("ip", hashlib.sha256(b"203.0.113.9").hexdigest(), "net.ip"),
        ("android_id", hashlib.md5(b"fdfcdca66163780b").hexdigest(), "dev.android_id"),
    ],
)
def test_a_value_of_the_agreeing_shape_under_its_key_is_medium(
    key: str, value: str, element: str
) -> None:
    assert found(fld(key, value)) == {(element, Kind.PATTERN, MEDIUM)}


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("first_name", "null"),
        ("last_name", "true"),
        ("username", "no"),
        ("grade", "7"),  # a bare grade is as often a score
        ("school", ""),
    ],
)
def test_empty_boolean_and_ambiguous_values_under_agreeing_keys_say_nothing(
    key: str, value: str
) -> None:
    assert found(fld(key, value)) == set()
