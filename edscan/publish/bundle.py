"""``edscan bundle``: the redacted evidence package to publish, as one deterministic zip.

Members, in this order (sorted by name), each with the same fixed timestamp and mode 0644:

    MANIFEST.json               SHA-256 of every other member, the capture's SHA-256, tool and
                                list versions, the options, the creation time, the mode
    README.txt                  what the files are and how to verify them
    evidence.json               every request cited by a finding, as sent but redacted
    report.html                 the report
    result.findings.csv         \
    result.observations.csv      > the three tables
    result.recipients.csv       /
    result.json                 the whole result (edscan-result/1)

Never in it: the capture, the persona file, a request or response body, a persona value, a
credential. Everything is rendered redacted, from a result whose capture is named by its file
name only. The same capture, options, creation time and edscan version give the same bytes:
entries are sorted, timestamps fixed, JSON keys sorted, and nothing else varies. The creation
time is an input (``--created``; the current time by default) so that a published bundle can be
rebuilt byte for byte.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from edscan import report
from edscan.capture.source import open_source
from edscan.detect.persona import Persona
from edscan.errors import EdscanError
from edscan.files import atomic_writer
from edscan.models import Flow, Observation, ScanResult
from edscan.pipeline import file_sha256
from edscan.publish import replay
from edscan.publish.public import (
    public_redactor,
    public_result,
    strip_controls,
    utc,
)
from edscan.report._common import observation_record, sorted_findings, sorted_observations
from edscan.report.redact import MASK, SECRET, Redactor
from edscan.report.templates import template

BUNDLE_SCHEMA = "edscan-bundle/1"
EVIDENCE_SCHEMA = "edscan-evidence/1"
README_TEMPLATE = "bundle-README.txt.j2"
ZIP_TIME = (1980, 1, 1, 0, 0, 0)  # the earliest a zip can say: the same for every member
MEMBER_MODE = 0o644  # redacted content: readable by anyone, like any published file
BUNDLE_MODE = 0o644

DESCRIPTIONS = {
    "MANIFEST.json": "SHA-256 of every other file, the capture's SHA-256, tool and list "
    "versions, options, creation time",
    "README.txt": "this file",
    "evidence.json": "every request cited by a finding, as it was sent but redacted",
    "report.html": "the report; opens offline in any browser, loads nothing",
    "result.json": "the whole result, schema edscan-result/1",
    "result.findings.csv": "the findings as a table",
    "result.recipients.csv": "who received data, as a table",
    "result.observations.csv": "every detected value (redacted), as a table",
    "capture.redacted.edscan.jsonl": "every request as sent, redacted, without bodies; "
    "edscan verify scans it again",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class Options:
    """How the scan was run, as the manifest and README record it (never a file's path)."""

    persona: bool
    first_party: tuple[str, ...] = ()
    accept_noncommercial: bool = False
    created: float = 0.0
    # other analysis options by name, and whether each was given (``declared``: True)
    extra: Mapping[str, bool] = field(default_factory=dict)


# --------------------------------------------------------------------------- building


def build(
    capture: str | Path, result: ScanResult, persona: Persona | None, options: Options
) -> dict[str, bytes]:
    """Every member of the bundle, keyed by name (rendered; nothing written)."""
    red = public_redactor(result, persona)
    public = public_result(result, red)
    members: dict[str, str] = {
        "report.html": report.render(public, "html"),
        "result.json": report.render(public, "json"),
        "evidence.json": _dumps(evidence(capture, public, red)),
    }
    for table, text in report.render_csv_tables(public).items():
        members[f"result.{table}.csv"] = text
    redacted = replay.redacted_capture(
        open_source(capture), red, created=result.capture.start, tool=result.tool_version
    )
    members["README.txt"] = _readme(
        public, options, sorted([*members, replay.REDACTED_CAPTURE, "README.txt", "MANIFEST.json"])
    )
    data = {name: text.encode("utf-8") for name, text in members.items()}
    data[replay.REDACTED_CAPTURE] = redacted
    replayed = replay.replay(redacted, public.first_party)
    data["MANIFEST.json"] = _dumps(manifest(public, options, data, replayed)).encode("utf-8")
    return dict(sorted(data.items()))


def manifest(
    result: ScanResult,
    options: Options,
    members: Mapping[str, bytes],
    replayed: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    cap = result.capture
    score = result.score
    return {
        "schema": BUNDLE_SCHEMA,
        "created": utc(options.created),
        "redacted": True,
        "mode": "0644: every file is redacted, so it is readable by anyone",
        "tool": {"name": "edscan", "version": result.tool_version},
        "capture": {
            "file": cap.path,
            "sha256": cap.sha256,
            "format": cap.format,
            "flows": cap.flows,
            "start": utc(cap.start) if cap.start is not None else None,
            "end": utc(cap.end) if cap.end is not None else None,
            "included": False,
        },
        "persona": {"used": options.persona, "fields": sorted(result.persona_fields)},
        "options": {
            "first_party": [strip_controls(d) for d in options.first_party],
            "accept_noncommercial": options.accept_noncommercial,
            **{strip_controls(k): v for k, v in sorted(options.extra.items())},
        },
        "first_party": {
            "domains": sorted(result.first_party),
            "inferred": result.first_party_inferred,
        },
        "lists": [
            {
                "name": li.name,
                "version": li.version,
                "sha256": li.sha256,
                "licence": li.licence,
                "source": li.source,
            }
            for li in sorted(result.lists, key=lambda li: (li.name, li.version))
        ],
        "score": (
            {"grade": score.grade, "value": score.value, "verdict": score.verdict}
            if score is not None
            else None
        ),
        "findings": [
            {"fingerprint": f.fingerprint, "rule": f.rule, "severity": f.severity.value}
            for f in sorted_findings(result.findings)
        ],
        "files": [
            {"name": name, "sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}
            for name, data in sorted(members.items())
        ],
        # what a scan of the redacted capture gives (edscan verify runs it again)
        "replay": dict(replayed) if replayed is not None else None,
        "not_included": (
            "The capture and the persona file: they hold the test account's values and the "
            "auditor's own session. The capture's SHA-256 above identifies it."
        ),
    }


def _readme(result: ScanResult, options: Options, names: Sequence[str]) -> str:
    command = ["edscan", "bundle", _shell(result.capture.path)]
    if options.persona:
        command += ["--persona", "PERSONA.toml"]
    for d in options.first_party:
        command += ["--first-party", _shell(strip_controls(d))]
    if options.accept_noncommercial:
        command.append("--accept-noncommercial")
    for name, given in sorted(options.extra.items()):
        if given:  # a file the publisher keeps, like the persona
            option = strip_controls(name).replace("_", "-")
            command += [f"--{option}", option.upper() + ".toml"]
    command += ["--created", utc(options.created), "-o", "check.zip"]
    text: str = template(README_TEMPLATE, html=False, finalize=_plain).render(
        tool_version=result.tool_version,
        created=utc(options.created),
        capture=result.capture,
        first_party=", ".join(result.first_party) or "not identified",
        persona=options.persona,
        files=[(n, DESCRIPTIONS.get(n, "")) for n in names],
        lists=sorted(result.lists, key=lambda li: li.name),
        command=" ".join(command),
    )
    return text


def _plain(value: Any) -> Any:
    """Plain text: a value printed from the result cannot add lines or terminal escapes."""
    return strip_controls(value) if isinstance(value, str) else value


def _shell(word: str) -> str:
    import shlex

    return shlex.quote(word)


def _dumps(doc: Any) -> str:
    return json.dumps(doc, sort_keys=True, indent=2, ensure_ascii=False, allow_nan=False) + "\n"


# --------------------------------------------------------------------------- evidence


def evidence(capture: str | Path, result: ScanResult, red: Redactor) -> dict[str, Any]:
    """The requests the findings cite, read again from the capture and redacted.

    For each: method, redacted URL, request headers (credentials and cookies as ``‹secret›``,
    other values shown only when plainly not about anyone), what the body was (size and type,
    never its content), and the detected values with the location and decoding chain that
    carried them, as labels.
    """
    cited: dict[int, list[str]] = {}
    for f in sorted_findings(result.findings):
        for e in f.evidence:
            fps = cited.setdefault(e.flow, [])
            if f.fingerprint not in fps:
                fps.append(f.fingerprint)
    by_flow: dict[int, list[Observation]] = {}
    for o in sorted_observations(result.observations):
        if o.flow in cited:
            by_flow.setdefault(o.flow, []).append(o)

    requests: dict[int, dict[str, Any]] = {}
    if cited:
        for flow in open_source(capture):
            if flow.index in cited:
                requests[flow.index] = _request(flow, by_flow.get(flow.index, ()), red)
                requests[flow.index]["findings"] = cited[flow.index]
                if len(requests) == len(cited):
                    break
    missing = sorted(set(cited) - set(requests))
    if missing or file_sha256(Path(capture)) != result.capture.sha256:
        # the evidence must come from the very file the findings and the manifest name
        raise EdscanError(
            f"{capture}: the file changed while the bundle was made (it no longer matches "
            "the scanned capture); run edscan bundle again."
        )
    return {
        "schema": EVIDENCE_SCHEMA,
        "capture": {"file": result.capture.path, "sha256": result.capture.sha256},
        "redacted": True,
        "note": (
            "Each request cited by a finding, as it was sent, redacted: test-student values "
            "appear as labels such as ‹student.email›, other detected values and header values "
            "that may identify someone as ‹masked›, credentials and cookies as ‹secret›. "
            "Bodies are described, never included. 'request' is the request number of the "
            "report and the JSON (0-based, in capture order)."
        ),
        "findings": [
            {
                "fingerprint": f.fingerprint,
                "rule": f.rule,
                "title": red.text(f.title),
                "severity": f.severity.value,
                "confidence": f.confidence.value,
                "recipients": [red.text(d) for d in f.recipients],
                "requests": sorted({e.flow for e in f.evidence}),
                "occurrences": f.occurrences,
            }
            for f in sorted_findings(result.findings)
        ],
        "requests": [requests[i] for i in sorted(requests)],
    }


def _request(flow: Flow, observations: Iterable[Observation], red: Redactor) -> dict[str, Any]:
    body = flow.request_body
    sent_ws = [m for m in flow.websocket if m.from_client]
    data = []
    for o in observations:
        d = observation_record(o, red)
        for key in ("flow", "host", "party"):
            d.pop(key, None)
        data.append(d)
    return {
        "request": flow.index,
        "time": utc(flow.request_start) if flow.request_start is not None else None,
        "phase": red.phase(flow.phase) if flow.phase is not None else None,
        "method": red.text(flow.method),
        "url": red.url(flow.url),
        "http_version": red.text(flow.http_version),
        "headers": redact_headers(flow.request_headers, red),
        "body": (
            {
                "bytes": body.size,
                "truncated": body.truncated,
                "content_type": _shown(flow.request_header("content-type") or "", red),
                "content_encoding": _shown(flow.request_header("content-encoding") or "", red),
                "included": False,
            }
            if body is not None
            else None
        ),
        "websocket_messages_sent": len(sent_ws),
        "status": flow.status,
        "data": data,
    }


_SECRET_HEADER = re.compile(
    r"auth|cookie|token|secret|session|passw|api-?key|csrf|xsrf|signature|credential|ticket",
    re.IGNORECASE,
)
_URL_HEADERS = frozenset({"referer", "origin", "location", "content-location", ":path"})
_SHOWN_HEADERS = frozenset(
    {
        ":authority",
        ":method",
        ":scheme",
        "cache-control",
        "connection",
        "content-encoding",
        "content-length",
        "content-type",
        "dnt",
        "host",
        "pragma",
        "priority",
        "te",
        "upgrade",
        "upgrade-insecure-requests",
        "user-agent",
        "x-requested-with",
    }
)
_SHOWN_PREFIXES = ("accept", "sec-fetch-", "sec-ch-ua")
# words in a header's name that say its value is about a person or a device: masked whatever
# the value looks like (compared word by word: "x-platform" is not about a latitude)
_PERSONAL_WORDS = frozenset(
    {
        "account",
        "address",
        "age",
        "dob",
        "for",
        "forwarded",
        "gaid",
        "geo",
        "guid",
        "id",
        "idfa",
        "ids",
        "ip",
        "lat",
        "lng",
        "location",
        "lon",
        "name",
        "phone",
        "postal",
        "real",
        "uid",
        "uuid",
        "zip",
    }
)
_PERSONAL_PREFIXES = (
    "advert",
    "birth",
    "device",
    "email",
    "grade",
    "install",
    "mail",
    "student",
    "user",
    "visitor",
)
_PLAIN_VALUE = re.compile(r"[A-Za-z0-9 ._:/,;=()*+\-]{0,40}")
# identifier-shaped runs inside an otherwise shown value (a user agent with a device id)
_IDENTIFIERS = re.compile(
    r"[^\s@<>\"';,()]+@[^\s@<>\"';,()]+\.[A-Za-z]{2,}"
    r"|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
    r"|\b[0-9a-fA-F]{16,}\b"
    r"|\d{9,}"
)
_LABEL = re.compile(r"‹[^›]*›")
# a token-like run: 16+ characters of an id alphabet, with both letters and digits
_OPAQUE = re.compile(
    r"(?=[A-Za-z0-9+/=_\-]*\d)(?=[A-Za-z0-9+/=_\-]*[A-Za-z])[A-Za-z0-9+/=_\-]{16,}"
)


def redact_headers(headers: Iterable[tuple[str, str]], red: Redactor) -> list[list[str]]:
    """Request headers as they may be published (names kept, values redacted)."""
    out = []
    for name, value in headers:
        low = name.lower()
        shown_name = strip_controls(red.text(name))
        if _SECRET_HEADER.search(low):
            shown = SECRET if value else ""
        elif low in _URL_HEADERS:
            shown = red.url(value)
        elif low in _SHOWN_HEADERS or low.startswith(_SHOWN_PREFIXES):
            shown = _shown(value, red)
        else:
            shown = _masked_unless_plain(low, value, red)
        out.append([shown_name, strip_controls(shown)])
    return out


def _personal(name: str) -> bool:
    words = [w for w in re.split(r"[^a-z0-9]+", name.lower()) if w]
    return any(w in _PERSONAL_WORDS or w.startswith(_PERSONAL_PREFIXES) for w in words)


def _shown(value: str, red: Redactor) -> str:
    return _IDENTIFIERS.sub(MASK, red.text(value))


def _masked_unless_plain(name: str, value: str, red: Redactor) -> str:
    text = red.text(value)
    if text == SECRET or not text:
        return text
    labels = list(dict.fromkeys(_LABEL.findall(text)))
    if SECRET in labels:
        return SECRET
    if _LABEL.fullmatch(text):  # the value is one known value: its label says it all
        return text
    if labels:
        return "‹masked, holds " + ", ".join(x.strip("‹›") for x in labels) + "›"
    if _personal(name) or not _PLAIN_VALUE.fullmatch(text) or _OPAQUE.search(text):
        return MASK
    return _shown(text, red)


# --------------------------------------------------------------------------- the zip


def write_zip(members: Mapping[str, bytes], out: Any) -> None:
    """Write ``members`` to the binary file ``out`` as a deterministic zip."""
    with zipfile.ZipFile(out, "w") as zf:
        for name in sorted(members):
            info = zipfile.ZipInfo(name, date_time=ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3  # Unix, so the mode below is read
            info.external_attr = (0o100000 | MEMBER_MODE) << 16
            zf.writestr(info, members[name], compresslevel=9)


def write(path: str | Path, members: Mapping[str, bytes]) -> None:
    """Write the bundle to ``path`` all at once: a failure leaves no partial file."""
    target = Path(path)
    if target.is_dir():
        raise EdscanError(f"{target}: is a directory; give the zip file to write with -o")
    try:
        with atomic_writer(target) as fh:
            write_zip(members, fh)
            os.fchmod(fh.fileno(), BUNDLE_MODE)
    except OSError as exc:
        raise EdscanError(f"cannot write {target}: {exc.strerror or exc}") from None


def parse_created(text: str) -> float:
    """``--created``: ISO 8601 (``2026-03-01``, ``2026-03-01T14:00:00Z``) or Unix seconds."""
    value = text.strip()
    try:
        if value.isdigit():
            return float(int(value))
        when = dt.datetime.fromisoformat(value)
    except (ValueError, OverflowError):
        raise EdscanError(
            f"--created {text!r}: give a date and time in ISO 8601 "
            "(2026-03-01 or 2026-03-01T14:00:00Z) or Unix seconds"
        ) from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return float(int(when.timestamp()))
