"""A fresh test student for each demo run, saved as a persona file a scan can load.

The values come from ``edscan persona new``'s generator, so the demo's canaries are the kind an
auditor would use; the file is the same TOML, written readable by its owner only.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from edscan.demo.roster import DemoStudent


def fresh_persona(path: Path) -> tuple[DemoStudent, Path]:
    """A new student with unique canary values, written to ``path`` (0600)."""
    from edscan.capture.capture_file import open_private
    from edscan.detect.persona_new import new_persona_values, render_persona

    values = new_persona_values()
    # the generator can give the parent the student's own first name (same surname too):
    # then the student's name would also read as the parent's, which the demo never sends
    while values["parent.name"] == values["student.full_name"]:
        values = new_persona_values()
    # the demo student is 15 or 16 (a tenth grader): the 13-17 band, so the teen rule (EDS027) has
    # something to report whatever day the demo runs; the generator's 10 to 14 would make the
    # band depend on the day
    today = dt.date.today()
    values["student.dob"] = _birthday(today, 15).isoformat()
    values["student.grade"] = "10"
    with open_private(path) as fh:
        fh.write(render_persona(values))
    return DemoStudent.from_persona(values), path


def _birthday(today: dt.date, years: int) -> dt.date:
    """A birth date ``years`` to ``years`` + 1 years before ``today`` (29 February safe)."""
    return dt.date(today.year - years, 1, 1) - dt.timedelta(
        days=(today.timetuple().tm_yday + 180) % 365
    )
