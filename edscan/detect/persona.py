"""Seeded test identities (personas): the TOML file, its validation, and new canary values.

An auditor creates a test student account with known values and gives edscan the same values
in a persona file; every place they travel is then found with high confidence, even hashed or
encoded (the matching itself is in ``edscan.detect.persona_match``)::

    [student]
    first_name = "Quillon"
    email = "quillon.zarbetta.4f2a@example.org"
    dob = 2014-03-17
    lat = 41.308312

    age_band = "13-17"      # optional: under-13, 13-17 or 18+ (not searched for in traffic)

    [parent]
    email = "..."

    [custom]
    essay = "My favourite zorblat is the quindle tree."

Every section and key is optional; an unknown section or key, a value of the wrong type or a
bad date is an ``EdscanError`` that names the key.

``student.age_band`` says how old the test student is meant to be (``under-13``, ``13-17`` or
``18+``). It is a fact about the persona, not a value to look for, so it is kept apart from
``values``; without it, the band follows from ``student.dob`` on the capture's date
(``age_band_on``). Persona files without it read exactly as before.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

from edscan.detect.taxonomy import elements_for_key
from edscan.errors import EdscanError


@dataclass(frozen=True, slots=True, kw_only=True)
class FieldSpec:
    """What a persona key holds and how its values are matched."""

    element: str  # taxonomy element id
    kind: str  # text | name | email | phone | dob | lat | lon | ip | id | number
    # matched only as a whole value under an agreeing key (grade "5", zip, city), because the
    # plain value is too common to mean anything elsewhere; its hashes are still searched
    gated: bool = False
    agree: tuple[str, ...] = ()  # extra key names that agree, besides the element's own keys
    help: str = ""  # the comment `persona new` writes above the value


_SPECS: dict[str, FieldSpec] = {
    "student.first_name": FieldSpec(
        element="st.name",
        kind="name",
        agree=("first_name", "given_name", "fn", "first", "name"),
        help="Student's first name. Use it when creating the test student (or roster row).",
    ),
    "student.last_name": FieldSpec(
        element="st.name",
        kind="name",
        agree=("last_name", "family_name", "ln", "last", "surname", "name"),
        help="Student's last name.",
    ),
    "student.full_name": FieldSpec(
        element="st.name",
        kind="name",
        agree=("full_name", "name", "display_name", "student_name"),
        help="Full name as the app shows it (defaults to first + last when left out).",
    ),
    "student.email": FieldSpec(
        element="st_contact.email",
        kind="email",
        help=(
            "Student e-mail, unique to this persona. If the app must send a verification\n"
            "message, replace the domain with a mailbox you control and keep the unique\n"
            "local part."
        ),
    ),
    "student.username": FieldSpec(
        element="sid.username",
        kind="text",
        agree=("username", "user_name", "login", "user", "screen_name", "handle"),
        help="Username to sign the student in with (if the app uses usernames).",
    ),
    "student.password": FieldSpec(
        element="sid.password",
        kind="text",
        agree=("password", "pass", "pwd", "passwd"),
        help=(
            "Password of the test account: only for this account, never reused. Found\n"
            "anywhere but the app's own login endpoint it is a credential leak."
        ),
    ),
    "student.student_id": FieldSpec(
        element="sid.local",
        kind="id",
        agree=("student_id", "sis_id", "student_number", "local_id", "id", "sourced_id"),
        help="District (SIS) student number, if the app is rostered with one.",
    ),
    "student.state_id": FieldSpec(
        element="sid.state",
        kind="id",
        agree=("state_id", "sasid", "ssid", "state_student_id", "student_unique_id"),
        help="State student id (Connecticut SASID: 10 digits).",
    ),
    "student.dob": FieldSpec(
        element="demo.dob",
        kind="dob",
        help="Date of birth (YYYY-MM-DD): the generated one makes a 10 to 14 year old.",
    ),
    "student.grade": FieldSpec(
        element="enr.grade",
        kind="text",
        gated=True,
        agree=("grade", "grade_level", "grades", "student_grade", "gr"),
        help="Grade level. Short: counted only under a grade key (grade, gradeLevel ...).",
    ),
    "student.school": FieldSpec(
        element="enr.school",
        kind="text",
        agree=("school", "school_name", "org", "organization"),
        help="School name used for the test roster.",
    ),
    "student.district": FieldSpec(
        element="enr.school",
        kind="text",
        agree=("district", "district_name", "org", "organization"),
        help="District name used for the test roster.",
    ),
    "student.teacher": FieldSpec(
        element="sched.teachers",
        kind="name",
        agree=("teacher", "teacher_name", "instructor"),
        help="Teacher name on the student's class.",
    ),
    "student.class_code": FieldSpec(
        element="sched.courses",
        kind="id",
        agree=("class_code", "code", "join_code", "class", "section"),
        help="Class join code (create the class first and put its code here).",
    ),
    "student.phone": FieldSpec(
        element="st_contact.phone",
        kind="phone",
        agree=("phone", "phone_number", "tel", "mobile", "ph", "sms"),
        help="Phone number (555-01xx numbers are reserved for fiction).",
    ),
    "student.address": FieldSpec(
        element="st_contact.address",
        kind="text",
        agree=("address", "street", "street_address", "address1", "home_address"),
        help="Street address of the test student.",
    ),
    "student.city": FieldSpec(
        element="st_contact.address",
        kind="text",
        gated=True,
        agree=("city", "ct", "locality", "town"),
        help="City. Counted only under a city key (city, ct ...) or hashed.",
    ),
    "student.zip": FieldSpec(
        element="st_contact.address",
        kind="text",
        gated=True,
        agree=("zip", "zp", "zipcode", "zip_code", "postal_code", "postcode", "postal"),
        help="ZIP code. Counted only under a ZIP key (zip, zp, postalCode ...) or hashed.",
    ),
    "student.lat": FieldSpec(
        element="geo.precise",
        kind="lat",
        agree=("lat", "latitude", "geo_lat", "y"),
        help=(
            "Latitude the test device reports: set it as the device or emulator location\n"
            "(e.g. `adb emu geo fix LON LAT`, or the browser's sensor override)."
        ),
    ),
    "student.lon": FieldSpec(
        element="geo.precise",
        kind="lon",
        agree=("lon", "lng", "long", "longitude", "geo_lon", "x"),
        help="Longitude of the same location.",
    ),
    "student.ip": FieldSpec(
        element="net.ip",
        kind="ip",
        agree=("ip", "ip_address", "client_ip", "uip", "remote_addr"),
        help=(
            "The test device's IP address as apps see it (replace the documentation-range\n"
            "placeholder with the device's address if you want it found in payloads)."
        ),
    ),
    "student.advertising_id": FieldSpec(
        element="dev.ad_id",
        kind="id",
        help=(
            "Advertising id of the test device (Android: Settings > Google > Ads, reset and\n"
            "copy it here; iOS: the IDFA shown by a test harness). The generated UUID is a\n"
            "placeholder to replace."
        ),
    ),
    "student.device_id": FieldSpec(
        element="dev.install_id",
        kind="id",
        help="A device id of the test device (e.g. Android ID: `adb shell settings get "
        "secure android_id`).",
    ),
    "parent.name": FieldSpec(
        element="pg.name",
        kind="name",
        agree=("parent_name", "guardian_name", "name"),
        help="Parent/guardian name on the test account.",
    ),
    "parent.email": FieldSpec(
        element="pg_contact.email",
        kind="email",
        help="Parent/guardian e-mail (unique, like the student's).",
    ),
    "parent.phone": FieldSpec(
        element="pg_contact.phone",
        kind="phone",
        agree=("parent_phone", "guardian_phone", "phone"),
        help="Parent/guardian phone.",
    ),
}

FIELD_SPECS: Mapping[str, FieldSpec] = MappingProxyType(_SPECS)
SECTIONS = ("student", "parent", "custom")
CUSTOM_SPEC = FieldSpec(
    element="work.content",
    kind="text",
    help="Any other value, e.g. an essay sentence typed into the app or an accommodation note.",
)
DERIVED_PREFIX = "derived."
AGE_BAND_KEY = "student.age_band"
AGE_BANDS = ("under-13", "13-17", "18+")


def age_on(dob: dt.date, day: dt.date) -> int:
    """Whole years from ``dob`` to ``day``."""
    return day.year - dob.year - ((day.month, day.day) < (dob.month, dob.day))


def band_of_age(age: int) -> str:
    return "under-13" if age < 13 else "13-17" if age < 18 else "18+"


_DOB = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_CUSTOM_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,63}$")


@dataclass(frozen=True, slots=True, kw_only=True)
class Persona:
    """A seeded test identity: ``"student.email" -> value`` for every key that has one."""

    values: Mapping[str, str]
    source: str = ""
    derived_full_name: bool = False  # full_name was made from first + last
    age_band: str | None = None  # student.age_band as given (AGE_BANDS); never matched

    def age_band_on(self, day: dt.date) -> str | None:
        """The student's age band on ``day``: as given, else from the date of birth."""
        if self.age_band is not None:
            return self.age_band
        dob = self.values.get("student.dob")
        if dob is None:
            return None
        return band_of_age(age_on(dt.date.fromisoformat(dob), day))

    def fields(self) -> list[str]:
        """The keys that have values ("student.email", "custom.essay"); never the values."""
        return list(self.values)

    def get(self, key: str) -> str | None:
        return self.values.get(key)

    def spec(self, key: str) -> FieldSpec:
        return spec_for(key)

    def __len__(self) -> int:
        return len(self.values)


def spec_for(key: str) -> FieldSpec:
    """How the persona key ``key`` is matched (custom keys share one spec)."""
    if key in _SPECS:
        return _SPECS[key]
    if key.startswith("custom."):
        # a custom value is what its name says (`accommodation` -> IEP/504), else student work
        named = elements_for_key(key.split(".", 1)[1])
        if named:
            return dataclasses.replace(CUSTOM_SPEC, element=named[0])
        return CUSTOM_SPEC
    if key.startswith(DERIVED_PREFIX):
        return FieldSpec(element="sid.provider", kind="id")
    raise KeyError(key)


def _type_name(v: object) -> str:
    return {
        bool: "a boolean",
        list: "a list",
        dict: "a table",
        dt.datetime: "a date-time",
        dt.time: "a time",
        dt.date: "a date",
        float: "a number",
        int: "a number",
        str: "text",
    }.get(type(v), type(v).__name__)


def _fail(where: str, key: str, msg: str) -> EdscanError:
    return EdscanError(f"{where}: [{key.split('.', 1)[0]}] {key.split('.', 1)[1]}: {msg}")


def _value(where: str, key: str, spec: FieldSpec, raw: object) -> str | None:
    """The value as matched text, or None when left empty; raises for bad values."""
    if isinstance(raw, bool | list | dict | dt.time):
        raise _fail(where, key, f"must be {_expected(spec)}, got {_type_name(raw)}")
    if spec.kind == "dob":
        if isinstance(raw, dt.datetime):
            raise _fail(where, key, "must be a date YYYY-MM-DD without a time")
        if isinstance(raw, dt.date):
            d = raw
        elif isinstance(raw, str):
            s = raw.strip()
            if not s:
                return None
            try:
                if not _DOB.match(s):
                    raise ValueError
                d = dt.date.fromisoformat(s)
            except ValueError:
                raise _fail(where, key, f"must be a date YYYY-MM-DD, got {s!r}") from None
        else:
            raise _fail(where, key, f"must be a date YYYY-MM-DD, got {_type_name(raw)}")
        if not 1900 <= d.year <= dt.date.today().year:
            raise _fail(where, key, f"{d.isoformat()} is not a plausible date of birth")
        return d.isoformat()
    if isinstance(raw, dt.date):
        raise _fail(where, key, f"must be {_expected(spec)}, got a date")
    if spec.kind in ("lat", "lon"):
        if isinstance(raw, str):
            s = raw.strip()
            if not s:
                return None
        elif isinstance(raw, int | float):
            s = repr(float(raw)) if isinstance(raw, float) else str(raw)
        else:
            raise _fail(where, key, f"must be a number, got {_type_name(raw)}")
        try:
            x = float(s)
        except ValueError:
            raise _fail(where, key, f"must be a number, got {s!r}") from None
        limit = 90.0 if spec.kind == "lat" else 180.0
        if not -limit <= x <= limit:
            raise _fail(where, key, f"{s} is out of range (-{limit:g} to {limit:g})")
        return s
    if isinstance(raw, int | float):
        if spec.kind in ("id", "number", "text", "phone") and isinstance(raw, int):
            return str(raw)
        raise _fail(where, key, f"must be {_expected(spec)}, got {_type_name(raw)}")
    if not isinstance(raw, str):
        raise _fail(where, key, f"must be {_expected(spec)}, got {_type_name(raw)}")
    s = raw.strip()
    if not s:
        return None
    if spec.kind == "email" and ("@" not in s or s.startswith("@") or s.endswith("@")):
        raise _fail(where, key, f"must be an e-mail address, got {s!r}")
    if spec.kind == "phone" and sum(c.isdigit() for c in s) < 7:
        raise _fail(where, key, f"must be a phone number (7 or more digits), got {s!r}")
    if spec.kind == "ip":
        try:
            ipaddress.ip_address(s)
        except ValueError:
            raise _fail(where, key, f"must be an IPv4 or IPv6 address, got {s!r}") from None
    return s


def _expected(spec: FieldSpec) -> str:
    return {
        "dob": "a date YYYY-MM-DD",
        "lat": "a number",
        "lon": "a number",
        "email": "text (an e-mail address)",
        "phone": "text (a phone number)",
        "ip": "text (an IP address)",
    }.get(spec.kind, "text")


def parse_persona(data: Mapping[str, object], source: str = "persona") -> Persona:
    """A Persona from parsed TOML; raises EdscanError naming the bad section or key."""
    values: dict[str, str] = {}
    age_band: str | None = None
    for section, table in data.items():
        if section not in SECTIONS:
            raise EdscanError(
                f"{source}: unknown section [{section}] (known: "
                + ", ".join(f"[{s}]" for s in SECTIONS)
                + ")"
            )
        if not isinstance(table, dict):
            raise EdscanError(f"{source}: [{section}] must be a table of key = value lines")
        for name, raw in table.items():
            key = f"{section}.{name}"
            if key == AGE_BAND_KEY:
                age_band = _age_band(source, raw)
                continue
            if section == "custom":
                if not _CUSTOM_NAME.match(name):
                    raise EdscanError(
                        f"{source}: [custom] {name!r}: names are letters, digits and _ "
                        "(starting with a letter)"
                    )
                spec = CUSTOM_SPEC
            elif key in _SPECS:
                spec = _SPECS[key]
            else:
                names = [k.split(".", 1)[1] for k in _SPECS if k.startswith(section + ".")]
                if section == "student":
                    names.append("age_band")
                known = ", ".join(names)
                raise EdscanError(f"{source}: [{section}] unknown key {name!r} (known: {known})")
            v = _value(source, key, spec, raw)
            if v is not None:
                values[key] = v
    derived_full = False
    if "student.full_name" not in values and {"student.first_name", "student.last_name"} <= set(
        values
    ):
        values["student.full_name"] = (
            f"{values['student.first_name']} {values['student.last_name']}"
        )
        derived_full = True
    return Persona(
        values=MappingProxyType(values),
        source=source,
        derived_full_name=derived_full,
        age_band=age_band,
    )


def _age_band(source: str, raw: object) -> str | None:
    if not isinstance(raw, str):
        raise _fail(
            source, AGE_BAND_KEY, f"must be text ({', '.join(AGE_BANDS)}), got {_type_name(raw)}"
        )
    text = raw.strip().replace("\u2013", "-")
    if not text:
        return None
    if text not in AGE_BANDS:
        raise _fail(source, AGE_BAND_KEY, f"must be one of {', '.join(AGE_BANDS)}, got {text!r}")
    return text


def load_persona(path: str | Path) -> Persona:
    """Read and validate a persona file; raises EdscanError with a clear message."""
    p = Path(path)
    try:
        text = p.read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise EdscanError(
            f"{p}: persona file not found (make one with `edscan persona new`)"
        ) from None
    except IsADirectoryError:
        raise EdscanError(f"{p}: is a directory, not a persona file") from None
    except OSError as e:
        raise EdscanError(f"{p}: cannot read ({e.strerror})") from e
    except UnicodeDecodeError:
        raise EdscanError(f"{p}: not a text file (a persona is TOML in UTF-8)") from None
    import tomllib  # only where a persona is read: its import costs every scan ~5 ms

    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise EdscanError(f"{p}: not valid TOML: {e}") from e
    return parse_persona(data, str(p))
