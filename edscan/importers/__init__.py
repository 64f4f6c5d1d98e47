"""Every input, one Flow model: edscan captures, HAR files and mitmproxy dumps.

``open_source(path)`` sniffs the file and returns a ``Source``: iterate it for Flows (streamed,
one at a time), then read ``warnings`` (lines or entries skipped) and ``skipped`` (flows of
other kinds, e.g. ``{"tcp": 3}``).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

from edscan.capture import read_capture
from edscan.models import Flow


class Source(Protocol):
    path: Path
    format: str  # "edscan" | "har" | "mitm"
    warnings: list[str]
    skipped: dict[str, int]

    def __iter__(self) -> Iterator[Flow]: ...


class _EdscanSource:
    format = "edscan"

    def __init__(self, path: Path):
        self.path = path
        self._reader = read_capture(path)
        self.header = self._reader.header
        self.warnings = self._reader.warnings
        self.skipped: dict[str, int] = {}

    def __iter__(self) -> Iterator[Flow]:
        return iter(self._reader)


def open_source(path: str | Path) -> Source:
    """Open any supported capture; raises CaptureError with a clear message otherwise."""
    return _EdscanSource(Path(path))
