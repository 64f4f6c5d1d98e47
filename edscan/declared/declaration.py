"""The vendor's declaration (``--declared vendor.toml``): what the signed agreement lists.

A school reviewer copies two things from the vendor's data privacy agreement (the SDPC NDPA's
Exhibit B "Schedule of Data" and the list of subprocessors) into a small TOML file::

    vendor = "Brindlewick Learning, Inc."
    agreement = "SDPC NDPA v1.0, signed 2026-01-12"
    elements = ["st.name", "sid.username", "Application Technology Meta Data"]

    [[third_party]]
    name = "Amazon Web Services"
    domains = ["amazonaws.com", "cloudfront.net"]
    purpose = "hosting"

``elements`` holds taxonomy element ids (``st_contact.email``; ``edscan elements`` lists them),
category ids (``sid``) or category names (``Student Identifiers``, case and punctuation
ignored); a category stands for every element in it. ``third_party`` entries name an
organisation, its domains, or both, with an optional purpose. Either part may be left out, and
is then not compared; ``elements = []`` and ``third_party = []`` say the agreement lists none.
Anything unknown is an ``EdscanError`` naming the key or entry (exit 2).

``edscan.declared.compare.compare`` compares a ``Declaration`` with a scan result.
"""

from __future__ import annotations

import difflib
import hashlib
import ipaddress
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from edscan.declared.records import DeclaredParty
from edscan.detect import taxonomy
from edscan.errors import EdscanError

TOP_KEYS = ("vendor", "agreement", "elements", "third_party")
PARTY_KEYS = ("name", "domains", "purpose")
_NON_ALNUM = re.compile(r"[^0-9a-z]+")
_LABEL = re.compile(r"^[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?$")


@dataclass(frozen=True, slots=True, kw_only=True)
class Declaration:
    """A parsed declaration file."""

    source: str  # the file as given
    sha256: str  # of the file's bytes, so a report says which declaration it used
    vendor: str = ""
    agreement: str = ""
    elements: tuple[str, ...] | None = None  # element ids, categories expanded, taxonomy order
    parties: tuple[DeclaredParty, ...] | None = None


def load_declaration(path: str | Path) -> Declaration:
    """Read and validate a declaration file; EdscanError (one line) on anything wrong."""
    p = Path(path)
    try:
        data = p.read_bytes()
    except FileNotFoundError:
        raise EdscanError(f"{p}: no such declaration file") from None
    except IsADirectoryError:
        raise EdscanError(f"{p}: is a directory, not a declaration file") from None
    except OSError as e:
        raise EdscanError(f"{p}: cannot read ({e.strerror or e})") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise EdscanError(f"{p}: not UTF-8 text; save the declaration as UTF-8") from None
    return parse_declaration(text, source=str(p), sha256=hashlib.sha256(data).hexdigest())


def parse_declaration(text: str, *, source: str = "declaration", sha256: str = "") -> Declaration:
    """A ``Declaration`` from TOML text; ``source`` names the file in error messages."""
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise EdscanError(f"{source}: not valid TOML ({e})") from None
    unknown = [k for k in doc if k not in TOP_KEYS]
    if unknown:
        raise EdscanError(
            f"{source}: unknown key {unknown[0]!r}{_did_you_mean(unknown[0], TOP_KEYS)}; "
            f"a declaration has {', '.join(TOP_KEYS)}"
        )
    if "elements" not in doc and "third_party" not in doc:
        raise EdscanError(
            f"{source}: declares nothing to compare; give `elements` (the Exhibit B data "
            "elements) and/or `[[third_party]]` entries (the subprocessors); "
            "`edscan declared new` writes a template"
        )
    return Declaration(
        source=source,
        sha256=sha256 or hashlib.sha256(text.encode("utf-8")).hexdigest(),
        vendor=_text(doc, "vendor", source),
        agreement=_text(doc, "agreement", source),
        elements=_elements(doc["elements"], source) if "elements" in doc else None,
        parties=_parties(doc["third_party"], source) if "third_party" in doc else None,
    )


# --------------------------------------------------------------------------- elements


def _norm(text: str) -> str:
    return _NON_ALNUM.sub(" ", text.casefold()).strip()


def _category_index() -> dict[str, tuple[str, ...]]:
    index: dict[str, tuple[str, ...]] = {}
    for c in taxonomy.CATEGORIES.values():
        index[_norm(c.id)] = c.elements
        index[_norm(c.name)] = c.elements
    return index


def resolve_element(entry: str) -> tuple[str, ...] | None:
    """The element ids an ``elements`` entry stands for, or None when it names nothing."""
    e = entry.strip()
    if e in taxonomy.ELEMENTS:
        return (e,)
    if e.lower() in taxonomy.ELEMENTS:
        return (e.lower(),)
    return _category_index().get(_norm(e))


def _elements(value: Any, source: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise EdscanError(
            f'{source}: elements must be a list of strings, e.g. ["st.name", "sid.username"]'
        )
    chosen: set[str] = set()
    for entry in value:
        ids = resolve_element(entry)
        if ids is None:
            names = [c.name for c in taxonomy.CATEGORIES.values()]
            known = [*taxonomy.ELEMENTS, *taxonomy.CATEGORIES, *names]
            raise EdscanError(
                f"{source}: elements: unknown data element or category {entry!r}"
                f"{_did_you_mean(entry.strip(), known)}; `edscan elements` lists the ids"
            )
        chosen.update(ids)
    return tuple(e for e in taxonomy.ELEMENTS if e in chosen)


# --------------------------------------------------------------------------- third parties


def _parties(value: Any, source: str) -> tuple[DeclaredParty, ...]:
    if isinstance(value, dict):
        value = [value]
    if not isinstance(value, list):
        raise EdscanError(
            f"{source}: third_party must be a list of [[third_party]] tables "
            "(name, domains, purpose)"
        )
    parties = []
    for i, item in enumerate(value, 1):
        where = f"{source}: third_party #{i}"
        if not isinstance(item, dict):
            raise EdscanError(f"{where}: must be a table with name, domains and/or purpose")
        unknown = [k for k in item if k not in PARTY_KEYS]
        if unknown:
            raise EdscanError(
                f"{where}: unknown key {unknown[0]!r}{_did_you_mean(unknown[0], PARTY_KEYS)}; "
                f"an entry has {', '.join(PARTY_KEYS)}"
            )
        name = _text(item, "name", where)
        raw = item.get("domains", [])
        if isinstance(raw, str):
            raw = [raw]
        if not isinstance(raw, list) or not all(isinstance(d, str) for d in raw):
            raise EdscanError(f"{where}: domains must be a list of strings")
        domains = tuple(dict.fromkeys(_domain(d, where) for d in raw))
        if not name.strip() and not domains:
            raise EdscanError(f"{where}: give the organisation's name, its domains, or both")
        parties.append(
            DeclaredParty(name=name.strip(), domains=domains, purpose=_text(item, "purpose", where))
        )
    return tuple(parties)


def normalise_domain(text: str) -> str | None:
    """``https://*.Sentry.io/x`` -> ``sentry.io``; None when it is no domain or IP address."""
    d = text.strip().lower()
    if "://" in d:
        d = d.split("://", 1)[1]
    d = d.split("/", 1)[0].split("?", 1)[0].split("#", 1)[0]
    d = d.rsplit("@", 1)[-1]
    if d.startswith("[") and "]" in d:  # [::1]:443
        d = d[1 : d.index("]")]
    elif d.count(":") == 1:
        d = d.split(":", 1)[0]
    while d.startswith("*.") or d.startswith("."):
        d = d[2:] if d.startswith("*.") else d[1:]
    d = d.rstrip(".")
    if not d:
        return None
    try:
        return str(ipaddress.ip_address(d))
    except ValueError:
        pass
    try:
        d = d.encode("idna").decode("ascii")
    except UnicodeError:
        return None
    labels = d.split(".")
    if d == "localhost" or (len(labels) >= 2 and all(_LABEL.match(x) for x in labels)):
        return d
    return None


def _domain(text: str, where: str) -> str:
    d = normalise_domain(text)
    if d is None:
        raise EdscanError(
            f"{where}: {text!r} is not a domain; write domains like "
            '"sentry.io" (it covers its subdomains)'
        )
    return d


# --------------------------------------------------------------------------- helpers


def _text(doc: dict[str, Any], key: str, where: str) -> str:
    value = doc.get(key, "")
    if not isinstance(value, str):
        raise EdscanError(f"{where}: {key} must be a string")
    return value


def _did_you_mean(word: str, known: Any) -> str:
    close = difflib.get_close_matches(word, list(known), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""
