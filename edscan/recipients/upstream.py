"""Upstream tracker lists: where they come from, their licences, and where they are kept.

Every source names the parser (``edscan.recipients.parsers``) used both to validate a download
(before it replaces anything) and to load what is installed, so a file that was accepted can
always be read back.

Data directory layout (``$EDSCAN_DATA_DIR``, ``--data-dir`` or the per-user data directory)::

    overrides.toml                  the user's own attributions (highest precedence)
    lists/<source>/<file>           each upstream file exactly as downloaded or imported
    lists/<source>/meta.json        provenance: URLs, dates, sha256, licence, record count,
                                    ETag / Last-Modified for conditional GET

``meta.json`` is written last, after every file of the source is in place; a file whose
sha256 no longer matches its ``meta.json`` is reported and skipped, never half-read.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from edscan.models import ListInfo
from edscan.recipients.listformat import Layer
from edscan.recipients.parsers import (
    Parser,
    parse_adguard,
    parse_disconnect,
    parse_duckduckgo,
    parse_exodus,
    parse_ghostery,
    parse_psl,
)

ENV_DATA_DIR = "EDSCAN_DATA_DIR"
META_FILE = "meta.json"
MB = 1 << 20


def resolve_data_dir(data_dir: Path | str | None = None) -> Path:
    """``data_dir``, else ``$EDSCAN_DATA_DIR``, else the per-user data directory."""
    if data_dir:
        return Path(data_dir).expanduser()
    env = os.environ.get(ENV_DATA_DIR)
    if env:
        return Path(env).expanduser()
    from platformdirs import user_data_dir

    return Path(user_data_dir("edscan", appauthor=False))


def lists_dir(base: Path) -> Path:
    return base / "lists"


# --------------------------------------------------------------------------- sources


@dataclass(frozen=True, slots=True, kw_only=True)
class Source:
    name: str
    title: str
    files: tuple[tuple[str, str], ...]  # (file name, HTTPS URL)
    licence: str
    parse: Parser
    noncommercial: bool = False
    optional_files: tuple[str, ...] = ()  # may be absent in an import
    max_bytes: int = 32 * MB  # per file


SOURCES: dict[str, Source] = {
    s.name: s
    for s in (
        Source(
            name="adguard-companiesdb",
            title="AdGuard companiesdb",
            files=(
                (
                    "trackers.json",
                    "https://raw.githubusercontent.com/AdguardTeam/companiesdb/main/dist/trackers.json",
                ),
                (
                    "companies.json",
                    "https://raw.githubusercontent.com/AdguardTeam/companiesdb/main/dist/companies.json",
                ),
            ),
            licence="CC BY-SA 4.0",
            parse=parse_adguard,
        ),
        Source(
            name="exodus",
            title="Exodus Privacy trackers",
            files=(("trackers.json", "https://reports.exodus-privacy.eu.org/api/trackers"),),
            licence="ODbL 1.0 / DbCL 1.0",
            parse=parse_exodus,
        ),
        Source(
            name="publicsuffix",
            title="Public Suffix List",
            files=(
                (
                    "public_suffix_list.dat",
                    "https://publicsuffix.org/list/public_suffix_list.dat",
                ),
            ),
            licence="MPL-2.0",
            parse=parse_psl,
        ),
        Source(
            name="duckduckgo-tds",
            title="DuckDuckGo Tracker Radar blocklist (TDS)",
            files=(
                (
                    "extension-tds.json",
                    "https://staticcdn.duckduckgo.com/trackerblocking/v6/current/extension-tds.json",
                ),
                (
                    "android-tds.json",
                    "https://staticcdn.duckduckgo.com/trackerblocking/appTP/2.1/android-tds.json",
                ),
            ),
            licence="CC BY-NC-SA 4.0",
            noncommercial=True,
            optional_files=("android-tds.json",),
            parse=parse_duckduckgo,
        ),
        Source(
            name="disconnect",
            title="Disconnect tracking protection",
            files=(
                (
                    "services.json",
                    "https://raw.githubusercontent.com/disconnectme/disconnect-tracking-protection/master/services.json",
                ),
                (
                    "entities.json",
                    "https://raw.githubusercontent.com/disconnectme/disconnect-tracking-protection/master/entities.json",
                ),
            ),
            licence="CC BY-NC-SA 4.0",
            noncommercial=True,
            optional_files=("entities.json",),
            parse=parse_disconnect,
        ),
        Source(
            name="ghostery-trackerdb",
            title="Ghostery trackerdb",
            files=(
                (
                    "trackerdb.json",
                    "https://github.com/ghostery/trackerdb/releases/latest/download/trackerdb.json",
                ),
            ),
            licence="CC BY-NC-SA 4.0",
            noncommercial=True,
            parse=parse_ghostery,
        ),
    )
}

# Attribution precedence among downloaded lists (after the overrides file and bundled lists):
# the permissively licensed company database first, so a non-commercial list decides only
# what it alone knows; Exodus last, as it names SDKs but no owners.
PRECEDENCE = (
    "adguard-companiesdb",
    "duckduckgo-tds",
    "disconnect",
    "ghostery-trackerdb",
    "exodus",
)
DEFAULT_SOURCES = ("adguard-companiesdb", "exodus", "publicsuffix")
NONCOMMERCIAL_SOURCES = tuple(n for n, s in SOURCES.items() if s.noncommercial)


# --------------------------------------------------------------------------- installed lists


def sha256_hex(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


def combined_sha256(files: Mapping[str, str]) -> str:
    """A list's sha256: its file's own for one file; for several, of "name sha256" lines."""
    if len(files) == 1:
        return next(iter(files.values()))
    lines = "".join(f"{n} {h}\n" for n, h in sorted(files.items()))
    return sha256_hex(lines.encode())


def read_meta(base: Path, name: str) -> dict[str, Any] | None:
    path = lists_dir(base) / name / META_FILE
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        return {"error": f"{path} is unreadable"}
    return meta if isinstance(meta, dict) else {"error": f"{path} is not an object"}


def list_info(source: Source, meta: Mapping[str, Any]) -> ListInfo:
    return ListInfo(
        name=source.name,
        version=str(meta.get("version", "")),
        sha256=str(meta.get("sha256", "")),
        licence=source.licence,
        source=str(meta.get("origin_url") or meta.get("origin", "")),
        records=int(meta.get("records", 0)),
        noncommercial=source.noncommercial,
    )


def layer_label(source: Source, version: str) -> str:
    nc = ", non-commercial" if source.noncommercial else ""
    return f"{source.name}@{version} ({source.licence}{nc})"


def read_installed_files(base: Path, name: str, meta: Mapping[str, Any]) -> dict[str, bytes]:
    """The files ``meta`` names, each checked against its recorded sha256."""
    out: dict[str, bytes] = {}
    for f in meta.get("files", []):
        path = lists_dir(base) / name / str(f["name"])
        raw = path.read_bytes()
        if sha256_hex(raw) != f.get("sha256"):
            raise ValueError(f"{path} does not match its recorded sha256 (changed on disk?)")
        out[str(f["name"])] = raw
    return out


@dataclass(slots=True, kw_only=True)
class Installed:
    used: list[Layer] = field(default_factory=list)
    unused: list[Layer] = field(default_factory=list)  # non-commercial, not accepted
    psl_path: Path | None = None
    psl_info: ListInfo = field(default_factory=lambda: bundled_psl_info())
    problems: list[str] = field(default_factory=list)


def bundled_psl_info() -> ListInfo:
    from edscan.recipients.psl import snapshot_version

    # read from tldextract's version file: importing tldextract (and requests) costs ~70 ms
    version = snapshot_version()
    return ListInfo(
        name="publicsuffix",
        version=f"tldextract {version} snapshot",
        sha256="",
        licence="MPL-2.0",
        source="bundled with tldextract",
    )


def load_installed(base: Path, *, accept_noncommercial: bool) -> Installed:
    """Read every installed list; unreadable ones are skipped with a problem noted."""
    out = Installed()
    for name in PRECEDENCE:
        source = SOURCES[name]
        meta = read_meta(base, name)
        if meta is None:
            continue
        try:
            if "error" in meta:
                raise ValueError(str(meta["error"]))
            parsed = source.parse(read_installed_files(base, name, meta))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            out.problems.append(f"{name}: {exc}; run `edscan lists update` to repair it")
            continue
        info = list_info(source, meta)
        layer = Layer(
            name=name,
            label=layer_label(source, info.version),
            info=info,
            entries=parsed.entries,
            regex_entries=parsed.regex_entries,
        )
        (out.used if accept_noncommercial or not source.noncommercial else out.unused).append(layer)
    meta = read_meta(base, "publicsuffix")
    if meta is not None and "error" not in meta:
        path = lists_dir(base) / "publicsuffix" / "public_suffix_list.dat"
        try:
            read_installed_files(base, "publicsuffix", meta)
        except (OSError, ValueError, KeyError) as exc:
            out.problems.append(f"publicsuffix: {exc}")
        else:
            out.psl_path = path
            out.psl_info = list_info(SOURCES["publicsuffix"], meta)
    return out
