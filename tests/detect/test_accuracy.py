"""Persona detection on the labelled SDK corpus: every value in every encoding, no false alarms.

Runs the real decoder and the real detector over the flows of ``corpus_sdk``; the pattern
detectors' precision and recall on the same corpus are printed by
``benchmarks/pattern_accuracy.py``.
"""

from __future__ import annotations

import tomllib
from collections import defaultdict

import pytest
from conftest import shared_path
from corpus_sdk import PERSONA, SHAPES, Sample, build_corpus, cases, persona_toml, tags_for

from edscan.detect.detector import Detector
from edscan.detect.persona import parse_persona
from edscan.errors import CaptureError
from edscan.models import Confidence, Observation
from edscan.models import Detector as Kind

decode = pytest.importorskip("edscan.decode.flow")

# the encodings tag -> a word that must appear in the observation's encodings
_TAG_ENCODING = {
    "url": "url",
    "url2": "url",
    "html": "html",
    "base64": "base64",
    "base64url": "base64",
    "base64-unpadded": "base64",
    "hex": "hex",
    "md5": "md5",
    "sha1": "sha1",
    "sha256": "sha256",
    "sha512": "sha512",
    "sha256-norm": "sha256",
    "md5-norm": "md5",
    "sha256-base64": "sha256",
    "sha256-base64url": "sha256",
    "sha256-norm-base64url": "sha256",
    "sha256-upper-hex": "sha256",
    "sha256-digits": "sha256",
    "sha256-e164": "sha256",
    "md5-digits": "md5",
    "sha256-lower": "sha256",
    "md5-lower": "md5",
    "sha256-ymd8": "sha256",
    "sha256-lower-nospace": "sha256",
    "sha1-upper": "sha1",
    "md5-upper": "md5",
}


@pytest.fixture(scope="module")
def corpus() -> list[Sample]:
    return build_corpus()


@pytest.fixture(scope="module")
def observed(corpus: list[Sample]) -> dict[int, list[Observation]]:
    persona = parse_persona(tomllib.loads(persona_toml()))
    detector = Detector(persona)
    out: dict[int, list[Observation]] = {}
    for s in corpus:
        out[s.flow.index] = detector.observe(s.flow, decode.decode_flow(s.flow))
    return out


def test_corpus_covers_every_value_encoding_and_shape(corpus: list[Sample]) -> None:
    carried = {c for s in corpus for c in s.carries}
    assert {k for k, _ in carried} >= set(PERSONA)  # every persona value
    assert len(PERSONA) == 30
    assert {(k, t) for k, t, _ in cases()} <= carried  # in every encoding
    shapes = {s.label.split(" / ", 1)[0] for s in corpus}
    assert set(SHAPES) <= shapes
    assert sum(s.negative for s in corpus) >= 80


def test_persona_recall_is_total_across_encodings(
    corpus: list[Sample], observed: dict[int, list[Observation]]
) -> None:
    missed = []
    for s in corpus:
        obs = [o for o in observed[s.flow.index] if o.detector is Kind.PERSONA]
        for key, tag in s.carries:
            hits = [o for o in obs if o.persona_field == key]
            want = _TAG_ENCODING.get(tag)
            if key in PERSONA and tags_for(key)[tag](PERSONA[key]) == PERSONA[key]:
                want = None  # the encoding left this value unchanged (no characters to escape)
            if want is not None:
                hits = [o for o in hits if any(want in e for e in o.encodings)]
            if not hits:
                missed.append(s.label)
    assert not missed, f"{len(missed)} persona values missed: {missed}"


def test_no_persona_false_positives(
    corpus: list[Sample], observed: dict[int, list[Observation]]
) -> None:
    wrong = []
    for s in corpus:
        allowed = {k for k, _ in s.carries} | s.implied
        for o in observed[s.flow.index]:
            if o.detector is Kind.PERSONA and o.persona_field not in allowed:
                wrong.append(f"{s.label}: {o.persona_field} at {o.location} ({o.detail})")
    assert not wrong, "\n".join(wrong)


def test_negatives_have_no_persona_observations(
    corpus: list[Sample], observed: dict[int, list[Observation]]
) -> None:
    negatives = [s for s in corpus if s.negative]
    assert negatives
    for s in negatives:
        assert not [o for o in observed[s.flow.index] if o.detector is Kind.PERSONA], s.label


def test_persona_observations_are_high_confidence_and_well_formed(
    corpus: list[Sample], observed: dict[int, list[Observation]]
) -> None:
    by_flow = {s.flow.index: s for s in corpus}
    n = 0
    for index, obs in observed.items():
        for o in obs:
            assert o.flow == index
            assert o.host == by_flow[index].flow.host
            if o.detector is Kind.PERSONA:
                n += 1
                assert o.confidence is Confidence.HIGH
                assert o.detail
                assert o.value
    assert n >= len([c for s in corpus for c in s.carries])


def test_hashed_email_reports_the_hash_and_the_chain(
    corpus: list[Sample], observed: dict[int, list[Observation]]
) -> None:
    s = next(s for s in corpus if ("student.email", "sha256-norm") in s.carries)
    o = next(o for o in observed[s.flow.index] if o.persona_field == "student.email")
    assert o.encodings[-1] == "sha256"
    assert "normalised" in o.detail


def test_coordinates_report_the_precision_sent(
    corpus: list[Sample], observed: dict[int, list[Observation]]
) -> None:
    for dp in (2, 3, 4, 5, 6):
        s = next(s for s in corpus if ("student.lat", f"{dp}dp") in s.carries)
        o = next(o for o in observed[s.flow.index] if o.persona_field == "student.lat")
        assert f"{dp} decimals" in o.detail
        assert o.element == ("geo.coarse" if dp < 3 else "geo.precise")


def test_derived_id_learned_from_first_party_response_is_found_at_the_tracker(
    corpus: list[Sample], observed: dict[int, list[Observation]]
) -> None:
    s = next(s for s in corpus if ("derived.id", "plain") in s.carries)
    o = next(o for o in observed[s.flow.index] if o.persona_field == "derived.id")
    assert o.element == "sid.provider"
    assert o.host == "api.segment.io"
    # the response that taught it is inbound: never an observation of its own
    login = next(x for x in corpus if x.label.startswith("first-party login"))
    assert all(o.persona_field != "derived.id" for o in observed[login.flow.index])
    assert all(not o.location.startswith("response") for obs in observed.values() for o in obs)


def test_derived_id_is_unknown_without_the_response(corpus: list[Sample]) -> None:
    persona = parse_persona(tomllib.loads(persona_toml()))
    detector = Detector(persona)
    s = next(s for s in corpus if ("derived.id", "plain") in s.carries)
    obs = detector.observe(s.flow, decode.decode_flow(s.flow))
    assert not [o for o in obs if o.detector is Kind.PERSONA]


def test_every_shape_yields_persona_hits(
    corpus: list[Sample], observed: dict[int, list[Observation]]
) -> None:
    found: dict[str, int] = defaultdict(int)
    for s in corpus:
        if s.carries and any(o.detector is Kind.PERSONA for o in observed[s.flow.index]):
            found[s.label.split(" / ", 1)[0]] += 1
    assert set(SHAPES) <= set(found)


# --------------------------------------------------------------------------- a real capture


def test_classdojo_login_email_found_only_at_the_apps_own_api() -> None:
    from edscan.capture.source import open_source

    har = shared_path("corpus", "edtech", "teacher-login-www.classdojo.com.har")
    try:
        flows = list(open_source(har))
    except CaptureError as e:
        pytest.skip(f"HAR import is not available yet: {e}")
    persona = parse_persona({"student": {"email": "bob@bob.com"}}, "test")
    detector = Detector(persona)
    hits = [
        o
        for f in flows
        for o in detector.observe(f, decode.decode_flow(f))
        if o.persona_field == "student.email"
    ]
    assert hits, "the login e-mail was not found"
    assert {o.host for o in hits} == {"api.classdojo.com"}
    assert all(o.confidence is Confidence.HIGH for o in hits)


def test_fields_seen_before_give_the_same_observations(corpus: list[Sample]) -> None:
    """The detector remembers what a field yielded once it has seen the field twice, and
    reuses it when a later flow sends the field again: the corpus three times through one
    detector gives, every time, exactly what a detector without that memory gives (same
    observations, same order)."""
    persona = parse_persona(tomllib.loads(persona_toml()))
    decoded = [(s.flow, decode.decode_flow(s.flow)) for s in corpus]
    remembering = Detector(persona)
    forgetting = Detector(persona)
    forgetting._remember = lambda *args: None  # type: ignore[method-assign]
    reused = 0
    for _ in range(3):
        for flow, d in decoded:
            memo = remembering._memo.keys() | remembering._memo_old.keys()
            reused += sum(1 for r in d.rows if r in memo)
            assert remembering.observe(flow, d) == forgetting.observe(flow, d), flow.index
    assert reused > 2 * len(decoded), "too little was remembered to test"
