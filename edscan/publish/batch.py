"""``edscan batch``: several apps side by side, for a story or a district's shortlist.

One capture per app. Each is scanned on its own (streamed, like ``edscan scan``), its redacted
report written as ``DIR/<app>.html``, and one row kept: grade, score, third-party and
advertising companies, data elements sent to third parties, critical and high findings. The
rows become ``DIR/index.html`` (self-contained, like the report: inline CSS, no JavaScript, a
Content-Security-Policy, every value escaped) and ``DIR/summary.csv`` (the same columns).

A capture that cannot be read becomes a row that says why; the others go on. The app's name is
the capture's file name without its suffixes (``seesaw.har`` -> ``seesaw``); captures that
share a name are told apart by their first party, then by a number.
"""

from __future__ import annotations

import contextlib
import csv
import dataclasses
import io
import re
import sys
import tomllib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePath
from typing import Any

from edscan import report
from edscan.detect.persona import Persona
from edscan.errors import EdscanError
from edscan.models import Party, Recipient, ScanResult, Severity
from edscan.publish.public import strip_controls
from edscan.report._common import element_info
from edscan.report._palette import group_of
from edscan.report.html import CSP
from edscan.report.redact import Redactor
from edscan.report.templates import template

INDEX = "index.html"
SUMMARY = "summary.csv"
DATASET = "dataset.csv"  # one row per app x recipient x data element (edscan dataset)
INDEX_TEMPLATE = "batch.html.j2"
STYLESHEET = "batch.css"
CAPTURE_SUFFIXES = (".edscan.jsonl", ".jsonl", ".har", ".zhar", ".mitm", ".flows", ".json")
# what the report's verdict counts as "advertising or social media" companies
ADVERTISING_GROUPS = ("ads", "social")

COLUMNS = (
    "app",
    "capture",
    "capture_sha256",
    "first_party",
    "grade",
    "score",
    "verdict",
    "critical",
    "high",
    "findings",
    "third_party_companies",
    "third_party_company_names",
    "advertising_companies",
    "advertising_company_names",
    "data_elements_to_third_parties",
    "data_element_names",
    "report",
    "error",
)
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True, slots=True, kw_only=True)
class AppRow:
    """One app of the comparison (``error`` set when its capture could not be read)."""

    app: str
    capture: str  # the file name
    capture_sha256: str = ""
    first_party: tuple[str, ...] = ()
    grade: str = ""
    score: int | None = None
    verdict: str = ""
    critical: int = 0
    high: int = 0
    findings: int = 0
    third_party_companies: tuple[str, ...] = ()
    advertising_companies: tuple[str, ...] = ()
    data_elements: tuple[str, ...] = ()  # labels
    report: str = ""  # the report's file name beside index.html
    error: str = ""

    def cells(self) -> dict[str, str | int]:
        """The row as the CSV writes it (lists joined with "; ")."""
        return {
            "app": self.app,
            "capture": self.capture,
            "capture_sha256": self.capture_sha256,
            "first_party": "; ".join(self.first_party),
            "grade": self.grade,
            "score": "" if self.score is None else self.score,
            "verdict": self.verdict,
            "critical": "" if self.error else self.critical,
            "high": "" if self.error else self.high,
            "findings": "" if self.error else self.findings,
            "third_party_companies": "" if self.error else len(self.third_party_companies),
            "third_party_company_names": "; ".join(self.third_party_companies),
            "advertising_companies": "" if self.error else len(self.advertising_companies),
            "advertising_company_names": "; ".join(self.advertising_companies),
            "data_elements_to_third_parties": "" if self.error else len(self.data_elements),
            "data_element_names": "; ".join(self.data_elements),
            "report": self.report,
            "error": self.error,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class Outcome:
    rows: tuple[AppRow, ...]
    written: tuple[Path, ...] = field(default=())
    peak_rss_kib: int = 0  # the largest peak resident memory of any worker, in KiB

    @property
    def failed(self) -> tuple[AppRow, ...]:
        return tuple(r for r in self.rows if r.error)


# --------------------------------------------------------------------------- running


def run(
    captures: Sequence[str],
    out_dir: str | Path,
    *,
    persona: Persona | None = None,
    first_party_map: Mapping[str, tuple[str, ...]] | None = None,
    data_dir: Path | None = None,
    accept_noncommercial: bool = False,
    jobs: int = 1,
    scheduler: str | None = None,
    progress: bool = False,
    echo: Callable[[str], None] = lambda line: None,
) -> Outcome:
    """Scan every capture, write each report, ``index.html``, ``summary.csv`` and the dataset.

    ``jobs`` worker processes scan at once (``scheduler``: on that Dask cluster instead); the
    reports and rows come back in the order of ``captures`` either way. Raises ``EdscanError``
    when no capture could be read (nothing is written then).
    """
    from edscan.publish import batch_runner, dataset
    from edscan.publish.batch_task import PersonaSpec, Task

    if not captures:
        raise EdscanError("give at least one capture to compare")
    fp_map = dict(first_party_map or {})
    _check_map(captures, fp_map)
    names = Names(captures)
    out = Path(out_dir)
    spec = PersonaSpec.of(persona)
    tasks = [
        Task(
            index=i,
            capture=capture,
            first_party=_first_party_for(capture, base_name(capture), fp_map),
            persona=spec,
            data_dir=str(data_dir) if data_dir else None,
            accept_noncommercial=accept_noncommercial,
        )
        for i, capture in enumerate(captures)
    ]
    if scheduler:
        results = batch_runner.run_cluster(tasks, scheduler)
    else:
        results = batch_runner.run_pool(tasks, jobs)
    rows: list[AppRow] = []
    table: list[dict[str, object]] = []
    written: list[Path] = []
    peak = 0
    with _progress(progress, len(tasks)) as bar:
        for scanned in results:
            bar.update(1)
            capture = scanned.capture
            if scanned.error:
                echo(f"{capture}: skipped: {scanned.error}")
                app, _ = names.take(capture, ())
                rows.append(AppRow(app=app, capture=_file_name(capture), error=scanned.error))
                continue
            # one app at a time: its report is written and only its row is kept
            app, slug = names.take(capture, scanned.row.first_party, shown=scanned.app)
            page = f"{slug}.html"
            if not written:
                _mkdir(out)
            report.save_text(out / page, scanned.html)
            written.append(out / page)
            rows.append(dataclasses.replace(scanned.row, app=app, report=page))
            table.extend({**r, "app": app} for r in scanned.dataset)
            peak = max(peak, scanned.peak_rss_kib)
            echo(f"{capture}: {scanned.summary}; wrote {out / page}")
    if not written:
        raise EdscanError(
            f"none of the {len(captures)} captures could be read; nothing was written"
        )
    rows.sort(key=_order)
    report.save_text(out / SUMMARY, summary_csv(rows))
    report.save_text(out / INDEX, index_html(rows))
    dataset.write(dataset.frame(table), out / DATASET)
    written += [out / SUMMARY, out / INDEX, out / DATASET]
    return Outcome(rows=tuple(rows), written=tuple(written), peak_rss_kib=peak)


def _progress(shown: bool, total: int) -> Any:
    """A progress bar on standard error, or a stand-in that draws nothing."""
    if not shown:
        return contextlib.nullcontext(_NoBar())
    import click

    return click.progressbar(length=total, label="scanning", file=sys.stderr)


class _NoBar:
    def update(self, n: int) -> None:
        pass


def _mkdir(out: Path) -> None:
    from edscan.files import make_dir

    make_dir(out)  # the pages are redacted: a public folder


def _order(r: AppRow) -> tuple[bool, int, str]:
    """Failed captures last; the riskiest app first; then by name."""
    return (bool(r.error), -(r.score if r.score is not None else -1), r.app.lower())


def short(result: ScanResult) -> str:
    score = result.score
    grade = f"grade {score.grade}, risk {score.value}/100, " if score else ""
    return f"{grade}{len(result.findings)} findings"


def row(result: ScanResult, red: Redactor, *, app: str, report: str = "") -> AppRow:
    """The comparison row of one scanned app (``result`` already made public)."""
    third = [r for r in result.recipients if r.party is Party.THIRD]
    companies = _companies(third, red)
    ads = _companies((r for r in third if group_of(r).key in ADVERTISING_GROUPS), red)
    elements = sorted(
        {o.element for o in result.observations if o.party is Party.THIRD},
        key=lambda e: (-(element_info(e).tier or 0), e),
    )
    score = result.score
    return AppRow(
        app=strip_controls(red.text(app)),
        capture=result.capture.path,
        capture_sha256=result.capture.sha256,
        first_party=tuple(strip_controls(red.text(d)) for d in result.first_party),
        grade=score.grade if score else "",
        score=score.value if score else None,
        verdict=score.verdict if score else "not scored",
        critical=sum(1 for f in result.findings if f.severity is Severity.CRITICAL),
        high=sum(1 for f in result.findings if f.severity is Severity.HIGH),
        findings=len(result.findings),
        third_party_companies=companies,
        advertising_companies=ads,
        data_elements=tuple(element_info(e).label for e in elements),
        report=report,
    )


def _companies(recipients: Iterable[Recipient], red: Redactor) -> tuple[str, ...]:
    """Company names, one per organisation (a company's several domains count once)."""
    names: dict[str, str] = {}
    for r in recipients:
        name = strip_controls(red.text(r.organization or r.domain))
        names.setdefault(name.lower(), name)
    return tuple(sorted(names.values(), key=str.lower))


# --------------------------------------------------------------------------- names


def _file_name(capture: str) -> str:
    return strip_controls(PurePath(capture).name)


def base_name(capture: str) -> str:
    """The app's name from its capture's file name: ``seesaw.edscan.jsonl`` -> ``seesaw``."""
    name = PurePath(capture).name
    low = name.lower()
    for suffix in CAPTURE_SUFFIXES:
        if low.endswith(suffix) and len(name) > len(suffix):
            name = name[: -len(suffix)]
            break
    return strip_controls(name).strip() or "app"


class Names:
    """App names and report file stems, handed out one capture at a time.

    A name is the capture's file name without its suffixes. When several captures share
    one, each also gets its first party (``session (seesaw.me)``); a name still taken gets a
    number. Report stems are file-name-safe, distinct ignoring case, and never ``index``.
    """

    def __init__(self, captures: Sequence[str]) -> None:
        self._shared: dict[str, int] = {}
        for c in captures:
            key = base_name(c).lower()
            self._shared[key] = self._shared.get(key, 0) + 1
        self._names: set[str] = set()
        self._slugs: set[str] = set()

    def take(
        self, capture: str, first_party: Sequence[str], shown: str | None = None
    ) -> tuple[str, str]:
        """The app's name and report stem; ``shown``: the base name as it may be published."""
        key = base_name(capture)
        name = key if shown is None else shown
        if self._shared[key.lower()] > 1 and first_party:
            name = f"{name} ({', '.join(first_party)})"
        unique, n = name, 1
        while unique.lower() in self._names:
            n += 1
            unique = f"{name} ({n})"
        self._names.add(unique.lower())
        base = _UNSAFE.sub("-", unique.lower()).strip(".-_")[:60] or "app"
        if base in _RESERVED:
            base = f"{base}-app"
        slug, n = base, 1
        while slug in self._slugs:
            n += 1
            slug = f"{base}-{n}"
        self._slugs.add(slug)
        return unique, slug


_UNSAFE = re.compile(r"[^a-z0-9._-]+")
_RESERVED = {"index", "summary"}


# --------------------------------------------------------------------------- first-party map


def load_first_party_map(path: str | Path) -> dict[str, tuple[str, ...]]:
    """``--first-party-map``: a TOML file, one key per capture, the app's domains as values.

        "seesaw.har" = ["seesaw.me", "seesaw.com"]
        classdojo = "classdojo.com"

    A key is the capture's file name, its path as given, or the app's name (the file name
    without its suffixes).
    """
    p = Path(path)
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise EdscanError(f"{p}: first-party map not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise EdscanError(f"{p}: cannot read the first-party map ({exc})") from None
    except tomllib.TOMLDecodeError as exc:
        raise EdscanError(f"{p}: not valid TOML: {exc}") from None
    out: dict[str, tuple[str, ...]] = {}
    for key, value in data.items():
        if isinstance(value, str):
            value = [value]
        if not (isinstance(value, list) and value and all(isinstance(v, str) for v in value)):
            raise EdscanError(
                f'{p}: "{key}" must be a domain or a list of domains, e.g. "{key}" = '
                '["app.example", "cdn.example"]'
            )
        out[key] = tuple(v.strip() for v in value)
    return out


def _keys(capture: str, name: str) -> tuple[str, ...]:
    return (capture, PurePath(capture).name, name)


def _check_map(captures: Sequence[str], fp_map: Mapping[str, tuple[str, ...]]) -> None:
    known = {k for c in captures for k in _keys(c, base_name(c))}
    unknown = sorted(k for k in fp_map if k not in known)
    if unknown:
        raise EdscanError(
            f"the first-party map names {', '.join(repr(k) for k in unknown)}, which is not "
            "one of the captures given: use a capture's file name or its name without "
            "suffixes (seesaw.har or seesaw)"
        )


def _first_party_for(
    capture: str, name: str, fp_map: Mapping[str, tuple[str, ...]]
) -> tuple[str, ...]:
    for key in _keys(capture, name):
        if key in fp_map:
            return fp_map[key]
    return ()


# --------------------------------------------------------------------------- outputs


def summary_csv(rows: Sequence[AppRow]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(COLUMNS)
    for r in rows:
        cells = r.cells()
        writer.writerow([_cell(cells[c]) for c in COLUMNS])
    return buf.getvalue()


def _cell(value: str | int) -> str:
    text = str(value)
    # captured names are hostile: a cell a spreadsheet would run as a formula is quoted
    return "'" + text if isinstance(value, str) and text.startswith(FORMULA_START) else text


def index_html(rows: Sequence[AppRow]) -> str:
    from markupsafe import Markup

    from edscan import resources

    css = resources.read_text("reports", STYLESHEET)
    if "</style" in css.lower():  # keep the page well-formed whatever the stylesheet says
        raise ValueError(f"{STYLESHEET} must not contain '</style'")
    readable = [r for r in rows if not r.error]
    page: str = template(INDEX_TEMPLATE, html=True).render(
        rows=rows,
        apps=len(readable),
        failed=len(rows) - len(readable),
        css=Markup(css),
        csp=CSP,
        columns=COLUMNS,
    )
    return page
