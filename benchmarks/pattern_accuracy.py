"""Precision and recall of the detectors that need no persona, on the labelled SDK corpus.

The corpus (``tests/corpus_sdk.py``) labels every flow with the student-data elements truly in
it: the persona's values in every encoding, other people's data, the SDKs' own identifiers,
and known traps with nothing in them. Here the persona is *not* given: what the pattern and
key-name detectors find is scored per (flow, element) against those labels, at medium
confidence and above, and with low included. The persona detector is scored alongside as the
reference (its recall and zero false positives are also asserted by ``tests/test_accuracy.py``).

Misses are expected where only a seeded value can tell (a hashed name, a bare student number
under a neutral key, a value inside an essay); the point is to see how much a persona adds.

    python benchmarks/pattern_accuracy.py [--misses]
"""

from __future__ import annotations

import argparse
import sys
import tomllib
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from corpus_sdk import CONTEXT, Sample, build_corpus, persona_toml  # noqa: E402

from edscan.decode.flow import decode_flow  # noqa: E402
from edscan.detect.detector import Detector  # noqa: E402
from edscan.detect.known_ids import known_ids, merge  # noqa: E402
from edscan.detect.persona import parse_persona  # noqa: E402
from edscan.models import Confidence, Observation  # noqa: E402
from edscan.models import Detector as Kind  # noqa: E402


def _score(
    samples: list[Sample], predicted: dict[int, set[str]], *, context: bool = False
) -> tuple[float, float, int, int, int, Counter[str], Counter[str]]:
    """Scored on student data and identifiers; with ``context``, on the request's context only
    (the page viewed, the screen, the language, the consent state: CONTEXT_ELEMENTS), which the
    endpoint knowledge reports beside them and which would otherwise inflate both figures."""
    tp = fp = fn = 0
    false_pos: Counter[str] = Counter()
    misses: Counter[str] = Counter()
    for s in samples:
        got = {e for e in predicted.get(s.flow.index, set()) if (e in CONTEXT) is context}
        truth = {e for e in s.truth if (e in CONTEXT) is context}
        tp += len(got & truth)
        fp += len(got - truth)
        fn += len(truth - got)
        for e in got - truth:
            false_pos[f"{e}  ({s.label})"] += 1
        for e in truth - got:
            misses[e] += 1
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    return precision, recall, tp, fp, fn, false_pos, misses


def _predicted(
    obs: dict[int, list[Observation]], kinds: set[Kind], floor: Confidence
) -> dict[int, set[str]]:
    return {
        i: {o.element for o in os if o.detector in kinds and o.confidence >= floor}
        for i, os in obs.items()
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument(
        "--misses", action="store_true", help="list false positives and missed elements"
    )
    args = ap.parse_args()

    samples = build_corpus()
    decoded = {s.flow.index: decode_flow(s.flow) for s in samples}
    # as the scan runs them: the detector, then the endpoint knowledge (edscan.detect.known_ids)
    endpoints = known_ids()

    def run(detector: Detector, s: Sample) -> list[Observation]:
        d = decoded[s.flow.index]
        return merge(detector.observe(s.flow, d), endpoints.observe(s.flow, d))

    bare = Detector(None)
    without = {s.flow.index: run(bare, s) for s in samples}
    seeded = Detector(parse_persona(tomllib.loads(persona_toml())))
    with_persona = {s.flow.index: run(seeded, s) for s in samples}

    positives = sum(1 for s in samples if s.carries)
    print(
        f"corpus: {len(samples)} flows ({positives} carry a persona value, "
        f"{len(samples) - positives} do not), {sum(len(s.truth) for s in samples)} labelled "
        "(flow, element) pairs"
    )
    print()
    print(f"{'detectors':<44} {'precision':>9} {'recall':>7} {'tp':>5} {'fp':>4} {'fn':>5}")
    rows = [
        (
            "pattern + keyname, medium and above",
            without,
            {Kind.PATTERN, Kind.KEYNAME},
            Confidence.MEDIUM,
        ),
        ("pattern + keyname, low and above", without, {Kind.PATTERN, Kind.KEYNAME}, Confidence.LOW),
        ("pattern only", without, {Kind.PATTERN}, Confidence.LOW),
        ("keyname only", without, {Kind.KEYNAME}, Confidence.LOW),
        ("persona only (seeded)", with_persona, {Kind.PERSONA}, Confidence.HIGH),
        ("all detectors with the persona", with_persona, set(Kind), Confidence.LOW),
    ]
    details = {}
    for name, obs, kinds, floor in rows:
        p, r, tp, fp, fn, fps, misses = _score(samples, _predicted(obs, kinds, floor))
        details[name] = (fps, misses)
        print(f"{name:<44} {p:>9.3f} {r:>7.3f} {tp:>5} {fp:>4} {fn:>5}")
    # the endpoint knowledge's context fields, apart (the rows above leave them out)
    name = "endpoint context (page, screen, language)"
    p, r, tp, fp, fn, fps, misses = _score(
        samples, _predicted(without, {Kind.PATTERN}, Confidence.MEDIUM), context=True
    )
    details[name] = (fps, misses)
    print(f"{name:<44} {p:>9.3f} {r:>7.3f} {tp:>5} {fp:>4} {fn:>5}")
    traps = [s for s in samples if s.negative and not s.truth - {"dev.install_id"} - CONTEXT]
    noisy = sum(
        1
        for s in traps
        for o in without[s.flow.index]
        if o.confidence >= Confidence.MEDIUM and o.element not in s.truth | CONTEXT
    )
    print()
    print(
        f"traps and noise-only flows: {len(traps)}; medium-or-above pattern detections on them "
        f"that are not labelled: {noisy}"
    )
    if args.misses:
        for name in (
            "pattern + keyname, medium and above",
            "pattern + keyname, low and above",
            "endpoint context (page, screen, language)",
        ):
            fps, misses = details[name]
            print(f"\n{name}: false positives")
            for k, n in fps.most_common():
                print(f"  {n:>3}  {k}")
            print(f"\n{name}: missed elements")
            for k, n in misses.most_common():
                print(f"  {n:>3}  {k}")


if __name__ == "__main__":
    main()
