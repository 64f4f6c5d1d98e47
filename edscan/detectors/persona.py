"""Find seeded persona values in a flow's fields with one multi-pattern automaton.

All field values of a flow are joined into one string (``\\x00`` between fields, a character no
variant holds) and lower-cased once; one Aho-Corasick pass over it finds every variant of every
persona value, and offsets map each hit back to its field. Short (gated) variants are looked up
as whole field values instead, and count only under an agreeing key.

A hit must stand on its own: it must not continue a number with digits or a word with letters
(``9000012345`` inside ``19000012345678`` is not the state id), except after a ``%XX`` or
backslash escape. Where hits overlap, the longest wins (the e-mail,
not the first name inside it).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import ahocorasick

from edscan.detectors.variants import Variant
from edscan.models import Field
from edscan.persona import spec_for
from edscan.taxonomy import ELEMENTS, normalise_key

SEP = "\x00"


@dataclass(frozen=True, slots=True)
class Hit:
    """Persona variants found in field ``field`` (an index) at ``[start, end)`` of its value."""

    field: int
    start: int
    end: int
    variants: tuple[Variant, ...]


def _agree_keys(persona_key: str) -> frozenset[str]:
    spec = spec_for(persona_key)
    e = ELEMENTS[spec.element]
    return frozenset(normalise_key(k) for k in (*spec.agree, *e.keys, *e.weak_keys))


def _kind(c: str) -> int:
    return 1 if c.isdigit() else 2 if c.isalpha() else 0


def _bounded(text: str, start: int, end: int) -> bool:
    """Whether ``text[start:end]`` does not continue a longer number or word.

    A digit next to a digit, or a letter next to a letter, means the hit is part of something
    longer (``9000012345`` in ``19000012345678``, ``Quilul`` in ``Quilulian``); a letter next
    to a digit does not (``2012-03-28T00:00``). A ``%XX`` or backslash escape just before is a
    boundary too (``email%3Dqz%40...``).
    """
    if start > 0:
        k = _kind(text[start])
        if k and k == _kind(text[start - 1]):
            escaped = (start >= 3 and text[start - 3] == "%") or (
                start >= 2 and text[start - 2] == "\\"
            )
            if not escaped:
                return False
    if end < len(text):
        k = _kind(text[end - 1])
        if k and k == _kind(text[end]):
            return False
    return True


class PersonaMatcher:
    """The automaton and gated table for a set of variants; ``add`` grows it (derived ids)."""

    def __init__(self, variants: Iterable[Variant] = ()) -> None:
        self._variants: list[Variant] = []
        self._agree: dict[str, frozenset[str]] = {}
        self._automaton: ahocorasick.Automaton | None = None
        self._gated: dict[str, tuple[Variant, ...]] = {}
        self._gated_max = 0
        self.add(variants)

    def __len__(self) -> int:
        return len(self._variants)

    def add(self, variants: Iterable[Variant]) -> None:
        """Add variants and rebuild (cheap: a few milliseconds for thousands of patterns)."""
        new = [v for v in variants if SEP not in v.text and v.text]
        if not new and self._variants:
            return
        self._variants.extend(new)
        for v in new:
            if v.field not in self._agree:
                self._agree[v.field] = _agree_keys(v.field)
        words: dict[str, list[Variant]] = {}
        gated: dict[str, list[Variant]] = {}
        for v in self._variants:
            (gated if v.gated else words).setdefault(v.text, []).append(v)
        if words:
            a = ahocorasick.Automaton()
            for text, vs in words.items():
                a.add_word(text, (len(text), tuple(vs)))
            a.make_automaton()
            self._automaton = a
        else:
            self._automaton = None
        self._gated = {k: tuple(v) for k, v in gated.items()}
        self._gated_max = max((len(k) for k in self._gated), default=0)

    def search(self, fields: Sequence[Field]) -> list[Hit]:
        """Every hit in ``fields``, longest first where they overlap, in field order."""
        if not fields or not self._variants:
            return []
        hits: list[Hit] = []
        if self._automaton is not None:
            values = [f.value for f in fields]
            joined = SEP.join(values)
            low = joined.lower()
            if len(low) == len(joined):
                self._scan(joined, low, values, 0, hits)
            else:  # a character whose lower case is longer: offsets would drift, go per field
                for i, value in enumerate(values):
                    lv = value.lower()
                    if len(lv) == len(value):
                        self._scan(value, lv, [value], i, hits)
        if self._gated:
            self._gated_hits(fields, hits)
        return _longest(hits)

    def _scan(self, text: str, low: str, values: list[str], first: int, out: list[Hit]) -> None:
        assert self._automaton is not None
        starts: list[int] | None = None
        for end, (length, variants) in self._automaton.iter(low):
            start = end - length + 1
            stop = end + 1
            if not _bounded(text, start, stop):
                continue
            if starts is None:
                starts = []
                pos = 0
                for v in values:
                    starts.append(pos)
                    pos += len(v) + 1
            i = bisect_right(starts, start) - 1
            offset = starts[i]
            out.append(
                Hit(
                    field=first + i,
                    start=start - offset,
                    end=stop - offset,
                    variants=variants,
                )
            )

    def _gated_hits(self, fields: Sequence[Field], out: list[Hit]) -> None:
        limit = self._gated_max + 8  # room for surrounding whitespace
        gated = self._gated
        for i, f in enumerate(fields):
            value = f.value
            if len(value) > limit:
                continue
            s = value.strip().lower()
            vs = gated.get(s)
            if not vs:
                continue
            tails = key_tails(f.key) if f.key else ("",)
            ok = tuple(v for v in vs if not self._agree[v.field].isdisjoint(tails))
            if ok:
                start = value.lower().find(s)
                out.append(
                    Hit(
                        field=i,
                        start=start,
                        end=start + len(s),
                        variants=ok,
                    )
                )


def key_tails(key: str) -> tuple[str, ...]:
    """The normalised key and its word suffixes: ``x-student-grade`` -> ``x_student_grade``,
    ``student_grade``, ``grade``, so prefixed names (``user_zip``, ``x-grade``) still agree."""
    nk = normalise_key(key)
    parts = nk.split("_")
    return tuple("_".join(parts[i:]) for i in range(len(parts)))


def _longest(hits: list[Hit]) -> list[Hit]:
    """Drop hits contained in a longer hit of the same field."""
    if len(hits) < 2:
        return hits
    hits.sort(key=lambda h: (h.field, h.start, h.start - h.end))
    kept: list[Hit] = []
    field, reach = -1, -1
    for h in hits:
        if h.field != field:
            field, reach = h.field, -1
        if h.end <= reach:
            continue
        kept.append(h)
        reach = max(reach, h.end)
    return kept
