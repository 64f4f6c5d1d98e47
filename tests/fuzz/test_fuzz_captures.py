"""Every capture reader (the capture format, HAR, .mitm) fed mutated files: reading them and
decoding every flow ends cleanly or with edscan's own error (exit 2), never anything else."""

from __future__ import annotations

import contextlib
import io
import json
import tempfile
from pathlib import Path

from fuzzstrategies import flows, json_values, mutated, read_all
from hypothesis import given
from hypothesis import strategies as st

from edscan.capture.capture_file import CaptureWriter
from edscan.models import Flow


def _capture_bytes(sample: list[Flow]) -> bytes:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "c.edscan.jsonl"
        with CaptureWriter(path) as w:
            for i, f in enumerate(sample):
                with contextlib.suppress(TypeError):
                    w.write(f.__class__(**{**{s: getattr(f, s) for s in f.__slots__}, "index": i}))
        return path.read_bytes()


@given(st.lists(flows(), min_size=1, max_size=3).flatmap(lambda s: mutated(_capture_bytes(s))))
def test_capture_format(data: bytes) -> None:
    read_all(data, ".edscan.jsonl")


@given(st.lists(json_values, max_size=4))
def test_capture_format_odd_lines(lines: list[object]) -> None:
    header = b'{"format": "edscan-capture", "version": "1.1", "settings": {}}\n'
    read_all(header + b"\n".join(json.dumps(v).encode() for v in lines), ".edscan.jsonl")


def _har(entries: list[object]) -> bytes:
    return json.dumps(
        {"log": {"version": "1.2", "creator": {"name": "x"}, "entries": entries}}
    ).encode()


ENTRY = {
    "startedDateTime": "2026-03-01T10:00:00.000Z",
    "time": 1,
    "request": {
        "method": "POST",
        "url": "https://api.example.com/x?a=1",
        "httpVersion": "HTTP/1.1",
        "headers": [{"name": "Content-Type", "value": "application/json"}],
        "queryString": [],
        "cookies": [],
        "postData": {"mimeType": "application/json", "text": '{"name": "Maya"}'},
        "headersSize": -1,
        "bodySize": 16,
    },
    "response": {
        "status": 200,
        "statusText": "OK",
        "httpVersion": "HTTP/1.1",
        "headers": [],
        "cookies": [],
        "content": {"size": 4, "mimeType": "text/plain", "text": "b2s=", "encoding": "base64"},
        "redirectURL": "",
        "headersSize": -1,
        "bodySize": 4,
    },
    "cache": {},
    "timings": {"send": 0, "wait": 1, "receive": 0},
}


def _paths(obj: dict[str, object], prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    out = []
    for key, value in obj.items():
        out.append((*prefix, key))
        if isinstance(value, dict):
            out += _paths(value, (*prefix, key))
    return out


PATHS = _paths(ENTRY)


@st.composite
def har_entries(draw: st.DrawFn) -> object:
    """The entry above with some of its values replaced by random JSON (wrong types, nulls)."""
    entry = json.loads(json.dumps(ENTRY))
    for _ in range(draw(st.integers(0, 5))):
        path = draw(st.sampled_from(PATHS))
        where = entry
        for part in path[:-1]:
            where = where.get(part) if isinstance(where, dict) else None
        if isinstance(where, dict):
            where[path[-1]] = draw(json_values)
    return entry


@given(st.lists(har_entries(), max_size=3))
def test_har_wrong_types(entries: list[object]) -> None:
    read_all(_har(entries), ".har")


@given(st.lists(har_entries(), max_size=2).flatmap(lambda e: mutated(_har(e))))
def test_har_bytes(data: bytes) -> None:
    read_all(data, ".har")


def _mitm_bytes() -> bytes:
    from mitmproxy import io as mitm_io
    from mitmproxy.test import tflow

    out = io.BytesIO()
    writer = mitm_io.FlowWriter(out)
    for i, f in enumerate((tflow.tflow(resp=True), tflow.tflow(err=True), tflow.twebsocketflow())):
        # tflow stamps the time of day and fresh uuids: fixed here, so that CI's derandomized
        # examples mutate the same bytes on every run
        f.timestamp_created = 946681200.0
        f.id = f"00000000-0000-4000-8000-{i:012d}"
        f.client_conn.id = f"00000000-0000-4000-8001-{i:012d}"
        f.server_conn.id = f"00000000-0000-4000-8002-{i:012d}"
        writer.add(f)
    return out.getvalue()


MITM = _mitm_bytes()


@given(mutated(MITM))
def test_mitm(data: bytes) -> None:
    read_all(data, ".mitm")


@given(st.binary(max_size=300), st.sampled_from([".har", ".mitm", ".edscan.jsonl", ".bin"]))
def test_any_bytes_any_name(data: bytes, suffix: str) -> None:
    read_all(data, suffix)


def test_the_unmutated_samples_read() -> None:
    # the mutations start from files that are read whole: the fuzzing is not all refusals
    assert read_all(MITM, ".mitm") == 3
    assert read_all(_har([ENTRY, ENTRY]), ".har") == 2
