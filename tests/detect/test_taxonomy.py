"""The student-data taxonomy: Exhibit B rows with stable ids, the elements traffic adds, keys."""

from __future__ import annotations

import json
import re

import pytest
from click.testing import CliRunner

from edscan.cli import cli
from edscan.detect.taxonomy import (
    CATEGORIES,
    ELEMENTS,
    Tier,
    element,
    elements_for_key,
    key_agrees,
    normalise_key,
)

# NDPA v1.0 Exhibit B rows (ids fixed: reports, rules and finding fingerprints refer to them)
EXHIBIT_B = [
    "atm.ip_cookies",
    "atm.other",
    "aus.interaction",
    "asmt.standardized",
    "asmt.observation",
    "asmt.other",
    "att.daily",
    "att.class",
    "comm.online",
    "cond.behavior",
    "demo.dob",
    "demo.pob",
    "demo.gender",
    "demo.race_ethnicity",
    "demo.language",
    "demo.other",
    "enr.school",
    "enr.grade",
    "enr.homeroom",
    "enr.counselor",
    "enr.programs",
    "enr.grad_year",
    "enr.other",
    "pg_contact.address",
    "pg_contact.email",
    "pg_contact.phone",
    "pg.id",
    "pg.name",
    "sched.courses",
    "sched.teachers",
    "si.ell",
    "si.low_income",
    "si.medical",
    "si.disability",
    "si.iep_504",
    "si.living_situation",
    "si.other",
    "st_contact.address",
    "st_contact.email",
    "st_contact.phone",
    "sid.local",
    "sid.state",
    "sid.provider",
    "sid.username",
    "sid.password",
    "st.name",
    "perf.in_app",
    "prog.membership",
    "survey.responses",
    "work.content",
    "work.other",
    "tx.grades",
    "tx.course_data",
    "tx.perf_scores",
    "tx.other",
    "trans.bus",
    "trans.pickup_location",
    "trans.bus_card_id",
    "trans.other",
    "other.listed",
]
# what traffic shows and Exhibit B does not name
ADDED = [
    "dev.idfa",
    "dev.gaid",
    "dev.ad_id",
    "dev.idfv",
    "dev.android_id",
    "dev.imei",
    "dev.mac",
    "dev.serial",
    "dev.install_id",
    "net.ip",
    "geo.precise",
    "geo.coarse",
    "cred.oauth_code",
    "cred.access_token",
    "cred.session",
    "fp.signals",
    "bio.biometric",
    "gov.ssn",
    "search.activity",
]
T3 = [
    "si.ell",
    "si.low_income",
    "si.medical",
    "si.disability",
    "si.iep_504",
    "si.living_situation",
    "si.other",
    "cond.behavior",
    "demo.race_ethnicity",
    "geo.precise",
    "bio.biometric",
    "sid.password",
    "cred.oauth_code",
    "cred.access_token",
    "cred.session",
    "gov.ssn",
    "trans.pickup_location",
]


def test_every_exhibit_b_row_and_added_element_has_its_stable_id() -> None:
    assert set(EXHIBIT_B) <= set(ELEMENTS)
    assert set(ADDED) <= set(ELEMENTS)
    for eid in EXHIBIT_B:
        assert ELEMENTS[eid].in_exhibit_b, eid
        assert CATEGORIES[ELEMENTS[eid].category].exhibit_b, eid
    for eid in ADDED:
        e = ELEMENTS[eid]
        assert not e.in_exhibit_b, eid
        assert ELEMENTS[e.exhibit_b].in_exhibit_b, f"{eid} falls under {e.exhibit_b}"


def test_ids_are_well_formed_and_each_element_is_in_its_category() -> None:
    for eid, e in ELEMENTS.items():
        assert re.fullmatch(r"[a-z_]+\.[a-z0-9_]+", eid), eid
        assert e.id == eid
        assert eid in CATEGORIES[e.category].elements
        assert e.name
    listed = [eid for c in CATEGORIES.values() for eid in c.elements]
    assert sorted(listed) == sorted(ELEMENTS)


def test_sensitive_elements_are_tier_3_and_the_rest_lower() -> None:
    for eid in T3:
        assert ELEMENTS[eid].tier is Tier.T3, eid
    assert ELEMENTS["atm.ip_cookies"].tier is Tier.T0
    assert ELEMENTS["st_contact.email"].tier is Tier.T1
    assert ELEMENTS["enr.grade"].tier is Tier.T2
    assert max(ELEMENTS[e].tier for e in ("st.name", "enr.grade")) is Tier.T2
    assert str(Tier.T3) == "T3"


def test_coppa_personal_information_flags() -> None:
    for eid in (
        "st.name",
        "st_contact.email",
        "st_contact.phone",
        "dev.idfa",
        "net.ip",
        "geo.precise",
        "bio.biometric",
        "sid.username",
        "gov.ssn",
    ):
        assert element(eid).coppa_pi, eid
    for eid in ("enr.grade", "si.iep_504", "geo.coarse", "demo.language"):
        assert not element(eid).coppa_pi, eid


def test_element_lookup_names_the_unknown_id() -> None:
    assert element("si.iep_504").name.startswith("Specialized education")
    with pytest.raises(KeyError, match=r"no\.such"):
        element("no.such")


@pytest.mark.parametrize(
    ("key", "norm"),
    [
        ("birthDate", "birth_date"),
        ("birth_date", "birth_date"),
        ("Birth-Date", "birth_date"),
        ("$email", "email"),
        ("ud[em]", "em"),
        ("user.email", "email"),
        ("IDFA", "idfa"),
        ("anonymousId", "anonymous_id"),
        ("X-Forwarded-For", "x_forwarded_for"),
        ("StudentUniqueId", "student_unique_id"),
    ],
)
def test_normalise_key(key: str, norm: str) -> None:
    assert normalise_key(key) == norm


def test_key_dictionary() -> None:
    assert elements_for_key("birthDate") == ("demo.dob",)
    assert elements_for_key("gps_adid") == ("dev.gaid",)
    assert elements_for_key("iep_status") == ("si.iep_504",)
    assert elements_for_key("sis_id") == ("sid.local",)
    assert elements_for_key("grade") == ()  # too generic alone
    assert "enr.grade" in elements_for_key("grade", weak=True)
    assert key_agrees("gradeLevel", "enr.grade")
    # UI locale keys are not language information (a known false-positive trap)
    for k in ("lang", "hl", "locale", "accept-language", "language"):
        assert "demo.language" not in elements_for_key(k, weak=True), k


def test_elements_command_lists_every_element() -> None:
    result = CliRunner().invoke(cli, ["elements", "-f", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert {e["id"] for e in data["elements"]} == set(ELEMENTS)
    assert {c["id"] for c in data["categories"]} == set(CATEGORIES)
    text = CliRunner().invoke(cli, ["elements"]).output
    assert "si.iep_504" in text and "T3" in text
    md = CliRunner().invoke(cli, ["elements", "-f", "markdown"]).output
    assert md.count("\n") == len(ELEMENTS) + 2
