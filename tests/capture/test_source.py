"""open_source: the format comes from the content, never the name; bad input gets one clear error."""

from __future__ import annotations

import gzip
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import DATA
from mitmproxy import io as mitmio
from mitmproxy.test import tflow

from edscan.capture.capture_file import CaptureWriter
from edscan.capture.source import open_source, sniff
from edscan.errors import CaptureError
from edscan.models import Flow


def _capture(path: Path) -> Path:
    with CaptureWriter(path) as w:
        w.write(Flow(index=0, id="a", method="GET", url="https://x.example.test/"))
    return path


def _mitm(path: Path) -> Path:
    with path.open("wb") as fo:
        mitmio.FlowWriter(fo).add(tflow.tflow(resp=True))
    return path


def _copy(fixture: str) -> Callable[[Path], Path]:
    def make(path: Path) -> Path:
        shutil.copy(DATA / "har" / fixture, path)
        return path

    return make


@pytest.mark.parametrize(
    ("make", "name", "fmt"),
    [
        (_capture, "misnamed.har", "edscan"),
        (_mitm, "misnamed.har", "mitm"),
        (_mitm, "dump.dat", "mitm"),
        (_copy("charles.har"), "export.jsonl", "har"),
        (_copy("bom.har"), "bom.txt", "har"),
    ],
)
def test_format_comes_from_the_content(
    tmp_path: Path, make: Callable[[Path], Path], name: str, fmt: str
) -> None:
    path = make(tmp_path / name)
    assert sniff(path) == fmt
    source = open_source(path)
    assert source.format == fmt and source.path == path
    flows = list(source)
    assert flows and [f.index for f in flows] == list(range(len(flows)))


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "the file is empty"),
        (b"\n  \n", "the file is empty"),
        (b"\xef\xbb\xbf", "the file is empty"),
        (b"\x00\x01\x02binary junk\xff", "not a format edscan reads; expected an edscan capture"),
        (gzip.compress(b'{"log": {}}'), "gzip-compressed: decompress it first"),
        (b'{"a": 1}\n{"b": 2}\n', "JSON lines but not an edscan capture"),
        (b'{"format": "something-else", "version": "1.0"}\n', "not an edscan capture"),
        (b'{"format": "edscan-capture", "version": "9.0"}\n', r"version 9\.0 is not supported"),
        (b'{"format": "edscan-capture", "vers', "not an edscan capture"),
    ],
)
def test_bad_files(tmp_path: Path, content: bytes, message: str) -> None:
    p = tmp_path / "x.edscan.jsonl"
    p.write_bytes(content)
    with pytest.raises(CaptureError, match=message):
        open_source(p)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(CaptureError, match="no such file"):
        open_source(tmp_path / "nope.har")


def test_directory(tmp_path: Path) -> None:
    with pytest.raises(CaptureError, match="is a directory"):
        open_source(tmp_path)


def test_torn_capture_through_open_source(tmp_path: Path) -> None:
    p = _capture(tmp_path / "t.edscan.jsonl")
    with p.open("a") as f:
        f.write('{"index": 1, "id": "b", "meth')
    source = open_source(p)
    assert [f.id for f in source] == ["a"]
    assert len(source.warnings) == 1 and "torn last line" in source.warnings[0]
    list(source)  # a second pass reports the same, once
    assert len(source.warnings) == 1
