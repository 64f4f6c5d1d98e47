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

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

import ahocorasick

from edscan.decode.context import Row
from edscan.detect.persona import spec_for
from edscan.detect.taxonomy import ELEMENTS, normalise_key
from edscan.detect.variants import Variant

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


_AROUND_SEP = re.compile(r"\s*\x00\s*")
# padding next to a separator; substring tests are much cheaper than a regex search here
_PADS = tuple(p for c in " \t\r\n" for p in (SEP + c, c + SEP))


# request headers whose values describe the browser, never a person: not searched (the user
# agent alone is a third of a typical flow's text)
_NEVER_DATA = frozenset(
    "header:" + h
    for h in (
        "user-agent",
        "accept-language",
        "origin",
        "sec-ch-ua",
        "sec-ch-ua-mobile",
        "sec-ch-ua-platform",
        "sec-ch-ua-platform-version",
        "sec-ch-ua-full-version-list",
        "sec-ch-ua-arch",
        "sec-ch-ua-bitness",
        "sec-ch-ua-wow64",
        "sec-ch-ua-full-version",
        "sec-ch-prefers-color-scheme",
    )
)


class FlowText:
    """A flow's outbound values joined once for every detector that searches text.

    ``joined`` is ``SEP + v1 + SEP + v2 ... + SEP`` over the values stripped of outer
    whitespace, so a whole field value is ``SEP + value + SEP`` (how gated variants are found by
    the same automaton pass) and no match can span two fields. Building it is C work only (a
    join, and a substitution in the rare flow with padded values); a position is mapped back
    to its field only for hits.
    """

    __slots__ = ("_values", "joined")

    def __init__(self, fields: Sequence[Row]) -> None:
        skip = _NEVER_DATA
        joined = SEP + SEP.join([("" if f[0] in skip else f[2]) for f in fields]) + SEP
        if joined.count(SEP) != len(fields) + 1:  # a value holds NUL characters: blank them
            joined = (
                SEP
                + SEP.join([("" if f[0] in skip else f[2].replace(SEP, " ")) for f in fields])
                + SEP
            )
        padded = " \x00" in joined or "\x00 " in joined
        if not padded and ("\t" in joined or "\n" in joined or "\r" in joined):
            padded = any(p in joined for p in _PADS)
        if padded:
            joined = _AROUND_SEP.sub(SEP, joined)
        self.joined = joined
        self._values: list[str] | None = None

    @property
    def values(self) -> list[str]:
        """The stripped values, in field order."""
        if self._values is None:
            self._values = self.joined[1:-1].split(SEP)
        return self._values

    def locate(self, pos: int) -> tuple[int, int]:
        """(field index, offset in its stripped value) of position ``pos`` of ``joined``."""
        joined = self.joined
        return joined.count(SEP, 0, pos) - 1, pos - joined.rfind(SEP, 0, pos) - 1


class PersonaMatcher:
    """One automaton for a set of variants; ``add`` grows it (derived ids)."""

    def __init__(self, variants: Iterable[Variant] = ()) -> None:
        self._variants: list[Variant] = []
        self._agree: dict[str, frozenset[str]] = {}
        self._automaton: ahocorasick.Automaton | None = None
        self.anchors: dict[str, tuple[Variant, ...]] = {}  # plain text -> variants, for learning
        self.anchor_lengths: frozenset[int] = frozenset()
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
        for v in self._variants:
            # a gated variant must be a whole field value: it is searched with the separators
            # around it, and its key is checked only when the automaton finds it
            text = f"{SEP}{v.text}{SEP}" if v.gated else v.text
            words.setdefault(text, []).append(v)
        anchors: dict[str, list[Variant]] = {}
        for v in self._variants:
            if not v.encodings:
                anchors.setdefault(v.text, []).append(v)
        self.anchors = {k: tuple(v) for k, v in anchors.items()}
        self.anchor_lengths = frozenset(len(k) for k in self.anchors)
        if words:
            a = ahocorasick.Automaton()
            for text, vs in words.items():
                a.add_word(text, (len(text), tuple(vs), text[0] == SEP))
            a.make_automaton()
            self._automaton = a
        else:
            self._automaton = None

    def search(self, fields: Sequence[Row], text: FlowText | None = None) -> list[Hit]:
        """Every hit in ``fields``, longest first where they overlap, in field order."""
        if not fields or self._automaton is None:
            return []
        t = text or FlowText(fields)
        hits: list[Hit] = []
        low = t.joined.lower()
        if len(low) == len(t.joined):
            self._scan(t, low, fields, hits)
        else:  # a character whose lower case is longer: offsets would drift, go per field
            for i, f in enumerate(fields):
                one = FlowText([f])
                if len(one.joined.lower()) == len(one.joined):
                    for h in self.search([f], one):
                        hits.append(Hit(field=i, start=h.start, end=h.end, variants=h.variants))
        return _longest(hits)

    def _scan(self, t: FlowText, low: str, fields: Sequence[Row], out: list[Hit]) -> None:
        assert self._automaton is not None
        joined = t.joined
        for end, (length, variants, gated) in self._automaton.iter(low):
            start = end - length + 1
            stop = end + 1
            if gated:
                start += 1
                stop -= 1
            elif not _bounded(joined, start, stop):
                # a base64 fragment lies inside a longer encoded text by construction
                variants = tuple(v for v in variants if v.inside)
                if not variants:
                    continue
            i, offset = t.locate(start)
            _, key, value, _ = fields[i]
            if gated:
                tails = key_tails(key) if key else ("",)
                variants = tuple(v for v in variants if not self._agree[v.field].isdisjoint(tails))
                if not variants:
                    continue
            lead = len(value) - len(value.lstrip()) if value[:1].isspace() else 0
            out.append(
                Hit(
                    field=i,
                    start=offset + lead,
                    end=offset + lead + stop - start,
                    variants=variants,
                )
            )


@lru_cache(maxsize=8192)
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
