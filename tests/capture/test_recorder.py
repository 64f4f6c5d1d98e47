"""The recorder addon, driven through mitmproxy's own test context (no sockets)."""

from __future__ import annotations

import asyncio
import logging
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from mitmproxy import connection, exceptions, http, websocket
from mitmproxy.proxy.layers.tls import TlsData  # type: ignore[attr-defined]
from mitmproxy.test import taddons, tflow

from edscan.capture.capture_file import read_capture
from edscan.capture.inflight import PartialBodies
from edscan.capture.mitm import flow_from_mitmproxy
from edscan.capture.recorder import (
    DEFAULT_MAX_BODY,
    PHASE_KEY,
    TLS_FAILED,
    TLS_REFUSED,
    Recorder,
    normalize_label,
)
from edscan.models import Flow

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def tctx() -> Iterator[taddons.context]:
    with taddons.context() as ctx:
        yield ctx
    # taddons leaves its event loop open; an unclosed loop is a ResourceWarning (an error here)
    ctx.master.event_loop.close()


@pytest.fixture
def rec(tctx: taddons.context, tmp_capture: Path) -> Iterator[Recorder]:
    r = Recorder()
    tctx.master.addons.add(r)
    tctx.configure(r, edscan_capture=str(tmp_capture))
    yield r
    r.done()  # idempotent: closes the capture if the test did not


def _flows(path: Path) -> list[Flow]:
    return list(read_capture(path))


def _request(url: str = "https://api.example.test/v1/events?uid=7", **kw: Any) -> http.Request:
    headers = kw.pop(
        "headers",
        [(b"Content-Type", b"application/json"), (b"X-Dup", b"1"), (b"X-Dup", b"2")],
    )
    req = http.Request.make(kw.pop("method", "POST"), url, kw.pop("content", b'{"a":1}'), headers)
    return req


def _flow(url: str = "https://api.example.test/v1/events?uid=7", **kw: Any) -> http.HTTPFlow:
    resp = kw.pop("resp", None)
    f = tflow.tflow(req=_request(url, **kw))
    if resp is not None:
        f.response = resp
    return f


def _response(content: bytes = b"ok", headers: Any = None) -> http.Response:
    return http.Response.make(
        200, content, headers or [(b"Set-Cookie", b"a=1"), (b"Set-Cookie", b"b=2")]
    )


# --------------------------------------------------------------------------- options


def test_defaults_and_header(rec: Recorder, tmp_capture: Path) -> None:
    assert rec.max_body == DEFAULT_MAX_BODY == 8 * 1024 * 1024
    rec.done()
    reader = read_capture(tmp_capture)
    assert reader.header["settings"]["max_body"] == DEFAULT_MAX_BODY
    assert reader.header["settings"]["ssl_insecure"] is False
    assert list(reader) == []
    assert stat.S_IMODE(tmp_capture.stat().st_mode) == 0o600


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"edscan_max_body": -1}, "edscan_max_body must be 0 or more"),
        ({"edscan_phase": "x" * 81}, "at most 80 characters"),
        ({"edscan_phase": "a\x1bb"}, "control characters"),
    ],
)
def test_bad_options_are_refused(
    tctx: taddons.context, options: dict[str, Any], message: str
) -> None:
    r = Recorder()
    tctx.master.addons.add(r)
    with pytest.raises(exceptions.OptionsError, match=message):
        tctx.configure(r, **options)


def test_unwritable_capture_path_is_refused(tctx: taddons.context, tmp_path: Path) -> None:
    r = Recorder()
    tctx.master.addons.add(r)
    with pytest.raises(exceptions.OptionsError, match="cannot create"):
        tctx.configure(r, edscan_capture=str(tmp_path / "missing" / "x.edscan.jsonl"))
    assert r.writer is None


def test_script_exposes_the_recorder(tctx: taddons.context) -> None:
    module = tctx.script(str(ROOT / "addons" / "edscan_recorder.py"))
    assert isinstance(module.addons[0], Recorder)


@pytest.mark.parametrize(
    ("raw", "label"), [("  quiz  ", "quiz"), ("essay\t 2", "essay 2"), ("", None), (None, None)]
)
def test_normalize_label(raw: str | None, label: str | None) -> None:
    assert normalize_label(raw) == label


# --------------------------------------------------------------------------- recording


def test_response_flow_is_recorded_as_sent(
    tctx: taddons.context, rec: Recorder, tmp_capture: Path
) -> None:
    f = _flow(resp=_response(b"\x1f\x8b\x08\x00binary"))
    rec.request(f)
    rec.response(f)
    rec.done()
    [got] = _flows(tmp_capture)
    assert got.index == 0 and got.id == f.id
    assert got.method == "POST" and got.url == "https://api.example.test/v1/events?uid=7"
    assert got.request_headers[:3] == (
        ("Content-Type", "application/json"),
        ("X-Dup", "1"),
        ("X-Dup", "2"),
    )
    assert got.request_body is not None and got.request_body.content == b'{"a":1}'
    assert got.status == 200
    assert ("Set-Cookie", "a=1") in got.response_headers
    assert ("Set-Cookie", "b=2") in got.response_headers
    assert got.response_body is not None
    assert got.response_body.content == b"\x1f\x8b\x08\x00binary"
    assert rec.stats.flows == 1
    assert rec.stats.hosts == {"api.example.test"}
    assert rec.stats.bytes == len(b'{"a":1}') + len(b"\x1f\x8b\x08\x00binary")


def test_error_flow_is_recorded(rec: Recorder, tmp_capture: Path) -> None:
    f = _flow()
    rec.request(f)
    f.error = tflow.terr("Connection refused")
    rec.error(f)
    rec.done()
    [got] = _flows(tmp_capture)
    assert got.error == "Connection refused" and got.status is None


def test_a_flow_is_recorded_once(rec: Recorder, tmp_capture: Path) -> None:
    f = _flow(resp=_response())
    rec.request(f)
    rec.response(f)
    f.error = tflow.terr("client disconnected")
    rec.error(f)
    rec.done()
    assert [g.id for g in _flows(tmp_capture)] == [f.id]


def test_indices_follow_write_order(rec: Recorder, tmp_capture: Path) -> None:
    flows = [_flow(f"https://h{i}.example.test/", resp=_response()) for i in range(3)]
    for f in flows:
        rec.request(f)
    for f in reversed(flows):
        rec.response(f)
    rec.done()
    got = _flows(tmp_capture)
    assert [g.index for g in got] == [0, 1, 2]
    assert [g.host for g in got] == ["h2.example.test", "h1.example.test", "h0.example.test"]


def test_bodies_over_max_body_are_cut(
    tctx: taddons.context, rec: Recorder, tmp_capture: Path
) -> None:
    tctx.configure(rec, edscan_max_body=10)
    f = _flow(content=b"0123456789abcdef", resp=_response(b"short"))
    rec.request(f)
    rec.response(f)
    rec.done()
    [got] = _flows(tmp_capture)
    assert got.request_body is not None
    assert got.request_body.content == b"0123456789"
    assert got.request_body.truncated and got.request_body.size == 16
    assert got.response_body is not None and not got.response_body.truncated
    assert rec.stats.bytes == 16 + 5


def test_websocket_is_recorded_once_when_it_ends(rec: Recorder, tmp_capture: Path) -> None:
    f = tflow.twebsocketflow()
    rec.request(f)
    rec.response(f)  # the 101 handshake: not yet
    assert _flows(tmp_capture) == []
    f.websocket.messages.append(websocket.WebSocketMessage(2, True, b"late message"))
    f.error = tflow.terr("connection closed")
    rec.error(f)  # websocket_end follows; no record yet
    rec.websocket_end(f)
    rec.websocket_end(f)
    rec.done()
    [got] = _flows(tmp_capture)
    assert got.status == 101
    assert [m.content for m in got.websocket][-1] == b"late message"
    assert len(got.websocket) == len(f.websocket.messages)
    assert got.websocket[0].from_client is f.websocket.messages[0].from_client


def test_open_websocket_is_kept_at_shutdown(rec: Recorder, tmp_capture: Path) -> None:
    f = tflow.twebsocketflow()
    rec.request(f)
    rec.response(f)
    rec.done()
    [got] = _flows(tmp_capture)
    assert got.id == f.id and len(got.websocket) == len(f.websocket.messages)


def test_certificate_download_page_is_not_recorded(rec: Recorder, tmp_capture: Path) -> None:
    f = _flow("http://mitm.it/cert/pem", method="GET", content=b"", resp=_response())
    rec.request(f)
    rec.response(f)
    rec.done()
    assert _flows(tmp_capture) == []


def test_nothing_is_recorded_without_a_capture(tctx: taddons.context) -> None:
    r = Recorder()
    tctx.master.addons.add(r)
    f = _flow(resp=_response())
    r.request(f)
    r.response(f)
    assert r.stats.flows == 0 and r.writer is None


# --------------------------------------------------------------------------- phases


def test_phase_option_and_command(tctx: taddons.context, rec: Recorder, tmp_capture: Path) -> None:
    tctx.configure(rec, edscan_phase="login")
    a = _flow("https://a.example.test/", resp=_response())
    rec.request(a)
    rec.response(a)
    tctx.command(rec.mark, "quiz")
    b = _flow("https://b.example.test/", resp=_response())
    rec.request(b)
    rec.response(b)
    assert tctx.options.edscan_phase == "quiz"
    rec.done()
    assert [(g.host, g.phase) for g in _flows(tmp_capture)] == [
        ("a.example.test", "login"),
        ("b.example.test", "quiz"),
    ]
    assert rec.stats.phases == ["login", "quiz"]


def test_phase_is_the_one_active_when_the_request_was_made(
    tctx: taddons.context, rec: Recorder, tmp_capture: Path
) -> None:
    tctx.configure(rec, edscan_phase="login")
    slow = _flow()
    rec.request(slow)
    assert slow.metadata[PHASE_KEY] == "login"
    rec.set_phase("quiz")
    slow.response = _response()
    rec.response(slow)
    rec.done()
    assert [g.phase for g in _flows(tmp_capture)] == ["login"]


def test_mark_command_refuses_a_bad_label(tctx: taddons.context, rec: Recorder) -> None:
    with pytest.raises(exceptions.CommandError, match="control characters"):
        tctx.command(rec.mark, "bad\x07label")
    assert rec.phase is None


def test_mark_url_sets_the_phase_and_is_answered_locally(
    tctx: taddons.context, rec: Recorder, tmp_capture: Path
) -> None:
    m = _flow("http://edscan.mark/quiz%202", method="GET", content=b"")
    rec.request(m)
    assert m.response is not None and m.response.status_code == 200
    assert b"quiz 2" in m.response.content
    assert m.response.headers["Content-Type"].startswith("text/html")
    assert rec.phase == "quiz 2" and tctx.options.edscan_phase == "quiz 2"
    rec.response(m)  # answered by us: never recorded
    f = _flow(resp=_response())
    rec.request(f)
    rec.response(f)
    rec.done()
    assert [(g.host, g.phase) for g in _flows(tmp_capture)] == [("api.example.test", "quiz 2")]


def test_mark_page_escapes_the_label(rec: Recorder) -> None:
    m = _flow("http://edscan.mark/%3Cscript%3Ex%3C%2Fscript%3E", method="GET", content=b"")
    rec.request(m)
    assert m.response is not None
    assert b"<script>" not in m.response.content
    assert b"&lt;script&gt;" in m.response.content


@pytest.mark.parametrize("path", ["/favicon.ico", "/robots.txt"])
def test_browser_side_requests_do_not_become_labels(rec: Recorder, path: str) -> None:
    rec.set_phase("login")
    m = _flow(f"http://edscan.mark{path}", method="GET", content=b"")
    rec.request(m)
    assert m.response is not None and m.response.status_code == 404
    assert rec.phase == "login"


def test_bad_mark_label_is_answered_with_400(rec: Recorder) -> None:
    m = _flow("http://edscan.mark/" + "x" * 200, method="GET", content=b"")
    rec.request(m)
    assert m.response is not None and m.response.status_code == 400
    assert rec.phase is None


def test_https_mark_connect_is_answered_without_an_upstream(rec: Recorder) -> None:
    connect = tflow.tflow(req=http.Request.make("CONNECT", "https://edscan.mark:443/"))
    rec.http_connect(connect)
    assert connect.response is not None and connect.response.status_code == 200
    other = tflow.tflow(req=http.Request.make("CONNECT", "https://api.example.test:443/"))
    rec.http_connect(other)
    assert other.response is None


# --------------------------------------------------------------------------- TLS refusals


def _tls_data(sni: str | None, error: str) -> TlsData:
    client = tflow.tclient_conn()
    client.sni = sni
    client.error = error
    client.timestamp_tls_setup = None  # the handshake never completed
    server = connection.Server(address=("10.0.0.5", 443))
    ctx = type("Ctx", (), {"client": client, "server": server})()
    return TlsData(client, ctx)  # type: ignore[arg-type]


def test_refused_handshake_is_recorded_for_host_coverage(rec: Recorder, tmp_capture: Path) -> None:
    rec.tls_failed_client(
        _tls_data(
            "pinned.example.test",
            "The client does not trust the proxy's certificate for pinned.example.test "
            "(OpenSSL Error([('SSL routines', '', 'tlsv1 alert unknown ca')]))",
        )
    )
    rec.tls_failed_client(
        _tls_data(None, "Client and mitmproxy cannot agree on a TLS version to use.")
    )
    rec.done()
    pinned, other = _flows(tmp_capture)
    assert pinned.method == "CONNECT" and pinned.url == "https://pinned.example.test/"
    assert pinned.host == "pinned.example.test" and pinned.status is None
    assert pinned.error is not None and pinned.error.startswith(TLS_REFUSED)
    assert "pinning" in pinned.error and "unknown ca" in pinned.error
    assert pinned.tls_intercepted is False
    assert other.host == "10.0.0.5"
    assert other.error is not None and other.error.startswith(TLS_FAILED)
    assert rec.stats.refused_hosts == {"pinned.example.test"}


# --------------------------------------------------------------------------- failures


def test_write_failure_stops_the_proxy_loudly(
    tctx: taddons.context, rec: Recorder, caplog: pytest.LogCaptureFixture
) -> None:
    full = Path("/dev/full")
    if not full.exists():
        pytest.skip("/dev/full is needed to make writes fail")
    assert rec.writer is not None
    rec.writer._file.close()
    rec.writer._file = full.open("wb")
    f = _flow(resp=_response())
    rec.request(f)
    with caplog.at_level(logging.ERROR):
        rec.response(f)
    assert rec.failure is not None and "No space left" in rec.failure
    assert "shutting down" in caplog.text
    assert f.error is not None and f.error.msg == "Connection killed."  # not passed on
    tctx.master.event_loop.run_until_complete(asyncio.sleep(0))
    assert tctx.master.should_exit.is_set()
    later = _flow()
    rec.request(later)
    assert later.error is not None  # refused until the proxy is down
    rec.done()


def test_conversion_errors_never_break_traffic(
    rec: Recorder,
    tmp_capture: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    def broken(*args: object, **kwargs: object) -> dict[str, object]:
        raise RuntimeError("boom")

    monkeypatch.setattr("edscan.capture.recorder.record_from_mitmproxy", broken)
    f = _flow(resp=_response())
    rec.request(f)
    with caplog.at_level(logging.ERROR):
        rec.response(f)
    assert f.error is None and f.live  # the user's flow goes on
    assert rec.stats.unrecorded == 1 and rec.failure is None
    assert "boom" in caplog.text
    monkeypatch.undo()
    g = _flow(resp=_response())
    rec.request(g)
    rec.response(g)
    rec.done()
    assert [x.id for x in _flows(tmp_capture)] == [g.id]


def test_switching_capture_files(tctx: taddons.context, rec: Recorder, tmp_path: Path) -> None:
    first = rec.writer.path if rec.writer else None
    f = _flow(resp=_response())
    rec.request(f)
    rec.response(f)
    second = tmp_path / "second.edscan.jsonl"
    tctx.configure(rec, edscan_capture=str(second))
    g = _flow(resp=_response())
    rec.request(g)
    rec.response(g)
    tctx.configure(rec, edscan_capture=None)
    assert rec.writer is None
    assert first is not None
    assert [x.id for x in _flows(first)] == [f.id]
    assert [(x.index, x.id) for x in _flows(second)] == [(0, g.id)]


def test_bytes_that_are_not_utf8_never_stop_the_recording(rec: Recorder, tmp_capture: Path) -> None:
    req = http.Request(
        "api.example.test", 80, b"G\xffT", b"http", b"api.example.test", b"/a\xffb?q=\xfe",
        b"HTTP/1.1", http.Headers([(b"Host", b"api.example.test")]), b"", None, 1.0, 2.0,
    )  # fmt: skip
    f = tflow.tflow(req=req, resp=_response())
    rec.request(f)
    rec.response(f)
    assert rec.failure is None
    rec.done()
    [got] = _flows(tmp_capture)
    assert got.url == "http://api.example.test/a%FFb?q=%FE" and got.method == "G%FFT"


@pytest.mark.parametrize(
    ("url", "host_header"),
    [
        ("http://127.0.0.1:9999/p?q=1", "127.0.0.1:9999"),  # regular proxy mode
        ("http://example.test/p", "example.test"),  # default port
        ("https://example.test/p", "example.test:443"),
        ("http://10.0.0.1/p", "school.example.test"),  # transparent mode: the name wins
        ("http://10.0.0.1:8080/p", "school.example.test:8080"),
        ("http://example.test:8080/p", "example.test"),
        ("http://example.test/p", None),
    ],
)
def test_url_is_mitmproxys_pretty_url(url: str, host_header: str | None) -> None:
    headers = [(b"Host", host_header.encode())] if host_header else []
    f = tflow.tflow(req=http.Request.make("GET", url, b"", headers), resp=_response())
    got = flow_from_mitmproxy(f, index=0)
    assert got.url == f.request.pretty_url


def test_mark_in_transparent_mode_is_found_by_its_host_header(rec: Recorder) -> None:
    m = _flow("http://10.0.0.9/exam", method="GET", content=b"")
    m.request.headers["Host"] = "edscan.mark"  # the IP in the URL, the name only here
    rec.request(m)
    assert m.response is not None and rec.phase == "exam"


# --------------------------------------------------------------------------- the stop


def _in_flight(rec: Recorder, url: str = "https://api.example.test/v1/e?email=a@b.test") -> Any:
    f = _flow(url)
    rec.requestheaders(f)
    rec.request(f)
    return f


def test_a_request_still_waiting_at_shutdown_is_written_marked_cut_off(
    tctx: taddons.context, rec: Recorder, tmp_capture: Path
) -> None:
    tctx.configure(rec, edscan_phase="quiz")
    answered = _in_flight(rec, "https://api.example.test/answered")
    answered.response = _response()
    rec.response(answered)
    waiting = _in_flight(rec)
    assert rec.in_flight == 1
    rec.done()
    got = _flows(tmp_capture)
    assert [g.cut_off for g in got] == [None, "no_response"]
    cut = got[1]
    assert cut.url == waiting.request.url and cut.phase == "quiz"
    assert cut.request_body is not None and cut.request_body.content == b'{"a":1}'
    assert ("X-Dup", "2") in cut.request_headers
    assert cut.status is None and cut.error is not None and "cut off by the stop" in cut.error
    assert rec.stats.cut_off == 1 and rec.stats.flows == 2


def test_a_full_disk_at_the_stop_is_one_failure_not_a_crash(
    tctx: taddons.context, rec: Recorder, caplog: pytest.LogCaptureFixture
) -> None:
    full = Path("/dev/full")
    if not full.exists():
        pytest.skip("/dev/full is needed to make writes fail")
    for n in range(3):
        _in_flight(rec, f"https://api.example.test/e?n={n}")
    assert rec.writer is not None
    rec.writer._file.close()
    rec.writer._file = full.open("wb")
    with caplog.at_level(logging.ERROR):
        assert rec.record_cut_off() == 0
    assert rec.failure is not None and "No space left" in rec.failure
    # the first failed write closes the capture: one error, not one per flow
    assert len([r for r in caplog.records if "cannot write" in r.getMessage()]) == 1
    assert rec.stats.cut_off == 0 and rec.in_flight == 0
    rec.done()


def test_a_cut_off_flow_is_written_once_whatever_comes_after(
    rec: Recorder, tmp_capture: Path
) -> None:
    f = _in_flight(rec)
    assert rec.record_cut_off() == 1
    f.response = _response()
    rec.response(f)  # the answer that came too late
    f.error = tflow.terr("connection cancelled")
    rec.error(f)
    rec.done()
    assert [g.cut_off for g in _flows(tmp_capture)] == ["no_response"]
    assert rec.in_flight == 0


def test_what_had_arrived_of_unfinished_bodies_is_kept(rec: Recorder, tmp_capture: Path) -> None:
    uploading = _flow("https://api.example.test/upload", content=b"")
    uploading.request.data.content = None  # the client was still sending the body
    uploading.request.timestamp_end = None
    rec.requestheaders(uploading)
    streaming = _in_flight(rec, "https://api.example.test/stream")
    streaming.response = _response(content=b"")
    streaming.response.data.content = None  # headers in, the body still arriving
    streaming.response.timestamp_end = None
    parts = {
        uploading.id: PartialBodies(request=b'{"essay": "half'),
        streaming.id: PartialBodies(response=b"first chunk"),
    }
    assert rec.record_cut_off(parts) == 2
    up, st = _flows(tmp_capture)
    assert up.cut_off == "request_incomplete"
    assert up.request_body is not None and up.request_body.content == b'{"essay": "half'
    assert up.request_body.truncated and up.request_body.size == 15
    assert st.cut_off == "response_incomplete" and st.status == 200
    assert st.response_body is not None and st.response_body.content == b"first chunk"
    assert st.response_body.truncated


def test_phase_marks_and_answered_flows_are_not_in_flight(rec: Recorder, tmp_capture: Path) -> None:
    mark = _flow("http://edscan.mark/quiz", method="GET", content=b"")
    rec.requestheaders(mark)
    rec.request(mark)
    failed = _in_flight(rec)
    failed.error = tflow.terr("connection refused")
    rec.error(failed)
    assert rec.in_flight == 0
    rec.done()
    assert [g.cut_off for g in _flows(tmp_capture)] == [None]
