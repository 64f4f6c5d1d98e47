"""The edscan list format and the records attribution is made of.

One vocabulary of categories; ``Entry`` (one list's opinion about one domain suffix);
``SdkRule`` (host suffix + path pattern → product); ``Layer`` (one list, ready to match); and
the parser of the TOML format shared by the bundled lists and the user's overrides file.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from edscan.models import ListInfo
from edscan.recipients import domains

# The one category vocabulary. Every bundled record is checked against it (tests/test_trackers.py)
# and every upstream category is mapped into it (edscan.recipients.upstream).
CATEGORIES: tuple[str, ...] = (
    "advertising",
    "ad-motivated tracking",
    "analytics",
    "audience measurement",
    "session replay",
    "social network",
    "tag manager",
    "identity resolution / data broker",
    "fingerprinting",
    "error monitoring",
    "performance monitoring",
    "customer engagement / messaging",
    "A/B testing",
    "consent management",
    "CDN / hosting",
    "payments",
    "SSO / identity",
    "AI model provider",
    "ed-tech vendor",
    "student monitoring / safety",
    "video / embedded content",
    "accessibility overlay",
)
_CATEGORY_SET = frozenset(CATEGORIES)

# Categories whose business is observing people: a host in one of these is a tracker.
TRACKING_CATEGORIES: frozenset[str] = frozenset(
    {
        "advertising",
        "ad-motivated tracking",
        "analytics",
        "audience measurement",
        "session replay",
        "social network",
        "tag manager",
        "identity resolution / data broker",
        "fingerprinting",
    }
)
# Categories of services an app uses but is not: never inferred as the audited app itself.
SERVICE_CATEGORIES: frozenset[str] = _CATEGORY_SET - {"ed-tech vendor"}

# --------------------------------------------------------------------------- records


@dataclass(frozen=True, slots=True, kw_only=True)
class Entry:
    """One list's opinion about one domain suffix."""

    suffix: str
    organization: str | None = None
    parent: str | None = None
    categories: tuple[str, ...] = ()
    names: tuple[str, ...] = ()  # the list's own tracker/product names, shown by `lists show`
    basis: str = ""  # the record's stated basis ("company site", "public list") where given


@dataclass(frozen=True, slots=True, kw_only=True)
class SdkRule:
    """Host suffix + path pattern → SDK or product name."""

    name: str
    hosts: tuple[str, ...]  # suffixes; "*" means any host
    paths: tuple[str, ...] = ()  # segment-prefix patterns; empty means any path
    categories: tuple[str, ...] = ()
    organization: str | None = None

    def matches_path(self, path: str) -> bool:
        return bool(self.paths) and _paths_regex(self.paths).match(path) is not None


@functools.lru_cache(maxsize=4096)
def _paths_regex(paths: tuple[str, ...]) -> re.Pattern[str]:
    # compiled on first use: most rules are never needed in a given run, and compiling them
    # all would cost more than loading the lists
    return re.compile("|".join(f"(?:{path_pattern(p)})" for p in paths))


def path_pattern(pattern: str) -> str:
    """``/api/*/envelope`` → a regex (source) matching whole leading path segments.

    ``*`` stands for one segment, ``**`` for any rest; a pattern ending in ``/`` is a prefix,
    otherwise it must end at a segment boundary (``/tr`` matches ``/tr`` and ``/tr/``, never
    ``/track``).
    """
    out = []
    i = 0
    while i < len(pattern):
        if pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern[i] == "*":
            out.append("[^/]+")
            i += 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    tail = "" if pattern.endswith("/") else "(?:/|$)"
    return "^" + "".join(out) + tail


@dataclass(slots=True, kw_only=True)
class Layer:
    """One list, in the shape attribution needs: suffix → Entry, plus optional regex entries."""

    name: str  # "overrides", "edscan-trackers", "adguard-companiesdb", ...
    label: str  # what Attribution.sources shows
    info: ListInfo
    entries: dict[str, Entry]
    regex_entries: list[tuple[re.Pattern[str], Entry]] = field(default_factory=list)
    sdk_rules: list[SdkRule] = field(default_factory=list)

    def match(self, suffixes: list[str]) -> Entry | None:
        """The entry for the longest of ``suffixes`` (longest first) this layer knows."""
        for s in suffixes:
            e = self.entries.get(s)
            if e is not None:
                return e
        if self.regex_entries:
            host = suffixes[0]
            for rx, e in self.regex_entries:
                if rx.search(host):
                    return e
        return None


# --------------------------------------------------------------------------- edscan list format


def _strs(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"{where}: expected a list of strings")
    return tuple(value)


def _categories(value: Any, where: str) -> tuple[str, ...]:
    cats = _strs(value, where)
    bad = [c for c in cats if c not in _CATEGORY_SET]
    if bad:
        raise ValueError(f"{where}: unknown categor{'y' if len(bad) == 1 else 'ies'} {bad}")
    return cats


def _domain_key(value: str, where: str) -> str:
    key = domains.normalize_host(value)
    if not key or " " in key:
        raise ValueError(f"{where}: {value!r} is not a domain")
    return key


def parse_edscan_list(
    data: Mapping[str, Any], where: str
) -> tuple[dict[str, Entry], list[SdkRule], dict[str, Any]]:
    """Parse the edscan list format (bundled files and the overrides file alike).

    ``[meta]`` (name, version, licence, ...); ``[[entity]]`` with ``organization``, optional
    ``parent``, ``source`` (the basis), ``categories`` (default for ``domains``), ``domains``
    (suffixes) and ``[entity.domain_categories]`` (suffix → its own categories);
    ``[[sdk]]`` with ``name``, ``hosts``, optional ``paths``, ``categories``, ``organization``.
    Raises ValueError naming the record at fault.
    """
    meta = data.get("meta", {})
    if not isinstance(meta, dict):
        raise ValueError(f"{where}: [meta] must be a table")
    entries: dict[str, Entry] = {}
    for i, ent in enumerate(data.get("entity", [])):
        w = f"{where}: entity #{i + 1}"
        if not isinstance(ent, dict):
            raise ValueError(f"{w}: must be a table")
        org = ent.get("organization")
        if not isinstance(org, str) or not org:
            raise ValueError(f"{w}: 'organization' is required")
        w = f"{where}: entity {org!r}"
        unknown = set(ent) - {
            "organization",
            "parent",
            "source",
            "categories",
            "domains",
            "domain_categories",
        }
        if unknown:
            raise ValueError(f"{w}: unknown keys {sorted(unknown)}")
        parent = ent.get("parent")
        if parent is not None and not isinstance(parent, str):
            raise ValueError(f"{w}: 'parent' must be a string")
        basis = ent.get("source", "")
        if not isinstance(basis, str):
            raise ValueError(f"{w}: 'source' must be a string")
        default = _categories(ent.get("categories", []), f"{w} categories")
        per: dict[str, tuple[str, ...]] = {}
        for d in _strs(ent.get("domains", []), f"{w} domains"):
            per[_domain_key(d, w)] = default
        dc = ent.get("domain_categories", {})
        if not isinstance(dc, dict):
            raise ValueError(f"{w}: domain_categories must be a table")
        for d, cats in dc.items():
            per[_domain_key(d, w)] = _categories(cats, f"{w} domain {d!r}")
        if not per:
            raise ValueError(f"{w}: no domains")
        for key, cats in per.items():
            if key in entries:
                raise ValueError(f"{w}: {key!r} is already listed for {entries[key].organization}")
            entries[key] = Entry(
                suffix=key,
                organization=org,
                parent=parent or None,
                categories=cats,
                basis=basis,
            )
    rules: list[SdkRule] = []
    for i, sdk in enumerate(data.get("sdk", [])):
        w = f"{where}: sdk #{i + 1}"
        if not isinstance(sdk, dict) or not isinstance(sdk.get("name"), str):
            raise ValueError(f"{w}: 'name' is required")
        w = f"{where}: sdk {sdk['name']!r}"
        unknown = set(sdk) - {"name", "hosts", "paths", "categories", "organization"}
        if unknown:
            raise ValueError(f"{w}: unknown keys {sorted(unknown)}")
        hosts = tuple(
            "*" if h == "*" else _domain_key(h.removeprefix("*."), w)
            for h in _strs(sdk.get("hosts", []), f"{w} hosts")
        )
        if not hosts:
            raise ValueError(f"{w}: 'hosts' is required")
        paths = _strs(sdk.get("paths", []), f"{w} paths")
        for p in paths:
            if not p.startswith("/"):
                raise ValueError(f"{w}: path {p!r} must start with '/'")
        if hosts == ("*",) and not paths:
            raise ValueError(f"{w}: a rule for any host needs paths")
        org = sdk.get("organization")
        rules.append(
            SdkRule(
                name=sdk["name"],
                hosts=hosts,
                paths=paths,
                categories=_categories(sdk.get("categories", []), f"{w} categories"),
                organization=org if isinstance(org, str) else None,
            )
        )
    return entries, rules, meta
