"""Output formats: one module per format behind one interface.

Every format module has ``render(result, *, reveal=False) -> str``: a pure function of the
``ScanResult`` (no I/O, nothing recomputed), redacted unless ``reveal``. ``Format`` is the
exhaustive list; ``render`` dispatches on it. ``write`` is the one place output reaches a file
or stdout (for CSV it writes the three tables side by side).

    text   the terminal summary (default of ``edscan scan``)
    json   the whole result, schema ``edscan-result/1``
    csv    findings, recipients, observations (three tables)
    sarif  SARIF 2.1.0 for CI
    html   the self-contained report
"""

from __future__ import annotations

import enum
import sys
from collections.abc import Callable
from pathlib import Path
from typing import IO, assert_never

from edscan.errors import EdscanError
from edscan.models import ScanResult

Renderer = Callable[..., str]


class Format(enum.Enum):
    TEXT = "text"
    JSON = "json"
    CSV = "csv"
    SARIF = "sarif"
    HTML = "html"


FORMATS: tuple[str, ...] = tuple(f.value for f in Format)


def parse(fmt: str | Format) -> Format:
    if isinstance(fmt, Format):
        return fmt
    try:
        return Format(fmt)
    except ValueError:
        raise EdscanError(
            f"unknown output format {fmt!r}: choose one of {', '.join(FORMATS)}"
        ) from None


def renderer(fmt: str | Format) -> Renderer:
    """The ``render`` function of a format (imported on demand: html needs jinja2)."""
    f = parse(fmt)
    match f:
        case Format.TEXT:
            from edscan.report import text

            return text.render
        case Format.JSON:
            from edscan.report import json

            return json.render
        case Format.CSV:
            from edscan.report import csv

            return csv.render
        case Format.SARIF:
            from edscan.report import sarif

            return sarif.render
        case Format.HTML:
            from edscan.report import html

            return html.render
        case _:
            assert_never(f)


def render(result: ScanResult, fmt: str, *, reveal: bool = False) -> str:
    """``result`` in format ``fmt`` (see ``FORMATS``); redacted unless ``reveal``."""
    out: str = renderer(fmt)(result, reveal=reveal)
    return out


def render_csv_tables(result: ScanResult, *, reveal: bool = False) -> dict[str, str]:
    """The CSV tables keyed ``findings``, ``recipients``, ``observations``."""
    from edscan.report import csv

    return csv.tables(result, reveal=reveal)


def csv_paths(output: str | Path) -> dict[str, Path]:
    """Where ``-o NAME.csv`` puts the tables: ``NAME.findings.csv`` and so on, side by side."""
    from edscan.report.csv import TABLES

    out = Path(output)
    stem = out.name[: -len(".csv")] if out.name.lower().endswith(".csv") else out.name
    return {t: out.with_name(f"{stem}.{t}.csv") for t in TABLES}


def write(
    result: ScanResult,
    fmt: str,
    output: str | Path | None,
    *,
    reveal: bool = False,
    stdout: IO[str] | None = None,
) -> list[Path]:
    """Render, then write to ``output`` (or ``stdout`` when None); returns the files written.

    Everything is rendered before any file is opened, so a failure leaves no half-written
    output. Revealed output holds personal data and is created readable by its owner only.
    """
    f = parse(fmt)
    if output is None or str(output) == "-":
        (stdout or sys.stdout).write(render(result, f.value, reveal=reveal))
        return []
    if f is Format.CSV:
        texts = render_csv_tables(result, reveal=reveal)
        targets = [(path, texts[name]) for name, path in csv_paths(output).items()]
    else:
        targets = [(Path(output), render(result, f.value, reveal=reveal))]
    for path, text in targets:
        save_text(path, text, private=reveal)
    return [path for path, _ in targets]


def save_text(path: str | Path, text: str, *, private: bool = False) -> None:
    """Write rendered output whole or not at all (``edscan.files.write_atomic``).

    ``private`` (revealed output) makes the file owner-only (0600).
    """
    from edscan.files import write_atomic

    write_atomic(path, text, private=private)
