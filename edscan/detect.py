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

from edscan.decode import Row, inbound_rows_of, rows_of
from edscan.detectors.patterns import ID_LIKE, Detection, PatternDetector, parent_location
from edscan.detectors.persona import FlowText, Hit, PersonaMatcher, key_tails
from edscan.detectors.variants import Variant, persona_variants, value_variants
from edscan.models import Confidence, Field, Flow, Observation
from edscan.models import Detector as DetectorKind
from edscan.persona import DERIVED_PREFIX, Persona
from edscan.taxonomy import elements_for_key, normalise_key

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
_BLANK: Row = ("", "", "", ())  # stands for a quiet field (see Detector._unknown)
_QUIET_MAX = 8192  # quiet fields remembered per generation
_QUIET_MAX_CHARS = 256  # longer values are not remembered


class Decoded(Protocol):
    """What ``edscan.decode.decode_flow`` returns (only these two attributes are read here)."""

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
        self._quiet: set[Row] = set()
        self._quiet_old: set[Row] = set()

    @property
    def derived(self) -> Mapping[str, str]:
        """Values learned from responses: ``"derived.user_id" -> value``."""
        return dict(self._derived)

    def observe(self, flow: Flow, decoded: Decoded) -> list[Observation]:
        fields = rows_of(decoded)
        observations: list[Observation] = []
        look = self._unknown(fields) if fields else None
        if look is not None:
            explained: set[tuple[int, str]] = set()  # (field index, element) a persona hit covers
            busy: set[int] = set()  # fields something was found in
            text = FlowText(look)
            if self._matcher is not None:
                found: list[Observation] = []
                for hit in self._matcher.search(look, text):
                    busy.add(hit.field)
                    for obs in self._persona_observations(flow, fields, hit):
                        found.append(obs)
                        explained.add((hit.field, obs.element))
                observations.extend(_distinct(found))
            if self._patterns is not None:
                detections = self._patterns.detect(flow, fields, text, look)
                if detections:
                    busy.update(d.field for d in detections)
                    observations.extend(
                        self._pattern_observations(flow, fields, detections, explained)
                    )
            self._remember_quiet(look, busy)
        if self._matcher is not None:
            inbound = inbound_rows_of(decoded)
            if inbound:
                self._learn(inbound)
        return observations

    # ----------------------------------------------------------------------- quiet fields

    # Most of a flow's fields were in earlier flows too, letter for letter: the same headers,
    # path segments, SDK keys and page URLs on every hit. A field in which neither the persona
    # nor a pattern found anything, and whose key plays no part in what is judged across the
    # fields of a flow (coordinates, fingerprinting keys, OAuth codes: ``standalone``), will
    # find nothing the next time either, until the persona grows (derived values, which clear
    # this memory). Such fields are remembered, whole (location, key, value, encodings), and
    # blanked before searching. Two generations, as for ``decoders.walk.PLAIN``, bounded: memory
    # stays flat.

    def _unknown(self, fields: Sequence[Row]) -> Sequence[Row] | None:
        """``fields`` with the quiet ones blanked (same indices), or None when all are quiet."""
        quiet, old = self._quiet, self._quiet_old
        if not quiet:
            return fields
        look = [_BLANK if (f in quiet or f in old) else f for f in fields]
        if look.count(_BLANK) == len(look):
            return None
        return look

    def _remember_quiet(self, look: Sequence[Row], busy: set[int]) -> None:
        quiet = self._quiet
        standalone = self._patterns.standalone if self._patterns is not None else None
        for i, f in enumerate(look):
            if f is _BLANK or i in busy or len(f[2]) > _QUIET_MAX_CHARS:
                continue
            if standalone is not None and f[1] and not standalone(f[1]):
                continue
            if len(quiet) >= _QUIET_MAX:
                self._quiet_old = quiet
                self._quiet = quiet = set()
            quiet.add(f)

    def _forget_quiet(self) -> None:
        self._quiet = set()
        self._quiet_old = set()

    # ----------------------------------------------------------------------- persona

    def _persona_observations(
        self, flow: Flow, fields: Sequence[Row], hit: Hit
    ) -> list[Observation]:
        location, key, value, encodings = fields[hit.field]
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
                Observation(
                    flow=flow.index,
                    host=_host(flow),
                    element=element,
                    detector=DetectorKind.PERSONA,
                    confidence=Confidence.HIGH,
                    location=location,
                    encodings=(*encodings, *v.encodings),
                    persona_field=v.field,
                    value=sent,
                    detail=detail,
                )
            )
        return out

    # ----------------------------------------------------------------------- patterns

    @staticmethod
    def _pattern_observations(
        flow: Flow,
        fields: Sequence[Row],
        detections: list[Detection],
        explained: set[tuple[int, str]],
    ) -> list[Observation]:
        if len(detections) == 1 and not explained:  # the common case: nothing to weigh
            d = detections[0]
            location, _, _, encodings = fields[d.field]
            return [
                Observation(
                    flow=flow.index,
                    host=_host(flow),
                    element=d.element,
                    detector=d.detector,
                    confidence=d.confidence,
                    location=location,
                    encodings=encodings,
                    value=d.value,
                    detail=d.detail,
                )
            ]
        low = Confidence.LOW
        strong = {(d.field, d.element) for d in detections if d.confidence is not low}
        # a value found raw and inside its decoded form (an e-mail in a JSON string and in the
        # parsed JSON) is reported at the inner location only, where its own key is known
        inner = {(fields[d.field][0], d.value) for d in detections}
        out: list[Observation] = []
        seen: set[tuple[str, str, str]] = set()
        for d in detections:
            k = (d.field, d.element)
            if k in explained or (d.confidence is low and k in strong):
                continue
            location, _, _, encodings = fields[d.field]
            # the decoder emits a value as found and as decoded at the same location
            if (location, d.element, d.value) in seen:
                continue
            if len(inner) > 1 and any(
                value == d.value and loc.startswith(location + ">") for loc, value in inner
            ):
                continue
            seen.add((location, d.element, d.value))
            out.append(
                Observation(
                    flow=flow.index,
                    host=_host(flow),
                    element=d.element,
                    detector=d.detector,
                    confidence=d.confidence,
                    location=location,
                    encodings=encodings,
                    value=d.value,
                    detail=d.detail,
                )
            )
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
            self._forget_quiet()  # the persona grew: a quiet field may hold a derived value now

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
