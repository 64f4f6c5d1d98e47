"""A fresh test student for each demo run, saved as a persona file a scan can load."""

from __future__ import annotations

import secrets
from pathlib import Path

from edscan.demo.roster import DemoStudent

_FIRST = ("Quillon", "Marisol", "Tobiah", "Ysolde", "Caspian", "Wrenna")
_LAST = ("Zarbetta", "Vexholm", "Quintavalle", "Okonwe-Brandt", "Featherstonagh", "Lisk")


def _canary_student() -> DemoStudent:
    tag = secrets.token_hex(3)
    first = secrets.choice(_FIRST)
    last = secrets.choice(_LAST) + tag[:2].upper()
    return DemoStudent(
        first_name=first,
        last_name=last,
        email=f"{first[0].lower()}{last[0].lower()}-{tag}@district-test.example",
        username=f"{first.lower()}.{tag}",
        password=f"Tulip-{secrets.token_hex(4)}",
        birth_date=f"2013-{1 + secrets.randbelow(12):02d}-{1 + secrets.randbelow(28):02d}",
        student_id=f"88{secrets.token_hex(3).upper()}",
        state_id=f"9{secrets.randbelow(10**9):09d}",
        grade="7",
        school="Hawthorne Middle School",
        essay=(
            "A leaf works like a tiny kitchen where chlorophyll catches sunlight and "
            f"Zorvath-{tag} the chloroplast cooks sugar from water and air."
        ),
    )


def fresh_persona(path: Path) -> tuple[DemoStudent, Path]:
    """A new student with unique canary values, written to ``path`` (0600)."""
    from edscan.capture import open_private

    student = _canary_student()
    lines = [
        "[student]",
        f'first_name = "{student.first_name}"',
        f'last_name = "{student.last_name}"',
        f'email = "{student.email}"',
        f'username = "{student.username}"',
        f'password = "{student.password}"',
        f'birth_date = "{student.birth_date}"',
        f'student_id = "{student.student_id}"',
        f'state_id = "{student.state_id}"',
        "",
        "[custom]",
        f'essay = "{student.essay}"',
    ]
    with open_private(path) as fh:
        fh.write("\n".join(lines) + "\n")
    return student, path
