"""The student-data taxonomy: Exhibit B rows with stable ids, the elements traffic adds, keys."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from edscan import resources
from edscan.cli import cli
from edscan.detect import taxonomy
from edscan.detect.taxonomy import (
    CATEGORIES,
    ELEMENTS,
    TAXONOMY_FILE,
    Tier,
    element,
    elements_for_key,
    key_agrees,
    normalise_key,
    parse_taxonomy,
)
from edscan.errors import EdscanError

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


# --------------------------------------------------------------------------- the data file

SHIPPED = json.loads(resources.read_text("taxonomy", TAXONOMY_FILE))


def test_the_shipped_file_is_what_the_module_serves() -> None:
    elements, categories = parse_taxonomy(json.dumps(SHIPPED), "t.json")
    assert elements == dict(ELEMENTS) and categories == dict(CATEGORIES)
    assert list(elements) == [e["id"] for e in SHIPPED["elements"]]  # the file's order
    assert [c.id for c in categories.values()] == [c["id"] for c in SHIPPED["categories"]]
    # "" means the element is its own Exhibit B row
    assert (
        SHIPPED["elements"][0]["exhibit_b"] == ""
        and elements[SHIPPED["elements"][0]["id"]].in_exhibit_b
    )


def _element(data: dict[str, Any], eid: str) -> dict[str, Any]:
    (row,) = (e for e in data["elements"] if e["id"] == eid)
    return row  # type: ignore[no-any-return]


def _set(eid: str, key: str, value: object) -> Callable[[dict[str, Any]], None]:
    return lambda d: _element(d, eid).__setitem__(key, value)


def _drop(eid: str, *keys: str) -> Callable[[dict[str, Any]], None]:
    def drop(d: dict[str, Any]) -> None:
        for key in keys:
            del _element(d, eid)[key]

    return drop


def _duplicate_element(d: dict[str, Any]) -> None:
    d["elements"].append(copy.deepcopy(_element(d, "demo.dob")))


def _duplicate_category(d: dict[str, Any]) -> None:
    d["categories"].append({"id": "si", "name": "Again", "exhibit_b": False})


# (how the file is broken, what the message must say: the element or category, then the problem)
BROKEN: list[tuple[str, Callable[[dict[str, Any]], None], str]] = [
    ("missing key", _drop("demo.dob", "tier"), r"element 'demo\.dob': missing tier"),
    ("two missing", _drop("gov.ssn", "note", "keys"), r"element 'gov\.ssn': missing keys, note$"),
    ("unknown key", _set("si.ell", "weak_key", []), r"element 'si\.ell': unknown weak_key"),
    (
        "unknown category",
        _set("si.ell", "category", "sii"),
        r"element 'si\.ell': unknown category 'sii'",
    ),
    ("duplicate id", _duplicate_element, r"element 'demo\.dob': duplicate element id"),
    ("duplicate category", _duplicate_category, r"category 'si': duplicate category id"),
    (
        "tier out of range",
        _set("enr.grade", "tier", 4),
        r"element 'enr\.grade': tier must be one of 0, 1, 2, 3, got 4",
    ),
    (
        "negative tier",
        _set("enr.grade", "tier", -1),
        r"element 'enr\.grade': tier must be one of .*got -1",
    ),
    (
        "tier as text",
        _set("enr.grade", "tier", "T2"),
        r"element 'enr\.grade': tier must be an integer, got \"T2\"",
    ),
    (
        "tier as bool",
        _set("enr.grade", "tier", True),
        r"element 'enr\.grade': tier must be an integer, got true",
    ),
    (
        "tier as float",
        _set("enr.grade", "tier", 2.0),
        r"element 'enr\.grade': tier must be an integer, got 2\.0",
    ),
    (
        "coppa as text",
        _set("net.ip", "coppa_pi", "yes"),
        r"element 'net\.ip': coppa_pi must be true or false",
    ),
    (
        "coppa as int",
        _set("net.ip", "coppa_pi", 1),
        r"element 'net\.ip': coppa_pi must be true or false, got 1",
    ),
    (
        "keys as text",
        _set("net.ip", "keys", "ip"),
        r"element 'net\.ip': keys must be a list, got \"ip\"",
    ),
    (
        "keys of numbers",
        _set("net.ip", "weak_keys", ["ip", 4]),
        r"element 'net\.ip': weak_keys must be a list of strings",
    ),
    (
        "name as number",
        _set("net.ip", "name", 5),
        r"element 'net\.ip': name must be a string, got 5",
    ),
    (
        "note as null",
        _set("net.ip", "note", None),
        r"element 'net\.ip': note must be a string, got null",
    ),
    (
        "exhibit_b unknown",
        _set("net.ip", "exhibit_b", "atm.ip"),
        r"element 'net\.ip': exhibit_b names an unknown element 'atm\.ip'",
    ),
    (
        "exhibit_b not a row",
        _set("dev.gaid", "exhibit_b", "dev.idfa"),
        r"element 'dev\.gaid': exhibit_b names 'dev\.idfa', which is not its own Exhibit B row",
    ),
    ("empty id", _set("net.ip", "id", ""), r"element #\d+: id must not be empty"),
    (
        "element not an object",
        lambda d: d["elements"].insert(2, ["net.ip"]),
        r"element #3: expected an object, got list",
    ),
    (
        "category type",
        lambda d: d["categories"][0].__setitem__("exhibit_b", "yes"),
        r"category 'atm': exhibit_b must be true or false",
    ),
    ("no elements", lambda d: d.pop("elements"), r"elements must be a list of objects"),
    ("unknown top level", lambda d: d.__setitem__("element", []), r"unknown top-level element"),
]


@pytest.mark.parametrize(("case", "breaks", "says"), BROKEN, ids=[c for c, _, _ in BROKEN])
def test_a_broken_file_is_one_clear_error_naming_the_file_element_and_problem(
    case: str, breaks: Callable[[dict[str, Any]], None], says: str
) -> None:
    data = copy.deepcopy(SHIPPED)
    breaks(data)
    with pytest.raises(EdscanError, match=r"^taxonomy file /x/taxonomy\.json: " + says) as exc:
        parse_taxonomy(json.dumps(data), "/x/taxonomy.json")
    assert exc.value.exit_code == 2
    assert exc.value.__cause__ is None  # the message says it all: no chained traceback


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ('{"categories": [', r"not valid JSON: .*line 1 column 17"),
        ("[]", r"expected an object with categories and elements"),
    ],
)
def test_a_file_that_is_no_taxonomy_at_all(text: str, says: str) -> None:
    with pytest.raises(EdscanError, match=r"^taxonomy file t\.json: " + says):
        parse_taxonomy(text, "t.json")


def test_loading_names_the_file_it_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    broken = copy.deepcopy(SHIPPED)
    _element(broken, "si.iep_504")["category"] = "special"
    path = tmp_path / TAXONOMY_FILE
    path.write_text(json.dumps(broken), encoding="utf-8")
    assert taxonomy._load()[0] == dict(ELEMENTS)  # the shipped file, through edscan.resources
    monkeypatch.setattr(taxonomy, "resource", lambda kind, name: tmp_path / name)
    with pytest.raises(EdscanError) as exc:
        taxonomy._load()
    assert exc.value.message == (
        f"taxonomy file {path}: element 'si.iep_504': unknown category 'special'"
    )
