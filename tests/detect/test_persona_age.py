"""The persona's age band: given as ``student.age_band`` or from the date of birth, on the
capture's date; files without it read as before, and the band is never a value to match."""

from __future__ import annotations

import datetime as dt
import tomllib

import pytest

from edscan.detect.persona import age_on, band_of_age, parse_persona
from edscan.detect.persona_new import new_persona_values, render_persona
from edscan.errors import EdscanError


def test_age_band_is_read_and_kept_out_of_the_matched_values() -> None:
    p = parse_persona({"student": {"age_band": "13-17", "email": "a.b.1f2e@example.org"}})
    assert p.age_band == "13-17"
    assert "student.age_band" not in p.values and p.fields() == ["student.email"]
    assert p.age_band_on(dt.date(2026, 12, 7)) == "13-17"


def test_age_band_follows_the_date_of_birth_on_the_capture_date() -> None:
    p = parse_persona({"student": {"dob": dt.date(2010, 6, 1)}})
    assert p.age_band is None
    assert p.age_band_on(dt.date(2023, 5, 31)) == "under-13"  # a day before the 13th birthday
    assert p.age_band_on(dt.date(2023, 6, 1)) == "13-17"
    assert p.age_band_on(dt.date(2028, 6, 1)) == "18+"


def test_a_persona_without_age_or_birth_date_has_no_band() -> None:
    assert parse_persona({"student": {"first_name": "Quil"}}).age_band_on(dt.date.today()) is None


@pytest.mark.parametrize("bad", ["teen", "12-17", 15])
def test_a_bad_age_band_is_a_clear_error(bad: object) -> None:
    with pytest.raises(EdscanError, match="age_band"):
        parse_persona({"student": {"age_band": bad}})


def test_ages_and_bands() -> None:
    assert age_on(dt.date(2012, 12, 8), dt.date(2026, 12, 7)) == 13
    assert [band_of_age(a) for a in (12, 13, 17, 18)] == ["under-13", "13-17", "13-17", "18+"]


def test_a_new_persona_file_offers_age_band_commented_out() -> None:
    text = render_persona(new_persona_values())
    assert '# age_band = "13-17"' in text
    assert "age_band" not in tomllib.loads(text)["student"]
