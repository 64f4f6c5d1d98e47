"""The per-capture work of ``edscan batch``: one function that runs anywhere.

``scan_capture(task)`` scans one capture and returns what the batch keeps of it: the
comparison row, the redacted HTML report and the capture's dataset rows. It is a top-level
function of plain, picklable arguments, so the same function runs in this process, in a local
process pool (``--jobs``) and on a Dask cluster (``--scheduler``), where the capture and the
lists travel as bytes (``ShippedTask``) because a worker does not see the auditor's disk.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path, PurePath
from types import MappingProxyType
from typing import Any

from edscan.detect.persona import Persona
from edscan.errors import EdscanError


@dataclass(frozen=True, slots=True, kw_only=True)
class PersonaSpec:
    """A persona as plain data (``Persona`` holds a read-only mapping, which cannot pickle)."""

    values: tuple[tuple[str, str], ...]
    source: str = ""
    derived_full_name: bool = False

    @classmethod
    def of(cls, persona: Persona | None) -> PersonaSpec | None:
        if persona is None:
            return None
        return cls(
            values=tuple(persona.values.items()),
            source=persona.source,
            derived_full_name=persona.derived_full_name,
        )

    def persona(self) -> Persona:
        return Persona(
            values=MappingProxyType(dict(self.values)),
            source=self.source,
            derived_full_name=self.derived_full_name,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Task:
    """One capture to scan, and how."""

    index: int  # the capture's place in the batch
    capture: str  # its path as given (or, on a worker, where its bytes were written)
    first_party: tuple[str, ...] = ()
    persona: PersonaSpec | None = None
    data_dir: str | None = None
    accept_noncommercial: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class Scanned:
    """What a worker sends back for one capture (``error`` set when it could not be read)."""

    index: int
    capture: str
    error: str = ""
    app: str = ""  # the capture's base name, redacted
    first_party: tuple[str, ...] = ()  # as the scan decided (for telling apps apart)
    row: Any = None  # batch.AppRow, without its final name
    html: str = ""
    summary: str = ""  # "grade F, risk 82/100, 12 findings"
    dataset: tuple[dict[str, Any], ...] = field(default=())
    peak_rss_kib: int = 0  # the worker's peak resident memory after this capture


def scan_capture(task: Task) -> Scanned:
    """Scan one capture; a capture that cannot be read comes back with ``error`` set."""
    from edscan import report
    from edscan.pipeline import scan
    from edscan.publish import batch, dataset
    from edscan.publish.public import public_redactor, public_result, strip_controls
    from edscan.report.json import document

    persona = task.persona.persona() if task.persona else None
    try:
        result = scan(
            task.capture,
            persona=persona,
            first_party=task.first_party,
            data_dir=Path(task.data_dir) if task.data_dir else None,
            accept_noncommercial=task.accept_noncommercial,
        )
    except (EdscanError, OSError) as exc:
        message = exc.message if isinstance(exc, EdscanError) else f"cannot read: {exc}"
    except Exception as exc:  # one capture that trips a bug must not sink the others
        message = f"could not be analysed ({type(exc).__name__}: {exc}); please report this"
    else:
        red = public_redactor(result, persona)
        public = public_result(result, red)
        row = batch.row(public, red, app="")
        return Scanned(
            index=task.index,
            capture=task.capture,
            app=strip_controls(red.text(batch.base_name(task.capture))),
            first_party=result.first_party,
            row=row,
            html=report.render(public, "html"),
            summary=batch.short(result),
            dataset=tuple(dataset.rows(document(public))),
            peak_rss_kib=peak_rss_kib(),
        )
    # the published page names the capture by its file name, not the auditor's folders
    name = PurePath(task.capture).name
    message = strip_controls(message.replace(str(task.capture), name))
    return Scanned(index=task.index, capture=task.capture, error=message)


def peak_rss_kib() -> int:
    """This process's peak resident set size in KiB (0 where the platform cannot say)."""
    try:
        import resource

        return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
    except (ImportError, OSError):  # pragma: no cover - not on Linux
        return 0


# --------------------------------------------------------------------------- on a cluster


@dataclass(frozen=True, slots=True, kw_only=True)
class ShippedTask:
    """A task for a machine that cannot read the auditor's files: the capture as bytes."""

    task: Task
    name: str  # the capture's file name (the scan names a capture by it)
    content: bytes


@dataclass(frozen=True, slots=True, kw_only=True)
class ShippedLists:
    """The auditor's data directory as bytes: where it was, and each file with its mtime."""

    base: str
    files: tuple[tuple[str, bytes, float], ...] = ()


def read_data_dir(data_dir: str | None) -> ShippedLists:
    """The lists a scan reads from the data directory (overrides, installed lists), as bytes."""
    from edscan.recipients import upstream

    base = upstream.resolve_data_dir(data_dir)
    files: list[tuple[str, bytes, float]] = []
    if base.is_dir():
        for path in sorted(base.rglob("*")):
            if path.is_file() and not path.name.startswith("."):
                rel = path.relative_to(base).as_posix()
                files.append((rel, path.read_bytes(), path.stat().st_mtime))
    return ShippedLists(base=str(base), files=tuple(files))


def scan_shipped(shipped: ShippedTask, lists: ShippedLists) -> Scanned:
    """``scan_capture`` on a worker: write the capture and the lists to a temporary folder."""
    with tempfile.TemporaryDirectory(prefix="edscan-task-") as tmp:
        root = Path(tmp)
        data = root / "data"
        data.mkdir()
        for rel, content, mtime in lists.files:
            target = data / PurePath(rel)
            if ".." in PurePath(rel).parts or PurePath(rel).is_absolute():
                continue  # only files inside the data directory travel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(content)
            os.utime(target, (mtime, mtime))  # a list's version may be its file's date
        capture = root / "capture" / PurePath(shipped.name).name
        capture.parent.mkdir()
        capture.write_bytes(shipped.content)
        task = shipped.task
        local = Task(
            index=task.index,
            capture=str(capture),
            first_party=task.first_party,
            persona=task.persona,
            data_dir=str(data),
            accept_noncommercial=task.accept_noncommercial,
        )
        scanned = scan_capture(local)
        with contextlib.suppress(OSError):
            os.unlink(capture)
    # back on the auditor's side: the capture is the path they gave, the lists where they are
    return _relocated(scanned, task.capture, str(data), lists.base)


def _relocated(scanned: Scanned, capture: str, here: str, there: str) -> Scanned:
    import dataclasses
    import html

    def move(text: str) -> str:
        return text.replace(here, there)

    return dataclasses.replace(
        scanned,
        capture=capture,
        html=scanned.html.replace(html.escape(here), html.escape(there)),
        dataset=tuple(
            {k: move(v) if isinstance(v, str) else v for k, v in row.items()}
            for row in scanned.dataset
        ),
    )
