from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from edscan.capture.capture_file import CaptureWriter, read_capture
from edscan.errors import CaptureError
from edscan.models import Body, Flow, WebSocketMessage


def _flow(i: int, **kw: object) -> Flow:
    base: dict[str, object] = {
        "index": i,
        "id": f"id-{i}",
        "method": "POST",
        "url": f"https://api.example.test/v1/events?i={i}",
        "scheme": "https",
        "http_version": "HTTP/1.1",
        "request_headers": (("Content-Type", "application/json"), ("X-Dup", "a"), ("X-Dup", "b")),
        "request_body": Body(content=b'{"a":1}', size=7),
        "status": 200,
        "reason": "OK",
        "response_body": Body(content=b"\x1f\x8b\x00\xff", size=4),
        "phase": "login",
    }
    base.update(kw)
    return Flow(**base)  # type: ignore[arg-type]


def test_roundtrip_keeps_everything(tmp_capture: Path) -> None:
    flows = [
        _flow(0),
        _flow(
            1,
            websocket=(
                WebSocketMessage(from_client=True, timestamp=1.5, is_text=True, content=b"hi"),
                WebSocketMessage(from_client=False, timestamp=2.0, is_text=False, content=b"\x00"),
            ),
            request_body=Body(content=b"x" * 10, size=100, truncated=True),
            error="connection refused",
            client_address=("127.0.0.1", 5555),
        ),
    ]
    with CaptureWriter(tmp_capture, {"max_body": 10}) as w:
        for f in flows:
            w.write(f)
    reader = read_capture(tmp_capture)
    assert reader.header["format"] == "edscan-capture"
    assert reader.header["settings"] == {"max_body": 10}
    assert list(reader) == flows
    assert reader.warnings == []


def test_capture_is_private(tmp_capture: Path) -> None:
    tmp_capture.write_text("old")
    tmp_capture.chmod(0o644)
    CaptureWriter(tmp_capture).close()
    assert stat.S_IMODE(tmp_capture.stat().st_mode) == 0o600


def test_torn_last_line_is_reported_and_skipped(tmp_capture: Path) -> None:
    with CaptureWriter(tmp_capture) as w:
        w.write(_flow(0))
        w.write(_flow(1))
    data = tmp_capture.read_bytes()
    tmp_capture.write_bytes(data[: len(data) - 20])
    reader = read_capture(tmp_capture)
    assert [f.index for f in reader] == [0]
    assert len(reader.warnings) == 1 and "torn last line" in reader.warnings[0]


def test_unknown_major_version_is_refused(tmp_capture: Path) -> None:
    tmp_capture.write_text(json.dumps({"format": "edscan-capture", "version": "2.0"}) + "\n")
    with pytest.raises(CaptureError, match=r"version 2\.0 is not supported"):
        read_capture(tmp_capture)


@pytest.mark.parametrize(
    ("content", "message"),
    [(b"", "empty"), (b"{not json\n", "not an edscan capture"), (b'{"a":1}\n', "no 'edscan")],
)
def test_bad_files(tmp_capture: Path, content: bytes, message: str) -> None:
    tmp_capture.write_bytes(content)
    with pytest.raises(CaptureError, match=message):
        read_capture(tmp_capture)


def test_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(CaptureError, match="directory"):
        read_capture(tmp_path)


def test_reader_shortcut_builds_the_same_flows(
    tmp_capture: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Flows are built through their slots while Flow and Body have the fields the reader knows;
    the ordinary constructors (used when a field is added) give equal flows."""
    from edscan.capture import capture_file as capture

    assert capture._FAST, "Flow or Body gained a field: update _FLOW_FIELDS/_BODY_FIELDS"
    flows = [
        _flow(0, tls_version="TLSv1.3", tls_intercepted=True, sni="api.example.test"),
        _flow(1, server_address=("10.0.0.1", 443), request_start=1.0, response_end=2.5),
        _flow(2, request_body=Body(content=b"\xff\x00", size=9, truncated=True, decoded=True)),
    ]
    with CaptureWriter(tmp_capture) as w:
        for f in flows:
            w.write(f)
    fast = list(read_capture(tmp_capture))
    monkeypatch.setattr(capture, "_FAST", False)
    slow = list(read_capture(tmp_capture))
    assert fast == slow == flows
    assert [repr(f) for f in fast] == [repr(f) for f in flows]


def test_cut_off_flows_roundtrip_and_other_lines_stay_as_they_were(tmp_capture: Path) -> None:
    cut = _flow(1, status=None, reason=None, response_body=None, cut_off="no_response")
    assert "cut_off" not in _flow(0).to_dict()  # written only when set
    with CaptureWriter(tmp_capture) as w:
        w.write(_flow(0))
        w.write(cut)
    reader = read_capture(tmp_capture)
    assert reader.header["version"] == "1.3"
    assert list(reader) == [_flow(0), cut]


def test_fields_a_reader_does_not_know_are_ignored(tmp_capture: Path) -> None:
    # what lets a 1.1 reader read 1.2 files (and this one read 1.3): unknown keys are skipped
    line = _flow(0).to_dict() | {"cut_off": "no_response", "from_the_future": {"x": 1}}
    header = {"format": "edscan-capture", "version": "1.9", "settings": {}}
    tmp_capture.write_text(json.dumps(header) + "\n" + json.dumps(line) + "\n")
    reader = read_capture(tmp_capture)
    [flow] = list(reader)
    assert flow.cut_off == "no_response" and reader.warnings == []
