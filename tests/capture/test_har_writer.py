"""HAR output: mitmproxy's own HAR reader gets the same flows; round trips through edscan lose
nothing but the compression of bodies."""

from __future__ import annotations

import dataclasses
import gzip
import io
import json
import zlib
from pathlib import Path

import brotli
import pytest
import zstandard
from conftest import DATA
from mitmproxy.io import read_flows_from_paths

from edscan.capture.capture_file import CaptureWriter
from edscan.capture.convert import convert
from edscan.capture.har_writer import HarWriter, decode_content
from edscan.capture.source import open_source
from edscan.models import Body, Flow, WebSocketMessage

T0 = 1714982400.123456


def _body(data: bytes, **kw: object) -> Body:
    return Body(content=data, size=len(data), **kw)  # type: ignore[arg-type]


def _flow(i: int, **kw: object) -> Flow:
    base: dict[str, object] = {
        "index": i,
        "id": f"flow-{i}",
        "method": "GET",
        "url": f"https://app.example.test/api/{i}?q=1&q=2",
        "scheme": "https",
        "http_version": "HTTP/1.1",
        "request_start": T0 + i,
        "response_end": T0 + i + 0.25,
        "client_address": ("10.0.0.2", 50000 + i),
        "server_address": ("192.0.2.10", 443),
        "sni": "app.example.test",
        "tls_version": "TLSv1.3",
        "tls_intercepted": True,
        "request_headers": (("Host", "app.example.test"), ("X-Dup", "a"), ("X-Dup", "b")),
        "status": 200,
        "reason": "OK",
        "phase": "login",
    }
    base.update(kw)
    return Flow(**base)  # type: ignore[arg-type]


JSON_TEXT = '{"student":"Zoë","grade":4}'.encode()
HTML_UTF8 = "<p>Noël à l'école</p>".encode()


def _flows() -> list[Flow]:
    ct_json = ("Content-Type", "application/json")
    return [
        _flow(
            0,
            method="POST",
            request_headers=(("Host", "app.example.test"), ct_json, ("Content-Encoding", "gzip")),
            request_body=_body(gzip.compress(JSON_TEXT)),
            response_headers=(
                ct_json,
                ("Content-Encoding", "gzip"),
                ("Set-Cookie", "sid=1; Path=/"),
            ),
            response_body=_body(gzip.compress(b'{"ok":true}')),
        ),
        _flow(
            1,
            response_headers=(("Content-Type", "text/html"), ("Content-Encoding", "br")),
            response_body=_body(brotli.compress(b"<h1>Class</h1>")),
        ),
        _flow(
            2,
            method="POST",
            phase="quiz",
            request_headers=(("Content-Type", "application/x-www-form-urlencoded"),),
            request_body=_body(b"answer=3%2F4&name=Zoe+Lee"),
            response_headers=(("Content-Type", "image/png"),),
            response_body=_body(b"\x89PNG\r\n\x1a\n\x00\x00\xff\xfe"),
        ),
        _flow(
            3,
            method="POST",
            phase="quiz",
            request_headers=(("Content-Type", "application/x-protobuf"),),
            request_body=_body(b"\n\x04\xe9\xff\x00\x80"),
            response_headers=(ct_json, ("Content-Encoding", "zstd")),
            response_body=_body(zstandard.ZstdCompressor().compress(JSON_TEXT)),
        ),
        _flow(
            4,
            status=None,
            reason=None,
            response_end=None,
            error="connection refused",
            phase=None,
            server_address=None,
        ),
        _flow(
            5,
            url="https://live.example.test/ws",
            status=101,
            reason="Switching Protocols",
            request_headers=(("Upgrade", "websocket"),),
            websocket=(
                WebSocketMessage(from_client=True, timestamp=T0 + 5.1, is_text=True, content=b"hi"),
                WebSocketMessage(
                    from_client=False, timestamp=T0 + 5.2, is_text=False, content=b"\x00\xff"
                ),
                # a text frame that is not UTF-8 must survive (and the HAR must stay UTF-8)
                WebSocketMessage(
                    from_client=True, timestamp=None, is_text=True, content=b"\xff\xfe"
                ),
            ),
        ),
        _flow(
            6,
            response_headers=(
                ("Content-Type", "text/plain; charset=utf-8"),
                ("Content-Encoding", "deflate"),
            ),
            response_body=_body(zlib.compress(HTML_UTF8)),
        ),
        _flow(
            7,
            response_headers=(("Content-Type", "application/json"), ("Content-Encoding", "gzip")),
            response_body=Body(content=gzip.compress(b"x" * 5000)[:20], size=900, truncated=True),
        ),
        _flow(
            8,
            # non-ASCII text without a charset: base64 keeps it exact for every reader
            response_headers=(("Content-Type", "text/html"),),
            response_body=_body(HTML_UTF8),
        ),
        _flow(
            9,
            response_headers=(("Content-Type", "text/plain"), ("Content-Encoding", "gzip")),
            response_body=_body(b"\x1f\x8b\x08\x00 definitely not gzip"),
        ),
        _flow(
            10,
            request_start=None,
            response_end=None,
            http_version="HTTP/2.0",
            status=204,
            reason="",
        ),
    ]


def _capture(path: Path, flows: list[Flow]) -> Path:
    with CaptureWriter(path) as w:
        for f in flows:
            w.write(f)
    return path


def _decoded(body: Body | None, headers: tuple[tuple[str, str], ...]) -> bytes:
    if body is None:
        return b""
    encoding = next((v for k, v in headers if k.lower() == "content-encoding"), "")
    if body.decoded or not encoding:
        return body.content
    try:
        return decode_content(body.content, encoding)
    except ValueError:
        return body.content  # what decoders do: fall back to the bytes as they are


@pytest.fixture
def har(tmp_path: Path) -> Path:
    out = tmp_path / "out.har"
    convert(open_source(_capture(tmp_path / "in.edscan.jsonl", _flows())), out)
    return out


def test_mitmproxy_reads_back_the_same_flows(har: Path) -> None:
    ours = _flows()
    theirs = read_flows_from_paths([str(har)])
    assert len(theirs) == len(ours)
    for a, b in zip(ours, theirs, strict=True):
        assert b.request.method == a.method
        assert b.request.url == a.url
        assert b.response.status_code == (a.status or 0)  # HAR has 0 for "no response"
        # mitmproxy's reader sets Content-Length on requests itself; all else as written
        req_headers = [(k.decode(), v.decode()) for k, v in b.request.headers.fields]
        assert [h for h in req_headers if h[0].lower() != "content-length"] == list(
            a.request_headers
        )
        assert [(k.decode(), v.decode()) for k, v in b.response.headers.fields] == list(
            a.response_headers
        )
        assert (b.request.get_content(strict=False) or b"") == _decoded(
            a.request_body, a.request_headers
        )
        assert (b.response.get_content(strict=False) or b"") == _decoded(
            a.response_body, a.response_headers
        )


def test_the_har_is_utf8_with_pages_for_phases(har: Path) -> None:
    doc = json.loads(har.read_bytes().decode("utf-8"))  # strict UTF-8
    log = doc["log"]
    assert log["version"] == "1.2" and log["creator"]["name"] == "edscan"
    assert [p["title"] for p in log["pages"]] == ["login", "quiz"]
    refs = [e.get("pageref") for e in log["entries"]]
    ids = {p["title"]: p["id"] for p in log["pages"]}
    assert refs[:4] == [ids["login"], ids["login"], ids["quiz"], ids["quiz"]]
    assert refs[4] is None
    html = log["entries"][8]["response"]["content"]
    assert html["encoding"] == "base64"
    assert log["entries"][0]["response"]["content"]["text"] == '{"ok":true}'
    assert log["entries"][0]["request"]["cookies"] == []
    assert log["entries"][0]["response"]["cookies"][0]["name"] == "sid"
    assert log["entries"][0]["request"]["queryString"] == [
        {"name": "q", "value": "1"},
        {"name": "q", "value": "2"},
    ]


def _without_compression(flow: Flow) -> Flow:
    def norm(body: Body | None, headers: tuple[tuple[str, str], ...]) -> Body | None:
        if body is None:
            return None
        return Body(content=_decoded(body, headers), size=-1, truncated=body.truncated)

    return dataclasses.replace(
        flow,
        request_body=norm(flow.request_body, flow.request_headers),
        response_body=norm(flow.response_body, flow.response_headers),
    )


def test_edscan_to_har_to_edscan(har: Path, tmp_path: Path) -> None:
    back = tmp_path / "back.edscan.jsonl"
    convert(open_source(har), back)
    again = list(open_source(back))
    original = _flows()
    # everything HAR cannot hold travels in _edscan: ids, exact times, addresses, TLS, phases
    assert [_without_compression(f) for f in again] == [_without_compression(f) for f in original]
    # bodies that were decompressed say so; the ones that would not decompress do not
    assert again[0].response_body is not None and again[0].response_body.decoded
    assert again[0].request_body is not None and again[0].request_body.decoded
    assert again[9].response_body is not None and not again[9].response_body.decoded
    # the cut-off body keeps its cap and its original size
    cut = again[7].response_body
    assert cut is not None and cut.truncated and cut.size == 900 and not cut.decoded
    assert again[4].request_start == T0 + 4 and again[10].request_start is None


def test_har_to_edscan_loses_nothing(tmp_path: Path) -> None:
    for name in ("chrome.har", "firefox.har", "quirks.har", "mitmproxy-written.har"):
        out = tmp_path / f"{name}.edscan.jsonl"
        result = convert(open_source(DATA / "har" / name), out)
        assert list(open_source(out)) == list(open_source(DATA / "har" / name))
        assert result.flows == len(list(open_source(out)))


def test_har_written_from_a_har_reads_the_same(tmp_path: Path) -> None:
    out = tmp_path / "again.har"
    convert(open_source(DATA / "har" / "chrome.har"), out)
    assert list(open_source(out)) == list(open_source(DATA / "har" / "chrome.har"))


def test_empty_capture_gives_a_valid_har(tmp_path: Path) -> None:
    buf = io.StringIO()
    HarWriter(buf).close()
    doc = json.loads(buf.getvalue())
    assert doc["log"]["entries"] == [] and doc["log"]["pages"] == []


# --------------------------------------------------------------------------- decompression


@pytest.mark.parametrize(
    ("encoded", "coding"),
    [
        (gzip.compress(JSON_TEXT), "gzip"),
        (gzip.compress(JSON_TEXT), "x-gzip"),
        (zlib.compress(JSON_TEXT), "deflate"),
        (zlib.compress(JSON_TEXT)[2:-4], "deflate"),  # raw deflate, no zlib header
        (brotli.compress(JSON_TEXT), "br"),
        (zstandard.ZstdCompressor().compress(JSON_TEXT), "zstd"),
        (brotli.compress(gzip.compress(JSON_TEXT)), "gzip, br"),
        (JSON_TEXT, "identity"),
    ],
)
def test_decode_content(encoded: bytes, coding: str) -> None:
    assert decode_content(encoded, coding) == JSON_TEXT


@pytest.mark.parametrize(
    ("encoded", "coding", "message"),
    [
        (b"plain", "gzip", "gzip"),
        (gzip.compress(JSON_TEXT)[:-10], "gzip", "incomplete"),
        (b"plain", "br", "br"),
        (b"plain", "compress", "unknown content-encoding"),
        (gzip.compress(b"\0" * 100_000), "gzip", "larger than 1000 bytes"),
        (brotli.compress(b"\0" * 100_000), "br", "larger than 1000 bytes"),
        (zstandard.ZstdCompressor().compress(b"\0" * 100_000), "zstd", "larger than 1000 bytes"),
    ],
)
def test_decode_content_refuses(encoded: bytes, coding: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        decode_content(encoded, coding, limit=1000)


def test_the_cut_off_mark_survives_a_round_trip_through_har(tmp_path: Path) -> None:
    cut = _flow(
        0, status=None, reason=None, response_headers=(), response_body=None,
        error="cut off by the stop of the capture before the response arrived",
        cut_off="no_response",
    )  # fmt: skip
    har = tmp_path / "cut.har"
    convert(open_source(_capture(tmp_path / "cut.edscan.jsonl", [cut, _flow(1)])), har)
    entries = json.loads(har.read_text())["log"]["entries"]
    assert entries[0]["_edscan"]["cut_off"] == "no_response"
    assert "cut_off" not in entries[1]["_edscan"]
    back = list(open_source(har))
    assert [f.cut_off for f in back] == ["no_response", None]
    assert back[0].error == cut.error and back[0].status is None
