"""A fresh test student for each demo run, saved as a persona file a scan can load.

The values come from ``edscan persona new``'s generator, so the demo's canaries are the kind an
auditor would use; the file is the same TOML, written readable by its owner only.
"""

from __future__ import annotations

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
    with open_private(path) as fh:
        fh.write(render_persona(values))
    return DemoStudent.from_persona(values), path
