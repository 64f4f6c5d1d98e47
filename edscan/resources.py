"""The one way to reach files that ship with edscan (bundled lists, report templates, taxonomy)."""

from __future__ import annotations

from importlib.resources import files
from importlib.resources.abc import Traversable

_PACKAGES = {
    "tracker_lists": "edscan.tracker_lists",
    "reports": "edscan.reports",
    # the taxonomy's data sits beside the module that reads it (edscan/detect/taxonomy.json)
    "taxonomy": "edscan.detect",
}


def resource(kind: str, name: str) -> Traversable:
    """A shipped file: ``kind`` is ``tracker_lists``, ``reports`` or ``taxonomy``."""
    return files(_PACKAGES[kind]) / name


def read_text(kind: str, name: str) -> str:
    return resource(kind, name).read_text(encoding="utf-8")
