"""Who owns a host, what it does, and which list said so.

Attribution reads layers in a fixed precedence, highest first:

1. the user's overrides file (``overrides.toml`` in the data directory),
2. the lists bundled with edscan (``tracker_lists/edscan-*.toml``),
3. downloaded lists, in ``edscan.recipients.upstream.PRECEDENCE`` order: AdGuard companiesdb, then (only
   with ``accept_noncommercial``) DuckDuckGo TDS, Disconnect, Ghostery; then Exodus.

Within a layer the longest matching domain suffix wins (``stats.g.doubleclick.net`` before
``doubleclick.net``). A platform whose customers each get a registrable domain of their own
(``cloudfront.net``, ``herokuapp.com``: private suffixes in the Public Suffix List) names a
customer's host only where no layer knows that host itself. The first layer that knows the
host's owner decides the organisation and parent; categories come from that layer, or from the
next layer that has some. The SDK or product (``Meta Pixel``) comes from the endpoint tables
(host + path pattern) of the overrides and the bundled list. ``Attribution.sources`` names every
list that contributed, with its version, and the licence of every downloaded list.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from hashlib import sha256
from pathlib import Path
from typing import Any

from edscan.errors import EdscanError
from edscan.models import Attribution, ListInfo
from edscan.recipients import domains, listcache
from edscan.recipients.listformat import (
    CATEGORIES,
    SERVICE_CATEGORIES,
    TRACKING_CATEGORIES,
    Entry,
    Layer,
    SdkRule,
    parse_edscan_list,
)
from edscan.resources import resource

__all__ = [
    "CATEGORIES",
    "SERVICE_CATEGORIES",
    "TRACKING_CATEGORIES",
    "Opinion",
    "TrackerDB",
    "is_tracking",
    "load_trackers",
]

BUNDLED_FILES = ("edscan-trackers.toml", "edscan-edtech.toml", "edscan-sdk.toml")
OVERRIDES_FILE = "overrides.toml"


def is_tracking(attribution: Attribution) -> bool:
    """True when any of the attribution's categories is a tracking category."""
    return any(c in TRACKING_CATEGORIES for c in attribution.categories)


def bundled_layer(name: str, cache_base: Path | None = None) -> Layer:
    """One bundled list file, parsed (errors here are bugs in the shipped data).

    With ``cache_base`` (the data directory) the parsed list is read from, or written to, the
    compiled cache there (``edscan.recipients.listcache``): reading the TOML and checking and
    normalising its records is ~20 ms of a scan's start; the cache, ~3 ms.
    """
    raw = resource("tracker_lists", name).read_bytes()
    stored = listcache.read_cached(cache_base, raw) if cache_base is not None else None
    parsed = _from_cache(stored) if stored is not None else None
    if parsed is None:
        import tomllib  # only when the compiled cache has no entry: ~5 ms of a scan's start

        parsed = parse_edscan_list(tomllib.loads(raw.decode("utf-8")), name)
        if cache_base is not None:
            listcache.write_cached(cache_base, raw, _to_cache(*parsed))
    entries, rules, meta = parsed
    list_name = str(meta.get("name", name.removesuffix(".toml")))
    version = str(meta.get("version", "unknown"))
    info = ListInfo(
        name=list_name,
        version=version,
        sha256=sha256(raw).hexdigest(),
        licence=str(meta.get("licence", "")),
        source="bundled",
        records=len(entries) + len(rules),
    )
    return Layer(
        name=list_name,
        label=f"bundled:{list_name}@{version}",
        info=info,
        entries=entries,
        sdk_rules=rules,
    )


_Parsed = tuple[dict[str, Entry], list[SdkRule], dict[str, Any]]


def _to_cache(
    entries: dict[str, Entry], rules: list[SdkRule], meta: dict[str, Any]
) -> dict[str, Any]:
    return {
        "entries": [
            (e.suffix, e.organization, e.parent, e.categories, e.basis) for e in entries.values()
        ],
        "rules": [(r.name, r.hosts, r.paths, r.categories, r.organization) for r in rules],
        "meta": meta,
    }


def _from_cache(data: dict[str, Any]) -> _Parsed | None:
    """A list as ``_to_cache`` stored it; None for anything of another shape (rebuilt)."""
    try:
        entries = {
            s: Entry(suffix=s, organization=o, parent=p, categories=tuple(c), basis=b)
            for s, o, p, c, b in data["entries"]
        }
        rules = [
            SdkRule(name=n, hosts=tuple(h), paths=tuple(p), categories=tuple(c), organization=o)
            for n, h, p, c, o in data["rules"]
        ]
        meta = data["meta"]
    except (KeyError, TypeError, ValueError):
        return None
    return (entries, rules, meta) if isinstance(meta, dict) else None


def load_overrides(path: Path) -> Layer:
    """The user's overrides file; a broken file is an input error, never silently skipped."""
    import tomllib

    try:
        raw = path.read_bytes()
        data = tomllib.loads(raw.decode("utf-8"))
        entries, rules, _meta = parse_edscan_list(data, str(path))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError, ValueError) as exc:
        raise EdscanError(
            f"cannot read the overrides file {path}: {exc}. Fix it (format in the manual, "
            "docs/recipients.md, 'The overrides file') or move it away."
        ) from exc
    version = datetime.fromtimestamp(path.stat().st_mtime, UTC).strftime("%Y-%m-%d")
    info = ListInfo(
        name="user-overrides",
        version=version,
        sha256=sha256(raw).hexdigest(),
        licence="",
        source=str(path),
        records=len(entries) + len(rules),
    )
    return Layer(
        name="user-overrides",
        label=f"user-overrides@{version}",
        info=info,
        entries=entries,
        sdk_rules=rules,
    )


# --------------------------------------------------------------------------- the database


@dataclass(frozen=True, slots=True, kw_only=True)
class Opinion:
    """What one list says about a host (for ``edscan lists show``)."""

    layer: str
    label: str
    info: ListInfo
    used: bool  # False for an installed non-commercial list the user has not accepted
    entry: Entry | None


_CACHE_MAX = 500_000
# per host: the attribution without a path, the path-specific SDK rules that may apply, and
# the list key that decided the owner
_Resolved = tuple[Attribution, tuple[tuple[SdkRule, str], ...], str]


class TrackerDB:
    """Attribution over an ordered stack of layers; results are cached per host."""

    def __init__(
        self,
        layers: list[Layer],
        *,
        extra_infos: Iterable[ListInfo] = (),
        unused: Iterable[Layer] = (),
        problems: Iterable[str] = (),
    ) -> None:
        self._layers = layers
        self.problems = list(problems)  # installed lists that could not be read, and why
        self._unused = list(unused)
        self._extra_infos = list(extra_infos)
        self._cache: dict[str, _Resolved] = {}
        # SDK rules from the layers that have them, most authoritative first
        self._rules: dict[str, list[tuple[SdkRule, str]]] = {}
        self._any_host: list[tuple[SdkRule, str]] = []
        for layer in layers:
            for rule in layer.sdk_rules:
                for h in rule.hosts:
                    if h == "*":
                        self._any_host.append((rule, layer.label))
                    else:
                        self._rules.setdefault(h, []).append((rule, layer.label))

    # -- public API

    def attribute(self, host: str, path: str = "") -> Attribution:
        """Who ``host`` belongs to; with ``path``, also which SDK the endpoint is."""
        hit = self._cache.get(host)
        if hit is None:
            hit = self._remember(host)
        base, rules, _key = hit
        if not path or not rules:
            return base
        return self._with_path(base, rules, path)

    def lists(self) -> list[ListInfo]:
        """Every list that takes part in attribution, with its provenance."""
        return [layer.info for layer in self._layers] + self._extra_infos

    def is_service(self, host: str) -> bool:
        """True when the lists place ``host`` in a third-party service category, as a domain
        of its own (a customer's ``myapp.herokuapp.com`` is not the hosting service)."""
        cats = self.attribute(host).categories
        if not cats or not all(c in SERVICE_CATEGORIES for c in cats):
            return False
        key = (self._cache.get(host) or self._remember(host))[2]
        return not key or self.owner_of(host) is not None

    def opinions(self, host: str) -> list[Opinion]:
        """Every list's opinion about ``host``, in precedence order (unused lists last)."""
        suffixes = _suffixes(domains.normalize_host(host))
        out = [
            Opinion(
                layer=la.name, label=la.label, info=la.info, used=True, entry=la.match(suffixes)
            )
            for la in self._layers
            if la.entries or la.regex_entries  # the SDK table speaks through sdk_opinions()
        ]
        out += [
            Opinion(
                layer=la.name, label=la.label, info=la.info, used=False, entry=la.match(suffixes)
            )
            for la in self._unused
        ]
        return out

    def sdk_opinions(self, host: str, path: str = "") -> list[dict[str, str]]:
        """The endpoint-table rules that name ``host`` (and ``path``), first match first."""
        h = domains.normalize_host(host)
        p = path.split("?", 1)[0] or "/"
        out = []
        for rule, label in self._rules_for(_suffixes(h)):
            if not rule.paths or (path and rule.matches_path(p)):
                where = " ".join(rule.hosts) + (" " + " ".join(rule.paths) if rule.paths else "")
                out.append({"list": label, "name": rule.name, "rule": where})
        return out

    def organizations(self) -> Iterator[tuple[str, str]]:
        """(suffix, organisation) for every suffix the layers in use know an owner of."""
        seen: set[str] = set()
        for layer in self._layers:
            for key, e in layer.entries.items():
                if key not in seen and e.organization:
                    seen.add(key)
                    yield key, e.organization

    # -- internals

    def owner_of(self, host: str) -> str | None:
        """The organisation that owns ``host``'s registrable domain itself, for grouping
        domains into one party. None when the lists only know a hosting suffix above it:
        ``myapp.herokuapp.com`` is a Heroku customer's domain, not Salesforce's."""
        base, _rules, key = self._cache.get(host) or self._remember(host)
        if not key or base.organization is None:
            return None
        d = base.domain
        if key == d or key.endswith("." + d) or (key.endswith(".*") and d.startswith(key[:-1])):
            return base.organization
        return None

    def _remember(self, host: str) -> _Resolved:
        hit = self._resolve(host)
        if len(self._cache) < _CACHE_MAX:
            self._cache[host] = hit
        return hit

    def _resolve(self, host: str) -> _Resolved:
        h = domains.normalize_host(host)
        domain = domains.registrable_domain(h)
        if not h or domains.is_ip(h) or domain == domains.LOCALHOST:
            return Attribution(domain=domain), (), ""
        suffixes = _suffixes(h, domain)
        # a platform's entry (cloudfront.net: Amazon's CDN) speaks for its customers' hosts
        # (each its own registrable domain) only where no list knows the customer itself
        own = [x for x in suffixes if not domain.endswith("." + x)]
        org, org_label, cats, cats_label = self._owner(own)
        if org is None and len(own) < len(suffixes):
            org, org_label, cats, cats_label = self._owner(suffixes)
        rules = self._rules_for(suffixes)
        host_only = [(r, lab) for r, lab in rules if not r.paths]
        path_rules = tuple((r, lab) for r, lab in rules if r.paths)
        sources = [s for s in (org_label, cats_label) if s]
        sdk: tuple[str, ...] = ()
        if host_only:
            rule, lab = host_only[0]
            sdk = (rule.name,)
            cats = _union(cats, rule.categories)
            sources.append(lab)
        base = Attribution(
            domain=domain,
            organization=org.organization if org else None,
            parent=org.parent if org else None,
            categories=cats,
            sdk=sdk,
            sources=tuple(dict.fromkeys(sources)),
        )
        return base, path_rules, org.suffix if org else ""

    def _owner(self, suffixes: list[str]) -> tuple[Entry | None, str, tuple[str, ...], str]:
        """The owner's entry and the categories, each with the label of the list that said so."""
        org: Entry | None = None
        org_label = ""
        cats: tuple[str, ...] = ()
        cats_label = ""
        for layer in self._layers:
            e = layer.match(suffixes)
            if e is None:
                continue
            if org is None and e.organization:
                org, org_label = e, layer.label
                if e.categories:
                    cats, cats_label = e.categories, layer.label
            elif (
                not cats
                and e.categories
                # a lower list's categories only where it does not contradict the owner: it
                # names the same one, or none at all (Exodus names SDKs, not owners)
                and (org is None or e.organization is None or _same_org(e.organization, org))
            ):
                cats, cats_label = e.categories, layer.label
            if org is not None and cats:
                break
        return org, org_label, cats, cats_label

    def _rules_for(self, suffixes: list[str]) -> list[tuple[SdkRule, str]]:
        out: list[tuple[SdkRule, str]] = []
        for s in suffixes:
            out.extend(self._rules.get(s, ()))
        out.extend(self._any_host)
        return out

    def _with_path(
        self, base: Attribution, rules: tuple[tuple[SdkRule, str], ...], path: str
    ) -> Attribution:
        p = path.split("?", 1)[0].split("#", 1)[0] or "/"
        if "://" in p:  # a whole URL was passed
            from urllib.parse import urlsplit

            p = urlsplit(path).path or "/"
        for rule, label in rules:
            if rule.matches_path(p):
                return Attribution(
                    domain=base.domain,
                    organization=base.organization or rule.organization,
                    parent=base.parent,
                    categories=_union(base.categories, rule.categories),
                    sdk=(rule.name,),
                    sources=tuple(dict.fromkeys((*base.sources, label))),
                )
        return base


def _suffixes(host: str, domain: str | None = None) -> list[str]:
    """The keys to look ``host`` up by, most specific first; last, ``name.*`` for the
    registrable domain's name under any public suffix (``google.*`` for www.google.bg)."""
    out = domains.host_suffixes(host)
    if domain is None:
        domain = domains.registrable_domain(host)
    if domain and "." in domain and not domains.is_ip(domain):
        out.append(domain.split(".", 1)[0] + ".*")
    return out


def _same_org(a: str, b: Entry) -> bool:
    return b.organization is not None and a.casefold().split() == b.organization.casefold().split()


def _union(a: tuple[str, ...], b: tuple[str, ...]) -> tuple[str, ...]:
    if not b:
        return a
    return tuple(dict.fromkeys((*a, *b)))


def load_trackers(data_dir: Path | None = None, accept_noncommercial: bool = False) -> TrackerDB:
    """The attribution database: overrides, the bundled lists, and any installed upstream lists.

    ``data_dir`` defaults to ``$EDSCAN_DATA_DIR`` or the per-user data directory. Installed
    non-commercial lists take part only with ``accept_noncommercial``. A downloaded Public
    Suffix List, when installed, replaces tldextract's snapshot for ``registrable_domain``.
    """
    from edscan.recipients import upstream

    base = upstream.resolve_data_dir(data_dir)
    layers: list[Layer] = []
    overrides = base / OVERRIDES_FILE
    if overrides.is_file():
        layers.append(load_overrides(overrides))
    layers.extend(bundled_layer(name, base) for name in BUNDLED_FILES)
    installed = upstream.load_installed(base, accept_noncommercial=accept_noncommercial)
    layers.extend(installed.used)
    domains.use_public_suffix_list(installed.psl_path, base)
    return TrackerDB(
        layers,
        extra_infos=[installed.psl_info],
        unused=installed.unused,
        problems=installed.problems,
    )
