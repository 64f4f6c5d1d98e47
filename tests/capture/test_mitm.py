"""mitmproxy dumps (.mitm): every flow kind, cut-off and unreadable dumps, the real corpus."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from conftest import SHARED, shared_path
from mitmproxy import http, websocket
from mitmproxy import io as mitmio
from mitmproxy.io import tnetstring
from mitmproxy.test import tflow
from wsproto.frame_protocol import Opcode

from edscan.capture.capture_file import flow_from_dict
from edscan.capture.mitm import MitmSource, flow_from_mitmproxy, record_from_mitmproxy
from edscan.capture.source import open_source
from edscan.errors import CaptureError


def _http(version: str, path: str) -> object:
    f = tflow.tflow(resp=True)
    f.request.http_version = version
    f.request.path = path
    f.response.http_version = version
    return f


def _dump(path: Path, flows: list[object]) -> Path:
    with path.open("wb") as fo:
        writer = mitmio.FlowWriter(fo)
        for f in flows:
            writer.add(f)  # type: ignore[arg-type]
    return path


@pytest.fixture
def mixed(tmp_path: Path) -> Path:
    ws = tflow.twebsocketflow()
    failed = tflow.tflow(err=True)
    phased = _http("HTTP/1.1", "/quiz")
    phased.metadata["edscan.phase"] = "quiz"  # type: ignore[attr-defined]
    return _dump(
        tmp_path / "mixed.mitm",
        [
            _http("HTTP/1.1", "/one"),
            tflow.ttcpflow(),
            _http("HTTP/2.0", "/two"),
            tflow.tudpflow(),
            _http("HTTP/3", "/three"),
            tflow.tdnsflow(),
            ws,
            failed,
            tflow.ttcpflow(),
            phased,
        ],
    )


def test_every_http_flow_kind_and_the_others_counted(mixed: Path) -> None:
    source = open_source(mixed)
    assert isinstance(source, MitmSource) and source.format == "mitm"
    flows = list(source)
    assert [f.index for f in flows] == [0, 1, 2, 3, 4, 5]
    assert [f.http_version for f in flows[:3]] == ["HTTP/1.1", "HTTP/2.0", "HTTP/3"]
    assert [f.url.rsplit("/", 1)[1] for f in flows[:3]] == ["one", "two", "three"]
    ws = flows[3]
    assert ws.websocket and {m.from_client for m in ws.websocket} == {True, False}
    assert flows[4].error == "error" and flows[4].status is None
    assert flows[5].phase == "quiz" and flows[0].phase is None
    assert source.skipped == {"tcp": 2, "udp": 1, "dns": 1}
    assert source.warnings == []
    # bodies stay as they were sent
    assert flows[0].response_body is not None and not flows[0].response_body.decoded


def test_a_cut_off_dump_keeps_the_flows_before_the_cut(mixed: Path, tmp_path: Path) -> None:
    full = [f.url for f in open_source(mixed)]
    data = mixed.read_bytes()
    cut = tmp_path / "cut.mitm"
    cut.write_bytes(data[: len(data) - 30])  # into the last flow
    source = open_source(cut)
    assert [f.url for f in source] == full[:-1]
    assert len(source.warnings) == 1
    assert "cut off in the middle of a flow" in source.warnings[0]
    assert "kept the 9 flows before it" in source.warnings[0]


def test_a_dump_cut_inside_its_first_flow(mixed: Path, tmp_path: Path) -> None:
    cut = tmp_path / "cut.mitm"
    cut.write_bytes(mixed.read_bytes()[:200])
    with pytest.raises(CaptureError, match="cut off before its first complete flow"):
        open_source(cut)


def test_garbage_after_good_flows_is_reported(mixed: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.mitm"
    bad.write_bytes(mixed.read_bytes() + b"12:xxxxxxxxxxxxZ" + b"tail" * 10)
    source = open_source(bad)
    assert len(list(source)) == 6
    assert len(source.warnings) == 1 and "invalid data near byte" in source.warnings[0]


def test_digits_then_junk(tmp_path: Path) -> None:
    p = tmp_path / "junk.mitm"
    p.write_bytes(b"5:hello!" + b"\x00" * 100)
    with pytest.raises(CaptureError, match="not a mitmproxy dump edscan can read"):
        open_source(p)


def _versioned(tmp_path: Path, version: object) -> Path:
    state = tflow.tflow(resp=True).get_state()
    state["version"] = version
    p = tmp_path / "versioned.mitm"
    with p.open("wb") as fo:
        tnetstring.dump(state, fo)
    return p


def test_a_flow_with_a_field_mitmproxy_does_not_know(mixed: Path, tmp_path: Path) -> None:
    """mitmproxy's reader asserts that no field is left over; a renamed one (found by the
    fuzz suite) is a damaged dump: refused at the start, kept up to it later on."""
    state = tflow.tflow(resp=True).get_state()
    state["cackup"] = state.pop("backup")
    odd = tmp_path / "odd.mitm"
    with odd.open("wb") as fo:
        tnetstring.dump(state, fo)
    with pytest.raises(CaptureError, match="does not have the fields mitmproxy writes"):
        open_source(odd)
    later = tmp_path / "later.mitm"
    later.write_bytes(mixed.read_bytes() + odd.read_bytes())
    source = open_source(later)
    assert len(list(source)) == 6
    assert "kept the 10 flows before it" in source.warnings[0]


def test_a_dump_from_a_newer_mitmproxy(tmp_path: Path) -> None:
    with pytest.raises(CaptureError, match=r"newer mitmproxy \(flow format 99\)"):
        open_source(_versioned(tmp_path, 99))


def test_a_dump_from_an_ancient_mitmproxy(tmp_path: Path) -> None:
    with pytest.raises(CaptureError, match=r"old mitmproxy \(flow format 0\.9\)"):
        open_source(_versioned(tmp_path, [0, 9]))


# --------------------------------------------------------------------------- the real corpus


def _corpus() -> list[str]:
    root = SHARED / "corpus" / "mitmproxy"
    found = (
        sorted(str(p.relative_to(root)) for p in root.glob("**/*.mitm")) if root.exists() else []
    )
    return found or ["(absent)"]


TOO_OLD = {"dumpfile-010.mitm"}


@pytest.mark.parametrize("name", _corpus())
def test_every_corpus_dump_imports_or_fails_clearly(name: str) -> None:
    path = shared_path("corpus", "mitmproxy", name)
    if name in TOO_OLD:
        with pytest.raises(CaptureError, match=r"old mitmproxy \(flow format 0\.10\)"):
            open_source(path)
        return
    source = open_source(path)
    flows = list(source)
    assert source.format == "mitm" and source.warnings == []
    assert flows and all(f.method and f.url.startswith(("http://", "https://")) for f in flows)


def test_corpus_http3_tcp_and_websocket() -> None:
    h3 = list(open_source(shared_path("corpus", "mitmproxy", "dumpfile-19.mitm")))
    assert [f.http_version for f in h3] == ["HTTP/3"]
    diff = open_source(shared_path("corpus", "mitmproxy", "flows", "diff_data.mitm"))
    assert len(list(diff)) == 5 and diff.skipped == {"tcp": 2}
    ws = list(open_source(shared_path("corpus", "mitmproxy", "dumpfile-7-websocket.mitm")))
    assert sum(len(f.websocket) for f in ws) > 0


def test_corpus_host_comes_from_the_host_header() -> None:
    # this dump's requests name the server by IP; the Host header names the recipient
    flows = list(open_source(shared_path("corpus", "mitmproxy", "flows", "event_stream.mitm")))
    assert {f.host for f in flows} == {"clientstream.launchdarkly.com"}


# ----------------------------------------------------------------- the one conversion


def _conversion_cases() -> dict[str, tuple[http.HTTPFlow, int | None]]:
    binary = bytes(range(256)) * 4
    text = "Ünïcödé quiz answer ✓ ".encode() * 20

    https = tflow.tflow(
        req=http.Request.make("POST", "https://school.example.test/api?uid=7", b'{"a":1}'),
        resp=http.Response.make(200, binary, {"Content-Type": "image/png"}),
    )
    https.server_conn.tls_version = "TLSv1.3"
    https.client_conn.timestamp_tls_setup = 1.5  # the proxy completed TLS with the client
    https.server_conn.sni = "school.example.test"

    h2 = tflow.tflow(resp=True)
    h2.request.http_version = "HTTP/2.0"
    h2.request.authority = "cdn.example.test"

    transparent = tflow.tflow(req=http.Request.make("GET", "http://10.0.0.1/p"), resp=True)
    # set after make(): setting the URL rewrites the Host header
    transparent.request.headers["Host"] = "school.example.test"

    connect = tflow.tflow(err=True)
    connect.request = http.Request(
        "example.test", 443, b"CONNECT", b"", b"", b"", b"HTTP/1.1",
        http.Headers(), b"", None, 1.0, 2.0,
    )  # fmt: skip

    not_utf8 = tflow.tflow(
        req=http.Request(
            "api.example.test", 80, b"G\xffT", b"http", b"api.example.test", b"/a\xffb?q=\xfe",
            b"HTTP/1.1", http.Headers([(b"Host", b"api.example.test"), (b"X-\xff", b"v\xfe")]),
            b"caf\xe9", None, 1.0, 2.0,
        ),
        resp=http.Response(
            b"HTTP/1.1", 200, b"O\xffK", http.Headers([(b"Set-Cookie", b"a=\xff")]), b"\xff\xfe",
            None, 2.0, 3.0,
        ),
    )  # fmt: skip

    ws = tflow.twebsocketflow()
    assert ws.websocket is not None
    ws.websocket.messages.append(websocket.WebSocketMessage(Opcode.BINARY, True, b"\x00\xff", 5.0))
    ws.websocket.messages.append(websocket.WebSocketMessage(Opcode.TEXT, False, "é".encode(), 6.0))

    duplicates = tflow.tflow(
        req=http.Request.make(
            "POST", "http://example.test/", text, [(b"Cookie", b"a=1"), (b"cookie", b"b=2")]
        ),
        resp=http.Response.make(204, b"", [(b"Set-Cookie", b"x=1"), (b"Set-Cookie", b"y=2")]),
    )

    phased = tflow.tflow(resp=True)
    return {
        "http": (tflow.tflow(resp=True), None),
        "request only": (tflow.tflow(), None),
        "https binary response": (https, None),
        "http2 authority": (h2, None),
        "transparent host header": (transparent, None),
        "error": (tflow.tflow(err=True), None),
        "connect": (connect, None),
        "not utf-8": (not_utf8, None),
        "websocket": (ws, None),
        "duplicate headers, text body": (duplicates, None),
        "text truncated mid-character": (duplicates, 4),  # cuts "ï" in two: stored as base64
        "binary truncated": (https, 10),
        "max body 0": (https, 0),
        "phased": (phased, None),
    }


@pytest.mark.parametrize("case", list(_conversion_cases()))
def test_record_is_the_flows_capture_line(case: str) -> None:
    f, max_body = _conversion_cases()[case]
    phase = "quiz" if case == "phased" else None
    record = record_from_mitmproxy(f, index=3, max_body=max_body, phase=phase)
    flow = flow_from_mitmproxy(f, index=3, max_body=max_body, phase=phase)
    assert record == flow.to_dict()
    assert flow_from_dict(record) == flow
    # the line the recorder writes is the same record, read back as the same Flow
    assert flow_from_dict(orjson.loads(orjson.dumps(record))) == flow
    # and it says what mitmproxy saw, independently of the Flow model
    assert record["index"] == 3 and record["id"] == f.id and record["phase"] == phase
    for got, sent in ((flow.request_body, f.request), (flow.response_body, f.response)):
        raw = sent.raw_content if sent is not None else None
        if not raw:
            assert got is None
            continue
        assert got is not None and got.size == len(raw)
        assert got.content == raw[:max_body] if max_body is not None else got.content == raw
        assert got.truncated == (max_body is not None and len(raw) > max_body)
    assert [h[0] for h in flow.request_headers] == [
        k.decode("utf-8", "replace") for k, _ in f.request.headers.fields
    ]
    if f.websocket is not None:
        assert [m.content for m in flow.websocket] == [m.content for m in f.websocket.messages]
    if f.error is not None:
        assert flow.error == f.error.msg


def test_record_body_encodings() -> None:
    cases = _conversion_cases()
    https, _ = cases["https binary response"]
    record = record_from_mitmproxy(https, index=0)
    assert record["response_body"]["encoding"] == "base64"
    assert record["request_body"] == {
        "encoding": "utf-8", "data": '{"a":1}', "size": 7, "truncated": False,
    }  # fmt: skip
    assert record["tls"] == {"version": "TLSv1.3", "intercepted": True}
    cut = record_from_mitmproxy(cases["text truncated mid-character"][0], index=0, max_body=4)
    assert cut["request_body"]["encoding"] == "base64" and cut["request_body"]["truncated"]
    odd = record_from_mitmproxy(cases["not utf-8"][0], index=0)
    assert odd["method"] == "G%FFT" and odd["url"] == "http://api.example.test/a%FFb?q=%FE"
    assert odd["request_headers"][1] == ["X-\ufffd", "v\ufffd"]
    assert odd["reason"] == "O\xffK"  # mitmproxy reads a reason phrase as ISO-8859-1
    assert cases["connect"][0].request.first_line_format == "authority"
    assert record_from_mitmproxy(cases["connect"][0], index=0)["url"] == "https://example.test/"
    assert record_from_mitmproxy(cases["transparent host header"][0], index=0)["url"] == (
        "http://school.example.test/p"
    )
