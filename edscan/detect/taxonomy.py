"""Student-data elements: what each detected value is, how sensitive, and which keys carry it.

The SDPC NDPA Exhibit B "Schedule of Data" (categories and elements, with stable ids) plus the
elements traffic shows and Exhibit B does not name. The rows are data, in ``taxonomy.json``
beside this module (its ``about`` says what each field means); this module reads the file once
at import, checks it (``parse_taxonomy``: a broken file is an EdscanError that names the file,
the element and what is wrong), gives the rows types and the lookup the other modules use::

    ELEMENTS["si.iep_504"].tier            # Tier.T3
    element("st_contact.email").coppa_pi   # True
    CATEGORIES["si"].elements              # ("si.ell", "si.low_income", ...)
    elements_for_key("birthDate")          # ("demo.dob",)

Key names are compared in a normalised form (``normalise_key``): lower case, camelCase split,
punctuation removed, so ``birthDate``, ``birth_date`` and ``Birth-Date`` are the same key.
"""

from __future__ import annotations

import enum
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from types import MappingProxyType
from typing import Any

from edscan.errors import EdscanError
from edscan.resources import resource

TAXONOMY_FILE = "taxonomy.json"


class Tier(enum.IntEnum):
    """Sensitivity, lowest first: technical, identifier, education record, sensitive."""

    T0 = 0
    T1 = 1
    T2 = 2
    T3 = 3

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True, slots=True, kw_only=True)
class Element:
    id: str
    name: str
    category: str  # a CATEGORIES id
    tier: Tier
    coppa_pi: bool  # listed on its own as personal information in 16 CFR 312.2
    keys: tuple[str, ...]  # key names that alone say what the value is
    weak_keys: tuple[str, ...]  # key names that only agree with a value of the right shape
    exhibit_b: str  # the Exhibit B element id it is reported under (itself for Exhibit B rows)
    note: str = ""

    @property
    def in_exhibit_b(self) -> bool:
        return self.exhibit_b == self.id

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "category": self.category,
            "tier": str(self.tier),
            "coppa_pi": self.coppa_pi,
            "exhibit_b": self.exhibit_b,
            "keys": list(self.keys),
            "weak_keys": list(self.weak_keys),
            "note": self.note,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class Category:
    id: str
    name: str
    exhibit_b: bool  # an Exhibit B category, or one edscan adds
    elements: tuple[str, ...]


# what every row must hold, and of which JSON type (bool is checked apart: JSON true is no tier)
_CATEGORY_FIELDS: dict[str, type] = {"id": str, "name": str, "exhibit_b": bool}
_ELEMENT_FIELDS: dict[str, type] = {
    "id": str,
    "name": str,
    "category": str,
    "tier": int,
    "coppa_pi": bool,
    "keys": list,
    "weak_keys": list,
    "exhibit_b": str,
    "note": str,
}
_TYPE_NAMES = {str: "a string", bool: "true or false", int: "an integer", list: "a list"}


class _Invalid(Exception):
    """What is wrong with the taxonomy file (``parse_taxonomy`` adds the file's name)."""


def _row(raw: object, fields: dict[str, type], where: str) -> dict[str, Any]:
    """One category or element object with exactly ``fields``, each of its type."""
    if not isinstance(raw, dict):
        raise _Invalid(f"{where}: expected an object, got {type(raw).__name__}")
    missing = [k for k in fields if k not in raw]
    if missing:
        raise _Invalid(f"{where}: missing {', '.join(missing)}")
    unknown = sorted(k for k in raw if k not in fields)
    if unknown:
        raise _Invalid(f"{where}: unknown {', '.join(unknown)} (allowed: {', '.join(fields)})")
    for key, kind in fields.items():
        value = raw[key]
        # bool is an int in Python: a tier of true must not pass as 1
        if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
            raise _Invalid(f"{where}: {key} must be {_TYPE_NAMES[kind]}, got {json.dumps(value)}")
        if isinstance(value, list) and not all(isinstance(v, str) for v in value):
            raise _Invalid(f"{where}: {key} must be a list of strings, got {json.dumps(value)}")
    if not raw["id"]:
        raise _Invalid(f"{where}: id must not be empty")
    return raw


def parse_taxonomy(text: str, source: str) -> tuple[dict[str, Element], dict[str, Category]]:
    """Elements and categories from the taxonomy file's text, checked; ``source`` names the file.

    Any problem is an EdscanError naming ``source``, the element or category, and what is wrong.
    """
    try:
        return _parse(text)
    except _Invalid as exc:
        raise EdscanError(f"taxonomy file {source}: {exc}") from None


def _parse(text: str) -> tuple[dict[str, Element], dict[str, Category]]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise _Invalid(f"not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise _Invalid("expected an object with categories and elements")
    for part in ("categories", "elements"):
        if not isinstance(data.get(part), list):
            raise _Invalid(f"{part} must be a list of objects")
    unknown = sorted(k for k in data if k not in ("about", "categories", "elements"))
    if unknown:
        raise _Invalid(
            f"unknown top-level {', '.join(unknown)} (allowed: about, categories, elements)"
        )

    members: dict[str, list[str]] = {}
    category_rows: list[dict[str, Any]] = []
    for n, raw in enumerate(data["categories"], 1):
        cid = raw.get("id") if isinstance(raw, dict) else None
        where = f"category {cid!r}" if isinstance(cid, str) and cid else f"category #{n}"
        row = _row(raw, _CATEGORY_FIELDS, where)
        if row["id"] in members:
            raise _Invalid(f"{where}: duplicate category id")
        members[row["id"]] = []
        category_rows.append(row)

    elements: dict[str, Element] = {}
    for n, raw in enumerate(data["elements"], 1):
        eid = raw.get("id") if isinstance(raw, dict) else None
        where = f"element {eid!r}" if isinstance(eid, str) and eid else f"element #{n}"
        row = _row(raw, _ELEMENT_FIELDS, where)
        if eid in elements:
            raise _Invalid(f"{where}: duplicate element id")
        if row["category"] not in members:
            raise _Invalid(f"{where}: unknown category {row['category']!r}")
        if row["tier"] not in tuple(Tier):
            raise _Invalid(f"{where}: tier must be one of 0, 1, 2, 3, got {row['tier']}")
        elements[row["id"]] = Element(
            id=row["id"],
            name=row["name"],
            category=row["category"],
            tier=Tier(row["tier"]),
            coppa_pi=row["coppa_pi"],
            keys=tuple(row["keys"]),
            weak_keys=tuple(row["weak_keys"]),
            exhibit_b=row["exhibit_b"] or row["id"],
            note=row["note"],
        )
        members[row["category"]].append(row["id"])
    for e in elements.values():
        # an element is reported under an Exhibit B row, never under another added element
        under = elements.get(e.exhibit_b)
        if under is None:
            raise _Invalid(f"element {e.id!r}: exhibit_b names an unknown element {e.exhibit_b!r}")
        if not under.in_exhibit_b:
            raise _Invalid(
                f"element {e.id!r}: exhibit_b names {e.exhibit_b!r}, which is not its own "
                "Exhibit B row"
            )
    categories = {
        c["id"]: Category(
            id=c["id"], name=c["name"], exhibit_b=c["exhibit_b"], elements=tuple(members[c["id"]])
        )
        for c in category_rows
    }
    return elements, categories


def _load() -> tuple[dict[str, Element], dict[str, Category]]:
    """The shipped taxonomy (a broken one is a bug in edscan's data, reported as such)."""
    path = resource("taxonomy", TAXONOMY_FILE)
    return parse_taxonomy(path.read_text(encoding="utf-8"), str(path))


_ELEMENTS, _CATEGORIES = _load()
ELEMENTS: Mapping[str, Element] = MappingProxyType(_ELEMENTS)
CATEGORIES: Mapping[str, Category] = MappingProxyType(_CATEGORIES)


def element(element_id: str) -> Element:
    """The element with this id; KeyError names the id when there is none."""
    try:
        return _ELEMENTS[element_id]
    except KeyError:
        raise KeyError(f"unknown student-data element {element_id!r}") from None


_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_NONALNUM = re.compile(r"[^a-z0-9]+")


@lru_cache(maxsize=8192)
def normalise_key(key: str) -> str:
    """``birthDate``, ``birth_date``, ``$birth-date`` -> ``birth_date``; ``ud[em]`` -> ``em``.

    The innermost bracket or dotted part is the key (``ud[em]``, ``user.email``), because form
    encoders and SDKs nest names that way.
    """
    k = key.strip()
    if k.endswith("]") and "[" in k:
        inner = k[k.rfind("[") + 1 : -1].strip("'\"")
        if inner and not inner.isdigit():
            k = inner
    if "." in k:
        k = k.rsplit(".", 1)[1] or k
    k = _CAMEL.sub("_", k).lower()
    return _NONALNUM.sub("_", k).strip("_")


def _key_index(strong: bool) -> dict[str, tuple[str, ...]]:
    index: dict[str, list[str]] = {}
    for e in _ELEMENTS.values():
        for k in e.keys if strong else (*e.keys, *e.weak_keys):
            index.setdefault(normalise_key(k), []).append(e.id)
    return {k: tuple(dict.fromkeys(v)) for k, v in index.items()}


_STRONG = _key_index(strong=True)
_ANY = _key_index(strong=False)


def elements_for_key(key: str, *, weak: bool = False) -> tuple[str, ...]:
    """Element ids whose typical keys include ``key`` (normalised); ``weak`` adds weak keys."""
    return (_ANY if weak else _STRONG).get(normalise_key(key), ())


def key_agrees(key: str, element_id: str) -> bool:
    """Whether ``key`` is one of the element's typical keys, strong or weak."""
    return element_id in _ANY.get(normalise_key(key), ())
