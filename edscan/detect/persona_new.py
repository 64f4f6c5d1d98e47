"""New canary personas: unique, realistic-looking values and the commented TOML that holds them.

Names are built from syllables so they look like names and belong to nobody; e-mails live on
``example.org`` (reserved, never delivered); phones are in the 555-0100..0199 block reserved for
fiction; the IP is in a documentation range; ids have the shape real systems use. Each value
carries a random part so two personas (or two audits) never share values.
"""

from __future__ import annotations

import datetime as dt
import random
import secrets
import string
import uuid

from edscan.detect.persona import CUSTOM_SPEC, FIELD_SPECS

AGE_BAND_HELP = (
    "How old the test student is meant to be: under-13, 13-17 or 18+. Optional (without it\n"
    "the band follows from dob on the capture's date); never searched for in traffic. A\n"
    "13-17 persona lets edscan report its data reaching advertising companies (EDS027)."
)

_FIRST_A = ("Quil", "Zar", "Vel", "Mor", "Tam", "Bren", "Ivo", "Kes", "Oru", "Pell", "Dax", "Liv")
_FIRST_B = ("lon", "etta", "ix", "ara", "ando", "ina", "oric", "enne", "ul", "ory", "ane", "ito")
_LAST_A = ("Zar", "Quen", "Vorn", "Thal", "Brix", "Mord", "Skel", "Drav", "Orn", "Wex", "Jask")
_LAST_B = ("bet", "wick", "ridge", "mont", "ovar", "ell", "ast", "ing", "arr", "uth", "olm")
_LAST_C = ("ta", "ley", "son", "ford", "ini", "ova", "ham", "by", "ers", "ak", "ette")
_PLACE = ("Quarn", "Velm", "Orrin", "Thask", "Brindle", "Marrow", "Skelt", "Dovre", "Wexham")
_PLACE_B = ("brook", "hollow", "field", "crest", "moor", "vale", "haven", "stead", "wick")
_STREET = ("Lane", "Road", "Court", "Way", "Terrace", "Drive")
_CT_AREA = ("203", "475", "860", "959")
_DOC_NETS = ("192.0.2.", "198.51.100.", "203.0.113.")
_WORDS = ("zorblat", "quindle", "marrowfen", "skelding", "vornish", "thaskberry", "drellow")


def _name(rng: random.Random) -> tuple[str, str]:
    first = rng.choice(_FIRST_A) + rng.choice(_FIRST_B)
    last = rng.choice(_LAST_A) + rng.choice(_LAST_B) + rng.choice(_LAST_C)
    return first, last


def _place(rng: random.Random) -> str:
    return rng.choice(_PLACE) + rng.choice(_PLACE_B)


def _digits(rng: random.Random, n: int, first: str = "") -> str:
    return first + "".join(rng.choice(string.digits) for _ in range(n - len(first)))


def _phone(rng: random.Random) -> str:
    return f"+1 {rng.choice(_CT_AREA)}-555-01{_digits(rng, 2)}"


def new_persona_values(
    rng: random.Random | None = None, today: dt.date | None = None
) -> dict[str, str]:
    """Fresh canary values for every persona key, plus two [custom] ones."""
    rng = rng or random.Random(secrets.randbits(64))
    today = today or dt.date.today()
    tag = "".join(rng.choice("0123456789abcdef") for _ in range(4))
    first, last = _name(rng)
    parent_first, _ = _name(rng)
    age_days = rng.randint(int(10.2 * 365.25), int(14.8 * 365.25))
    dob = today - dt.timedelta(days=age_days)
    age = (today - dob).days // 365
    grade = str(max(1, min(12, age - 5)))
    town = _place(rng)
    # Connecticut; six decimals with a non-zero last digit, so TOML keeps all six
    lat = f"{41.05 + rng.random() * 0.9:.5f}{rng.randint(1, 9)}"
    lon = f"{-73.6 + rng.random() * 1.7:.5f}{rng.randint(1, 9)}"
    return {
        "student.first_name": first,
        "student.last_name": last,
        "student.full_name": f"{first} {last}",
        "student.email": f"{first.lower()}.{last.lower()}.{tag}@example.org",
        "student.username": f"{first[0].lower()}{last.lower()}{_digits(rng, 2)}",
        "student.password": "Cnry-"
        + "".join(rng.choice(string.ascii_letters) for _ in range(6))
        + _digits(rng, 3),
        "student.student_id": _digits(rng, 8, first="7"),
        "student.state_id": _digits(rng, 10, first="9"),
        "student.dob": dob.isoformat(),
        "student.grade": grade,
        "student.school": f"{_place(rng)} Middle School",
        "student.district": f"{town} Regional School District",
        "student.teacher": f"Ms. {_name(rng)[1]}",
        "student.class_code": "".join(
            rng.choice(string.ascii_lowercase + string.digits) for _ in range(7)
        ),
        "student.phone": _phone(rng),
        "student.address": f"{rng.randint(12, 980)} {_place(rng)} {rng.choice(_STREET)}",
        "student.city": town,
        "student.zip": _digits(rng, 5, first="06"),
        "student.lat": lat,
        "student.lon": lon,
        "student.ip": rng.choice(_DOC_NETS) + str(rng.randint(2, 254)),
        "student.advertising_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        "student.device_id": "".join(rng.choice("0123456789abcdef") for _ in range(16)),
        "parent.name": f"{parent_first} {last}",
        "parent.email": f"{parent_first.lower()}.{last.lower()}.{tag}p@example.org",
        "parent.phone": _phone(rng),
        "custom.essay": (
            f"My favourite {rng.choice(_WORDS)} is the {rng.choice(_WORDS)} tree behind "
            f"{town} library, canary {tag}."
        ),
        "custom.accommodation": f"Extended time and read-aloud on quizzes ({tag}-acc)",
    }


_CUSTOM_HELP = {
    "custom.essay": (
        "A sentence the student types into the app: an essay, a chat message, a question\n"
        "to an AI tutor. Found anywhere, it is student-generated content."
    ),
    "custom.accommodation": (
        "An accommodation note as a teacher would enter it in the student's profile\n"
        "(reported as IEP/504 data because of its name)."
    ),
}


def _toml_str(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def render_persona(values: dict[str, str]) -> str:
    """The persona file: a comment on how to use each value above it."""
    lines = [
        "# edscan persona: the values of ONE test student account (canaries).",
        "# Create the test account with exactly these values, use the app as that student,",
        "# then scan the capture with `edscan scan CAPTURE --persona THIS_FILE`.",
        "# Every key is optional: delete the ones the app never asks for.",
        "# Keep this file private: it holds the test account's password.",
        "",
    ]
    for section in ("student", "parent", "custom"):
        lines.append(f"[{section}]")
        if section == "custom":
            lines.append("# " + CUSTOM_SPEC.help)
            lines.append('# Any `name = "value"` works; type these texts into the app.')
        for key, value in values.items():
            if not key.startswith(section + "."):
                continue
            spec = FIELD_SPECS.get(key)
            help_text = spec.help if spec is not None else _CUSTOM_HELP.get(key, "")
            lines.extend("# " + h for h in help_text.splitlines())
            name = key.split(".", 1)[1]
            if spec is not None and spec.kind in ("dob", "lat", "lon"):
                lines.append(f"{name} = {value}")  # a TOML date or number
            else:
                lines.append(f"{name} = {_toml_str(value)}")
        if section == "student":
            lines.extend("# " + h for h in AGE_BAND_HELP.splitlines())
            lines.append('# age_band = "13-17"')
        lines.append("")
    return "\n".join(lines)
