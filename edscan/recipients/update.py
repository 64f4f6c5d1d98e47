"""``edscan lists update``: download upstream lists, or import files downloaded by hand.

Downloads use httpx with TLS verification, timeouts, a size cap per file and conditional GET
(ETag / Last-Modified). Every file is validated by the same parser that later loads it, and
only then replaces the installed copy (temporary file, fsync, ``os.replace``; ``meta.json``
last), so a failed, truncated or malformed download never touches what is installed.
``update --from PATH`` imports files downloaded by hand, recognised by content, with the same
validation and provenance (the file's own date where it carries one, else its mtime).

This is the only module in edscan that opens network connections.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from edscan import __version__
from edscan.errors import EdscanError
from edscan.models import ListInfo
from edscan.recipients import parsers, upstream
from edscan.recipients.upstream import META_FILE, SOURCES, Source

if TYPE_CHECKING:
    import httpx

CONNECT_TIMEOUT = 10.0
READ_TIMEOUT = 30.0
TOTAL_TIMEOUT = 300.0  # per file, whatever the server's pace


class ListError(Exception):
    """One source could not be updated; what is installed stays as it was."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Outcome:
    name: str
    status: str  # "updated" | "not modified" | "failed" | "skipped"
    message: str = ""
    info: ListInfo | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "status": self.status,
            "message": self.message,
            "list": self.info.to_dict() if self.info else None,
        }


def _today() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d")


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# --------------------------------------------------------------------------- writing


def _write_atomic(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _install(
    base: Path,
    source: Source,
    files: Mapping[str, bytes],
    file_meta: Mapping[str, dict[str, Any]],
    *,
    version: str,
    origin: str,
    origin_url: str,
    records: int,
) -> ListInfo:
    """Put validated ``files`` in place, then their ``meta.json``."""
    folder = upstream.lists_dir(base) / source.name
    folder.mkdir(parents=True, exist_ok=True)
    staged: list[tuple[Path, Path]] = []
    try:
        for name, raw in files.items():
            fd, tmp_name = tempfile.mkstemp(dir=folder, prefix=f".{name}.", suffix=".tmp")
            with os.fdopen(fd, "wb") as f:
                f.write(raw)
                f.flush()
                os.fsync(f.fileno())
            staged.append((Path(tmp_name), folder / name))
        for staged_path, final in staged:
            os.replace(staged_path, final)
    finally:
        for staged_path, _final in staged:
            staged_path.unlink(missing_ok=True)
    hashes = {n: upstream.sha256_hex(raw) for n, raw in files.items()}
    meta = {
        "name": source.name,
        "title": source.title,
        "version": version,
        "fetched": _now(),
        "origin": origin,
        "origin_url": origin_url,
        "licence": source.licence,
        "noncommercial": source.noncommercial,
        "records": records,
        "sha256": upstream.combined_sha256(hashes),
        "files": [
            {"name": n, "sha256": hashes[n], "size": len(files[n]), **file_meta.get(n, {})}
            for n in files
        ],
        "edscan": __version__,
    }
    _write_atomic(folder / META_FILE, (json.dumps(meta, indent=2) + "\n").encode())
    # files a previous version had and this one does not (an optional file now absent)
    for stale in folder.iterdir():
        if stale.name not in files and stale.name != META_FILE and not stale.name.startswith("."):
            stale.unlink(missing_ok=True)
    return upstream.list_info(source, meta)


# --------------------------------------------------------------------------- downloading


def _fetch(
    client: httpx.Client, url: str, *, previous: Mapping[str, Any] | None, max_bytes: int
) -> tuple[int, bytes, dict[str, str]]:
    """(status, body, validators); status 304 means the installed copy is current."""
    import httpx

    headers = {}
    if previous:
        if previous.get("etag"):
            headers["If-None-Match"] = str(previous["etag"])
        if previous.get("last_modified"):
            headers["If-Modified-Since"] = str(previous["last_modified"])
    started = time.monotonic()
    try:
        with client.stream("GET", url, headers=headers) as r:
            if r.status_code == 304 and previous:
                return 304, b"", {}
            if r.status_code != 200:
                raise ListError(f"{url}: HTTP {r.status_code} {r.reason_phrase}".rstrip())
            declared = r.headers.get("Content-Length")
            if declared and declared.isdigit() and int(declared) > max_bytes:
                raise ListError(f"{url}: {int(declared)} bytes is over the {max_bytes}-byte cap")
            buf = bytearray()
            for chunk in r.iter_bytes():
                buf += chunk
                if len(buf) > max_bytes:
                    raise ListError(f"{url}: more than the {max_bytes}-byte cap; download stopped")
                if time.monotonic() - started > TOTAL_TIMEOUT:
                    raise ListError(f"{url}: took longer than {TOTAL_TIMEOUT:.0f} s; stopped")
            validators = {
                k: v
                for k, v in (
                    ("etag", r.headers.get("ETag")),
                    ("last_modified", r.headers.get("Last-Modified")),
                )
                if v
            }
            return 200, bytes(buf), validators
    except httpx.TimeoutException as exc:
        raise ListError(f"{url}: timed out ({type(exc).__name__})") from exc
    except httpx.HTTPError as exc:
        raise ListError(f"{url}: {type(exc).__name__}: {exc}") from exc


def _http_date(value: str | None) -> str | None:
    if not value:
        return None
    try:
        return parsedate_to_datetime(value).astimezone(UTC).strftime("%Y-%m-%d")
    except (TypeError, ValueError):
        return None


def _download_one(client: httpx.Client, base: Path, source: Source) -> Outcome:
    meta = upstream.read_meta(base, source.name) or {}
    previous = {str(f.get("name")): f for f in meta.get("files", []) if isinstance(f, dict)}
    folder = upstream.lists_dir(base) / source.name
    files: dict[str, bytes] = {}
    file_meta: dict[str, dict[str, Any]] = {}
    changed = False
    for fname, url in source.files:
        prev = previous.get(fname) if (folder / fname).is_file() else None
        try:
            status, body, validators = _fetch(
                client, url, previous=prev, max_bytes=source.max_bytes
            )
        except ListError:
            if fname in source.optional_files:
                continue  # an optional extra (e.g. the DuckDuckGo app list) may be unavailable
            raise
        if status == 304:
            assert prev is not None
            files[fname] = (folder / fname).read_bytes()
            file_meta[fname] = {
                k: prev[k] for k in ("url", "etag", "last_modified", "date") if k in prev
            }
            continue
        changed = True
        files[fname] = body
        file_meta[fname] = {"url": url, **validators}
        date = _http_date(validators.get("last_modified"))
        if date:
            file_meta[fname]["date"] = date
    try:
        parsed = source.parse(files)
    except ValueError as exc:
        raise ListError(
            f"not installed, the download is not a valid {source.title}: {exc}"
        ) from exc
    if not changed:
        info = upstream.list_info(source, meta)
        return Outcome(name=source.name, status="not modified", info=info)
    dates = [m["date"] for m in file_meta.values() if "date" in m]
    version = parsed.version or (max(dates) if dates else _today())
    info = _install(
        base,
        source,
        files,
        file_meta,
        version=version,
        origin="download",
        origin_url=source.files[0][1],
        records=parsed.records,
    )
    return Outcome(name=source.name, status="updated", info=info)


def selected_sources(names: Sequence[str], accept_noncommercial: bool) -> list[Source]:
    """The sources an update covers: ``names``, or the defaults (+ NC lists when accepted)."""
    if names:
        chosen = [SOURCES[n] for n in names]
        refused = [s.name for s in chosen if s.noncommercial and not accept_noncommercial]
        if refused:
            raise EdscanError(
                f"{', '.join(refused)} {'is' if len(refused) == 1 else 'are'} licensed for "
                "non-commercial use only (CC BY-NC-SA 4.0); add --accept-noncommercial to use it"
            )
        return chosen
    names = list(upstream.DEFAULT_SOURCES)
    if accept_noncommercial:
        names += list(upstream.NONCOMMERCIAL_SOURCES)
    return [SOURCES[n] for n in names]


def update(
    base: Path,
    sources: Iterable[Source],
    *,
    transport: httpx.BaseTransport | None = None,
    connect_timeout: float = CONNECT_TIMEOUT,
    read_timeout: float = READ_TIMEOUT,
) -> list[Outcome]:
    """Download each source; one failing never stops or damages the others."""
    import httpx

    timeout = httpx.Timeout(read_timeout, connect=connect_timeout)
    out = []
    with httpx.Client(
        transport=transport,
        timeout=timeout,
        verify=True,
        follow_redirects=True,
        headers={"User-Agent": f"edscan/{__version__} (+lists update)"},
    ) as client:
        for source in sources:
            try:
                out.append(_download_one(client, base, source))
            except (ListError, OSError) as exc:
                out.append(Outcome(name=source.name, status="failed", message=str(exc)))
    return out


# --------------------------------------------------------------------------- importing


def _walk(paths: Iterable[Path]) -> list[Path]:
    out: list[Path] = []
    for p in paths:
        if p.is_dir():
            out.extend(sorted(q for q in p.rglob("*") if q.is_file()))
        elif p.is_file():
            out.append(p)
        else:
            raise EdscanError(f"{p}: no such file or directory")
    return out


def import_files(base: Path, paths: Iterable[Path], *, accept_noncommercial: bool) -> list[Outcome]:
    """Install hand-downloaded list files (files or folders), recognised by their content."""
    found: dict[str, dict[str, tuple[Path, bytes]]] = {}
    outcomes: list[Outcome] = []
    cap = max(s.max_bytes for s in SOURCES.values())
    for path in _walk(paths):
        if path.stat().st_size > cap:
            outcomes.append(
                Outcome(name=str(path), status="skipped", message=f"larger than {cap} bytes")
            )
            continue
        raw = path.read_bytes()
        kind = parsers.sniff(path.name, raw)
        if kind is None:
            if path.suffix in (".json", ".dat"):
                outcomes.append(
                    Outcome(name=str(path), status="skipped", message="not a known list file")
                )
            continue
        name, fname = kind
        slot = found.setdefault(name, {})
        if fname in slot:
            outcomes.append(
                Outcome(
                    name=str(path),
                    status="skipped",
                    message=f"a second {name} {fname}; using {slot[fname][0]}",
                )
            )
            continue
        slot[fname] = (path, raw)
    for name, got in found.items():
        source = SOURCES[name]
        if source.noncommercial and not accept_noncommercial:
            outcomes.append(
                Outcome(
                    name=name,
                    status="skipped",
                    message=f"{source.licence} (non-commercial): add --accept-noncommercial",
                )
            )
            continue
        missing = [f for f, _ in source.files if f not in got and f not in source.optional_files]
        if missing:
            outcomes.append(
                Outcome(
                    name=name,
                    status="failed",
                    message=f"needs {', '.join(missing)} as well (download it from "
                    + ", ".join(url for f, url in source.files if f in missing)
                    + ")",
                )
            )
            continue
        files = {f: raw for f, (_p, raw) in got.items()}
        try:
            parsed = source.parse(files)
        except ValueError as exc:
            outcomes.append(Outcome(name=name, status="failed", message=f"not installed: {exc}"))
            continue
        file_meta: dict[str, dict[str, Any]] = {}
        for f, (p, _raw) in got.items():
            date = datetime.fromtimestamp(p.stat().st_mtime, UTC).strftime("%Y-%m-%d")
            file_meta[f] = {"url": dict(source.files)[f], "imported_from": str(p), "date": date}
        version = parsed.version or max(m["date"] for m in file_meta.values())
        info = _install(
            base,
            source,
            files,
            file_meta,
            version=version,
            origin=f"imported from {', '.join(str(p) for p, _ in got.values())}",
            origin_url=source.files[0][1],
            records=parsed.records,
        )
        outcomes.append(Outcome(name=name, status="updated", info=info))
    if not found and not outcomes:
        raise EdscanError("no tracker list files found in " + ", ".join(str(p) for p in paths))
    return outcomes
