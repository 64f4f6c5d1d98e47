"""HAR import: each writer's quirks (own fixtures in tests/data/har), bad files, the real corpus."""

from __future__ import annotations

import json
import zlib
from pathlib import Path

import pytest
from conftest import DATA, SHARED, shared_path

from edscan.capture.har import flow_from_har, parse_har_time
from edscan.capture.har_file import load_har
from edscan.capture.har_source import HarSource
from edscan.capture.har_writer import decode_content
from edscan.capture.source import open_source
from edscan.errors import CaptureError
from edscan.models import Flow

HAR = DATA / "har"


def _flows(name: str) -> tuple[HarSource, list[Flow]]:
    source = open_source(HAR / name)
    assert isinstance(source, HarSource)
    return source, list(source)


# --------------------------------------------------------------------------- browsers and tools


def test_chrome() -> None:
    source, flows = _flows("chrome.har")
    assert source.format == "har"
    assert source.creator == "WebInspector 537.36"
    # the memory-cache hit and the data: URL never reached the network
    assert source.skipped == {"cached": 1, "not-http": 1}
    assert [f.index for f in flows] == [0, 1, 2, 3]
    assert [f.id for f in flows] == ["har-0", "har-2", "har-3", "har-5"]  # entry positions
    login, blocked, ws, script = flows

    assert login.method == "POST" and login.url == "https://class.example.test/api/login?lang=en"
    assert login.http_version == "HTTP/2.0"
    # HTTP/2 pseudo-headers dropped; order and duplicates kept
    assert login.request_headers == (
        ("content-type", "application/json"),
        ("cookie", "sid=abc; theme=dark"),
        ("x-dup", "one"),
        ("x-dup", "two"),
    )
    assert login.request_body is not None
    assert login.request_body.content == '{"email":"zoë@example.test","grade":4}'.encode()
    assert not login.request_body.decoded
    # base64 body decoded; headers still say gzip, the body says it is already decoded
    assert login.response_header("content-encoding") == "gzip"
    assert login.response_body is not None
    assert login.response_body.content == b'{"token":"t-123","ok":true}'
    assert login.response_body.decoded
    assert login.server_address == ("2001:db8::10", 443)
    assert login.request_start == pytest.approx(1714982401.25)
    assert login.response_end == pytest.approx(1714982401.25 + 0.0505)
    assert login.phase == "https://class.example.test/login"  # the page title
    assert login.tls_intercepted is None  # a HAR cannot say

    assert blocked.status is None and blocked.reason is None and blocked.response_end is None
    assert blocked.error == "net::ERR_BLOCKED_BY_CLIENT"
    assert blocked.request_body is not None and blocked.request_body.content == "uid=zoë-4".encode()

    # wss:// is recorded as its HTTP upgrade request, as mitmproxy does
    assert ws.url == "https://live.example.test/socket?room=7" and ws.scheme == "https"
    assert ws.status == 101
    assert [(m.from_client, m.is_text, m.content, m.timestamp) for m in ws.websocket] == [
        (True, True, '{"hello":"zoë"}'.encode(), 1714982403.5),
        (False, False, b"\x00\x01\x02\xff", 1714982403.6),
    ]  # the ping frame (opcode 9) carries no application data

    assert script.http_version == "HTTP/3"
    assert script.request_headers == (("accept", "*/*"),)


def test_firefox() -> None:
    source, flows = _flows("firefox.har")
    assert source.skipped == {} and source.warnings == []
    answer, image, page = flows
    # -07:00 offset: the same instant as 08:00:00.5 UTC
    assert answer.request_start == pytest.approx(1714982400.5)
    assert answer.http_version == "HTTP/3" and answer.status == 302
    # text wins over params when both are there
    assert answer.request_body is not None
    assert answer.request_body.content == b"student=Zoe+Lee&answer=3%2F4&q=12"
    assert answer.response_body is None  # empty text
    assert answer.phase == "Quiz: fractions"
    # "Response bodies are not included", headersSize null, bodySize -1
    assert image.response_body is None and image.http_version == "" and image.status == 200
    # a declared charset gives the bytes that were sent back
    assert page.response_body is not None and page.response_body.content == b"<p>No\xebl</p>"


def test_safari() -> None:
    source, flows = _flows("safari.har")
    assert source.skipped == {"cached": 1}  # _fetchType "Memory Cache"
    page, pixel = flows
    assert page.server_address == ("198.51.100.40", 8443)  # _serverPort
    assert page.http_version == "HTTP/2.0"
    assert page.response_body is not None and page.response_body.content == b"<h1>Reading log</h1>"
    assert pixel.request_headers == () and pixel.http_version == ""
    assert pixel.response_body is not None and pixel.response_body.content == b"GIF89a"
    assert pixel.host == "stats.example.net"


def test_charles() -> None:
    _, flows = _flows("charles.har")
    roster, upload = flows
    assert roster.url == "https://api.example.test/v1/roster?="  # kept exactly as written
    assert roster.request_start == pytest.approx(1714984662.482)  # +02:00
    assert roster.response_end == pytest.approx(1714984662.482 + 0.107)  # integer time in ms
    assert roster.request_header("authorization") == "Bearer t0k"
    # "+0200" without a colon; a base64 request body (not HAR 1.2, but written by tools)
    assert upload.request_start == pytest.approx(1714984663.0)
    assert upload.server_address == ("192.0.2.50", 8080)
    assert upload.request_body is not None and upload.request_body.content == b"\x00\x01\x02\xff"
    assert upload.status is None and upload.error is None  # status 0, no error given


def test_insomnia() -> None:
    _, flows = _flows("insomnia.har")
    (flow,) = flows
    assert flow.request_body is None  # postData with empty text and no params
    assert flow.response_body is not None and flow.response_body.content == b"<p>hi</p>\n"
    assert flow.server_address is None and flow.phase is None


def test_utf8_bom() -> None:
    _, flows = _flows("bom.har")
    assert [f.url for f in flows] == ["https://bom.example.test/"]


def test_quirks_params_pairs_and_odd_times() -> None:
    source, flows = _flows("quirks.har")
    form, multipart, ping, done = flows
    # [name, value] header pairs
    assert form.request_headers[1] == ("X-Pair", "yes")
    # a body rebuilt from params: values encoded, existing %XX escapes kept
    assert form.request_body is not None
    assert form.request_body.content == b"name=Zo%C3%AB%20Lee&note=a%26b%3Dc&pre=x%40y"
    assert form.status == 200  # "200" as a string
    assert form.request_start == pytest.approx(1714982400.0)  # no offset: taken as UTC
    assert form.response_end is None  # time -1
    assert multipart.request_body is not None
    body = multipart.request_body.content
    assert (
        b'name="essay"; filename="essay.txt"\r\nContent-Type: text/plain\r\n\r\nMy summer' in body
    )
    assert body.endswith(b"--XyZ--\r\n")
    assert multipart.request_start == pytest.approx(1714982400.0)  # epoch milliseconds
    assert ping.request_start is None  # "yesterday"
    assert done.request_start == pytest.approx(1714982406.5) and done.http_version == ""
    assert source.warnings == [
        "quirks.har: entry 3 skipped: no request",
        "quirks.har: 1 entries have a start time without a UTC offset; taken as UTC",
        "quirks.har: 1 entries have no readable start time",
    ]


def test_mitmproxy_written_text_is_latin1() -> None:
    # mitmproxy writes bodies without a declared charset as latin-1 text: read back byte for byte
    _, (flow,) = _flows("mitmproxy-written.har")
    assert flow.request_body is not None and flow.request_body.content == b"\n\x04\xe9\xff"
    assert flow.response_body is not None and flow.response_body.content == "ñ!".encode("latin-1")
    # mitmproxy writes request bodies decoded too
    assert flow.request_body.decoded


def test_a_second_pass_reads_the_file_again() -> None:
    source = open_source(HAR / "chrome.har")
    first = list(source)
    assert list(source) == first
    assert source.skipped == {"cached": 1, "not-http": 1}


@pytest.mark.parametrize(
    ("value", "expected", "naive"),
    [
        ("2024-05-06T08:00:00Z", 1714982400.0, False),
        ("2024-05-06T01:00:00.000-07:00", 1714982400.0, False),
        ("2024-05-06T10:00:00+0200", 1714982400.0, False),
        ("2024-05-06T08:00:00.250123456Z", 1714982400.250123, False),
        ("2024-05-06 08:00:00z", 1714982400.0, False),
        ("2024-05-06T08:00:00", 1714982400.0, True),
        (1714982400000, 1714982400.0, False),
        (1714982400, 1714982400.0, False),
        ("later", None, False),
        (None, None, False),
        (True, None, False),
    ],
)
def test_parse_har_time(value: object, expected: float | None, naive: bool) -> None:
    ts, was_naive = parse_har_time(value)
    assert was_naive is naive
    if expected is None:
        assert ts is None
    else:
        assert ts == pytest.approx(expected, abs=1e-6)


def test_entry_without_url_is_an_error() -> None:
    with pytest.raises(ValueError, match="no request method or URL"):
        flow_from_har({"request": {"method": "GET"}}, index=0)


# --------------------------------------------------------------------------- bad files


def _write(tmp_path: Path, content: bytes | str, name: str = "x.har") -> Path:
    p = tmp_path / name
    p.write_bytes(content.encode() if isinstance(content, str) else content)
    return p


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"log": {"entries": [', "the JSON ends early"),
        ('{"log": {"entries": []}, }', r"not valid JSON \(line 1, column"),
        ("[1, 2, 3]", "the top level is a list"),
        ('[{"type": "http", "request": {}}]', "mitmproxy's JSON flow export"),
        ('{"foo": 1, "bar": 2}', r"no top-level 'log' object; keys found: bar, foo"),
        ('{"log": {"version": "1.2"}}', "has no 'entries' list"),
        ('{"log": []}', "has no 'entries' list"),
        (b'{"log": "\xff"}', "not UTF-8"),
    ],
)
def test_not_a_har(tmp_path: Path, content: str | bytes, message: str) -> None:
    with pytest.raises(CaptureError, match=message):
        open_source(_write(tmp_path, content))


def test_json_that_is_not_an_object(tmp_path: Path) -> None:
    p = _write(tmp_path, '"just a string"')
    with pytest.raises(CaptureError, match="top level is not an object"):
        load_har(p)
    with pytest.raises(CaptureError, match="not a format edscan reads"):
        open_source(p)


def test_nested_log_is_refused_with_a_way_out(tmp_path: Path) -> None:
    doc = {"test_response": {"log": {"version": "1.2", "entries": []}}}
    p = _write(tmp_path, json.dumps(doc))
    with pytest.raises(CaptureError, match=r"nested under 'test_response'.*jq '\.test_response'"):
        open_source(p)


def test_size_cap(tmp_path: Path) -> None:
    p = _write(tmp_path, json.dumps({"log": {"entries": [], "pad": "x" * 5000}}))
    with pytest.raises(CaptureError, match="larger than"):
        load_har(p, limit=1000)
    assert load_har(p, limit=10_000)["entries"] == []


def test_compressed_har(tmp_path: Path) -> None:
    # mitmproxy's save.har writes *.zhar: the same JSON, zlib-compressed
    raw = (HAR / "charles.har").read_bytes()
    p = _write(tmp_path, zlib.compress(raw, 9), "x.zhar")
    assert [f.url for f in open_source(p)] == [f.url for f in open_source(HAR / "charles.har")]
    cut = _write(tmp_path, zlib.compress(raw, 9)[:-20], "cut.zhar")
    with pytest.raises(CaptureError, match="cut off"):
        open_source(cut)
    bomb = _write(tmp_path, zlib.compress(b"{" + b" " * 50_000 + b"}"), "bomb.zhar")
    with pytest.raises(CaptureError, match="larger than"):
        load_har(bomb, limit=1000)


# --------------------------------------------------------------------------- the real corpus


def _corpus(pattern: str) -> list[str]:
    root = SHARED / "corpus"
    found = sorted(str(p.relative_to(root)) for p in root.glob(pattern)) if root.exists() else []
    return found or ["(absent)"]


NESTED = {"mitmproxy/har_extractor.har"}


@pytest.mark.parametrize("name", _corpus("**/*.har"))
def test_every_corpus_har_imports(name: str) -> None:
    path = shared_path("corpus", name)
    if name in NESTED:
        with pytest.raises(CaptureError, match="nested under 'test_response'"):
            open_source(path)
        return
    source = open_source(path)
    flows = list(source)
    entries = json.loads(path.read_bytes().decode("utf-8-sig"))["log"]["entries"]
    assert source.format == "har"
    assert len(flows) + sum(source.skipped.values()) == len(entries)
    assert source.warnings == []
    assert flows and all(f.method and f.host for f in flows)
    assert [f.index for f in flows] == list(range(len(flows)))


def test_corpus_classdojo_login() -> None:
    source = open_source(shared_path("corpus", "edtech", "teacher-login-www.classdojo.com.har"))
    flows = list(source)
    hosts = {f.host for f in flows}
    assert {"www.facebook.com", "analytics.tiktok.com", "api.classdojo.com"} <= hosts
    login = [f for f in flows if f.request_body and b"bob@bob.com" in f.request_body.content]
    assert login and {f.host for f in login} == {"api.classdojo.com"}


def _decoded_request(flow: Flow) -> bytes:
    body = flow.request_body
    if body is None:
        return b""
    encoding = flow.request_header("content-encoding")
    if body.decoded or not encoding:
        return body.content
    return decode_content(body.content, encoding)


TWINS = [n.removesuffix(".har") for n in _corpus("mitmproxy/flows/*.har")]


@pytest.mark.parametrize("name", TWINS)
def test_har_and_mitm_twins_import_to_the_same_flows(name: str) -> None:
    har = list(open_source(shared_path("corpus", f"{name}.har")))
    mitm = list(open_source(shared_path("corpus", f"{name}.mitm")))
    assert len(har) == len(mitm) > 0
    for h, m in zip(har, mitm, strict=True):
        assert (h.method, h.url) == (m.method, m.url)
        assert h.status == m.status
        assert h.request_start == pytest.approx(m.request_start, abs=1e-5)
        # HAR stores request bodies decoded; the dump keeps them as sent (gzip here)
        assert _decoded_request(h) == _decoded_request(m)
        assert [(w.from_client, w.content) for w in h.websocket] == [
            (w.from_client, w.content) for w in m.websocket
        ]


def test_twins_cover_compressed_bodies_and_websocket() -> None:
    # the comparison above must see the hard cases, or it proves little
    mitm = list(open_source(shared_path("corpus", "mitmproxy", "flows", "diff_data.mitm")))
    assert any(f.request_header("content-encoding") == "gzip" for f in mitm)
    ws = list(open_source(shared_path("corpus", "mitmproxy", "flows", "websocket.har")))
    assert sum(len(f.websocket) for f in ws) >= 2


def test_lone_surrogates_become_valid_text(tmp_path: Path) -> None:
    entry = {
        "startedDateTime": "2024-05-06T08:00:00Z",
        "request": {
            "method": "GET",
            "url": "https://x.example.test/a\\udcff",
            "headers": [{"name": "X-Bad", "value": "v\\ud800"}],
        },
        "response": {"status": 200, "statusText": "OK\\udcfe", "headers": []},
    }
    p = tmp_path / "s.har"
    p.write_text('{"log": {"entries": [' + json.dumps(entry).replace("\\\\u", "\\u") + "]}}")
    (flow,) = list(open_source(p))
    assert flow.url == "https://x.example.test/a\ufffd"
    assert flow.request_headers == (("X-Bad", "v\ufffd\ufffd\ufffd"),)
    assert flow.reason == "OK\ufffd"
    (flow.url + flow.request_headers[0][1] + (flow.reason or "")).encode("utf-8")
