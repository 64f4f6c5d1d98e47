"""Registrable domains and first versus third party.

The Public Suffix List is read offline (``edscan.recipients.psl``): the snapshot tldextract
ships, or a list installed by ``edscan lists update``. Nothing is ever fetched here.

The PSL's private section is included, so ``school.github.io`` and ``bucket.s3.amazonaws.com``
are registrable domains of their own: two customers of one hosting company are different
parties.

First party versus third party is decided in ``edscan.recipients.first_party`` on top of these
registrable domains.
"""

from __future__ import annotations

import contextlib
import ipaddress
import threading
from pathlib import Path
from urllib.parse import urlsplit

from edscan.recipients.psl import SuffixRules, load_rules

LOCALHOST = "localhost"

_lock = threading.Lock()
_rules: SuffixRules | None = None  # built on first use
_psl_path: Path | None = None  # None: tldextract's own snapshot
_cache_base: Path | None = None  # the data directory, for the compiled cache of the rules
_cache: dict[str, str] = {}
_CACHE_MAX = 200_000


def use_public_suffix_list(path: Path | None, cache_base: Path | None = None) -> None:
    """Use the PSL file at ``path`` (a downloaded list) instead of tldextract's snapshot;
    ``cache_base`` (the data directory) keeps its parsed rules in the compiled cache."""
    global _rules, _psl_path, _cache_base
    with _lock:
        _cache_base = cache_base
        if path == _psl_path and _rules is not None:
            return
        _psl_path = path
        _rules = None
        _cache.clear()


def public_suffix_list_path() -> Path | None:
    """The PSL file in use, or None for the snapshot bundled with tldextract."""
    return _psl_path


def _get_rules() -> SuffixRules:
    global _rules
    if _rules is None:
        with _lock:
            if _rules is None:
                _rules = load_rules(_psl_path, _cache_base)
    return _rules


def normalize_host(host: str) -> str:
    """Lower-case ASCII host: no scheme, userinfo, port, brackets or trailing dot; IDN as punycode.

    IP addresses come back in their canonical text form (IPv6 compressed, without brackets).
    """
    h = host.strip()
    if "/" in h or "@" in h:
        # a URL or authority was passed: keep only its host
        parsed = urlsplit(h if "//" in h else "//" + h)
        h = parsed.hostname or ""
    elif h.startswith("["):
        h = h[1 : h.find("]")] if "]" in h else h[1:]
    elif h.count(":") == 1:
        h = h.split(":", 1)[0]  # host:port (a bare IPv6 address has several colons)
    h = h.rstrip(".").lower()
    if not h:
        return ""
    if ":" in h or h[-1].isdigit():
        try:
            return str(ipaddress.ip_address(h.split("%", 1)[0]))
        except ValueError:
            pass
    if not h.isascii():
        # not encodable: keep the lower-cased text; it still groups consistently
        with contextlib.suppress(UnicodeError):
            h = h.encode("idna").decode("ascii")
    return h


def is_ip(host: str) -> bool:
    # a host name's last label never ends in a digit, and only IPv6 has colons: most hosts
    # are told apart without parsing (and the exception a failed parse costs)
    if not host or (":" not in host and not host[-1].isdigit()):
        return False
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def registrable_domain(host: str) -> str:
    """The registrable domain ("eTLD+1") of ``host``: ``a.b.example.co.uk`` → ``example.co.uk``.

    IP literals are their own domain; ``localhost`` and ``*.localhost`` are ``localhost``; a
    host under an unknown suffix groups by its last two labels (``api.school.lan`` →
    ``school.lan``); a bare public suffix is returned as it is.
    """
    hit = _cache.get(host)
    if hit is not None:
        return hit
    h = normalize_host(host)
    if not h:
        result = ""
    elif is_ip(h):
        result = h
    elif h == LOCALHOST or h.endswith(".localhost"):
        result = LOCALHOST
    else:
        labels = h.split(".")
        start = _get_rules().suffix_start(labels)
        if start is None:  # no known suffix
            result = ".".join(labels[-2:]) if len(labels) >= 2 else h
        elif start == 0:  # a bare public suffix
            result = h
        else:
            result = ".".join(labels[start - 1 :])
    if len(_cache) < _CACHE_MAX:
        _cache[host] = result
    return result


def host_suffixes(host: str) -> list[str]:
    """``a.b.c`` → ``["a.b.c", "b.c", "c"]``: the keys a suffix-keyed list is searched with."""
    out = [host]
    i = host.find(".")
    while i != -1:
        out.append(host[i + 1 :])
        i = host.find(".", i + 1)
    return out
