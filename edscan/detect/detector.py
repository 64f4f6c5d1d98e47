"""Which student data a flow sends: observations from a seeded persona, value shapes and keys.

``Detector(persona).observe(flow, decoded)`` looks only at ``decoded.fields`` (what left the
device); ``decoded.inbound`` (what came back) is never a leak, it only teaches the detector
*derived values*: when a response holds the persona's e-mail, username, name or student id
in a JSON object next to an id (``id``, ``user_id``, ``student_id`` ...), that id belongs to
the persona from then on (``derived.user_id``), so the same id sent later to a tracker is found.

Confidence: **high** for persona values (seeded, so no doubt about whose data it is); **medium**
for a value of the right shape under an agreeing key, or a shape that is unambiguous alone (an
e-mail address); **low** for a key name alone. Where the persona explains a field, the weaker
detections of the same element there are dropped; so are key-name detections where a pattern
found the same element in the same field.

Observations leave ``party`` at ``Party.THIRD``; the scan sets the real party once it knows
the first party.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Protocol

from edscan.decode.flow import Row, inbound_rows_of, rows_of
from edscan.detect.detection import Detection, parent_location
from edscan.detect.patterns import PatternDetector
from edscan.detect.persona import DERIVED_PREFIX, Persona
from edscan.detect.persona_match import FlowText, Hit, PersonaMatcher, key_tails
from edscan.detect.taxonomy import elements_for_key, normalise_key
from edscan.detect.value_shapes import ID_LIKE
from edscan.detect.variants import Variant, persona_variants, value_variants
from edscan.models import Confidence, Field, Flow, Observation, Party
from edscan.models import Detector as DetectorKind

# persona keys whose value, found whole in a response object, identifies the persona's record
_ANCHORS = frozenset(
    {
        "student.email",
        "student.username",
        "student.student_id",
        "student.state_id",
        "student.full_name",
        "parent.email",
    }
)
# sibling keys that hold the id the app's server gave that record
_ID_KEYS = frozenset(
    normalise_key(k)
    for k in (
        "id",
        "_id",
        "uid",
        "user_id",
        "userId",
        "student_id",
        "studentId",
        "account_id",
        "learner_id",
        "person_id",
        "member_id",
        "sourcedId",
        "external_id",
        "parent_id",
        "guardian_id",
        "uuid",
        "guid",
    )
)
_BOOLISH = frozenset({"true", "false", "null", "none", "0", "1", "yes", "no"})
_DEVICE_ELEMENTS = frozenset({"dev.ad_id", "dev.install_id"})
# what a field yielded: its persona hits, its value and key detections, its e-mail addresses
_Known = tuple[tuple[Hit, ...], tuple[Detection, ...], tuple[Detection, ...]]
_NOTHING: _Known = ((), (), ())
_MEMO_MAX = 4096  # fields remembered per generation
_MEMO_MAX_CHARS = 256  # fields with longer values are not remembered


class Decoded(Protocol):
    """What ``edscan.decode.flow.decode_flow`` returns (only these two attributes are read here)."""

    @property
    def fields(self) -> Sequence[Field]: ...

    @property
    def inbound(self) -> Sequence[Field]: ...


class Detector:
    """Stateful per scan: derived values learned from earlier responses apply to later flows."""

    def __init__(
        self, persona: Persona | None = None, *, patterns: bool = True, max_derived: int = 64
    ) -> None:
        self.persona = persona
        self._matcher = PersonaMatcher(persona_variants(persona)) if persona else None
        self._patterns = PatternDetector() if patterns else None
        self._derived: dict[str, str] = {}
        self._derived_values: set[str] = set()
        self._max_derived = max_derived
        self._persona_values = {v.lower() for v in persona.values.values()} if persona else set()
        self._memo: dict[Row, _Known] = {}  # see _observe
        self._memo_old: dict[Row, _Known] = {}
        self._seen_once: set[int] = set()  # hashes of fields seen once (see _remember)

    @property
    def learns(self) -> bool:
        """Whether responses teach this detector anything (only a persona's values can be
        assigned ids by the server); without, their bodies need no decoding."""
        return self._matcher is not None

    @property
    def derived(self) -> Mapping[str, str]:
        """Values learned from responses: ``"derived.user_id" -> value``."""
        return dict(self._derived)

    def observe(self, flow: Flow, decoded: Decoded) -> list[Observation]:
        fields = rows_of(decoded)
        observations = self._observe(flow, fields) if fields else []
        if self._matcher is not None:
            inbound = inbound_rows_of(decoded)
            if inbound:
                self._learn(inbound)
        return observations

    # ----------------------------------------------------------------------- known fields

    # Most of a flow's fields were in earlier flows too, letter for letter: the same headers,
    # path segments, SDK keys, tokens and page URLs on every hit. What the persona and the
    # patterns find in a field depends on the field alone (its location, key, value and
    # encodings) when its key plays no part in what is judged across the fields of a flow
    # (coordinates, fingerprinting keys, chat messages, OAuth codes: ``standalone``), and on the
    # persona, which only grows (derived values, which clear this memory). So what such a field
    # yielded is remembered once the field has been seen twice, and the next flow that sends it
    # again reuses it instead of searching: only the other fields are searched, its persona
    # hits and detections are taken from memory. Observations come out exactly as without the
    # memory, in the same order (tests/test_accuracy.py checks it on the labelled corpus). Two
    # generations, as for ``decoders.walk.PLAIN``, bounded: memory stays flat.

    def _observe(self, flow: Flow, fields: Sequence[Row]) -> list[Observation]:
        get, get_old = self._memo.get, self._memo_old.get
        known: list[_Known | None] = [get(f) or get_old(f) for f in fields]
        fresh = [i for i, k in enumerate(known) if k is None]
        rich = len(fields) - len(fresh) - known.count(_NOTHING)  # known fields with findings
        if not fresh and not rich:
            return []
        hits: list[tuple[int, Hit]] = []
        detections: list[tuple[int, Detection]] = []
        if fresh:
            every = len(fresh) == len(fields)
            look = fields if every else [fields[i] for i in fresh]  # the fields searched
            text = FlowText(look)
            if self._matcher is not None:
                found_hits = self._matcher.search(look, text)
                if every:
                    hits = [(h.field, h) for h in found_hits]
                else:
                    hits = [(fresh[h.field], h) for h in found_hits]
            found: list[Detection] = []
            gathered: list[Detection] = []  # judged across fields: coordinates, fingerprinting
            emails: list[Detection] = []
            if self._patterns is not None:
                found, gathered, emails = self._patterns.detect_parts(
                    flow, fields, text, None if every else fresh
                )
            self._remember(fields, fresh, hits, found, emails)
            if rich:  # merge with the remembered findings, in field order
                hits, detections = self._merge(known, hits, found, gathered, emails)
            else:
                detections = [(d.field, d) for d in found]
                detections.extend((d.field, d) for d in gathered)
                detections.extend((d.field, d) for d in emails)
        else:  # every field known: only the ones with findings matter
            emails_found: list[tuple[int, Detection]] = []
            for i in [i for i, k in enumerate(known) if k is not _NOTHING]:
                k = known[i]
                assert k is not None
                hits.extend([(i, h) for h in k[0]])
                detections.extend([(i, d) for d in k[1]])
                emails_found.extend([(i, d) for d in k[2]])
            detections.extend(emails_found)

        observations: list[Observation] = []
        explained: set[tuple[int, str]] = set()  # (field index, element) a persona hit covers
        if hits:
            found_obs: list[Observation] = []
            for i, hit in hits:
                for obs in self._persona_observations(flow, fields, i, hit):
                    found_obs.append(obs)
                    explained.add((i, obs.element))
            observations.extend(_distinct(found_obs))
        if detections:
            observations.extend(self._pattern_observations(flow, fields, detections, explained))
        return observations

    @staticmethod
    def _merge(
        known: list[_Known | None],
        hits: list[tuple[int, Hit]],
        found: list[Detection],
        gathered: list[Detection],
        emails: list[Detection],
    ) -> tuple[list[tuple[int, Hit]], list[tuple[int, Detection]]]:
        """Persona hits and detections of all fields, in the order one search of all fields
        gives: per field in field order, then what is judged across fields, then e-mails."""
        fresh_hits: dict[int, list[Hit]] = {}
        for i, h in hits:
            fresh_hits.setdefault(i, []).append(h)
        fresh_found: dict[int, list[Detection]] = {}
        for d in found:
            fresh_found.setdefault(d.field, []).append(d)
        fresh_emails: dict[int, list[Detection]] = {}
        for d in emails:
            fresh_emails.setdefault(d.field, []).append(d)
        all_hits: list[tuple[int, Hit]] = []
        detections: list[tuple[int, Detection]] = []
        all_emails: list[tuple[int, Detection]] = []
        for i, k in enumerate(known):
            if k is None:
                k = (
                    tuple(fresh_hits.get(i, ())),
                    tuple(fresh_found.get(i, ())),
                    tuple(fresh_emails.get(i, ())),
                )
            elif k is _NOTHING:
                continue
            for h in k[0]:
                all_hits.append((i, h))
            for d in k[1]:
                detections.append((i, d))
            for d in k[2]:
                all_emails.append((i, d))
        detections.extend((d.field, d) for d in gathered)
        detections.extend(all_emails)
        return all_hits, detections

    def _remember(
        self,
        fields: Sequence[Row],
        fresh: list[int],
        hits: list[tuple[int, Hit]],
        found: list[Detection],
        emails: list[Detection],
    ) -> None:
        rich: set[int] = set()
        if hits or found or emails:
            rich.update(i for i, _ in hits)
            rich.update(d.field for d in found)
            rich.update(d.field for d in emails)
        memo = self._memo
        once = self._seen_once
        standalone = self._patterns.standalone if self._patterns is not None else None
        for i in fresh:
            f = fields[i]
            if len(f[2]) > _MEMO_MAX_CHARS or (
                standalone is not None and f[1] and not standalone(f[1])
            ):
                continue
            # remembered the second time it is seen: most one-off values (event ids,
            # timestamps) are never kept, and only a number is kept of them the first time
            h = hash(f)
            if h not in once:
                if len(once) >= _MEMO_MAX * 4:
                    once.clear()
                once.add(h)
                continue
            entry: _Known = _NOTHING
            if i in rich:
                entry = (
                    tuple(h for j, h in hits if j == i),
                    tuple(d for d in found if d.field == i),
                    tuple(d for d in emails if d.field == i),
                )
            if len(memo) >= _MEMO_MAX:
                self._memo_old = memo
                self._memo = memo = {}
            memo[f] = entry

    def _forget(self) -> None:
        self._memo = {}
        self._memo_old = {}

    # ----------------------------------------------------------------------- persona

    def _persona_observations(
        self, flow: Flow, fields: Sequence[Row], i: int, hit: Hit
    ) -> list[Observation]:
        """The observations of ``hit`` in field ``i`` (``hit.field`` may be another flow's)."""
        location, key, value, encodings = fields[i]
        sent = value[hit.start : hit.end]
        out: list[Observation] = []
        seen: set[str] = set()
        exact = {v.field: v for v in reversed(hit.variants) if v.shown == sent}
        for first in hit.variants:
            if first.field in seen:
                continue
            seen.add(first.field)
            v = exact.get(first.field, first)  # the form sent in its own case, if any
            element = v.element
            if element in _DEVICE_ELEMENTS and key:
                # the key says which kind of device id it is (idfa, gps_adid, android_id ...)
                specific = [
                    e for t in key_tails(key) for e in elements_for_key(t) if e.startswith("dev.")
                ]
                if specific:
                    element = specific[0]
            detail = v.detail
            if v.shown != sent:
                detail += " (case-insensitive match)"
            out.append(
                _observation(
                    flow.index,
                    _host(flow),
                    element,
                    DetectorKind.PERSONA,
                    Confidence.HIGH,
                    location,
                    (*encodings, *v.encodings),
                    v.field,
                    sent,
                    detail,
                )
            )
        return out

    # ----------------------------------------------------------------------- patterns

    @staticmethod
    def _pattern_observations(
        flow: Flow,
        fields: Sequence[Row],
        detections: list[tuple[int, Detection]],
        explained: set[tuple[int, str]],
    ) -> list[Observation]:
        """Observations of ``(field index, detection)`` pairs (``d.field`` may be another
        flow's)."""
        if len(detections) == 1 and not explained:  # the common case: nothing to weigh
            i, d = detections[0]
            return [_detected(flow, fields[i], d)]
        low = Confidence.LOW
        strong = {(i, d.element) for i, d in detections if d.confidence is not low}
        # a value found raw and inside its decoded form (an e-mail in a JSON string and in the
        # parsed JSON) is reported at the inner location only, where its own key is known
        inner = {(fields[i][0], d.value) for i, d in detections}
        out: list[Observation] = []
        seen: set[tuple[str, str, str]] = set()
        for i, d in detections:
            k = (i, d.element)
            if k in explained or (d.confidence is low and k in strong):
                continue
            location = fields[i][0]
            # the decoder emits a value as found and as decoded at the same location
            if (location, d.element, d.value) in seen:
                continue
            if len(inner) > 1 and any(
                value == d.value and loc.startswith(location + ">") for loc, value in inner
            ):
                continue
            seen.add((location, d.element, d.value))
            out.append(_detected(flow, fields[i], d))
        return out

    # ----------------------------------------------------------------------- derived values

    def _learn(self, inbound: Sequence[Row]) -> None:
        """Ids next to the persona's identity in a response object join the persona."""
        assert self._matcher is not None
        if len(self._derived) >= self._max_derived:
            return
        # the persona's identity as a whole value of a structured response (a JSON object),
        # not a mention inside text; a dict lookup per field, no search
        known = self._matcher.anchors
        lengths = self._matcher.anchor_lengths
        anchors: list[tuple[str, str]] = []  # (parent location, persona field)
        for loc, _, value, _ in inbound:
            if len(value) not in lengths:  # JSON values come unpadded
                continue
            if not (loc.startswith("response-body:$") or (loc[:3] == "ws[" and ":$" in loc)):
                continue
            vs = known.get(value.lower())
            if vs:
                for v in vs:
                    if v.field in _ANCHORS:
                        anchors.append((parent_location(loc), v.field))
                        break
        if not anchors:
            return
        learned: list[Variant] = []
        for parent, anchor in anchors:
            for loc, key, raw, _ in inbound:
                if not key or normalise_key(key) not in _ID_KEYS:
                    continue
                if parent_location(loc) != parent:
                    continue
                value = raw.strip()
                low = value.lower()
                if (
                    len(value) < 4
                    or not ID_LIKE.match(value)
                    or low in _BOOLISH
                    or low in self._persona_values
                    or low in self._derived_values
                ):
                    continue
                name = self._derived_key(normalise_key(key))
                self._derived[name] = value
                self._derived_values.add(low)
                element = "pg.id" if anchor.startswith("parent.") else "sid.provider"
                learned.extend(
                    dataclasses.replace(v, element=element) for v in value_variants(name, value)
                )
                if len(self._derived) >= self._max_derived:
                    break
        if learned:
            self._matcher.add(learned)
            self._forget()  # the persona grew: a field seen before may hold a derived value now

    def _derived_key(self, name: str) -> str:
        key = f"{DERIVED_PREFIX}{name}"
        n = 2
        while key in self._derived:
            key = f"{DERIVED_PREFIX}{name}_{n}"
            n += 1
        return key


def _distinct(found: list[Observation]) -> list[Observation]:
    """One observation per (location, persona field, encodings), innermost location only.

    The decoder emits a value both as found and decoded (a base64 parameter and the JSON inside
    it), so the same persona value can surface twice: at ``query:data`` as a base64 variant and
    at ``query:data>$.email`` in clear. The inner location says more; the outer one goes.
    """
    if len(found) < 2:
        return found
    seen: set[tuple[str, str | None, tuple[str, ...]]] = set()
    unique: list[Observation] = []
    for o in found:
        k = (o.location, o.persona_field, o.encodings)
        if k not in seen:
            seen.add(k)
            unique.append(o)
    inner = {(o.persona_field, o.location) for o in unique}
    return [
        o
        for o in unique
        if not any(pf == o.persona_field and loc.startswith(o.location + ">") for pf, loc in inner)
    ]


# Observation is a frozen dataclass, whose __init__ sets each slot through object.__setattr__;
# the slot descriptors set them directly at less than half the cost. Used while Observation has
# exactly these attributes (tests/test_detect.py checks it, and that both ways are equal).
_OBSERVATION_FIELDS = (
    "flow",
    "host",
    "element",
    "detector",
    "confidence",
    "location",
    "encodings",
    "persona_field",
    "party",
    "value",
    "detail",
)
_OBSERVATION_FAST = tuple(f.name for f in dataclasses.fields(Observation)) == _OBSERVATION_FIELDS
(
    _o_flow,
    _o_host,
    _o_element,
    _o_detector,
    _o_confidence,
    _o_location,
    _o_encodings,
    _o_persona_field,
    _o_party,
    _o_value,
    _o_detail,
) = (Observation.__dict__[n].__set__ for n in _OBSERVATION_FIELDS)
_THIRD = Party.THIRD


def _detected(flow: Flow, field: Row, d: Detection) -> Observation:
    """The observation of detection ``d`` in ``field`` (a pattern or key-name detection)."""
    return _observation(
        flow.index,
        _host(flow),
        d.element,
        d.detector,
        d.confidence,
        field[0],
        field[3],
        None,
        d.value,
        d.detail,
    )


def _observation(
    flow: int,
    host: str,
    element: str,
    detector: DetectorKind,
    confidence: Confidence,
    location: str,
    encodings: tuple[str, ...],
    persona_field: str | None,
    value: str,
    detail: str,
) -> Observation:
    """``Observation(...)`` with ``party`` left at THIRD (the scan sets it)."""
    if not _OBSERVATION_FAST:
        return Observation(
            flow=flow,
            host=host,
            element=element,
            detector=detector,
            confidence=confidence,
            location=location,
            encodings=encodings,
            persona_field=persona_field,
            value=value,
            detail=detail,
        )
    o: Observation = object.__new__(Observation)
    _o_flow(o, flow)
    _o_host(o, host)
    _o_element(o, element)
    _o_detector(o, detector)
    _o_confidence(o, confidence)
    _o_location(o, location)
    _o_encodings(o, encodings)
    _o_persona_field(o, persona_field)
    _o_party(o, _THIRD)
    _o_value(o, value)
    _o_detail(o, detail)
    return o


_HOSTS: dict[str, str] = {}


def _host(flow: Flow) -> str:
    """``flow.host``, parsed once per URL (observations of one flow share it)."""
    h = _HOSTS.get(flow.url)
    if h is None:
        h = flow.host
        if len(_HOSTS) >= 4096:
            _HOSTS.clear()
        _HOSTS[flow.url] = h
    return h
