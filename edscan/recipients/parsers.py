"""Readers for the upstream tracker-list shapes, each into ``listformat.Entry`` records.

One function per source validates and reads its files (raising ValueError that names what is
wrong), used both before a download replaces anything and when installed lists are loaded.
Upstream categories are mapped into edscan's one vocabulary here. ``sniff`` recognises a
hand-downloaded file by its content.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from edscan.recipients import domains
from edscan.recipients.listformat import Entry

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
# Upstream vocabularies → the one edscan vocabulary (edscan.recipients.trackers.CATEGORIES). Names not
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
