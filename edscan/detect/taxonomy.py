"""Student-data elements: what each detected value is, how sensitive, and which keys carry it.

The SDPC NDPA Exhibit B "Schedule of Data" (categories and elements, with stable ids) plus the
elements traffic shows and Exhibit B does not name. The rows live in ``taxonomy_data``; this
module gives them types and the lookup the other modules use::

    ELEMENTS["si.iep_504"].tier            # Tier.T3
    element("st_contact.email").coppa_pi   # True
    CATEGORIES["si"].elements              # ("si.ell", "si.low_income", ...)
    elements_for_key("birthDate")          # ("demo.dob",)

Key names are compared in a normalised form (``normalise_key``): lower case, camelCase split,
punctuation removed, so ``birthDate``, ``birth_date`` and ``Birth-Date`` are the same key.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from types import MappingProxyType
from typing import Any

from edscan.detect.taxonomy_data import CATEGORIES_DATA, ELEMENTS_DATA


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


def _build() -> tuple[dict[str, Element], dict[str, Category]]:
    elements: dict[str, Element] = {}
    members: dict[str, list[str]] = {cid: [] for cid, _, _ in CATEGORIES_DATA}
    for eid, name, cat, tier, coppa, keys, weak, exhibit_b, note in ELEMENTS_DATA:
        if eid in elements:
            raise ValueError(f"taxonomy: duplicate element id {eid}")
        if cat not in members:
            raise ValueError(f"taxonomy: {eid} names an unknown category {cat}")
        elements[eid] = Element(
            id=eid,
            name=name,
            category=cat,
            tier=Tier(tier),
            coppa_pi=coppa,
            keys=keys,
            weak_keys=weak,
            exhibit_b=exhibit_b or eid,
            note=note,
        )
        members[cat].append(eid)
    for e in elements.values():
        if e.exhibit_b not in elements:
            raise ValueError(f"taxonomy: {e.id} falls under unknown element {e.exhibit_b}")
    categories = {
        cid: Category(id=cid, name=name, exhibit_b=exb, elements=tuple(members[cid]))
        for cid, name, exb in CATEGORIES_DATA
    }
    return elements, categories


_ELEMENTS, _CATEGORIES = _build()
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
