"""What ``edscan batch`` is given: capture files, folders of captures and glob patterns.

A folder means every capture file directly inside it (by suffix, sorted by name); a pattern
(``captures/**/*.har``, quoted so that the shell leaves it alone) means every file it matches,
sorted. A name that is neither an existing path nor a pattern that matches is kept as it is,
so that the batch reports it as a capture that could not be read instead of dropping it.
"""

from __future__ import annotations

import glob
from collections.abc import Iterable
from pathlib import Path

from edscan.publish.batch import CAPTURE_SUFFIXES

_GLOB_CHARS = frozenset("*?[")


def is_capture_name(path: Path) -> bool:
    name = path.name.lower()
    return not name.startswith(".") and name.endswith(CAPTURE_SUFFIXES)


def expand(arguments: Iterable[str]) -> list[str]:
    """Every capture the arguments name, once each, in the order given."""
    out: dict[str, None] = {}
    for arg in arguments:
        path = Path(arg)
        if path.is_dir():
            found = sorted(str(p) for p in path.iterdir() if p.is_file() and is_capture_name(p))
        elif not path.exists() and _GLOB_CHARS & set(arg):
            found = sorted(p for p in glob.glob(arg, recursive=True) if Path(p).is_file())
            found = found or [arg]  # a pattern that matches nothing is reported, not dropped
        else:
            found = [arg]
        for name in found:
            out.setdefault(name, None)
    return list(out)
