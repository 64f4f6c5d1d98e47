"""Large HARs read as a stream (``har_stream``): the same flows as a whole read, in any order."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import DATA, shared_path

from edscan.capture import har_stream
from edscan.capture.har_source import HarSource
from edscan.errors import CaptureError
from edscan.models import Flow

HAR = DATA / "har"


def _read(path: Path) -> tuple[HarSource, list[Flow]]:
    source = HarSource(path)
    return source, list(source)


@pytest.fixture
def stream_all(monkeypatch: pytest.MonkeyPatch) -> None:
    # every HAR counts as large, so that the stream path reads the fixtures
    monkeypatch.setattr(har_stream, "STREAM_FROM_BYTES", 0)


@pytest.mark.parametrize("name", sorted(p.name for p in HAR.glob("*.har")))
def test_streamed_flows_equal_a_whole_read(
    name: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    whole_source, whole = _read(HAR / name)
    assert not whole_source._streamed
    monkeypatch.setattr(har_stream, "STREAM_FROM_BYTES", 0)
    source, streamed = _read(HAR / name)
    assert source._streamed
    assert streamed == whole
    assert source.creator == whole_source.creator
    assert source.skipped == whole_source.skipped
    assert source.warnings == whole_source.warnings


def test_pages_after_entries_still_name_the_phases(stream_all: None, tmp_path: Path) -> None:
    doc = json.loads((HAR / "chrome.har").read_text(encoding="utf-8"))
    log = doc["log"]
    log.pop("pages", None)
    entries = log.pop("entries")
    for e in entries:
        e["pageref"] = "p1"
    log["entries"] = entries
    log["pages"] = [{"id": "p1", "title": "login", "startedDateTime": "2024-05-06T08:00:00Z"}]
    p = tmp_path / "late-pages.har"
    p.write_text(json.dumps(doc), encoding="utf-8")
    assert list(log)[-1] == "pages"  # the pages come after the entries in the file
    _, flows = _read(p)
    assert flows and all(f.phase == "login" for f in flows)


def test_a_second_pass_reads_the_file_again(stream_all: None) -> None:
    source = HarSource(HAR / "chrome.har")
    assert list(source) == list(source)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b'{"log": {"version": "1.2", "entries": [{"request": {"url"', "ends early"),
        (b'{"log": {"entries": [}}', "not valid JSON"),
        (b"[1, 2]", "not a HAR"),
        (b'{"other": {}}', "no top-level 'log'"),
        (b'{"log": {"pages": []}}', "no 'entries' list"),
        (b"   ", "empty"),
    ],
)
def test_bad_large_hars_fail_before_any_flow(
    stream_all: None, tmp_path: Path, content: bytes, message: str
) -> None:
    p = tmp_path / "bad.har"
    p.write_bytes(content)
    with pytest.raises(CaptureError, match=message):
        HarSource(p)


def test_a_bom_is_skipped(stream_all: None, tmp_path: Path) -> None:
    p = tmp_path / "bom.har"
    p.write_bytes(b"\xef\xbb\xbf" + (HAR / "chrome.har").read_bytes())
    _, flows = _read(p)
    assert len(flows) == 4


def test_only_large_plain_hars_stream(tmp_path: Path) -> None:
    import zlib

    small = HAR / "chrome.har"
    assert not har_stream.should_stream(small)
    big = tmp_path / "big.har"
    big.write_bytes(small.read_bytes() + b" " * (har_stream.STREAM_FROM_BYTES + 1))
    assert har_stream.should_stream(big)
    zhar = tmp_path / "big.zhar"
    zhar.write_bytes(zlib.compress(big.read_bytes()))
    zhar.write_bytes(zhar.read_bytes())
    assert not har_stream.should_stream(zhar)  # compressed HARs are read whole, with their cap
    assert not har_stream.should_stream(tmp_path)


@pytest.mark.parametrize("name", ["safari.har", "firefox.har"])
def test_real_hars_stream_to_the_same_flows(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    path = shared_path("corpus", "mitmproxy", "har_files", name)
    _, whole = _read(path)
    monkeypatch.setattr(har_stream, "STREAM_FROM_BYTES", 0)
    source, streamed = _read(path)
    assert source._streamed and streamed == whole and len(whole) > 0
