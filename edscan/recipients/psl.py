"""The Public Suffix List, read straight from its text: a set lookup per label, no dependencies.

tldextract's own loader pulls in requests and builds a trie of objects, which costs a
one-request scan about a third of its start-up; the rules here are three sets of strings,
kept in the compiled cache of the lists. The file is tldextract's bundled snapshot (found
without importing tldextract) or a list installed by ``edscan lists update``. Both sections
(ICANN and private) are used, as ``include_psl_private_domains=True`` did.
"""

from __future__ import annotations

import contextlib
import importlib.util
import re
from dataclasses import dataclass
from pathlib import Path

SNAPSHOT_NAME = ".tld_set_snapshot"
_VERSION_RE = re.compile(r"""^__version__\s*=.*?['"]([^'"]+)['"]""", re.MULTILINE)


@dataclass(frozen=True, slots=True, kw_only=True)
class SuffixRules:
    """Plain rules (``co.uk``), wildcard bases (``*.ck`` → ``ck``) and exceptions (``www.ck``)."""

    plain: frozenset[str]
    wildcard: frozenset[str]
    exception: frozenset[str]

    def suffix_start(self, labels: list[str]) -> int | None:
        """Index of the first label of the longest matching public suffix, None if none."""
        for i in range(len(labels)):
            candidate = ".".join(labels[i:])
            if candidate in self.exception:
                return i + 1
            if candidate in self.plain:
                return i
            if i + 1 < len(labels) and ".".join(labels[i + 1 :]) in self.wildcard:
                return i
        return None


def _ascii_forms(rule: str) -> list[str]:
    """The rule as written and, for an internationalised rule, its punycode form (hosts are
    normalised to punycode before lookup)."""
    if rule.isascii():
        return [rule]
    with contextlib.suppress(UnicodeError):
        return [rule, ".".join(label.encode("idna").decode("ascii") for label in rule.split("."))]
    return [rule]


def parse_rules(text: str) -> SuffixRules:
    plain: set[str] = set()
    wildcard: set[str] = set()
    exception: set[str] = set()
    for line in text.splitlines():
        rule = line.strip().split(" ", 1)[0].lower()
        if not rule or rule.startswith("//"):
            continue
        if rule.startswith("!"):
            exception.update(_ascii_forms(rule[1:]))
        elif rule.startswith("*."):
            wildcard.update(_ascii_forms(rule[2:]))
        else:
            plain.update(_ascii_forms(rule))
    return SuffixRules(
        plain=frozenset(plain), wildcard=frozenset(wildcard), exception=frozenset(exception)
    )


def _tldextract_dir() -> Path | None:
    # find_spec on a top-level package locates it without running its __init__
    spec = importlib.util.find_spec("tldextract")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def snapshot_path() -> Path | None:
    """tldextract's bundled copy of the list, or None when tldextract is not installed."""
    base = _tldextract_dir()
    if base is None or not (base / SNAPSHOT_NAME).is_file():
        return None
    return base / SNAPSHOT_NAME


def snapshot_version() -> str:
    """tldextract's version, read from its version file (importing it would load requests)."""
    base = _tldextract_dir()
    if base is not None:
        with contextlib.suppress(OSError):
            match = _VERSION_RE.search((base / "_version.py").read_text(encoding="utf-8"))
            if match:
                return match.group(1)
    return "unknown"


def load_rules(path: Path | None, cache_base: Path | None = None) -> SuffixRules:
    """Rules from ``path``, falling back to the snapshot when it cannot be read.

    With ``cache_base`` (the data directory) the parsed rules are read from, or written to,
    the compiled cache there (``edscan.recipients.listcache``): parsing the list, with the
    punycode of its internationalised rules, is ~40 ms of a one-request scan; reading the
    cache, ~1 ms."""
    for candidate in (path, snapshot_path()):
        if candidate is None:
            continue
        with contextlib.suppress(OSError, UnicodeError):
            return _cached(candidate.read_bytes(), cache_base)
    return SuffixRules(plain=frozenset(), wildcard=frozenset(), exception=frozenset())


def _cached(raw: bytes, cache_base: Path | None) -> SuffixRules:
    from edscan.recipients import listcache

    data = listcache.read_cached(cache_base, raw) if cache_base is not None else None
    if data is not None:
        with contextlib.suppress(KeyError, TypeError):
            return SuffixRules(
                plain=frozenset(data["plain"]),
                wildcard=frozenset(data["wildcard"]),
                exception=frozenset(data["exception"]),
            )
    rules = parse_rules(raw.decode("utf-8"))
    if cache_base is not None:
        listcache.write_cached(
            cache_base,
            raw,
            {
                "plain": sorted(rules.plain),
                "wildcard": sorted(rules.wildcard),
                "exception": sorted(rules.exception),
            },
        )
    return rules
