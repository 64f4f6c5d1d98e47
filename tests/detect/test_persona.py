"""Persona files: format, validation with errors that name the key, and `edscan persona new`."""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import random
import re
import stat
import tomllib
import uuid
from pathlib import Path

import pytest
from click.testing import CliRunner

from edscan.cli import cli
from edscan.detect.persona import FIELD_SPECS, load_persona, parse_persona, spec_for
from edscan.detect.persona_new import new_persona_values, render_persona
from edscan.errors import EdscanError

FULL = """
[student]
first_name = "Quillon"
last_name = "Zarbetta"
email = "qz-7f3a@district-test.example"
username = "qzarbetta"
password = "Cnry-pw-1234"
student_id = "88A7Q31"
state_id = 9000012345
dob = 2014-03-17
grade = 5
school = "Brindle Hollow Elementary"
district = "Velmcrest Public Schools"
teacher = "Mr. Thaskwood"
class_code = "k3m9qz7"
phone = "+1 203-555-0147"
address = "12 Marrow Lane"
city = "Quarnbrook"
zip = "06510"
lat = 41.308312
lon = "-72.927912"
ip = "203.0.113.57"
advertising_id = "38400000-8cf0-11bd-b23e-10b96e40000d"
device_id = "9774d56d682e549c"

[parent]
name = "Ilsa Zarbetta"
email = "ilsa.z@district-test.example"
phone = "+1 203-555-0148"

[custom]
essay = "My favourite zorblat is the quindle tree."
accommodation = "extended time"
"""


def _write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "persona.toml"
    p.write_text(text, encoding="utf-8")
    return p


def test_full_file_loads_every_key(tmp_path: Path) -> None:
    p = load_persona(_write(tmp_path, FULL))
    assert p.get("student.email") == "qz-7f3a@district-test.example"
    assert p.get("student.dob") == "2014-03-17"  # a TOML date
    assert p.get("student.state_id") == "9000012345"  # an integer is fine for an id
    assert p.get("student.grade") == "5"
    assert p.get("student.lat") == "41.308312"  # a TOML float keeps its decimals
    assert p.get("student.lon") == "-72.927912"
    assert (
        p.get(
            "custom.essay",
        )
        == "My favourite zorblat is the quindle tree."
    )
    assert p.get("student.full_name") == "Quillon Zarbetta"  # made from first + last
    assert p.derived_full_name
    # every documented key is accepted
    assert {k for k in FIELD_SPECS} <= set(p.fields())


def test_fields_lists_keys_never_values(tmp_path: Path) -> None:
    p = load_persona(_write(tmp_path, '[student]\nemail = "a.b@example.org"\n'))
    assert p.fields() == ["student.email"]
    assert "a.b@example.org" not in repr(p.fields())


def test_everything_is_optional(tmp_path: Path) -> None:
    assert load_persona(_write(tmp_path, "")).fields() == []
    assert load_persona(_write(tmp_path, "[student]\n[parent]\n")).fields() == []
    assert load_persona(_write(tmp_path, '[student]\nemail = "  "\n')).fields() == []


def test_custom_keys_take_the_element_their_name_says() -> None:
    assert spec_for("custom.accommodation").element == "si.iep_504"
    assert spec_for("custom.essay").element == "work.content"
    assert spec_for("custom.favourite_colour").element == "work.content"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[teacher]\nname = 'x'\n", r"unknown section \[teacher\]"),
        ("[student]\nemial = 'x@y.org'\n", r"\[student\] unknown key 'emial'"),
        ("[parent]\nfirst_name = 'x'\n", r"\[parent\] unknown key 'first_name'"),
        ("[student]\nemail = 5\n", r"\[student\] email: must be text .*got a number"),
        ("[student]\nfirst_name = ['a']\n", r"first_name: must be text, got a list"),
        ("[student]\ngrade = true\n", r"grade: must be text, got a boolean"),
        ("[student]\ndob = '2014-13-40'\n", r"dob: must be a date YYYY-MM-DD, got '2014-13-40'"),
        ("[student]\ndob = '03/17/2014'\n", r"dob: must be a date YYYY-MM-DD"),
        (
            "[student]\ndob = 2014-03-17T10:00:00\n",
            r"dob: must be a date YYYY-MM-DD without a time",
        ),
        ("[student]\ndob = 2999-01-01\n", r"dob: 2999-01-01 is not a plausible date of birth"),
        ("[student]\ndob = 17\n", r"dob: must be a date YYYY-MM-DD, got a number"),
        ("[student]\nlat = 123.4\n", r"lat: 123.4 is out of range"),
        ("[student]\nlon = 'east'\n", r"lon: must be a number, got 'east'"),
        ("[student]\nip = '300.1.2.3'\n", r"ip: must be an IPv4 or IPv6 address"),
        ("[student]\nemail = 'nobody'\n", r"email: must be an e-mail address"),
        ("[student]\nphone = '555'\n", r"phone: must be a phone number"),
        ("[custom]\n'my essay' = 'x'\n", r"\[custom\] 'my essay': names are letters"),
        ("[custom]\nessay = 3.5\n", r"essay: must be text, got a number"),
        ("student = 'x'\n", r"\[student\] must be a table"),
        ("[student\nemail = 'x'", r"not valid TOML"),
    ],
)
def test_bad_files_name_the_problem(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(EdscanError, match=message) as e:
        load_persona(_write(tmp_path, text))
    assert e.value.exit_code == 2
    assert str(tmp_path) in str(e.value.message)


def test_missing_and_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(EdscanError, match="persona file not found"):
        load_persona(tmp_path / "nope.toml")
    with pytest.raises(EdscanError, match="is a directory"):
        load_persona(tmp_path)
    (tmp_path / "bin.toml").write_bytes(b"\xff\xfe\x00")
    with pytest.raises(EdscanError, match="not a text file"):
        load_persona(tmp_path / "bin.toml")


def test_parse_persona_from_a_mapping() -> None:
    p = parse_persona({"student": {"email": "bob@bob.com"}}, "inline")
    assert p.values == {"student.email": "bob@bob.com"}


# --------------------------------------------------------------------------- persona new


def test_new_values_have_the_right_shapes() -> None:
    today = dt.date(2026, 1, 15)
    for seed in range(40):
        v = new_persona_values(random.Random(seed), today=today)
        assert set(v) >= set(FIELD_SPECS)
        age = (today - dt.date.fromisoformat(v["student.dob"])).days / 365.25
        assert 10 <= age < 15, v["student.dob"]
        assert v["student.email"].endswith("@example.org")
        assert v["parent.email"].endswith("@example.org")
        for k in ("student.phone", "parent.phone"):
            assert re.fullmatch(r"\+1 \d{3}-555-01\d\d", v[k]), v[k]
        ip = ipaddress.ip_address(v["student.ip"])
        assert any(
            ip in ipaddress.ip_network(n)
            for n in ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24")
        )
        assert uuid.UUID(v["student.advertising_id"]).version == 4
        assert re.fullmatch(r"[0-9a-f]{16}", v["student.device_id"])
        assert re.fullmatch(r"9\d{9}", v["student.state_id"])
        assert re.fullmatch(r"\d{8}", v["student.student_id"])
        assert 41 <= float(v["student.lat"]) <= 42 and -74 <= float(v["student.lon"]) <= -71.8
        assert len(v["student.lat"].split(".")[1]) == 6 and not v["student.lat"].endswith("0")
        assert v["student.full_name"] == f"{v['student.first_name']} {v['student.last_name']}"
        assert 1 <= int(v["student.grade"]) <= 12


def test_new_values_are_unique() -> None:
    a, b = new_persona_values(), new_persona_values()
    for k in ("student.email", "student.password", "student.advertising_id", "student.state_id"):
        assert a[k] != b[k], k


def test_rendered_persona_round_trips_with_a_comment_per_key() -> None:
    values = new_persona_values(random.Random(7))
    text = render_persona(values)
    p = parse_persona(tomllib.loads(text))
    assert dict(p.values) == values
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if "=" in line and not line.startswith("#"):
            assert lines[i - 1].startswith("#"), f"no comment above {line!r}"


def test_persona_new_writes_a_private_file_and_refuses_to_overwrite(tmp_path: Path) -> None:
    out = tmp_path / "persona.toml"
    runner = CliRunner()
    result = runner.invoke(cli, ["persona", "new", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    first = out.read_text()
    assert load_persona(out).get("student.email")
    again = runner.invoke(cli, ["persona", "new", "-o", str(out)])
    assert again.exit_code == 2
    assert "--force" in again.output
    assert out.read_text() == first
    forced = runner.invoke(cli, ["persona", "new", "-o", str(out), "--force"])
    assert forced.exit_code == 0
    assert out.read_text() != first
    assert stat.S_IMODE(out.stat().st_mode) == 0o600


def test_persona_new_to_stdout_and_check(tmp_path: Path) -> None:
    runner = CliRunner()
    text = runner.invoke(cli, ["persona", "new", "--seed", "3"]).output
    assert parse_persona(tomllib.loads(text)).get("student.email")
    p = _write(tmp_path, text)
    check = runner.invoke(cli, ["persona", "check", str(p)])
    assert check.exit_code == 0, check.output
    assert "student.email" in check.output and "st_contact.email" in check.output
    email = parse_persona(tomllib.loads(text)).get("student.email")
    assert email and email not in check.output  # never the values
    assert "only under an agreeing key" in check.output  # the grade
    bad = runner.invoke(cli, ["persona", "check", str(_write(tmp_path, "[x]\n"))])
    assert bad.exit_code == 2
    assert "unknown section [x]" in bad.output


def test_persona_check_shows_the_age_band_without_the_birth_date(tmp_path: Path) -> None:
    runner = CliRunner()
    dob = dt.date.today().replace(day=1) - dt.timedelta(days=round(365.25 * 15.5))
    teen = _write(tmp_path, f'[student]\nfirst_name = "Ama"\ndob = {dob.isoformat()}\n')
    text = runner.invoke(cli, ["persona", "check", str(teen)])
    assert text.exit_code == 0, text.output
    assert (
        "age band today: 13-17 (from the date of birth); the teen rule EDS027 applies"
        in text.output
    )
    assert dob.isoformat() not in text.output
    given = tmp_path / "given.toml"
    given.write_text('[student]\nfirst_name = "Ama"\nage_band = "under-13"\n', encoding="utf-8")
    doc = json.loads(runner.invoke(cli, ["persona", "check", str(given), "-f", "json"]).output)
    assert doc["age_band"] == {
        "band": "under-13",
        "from": "age_band",
        "on": dt.date.today().isoformat(),
    }
    bare = tmp_path / "bare.toml"
    bare.write_text('[student]\nfirst_name = "Ama"\n', encoding="utf-8")
    none = runner.invoke(cli, ["persona", "check", str(bare)])
    assert "age band: none" in none.output and "EDS027 is off" in none.output
