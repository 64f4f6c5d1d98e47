"""Upstream tracker lists: where they come from, their licences, and how each shape is read.

Every source is parsed into a ``trackers.Layer`` by one function used both to validate a
download (before it replaces anything) and to load what is installed, so a file that was
accepted can always be read back.

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
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from edscan import domains
from edscan.listformat import Entry, Layer
from edscan.models import ListInfo

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


# --------------------------------------------------------------------------- parsed result


@dataclass(slots=True, kw_only=True)
class Parsed:
    """One source, validated and read."""

    entries: dict[str, Entry] = field(default_factory=dict)
    regex_entries: list[tuple[re.Pattern[str], Entry]] = field(default_factory=list)
    records: int = 0
    version: str | None = None  # the date the file itself carries, where it carries one


Parser = Callable[[Mapping[str, bytes]], Parsed]


def _json(files: Mapping[str, bytes], name: str) -> Any:
    try:
        raw = files[name]
    except KeyError:
        raise ValueError(f"{name} is missing") from None
    try:
        return json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(f"{name} is not valid JSON ({exc})") from None


def _need(cond: bool, message: str) -> None:
    if not cond:
        raise ValueError(message)


def _dict(value: Any, what: str) -> dict[str, Any]:
    _need(isinstance(value, dict), f"{what} must be an object")
    assert isinstance(value, dict)
    return value


def _key(domain: Any) -> str | None:
    """A list key as a host suffix, or None for path rules and other non-host keys."""
    if not isinstance(domain, str) or "/" in domain or " " in domain:
        return None
    key = domains.normalize_host(domain)
    return key or None


def _mapped(names: Any, table: Mapping[str, str]) -> tuple[str, ...]:
    if isinstance(names, str):
        names = [names]
    if not isinstance(names, list):
        return ()
    return tuple(dict.fromkeys(table[n] for n in names if isinstance(n, str) and n in table))


# --------------------------------------------------------------------------- category maps
# Upstream vocabularies → the one edscan vocabulary (edscan.trackers.CATEGORIES). Names not
# listed here (e.g. "misc", "Malware") carry no category.

GHOSTERY_LIKE_CATEGORIES = {  # AdGuard companiesdb and Ghostery trackerdb share these names
    "advertising": "advertising",
    "pornvertising": "advertising",
    "site_analytics": "analytics",
    "mobile_analytics": "analytics",
    "telemetry": "analytics",
    "social_media": "social network",
    "customer_interaction": "customer engagement / messaging",
    "email": "customer engagement / messaging",
    "consent": "consent management",
    "cdn": "CDN / hosting",
    "hosting": "CDN / hosting",
    "audio_video_player": "video / embedded content",
    "comments": "video / embedded content",
}

DUCKDUCKGO_CATEGORIES = {
    "Advertising": "advertising",
    "Action Pixels": "advertising",
    "Ad Fraud": "advertising",
    "Ad Motivated Tracking": "ad-motivated tracking",
    "Analytics": "analytics",
    "Third-Party Analytics Marketing": "analytics",
    "Audience Measurement": "audience measurement",
    "Session Replay": "session replay",
    "Tag Manager": "tag manager",
    "Social Network": "social network",
    "Social - Comment": "social network",
    "Social - Share": "social network",
    "Badge": "social network",
    "Federated Login": "SSO / identity",
    "SSO": "SSO / identity",
    "Online Payment": "payments",
    "Content Delivery": "CDN / hosting",
    "Embedded Content": "video / embedded content",
    "Support Chat Widget": "customer engagement / messaging",
    "Consent Management Platform": "consent management",
}

DISCONNECT_CATEGORIES = {
    "Advertising": "advertising",
    "Analytics": "analytics",
    "Social": "social network",
    "Content": "video / embedded content",
    "Email": "customer engagement / messaging",
    "EmailAggressive": "customer engagement / messaging",
    "FingerprintingInvasive": "fingerprinting",
    "FingerprintingGeneral": "fingerprinting",
    "Anti-fraud": "fingerprinting",
    "ConsentManagers": "consent management",
}

EXODUS_CATEGORIES = {
    "Advertisement": "advertising",
    "Analytics": "analytics",
    "Profiling": "ad-motivated tracking",
    "Identification": "identity resolution / data broker",
    "Crash reporting": "error monitoring",
}


# --------------------------------------------------------------------------- parsers


def parse_adguard(files: Mapping[str, bytes]) -> Parsed:
    """AdGuard companiesdb: ``trackers.json`` (trackers, trackerDomains) + ``companies.json``."""
    t = _dict(_json(files, "trackers.json"), "trackers.json")
    c = _dict(_json(files, "companies.json"), "companies.json")
    trackers = _dict(t.get("trackers"), "trackers.json: 'trackers'")
    tdomains = _dict(t.get("trackerDomains"), "trackers.json: 'trackerDomains'")
    cats = _dict(t.get("categories", {}), "trackers.json: 'categories'")
    companies = _dict(c.get("companies"), "companies.json: 'companies'")
    _need(bool(tdomains), "trackers.json: 'trackerDomains' is empty")
    out = Parsed(records=len(tdomains))
    stamp = t.get("timeUpdated")
    if isinstance(stamp, str) and len(stamp) >= 10:
        out.version = stamp[:10]
    for domain, tid in tdomains.items():
        tr = trackers.get(tid)
        key = _key(domain)
        if key is None or not isinstance(tr, dict):
            continue
        company = companies.get(tr.get("companyId") or "")
        org = company.get("name") if isinstance(company, dict) else None
        cat_name = cats.get(str(tr.get("categoryId")))
        out.entries[key] = Entry(
            suffix=key,
            organization=org if isinstance(org, str) and org else None,
            categories=_mapped(cat_name, GHOSTERY_LIKE_CATEGORIES),
            names=(str(tr.get("name")),) if tr.get("name") else (),
        )
    return out


def parse_exodus(files: Mapping[str, bytes]) -> Parsed:
    """Exodus: ``{"trackers": {id: {name, network_signature, categories}}}``; no owners.

    Network signatures are hostname regexes. Alternations of plain host names become suffix
    keys (fast, and how they are meant); anything else stays a regex searched in the host.
    """
    x = _dict(_json(files, "trackers.json"), "trackers.json")
    trackers = _dict(x.get("trackers"), "trackers.json: 'trackers'")
    _need(bool(trackers), "trackers.json: 'trackers' is empty")
    out = Parsed(records=len(trackers))
    names_by_key: dict[str, list[str]] = {}
    cats_by_key: dict[str, list[str]] = {}
    for tid, tr in trackers.items():
        _need(isinstance(tr, dict) and "name" in tr, f"trackers.json: tracker {tid} has no name")
        sig = tr.get("network_signature") or ""
        if not isinstance(sig, str) or not sig.strip():
            continue
        name = str(tr["name"])
        cats = list(_mapped(tr.get("categories", []), EXODUS_CATEGORIES))
        for part in sig.split("|"):
            plain = re.sub(r"^(\.\*)?\\?\.", "", part.strip()).replace("\\.", ".")
            if re.fullmatch(r"[a-z0-9-]+(\.[a-z0-9-]+)+", plain):
                names_by_key.setdefault(plain, []).append(name)
                cats_by_key.setdefault(plain, []).extend(cats)
                continue
            try:
                rx = re.compile(part)
            except re.error:
                continue
            entry = Entry(suffix=part, categories=tuple(dict.fromkeys(cats)), names=(name,))
            out.regex_entries.append((rx, entry))
    for key, names in names_by_key.items():
        out.entries[key] = Entry(
            suffix=key,
            categories=tuple(dict.fromkeys(cats_by_key[key])),
            names=tuple(dict.fromkeys(names)),
        )
    return out


def parse_duckduckgo(files: Mapping[str, bytes]) -> Parsed:
    """DuckDuckGo TDS: ``extension-tds.json`` (+ optional ``android-tds.json``, app trackers).

    Tracker entries carry owner, ``ownedBy`` parent and categories; the ``domains`` map (any
    domain → entity) adds owners of non-tracking domains, which first-party grouping uses.
    """
    d = _dict(_json(files, "extension-tds.json"), "extension-tds.json")
    trackers = _dict(d.get("trackers"), "extension-tds.json: 'trackers'")
    dmap = _dict(d.get("domains", {}), "extension-tds.json: 'domains'")
    _need(bool(trackers), "extension-tds.json: 'trackers' is empty")
    out = Parsed(records=len(trackers))
    for domain, entity in dmap.items():
        key = _key(domain)
        if key and isinstance(entity, str):
            out.entries[key] = Entry(suffix=key, organization=entity)
    tracker_sets = [trackers]
    if "android-tds.json" in files:
        a = _dict(_json(files, "android-tds.json"), "android-tds.json")
        atr = _dict(a.get("trackers"), "android-tds.json: 'trackers'")
        out.records += len(atr)
        tracker_sets.insert(0, atr)  # the web list wins where both know a host
    for tset in tracker_sets:
        for domain, tr in tset.items():
            key = _key(domain)
            if key is None or not isinstance(tr, dict):
                continue
            owner = tr.get("owner") or {}
            _need(isinstance(owner, dict), f"tracker {domain}: 'owner' must be an object")
            name = owner.get("name")
            parent = owner.get("ownedBy")
            out.entries[key] = Entry(
                suffix=key,
                organization=name if isinstance(name, str) and name else None,
                parent=parent if isinstance(parent, str) and parent != name else None,
                categories=_mapped(tr.get("categories", []), DUCKDUCKGO_CATEGORIES),
                names=(owner["displayName"],) if isinstance(owner.get("displayName"), str) else (),
            )
    return out


def parse_disconnect(files: Mapping[str, bytes]) -> Parsed:
    """Disconnect: ``services.json`` (category → [{org: {homepage: [domains], flags}}]) and
    ``entities.json`` (org → properties, resources). String flags such as ``"session-replay":
    "true"`` sit beside the domain lists; keys with paths are not hosts and are skipped."""
    s = _dict(_json(files, "services.json"), "services.json")
    cats = _dict(s.get("categories"), "services.json: 'categories'")
    _need(bool(cats), "services.json: 'categories' is empty")
    out = Parsed()
    org_of: dict[str, str] = {}
    cats_of: dict[str, list[str]] = {}
    if "entities.json" in files:
        e = _dict(_json(files, "entities.json"), "entities.json")
        for org, ent in _dict(e.get("entities"), "entities.json: 'entities'").items():
            if not isinstance(ent, dict):
                continue
            for dom in [*ent.get("properties", []), *ent.get("resources", [])]:
                key = _key(dom)
                if key:
                    org_of.setdefault(key, org)
    for cat_name, services in cats.items():
        _need(isinstance(services, list), f"services.json: category {cat_name} must be a list")
        mapped = DISCONNECT_CATEGORIES.get(cat_name)
        for service in services:
            if not isinstance(service, dict):
                continue
            for org, detail in service.items():
                if not isinstance(detail, dict):
                    continue
                replay = detail.get("session-replay") == "true"
                for value in detail.values():
                    if not isinstance(value, list):
                        continue  # a flag, not a domain list
                    for dom in value:
                        key = _key(dom)
                        if key is None:
                            continue
                        out.records += 1
                        org_of[key] = org
                        lst = cats_of.setdefault(key, [])
                        if mapped:
                            lst.append(mapped)
                        if replay:
                            lst.append("session replay")
    for key, org in org_of.items():
        out.entries[key] = Entry(
            suffix=key, organization=org, categories=tuple(dict.fromkeys(cats_of.get(key, [])))
        )
    _need(out.records > 0, "services.json lists no domains")
    return out


def parse_ghostery(files: Mapping[str, bytes]) -> Parsed:
    """Ghostery trackerdb: ``patterns`` (name, category, organization), ``organizations``,
    and ``domains`` (domain → pattern id)."""
    g = _dict(_json(files, "trackerdb.json"), "trackerdb.json")
    patterns = _dict(g.get("patterns"), "trackerdb.json: 'patterns'")
    orgs = _dict(g.get("organizations", {}), "trackerdb.json: 'organizations'")
    dmap = _dict(g.get("domains"), "trackerdb.json: 'domains'")
    _need(bool(dmap), "trackerdb.json: 'domains' is empty")
    out = Parsed(records=len(dmap))
    for domain, pid in dmap.items():
        key = _key(domain)
        pat = patterns.get(pid) if isinstance(pid, str) else None
        if key is None or not isinstance(pat, dict):
            continue
        org = orgs.get(pat.get("organization") or "")
        org_name = org.get("name") if isinstance(org, dict) else None
        out.entries[key] = Entry(
            suffix=key,
            organization=org_name if isinstance(org_name, str) and org_name else None,
            categories=_mapped(pat.get("category"), GHOSTERY_LIKE_CATEGORIES),
            names=(str(pat["name"]),) if pat.get("name") else (),
        )
    return out


def parse_psl(files: Mapping[str, bytes]) -> Parsed:
    """The Public Suffix List text format; checked, not turned into entries."""
    try:
        text = files["public_suffix_list.dat"].decode("utf-8")
    except KeyError:
        raise ValueError("public_suffix_list.dat is missing") from None
    except UnicodeDecodeError as exc:
        raise ValueError(f"public_suffix_list.dat is not UTF-8 ({exc})") from None
    _need(
        "===BEGIN ICANN DOMAINS===" in text and "===END ICANN DOMAINS===" in text,
        "public_suffix_list.dat lacks the ICANN section markers (truncated or not a PSL)",
    )
    rules = [ln for ln in text.splitlines() if ln.strip() and not ln.startswith("//")]
    _need(len(rules) > 1000, f"public_suffix_list.dat has only {len(rules)} rules")
    return Parsed(records=len(rules))


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


def sniff(name: str, raw: bytes) -> tuple[str, str] | None:
    """(source, file name) for a hand-downloaded file, recognised by its content."""
    head = raw[:4096]
    if b"===BEGIN ICANN DOMAINS===" in raw[: 1 << 16] or (
        name.endswith(".dat") and b"// This Source Code Form" in head
    ):
        return ("publicsuffix", "public_suffix_list.dat")
    try:
        data = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None
    if not isinstance(data, dict):
        return None
    keys = set(data)
    if "trackerDomains" in keys:
        return ("adguard-companiesdb", "trackers.json")
    if keys == {"companies"} or ("companies" in keys and "timeUpdated" in keys):
        return ("adguard-companiesdb", "companies.json")
    if "packageNames" in keys:
        return ("duckduckgo-tds", "android-tds.json")
    if {"trackers", "entities", "domains"} <= keys:
        return ("duckduckgo-tds", "extension-tds.json")
    if {"patterns", "organizations"} <= keys:
        return ("ghostery-trackerdb", "trackerdb.json")
    if "license" in keys and "categories" in keys:
        return ("disconnect", "services.json")
    if "license" in keys and "entities" in keys:
        return ("disconnect", "entities.json")
    if keys == {"trackers"}:
        return ("exodus", "trackers.json")
    return None


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
    import tldextract

    # the module's own attribute: a metadata lookup would scan sys.path on every load
    version = str(getattr(tldextract, "__version__", "unknown"))
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
