"""What the publishing commands share (``bundle``, ``letter``, ``batch``).

A published file leaves the auditor's laptop for good, so these commands are always redacted
and add two precautions to what every renderer does:

- the capture is named by its file name only (the auditor's folders are not evidence), and
  that name is redacted too;
- the ``Redactor`` knows the persona's own values as well as the values observed in the
  capture, so a test-student value that no detector reported (in a header, a file name) is
  still shown as its label.

Their templates load through ``edscan.report.templates``, like the report's.
"""

from __future__ import annotations

import dataclasses
import re
import time
from pathlib import PurePath

from edscan.detect.persona import Persona
from edscan.models import ScanResult
from edscan.report.redact import SECRET, Redactor, is_secret, label, value_label

# Shorter persona values (a grade, a ZIP) are only the student's under an agreeing key; the
# detectors report them there. Masking them everywhere would label unrelated numbers.
MIN_PERSONA_VALUE = 6
_SECRET_KEYS = ("password", "passwd", "token", "secret")

# C0 and C1 controls (terminal escapes, NUL, newlines inside a value) and the Unicode
# formatting characters that reorder or hide text (bidi overrides, zero-width joiners).
_CONTROLS = re.compile(
    "[\x00-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]"
)


def strip_controls(text: str) -> str:
    """``text`` on one line, without control or text-direction characters."""
    return _CONTROLS.sub(" ", text)


def public_redactor(result: ScanResult, persona: Persona | None = None) -> Redactor:
    """The redaction of ``result`` (as ``Redactor.for_result``) plus the persona's values."""
    seen: dict[str, tuple[str, str, bool]] = {}
    for obs in result.observations:
        if not obs.value:
            continue
        secret = is_secret(obs)
        known = seen.get(obs.value)
        if known is None or (secret and not known[2]):
            seen[obs.value] = (obs.value, SECRET if secret else value_label(obs), secret)
    if persona is not None:
        for key, value in persona.values.items():
            if value in seen or len(value) < MIN_PERSONA_VALUE or _gated(persona, key):
                continue
            secret = any(word in key.lower() for word in _SECRET_KEYS)
            seen[value] = (value, SECRET if secret else label(key), secret)
    return Redactor(seen.values())


def _gated(persona: Persona, key: str) -> bool:
    try:
        return persona.spec(key).gated
    except KeyError:  # a key no spec knows: mask its value wherever it appears
        return False


def public_result(result: ScanResult, red: Redactor) -> ScanResult:
    """``result`` with the capture named by its (redacted) file name only."""
    name = strip_controls(red.text(PurePath(result.capture.path).name))
    return dataclasses.replace(result, capture=dataclasses.replace(result.capture, path=name))


def utc(ts: float | None) -> str:
    """A Unix time as ``2026-03-01T14:02:03Z`` (``unknown`` when there is none)."""
    if ts is None:
        return "unknown"
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))


def utc_date(ts: float | None) -> str:
    if ts is None:
        return "an unknown date"
    return time.strftime("%Y-%m-%d", time.gmtime(ts))
