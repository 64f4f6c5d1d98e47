"""Packet captures read through tshark: real pcapng files made on the loopback interface at test
time, with the client's TLS key log, the keys injected into the pcapng, and without keys."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner
from pcapcapture import (
    HOST,
    Made,
    assert_persona_found_and_every_host_read,
    make_h2_capture,
    make_plain_capture,
    make_tls_capture,
    needs_tshark,
    scan_json,
)

from edscan.capture.coverage import coverage
from edscan.capture.pcap_source import PcapSource
from edscan.capture.source import open_source, sniff
from edscan.cli import cli
from edscan.errors import CaptureError
from edscan.models import FlowSummary

EMAIL = "ivo.quillfeather@example.org"


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> Made:
    if shutil.which("dumpcap") is None or shutil.which("tshark") is None:
        pytest.skip("tshark/dumpcap are not installed")
    body = json.dumps({"student": {"email": EMAIL, "grade": 4}}).encode()
    return make_tls_capture(
        tmp_path_factory.mktemp("pcap"), [("/api/students", body), ("/track?uid=42", b"{}")]
    )


@pytest.fixture(scope="module")
def injected(made: Made, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same capture with the keys inside it (a Decryption Secrets Block), as PCAPdroid writes."""
    editcap = shutil.which("editcap")
    if editcap is None:
        pytest.skip("editcap is not installed")
    out = tmp_path_factory.mktemp("dsb") / "with-keys.pcapng"
    subprocess.run(
        [editcap, "--inject-secrets", f"tls,{made.keys}", str(made.pcapng), str(out)],
        check=True,
        capture_output=True,
    )
    return out


@needs_tshark
def test_the_format_is_recognised_by_content(made: Made, tmp_path: Path) -> None:
    renamed = tmp_path / "capture.har"  # the name says HAR; the bytes say pcapng
    shutil.copy(made.pcapng, renamed)
    assert sniff(renamed) == "pcap"


@needs_tshark
def test_with_the_key_log_every_exchange_is_a_flow(made: Made) -> None:
    source = open_source(made.pcapng, tls_keylog=made.keys)
    flows = list(source)
    assert source.format == "pcap"
    assert [f.method for f in flows] == ["POST", "POST"]
    assert [f.url for f in flows] == [
        f"https://{HOST}/api/students",  # the Host header names no port
        f"https://{HOST}/track?uid=42",
    ]
    assert [f.index for f in flows] == [0, 1]
    first = flows[0]
    assert first.request_body is not None and EMAIL.encode() in first.request_body.content
    assert first.status == 200 and first.response_body is not None
    assert json.loads(first.response_body.content) == {"ok": True}
    assert first.sni == HOST and first.tls_intercepted is True
    assert first.server_address == ("127.0.0.1", made.port)
    assert first.request_start is not None and first.response_end is not None
    assert first.request_start <= first.response_end
    assert ("content-type", "application/json") in first.request_headers
    assert isinstance(source, PcapSource) and source.gaps == []


@needs_tshark
def test_scan_with_keys_finds_the_persona_value(made: Made, tmp_path: Path) -> None:
    doc = scan_json(tmp_path, EMAIL, str(made.pcapng), "--tls-keylog", str(made.keys))
    assert_persona_found_and_every_host_read(doc)


@needs_tshark
def test_keys_injected_into_the_pcapng_are_used(injected: Path, tmp_path: Path) -> None:
    doc = scan_json(tmp_path, EMAIL, str(injected))
    obs = doc["observations"]
    assert isinstance(obs, list)
    assert any(o["persona_field"] == "student.email" for o in obs)


@needs_tshark
def test_without_keys_the_host_is_listed_not_inspected(made: Made, tmp_path: Path) -> None:
    flows = list(open_source(made.pcapng))
    assert [f.method for f in flows] == ["CONNECT", "CONNECT"]
    assert all(f.tls_intercepted is False and f.sni == HOST for f in flows)
    assert all(f.error and "no keys" in f.error for f in flows)

    doc = scan_json(tmp_path, EMAIL, str(made.pcapng))
    assert doc["observations"] == []
    cov = doc["coverage"]
    assert isinstance(cov, dict)
    assert cov["hosts_inspected"] == 0
    [gap] = cov["gaps"]
    assert gap["host"] == HOST and gap["reason"] == "no-keys" and gap["connections"] == 2
    assert gap["bytes"] > 1000  # two handshakes and their encrypted records
    assert "1 not inspected: no-keys 1" in cov["summary"]

    text = (
        CliRunner()
        .invoke(cli, ["scan", str(made.pcapng), "--data-dir", str(tmp_path / "d")])
        .stdout
    )
    assert "Coverage: 0 hosts inspected; 1 not inspected: no-keys 1" in text


@needs_tshark
def test_the_html_report_names_the_host_not_inspected(made: Made, tmp_path: Path) -> None:
    from bs4 import BeautifulSoup

    out = tmp_path / "r.html"
    result = CliRunner().invoke(
        cli, ["report", str(made.pcapng), "-o", str(out), "--data-dir", str(tmp_path / "d")]
    )
    assert result.exit_code == 0, result.output
    text = BeautifulSoup(out.read_text(), "html.parser").get_text(" ")
    assert HOST in text
    assert "0 hosts inspected; 1 not inspected" in text


@needs_tshark
def test_convert_writes_the_decrypted_flows_as_har(made: Made, tmp_path: Path) -> None:
    out = tmp_path / "out.har"
    result = CliRunner().invoke(
        cli, ["convert", str(made.pcapng), "--tls-keylog", str(made.keys), "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    entries = json.loads(out.read_text())["log"]["entries"]
    assert [e["request"]["url"].split("/", 3)[3] for e in entries] == [
        "api/students",
        "track?uid=42",
    ]
    assert EMAIL in entries[0]["request"]["postData"]["text"]


@needs_tshark
def test_a_damaged_file_is_one_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.pcapng"
    bad.write_bytes(b"\x0a\x0d\x0d\x0a" + b"\xff" * 60)
    result = CliRunner().invoke(cli, ["scan", str(bad), "--data-dir", str(tmp_path / "d")])
    assert result.exit_code == 2
    assert "not a packet capture tshark can read" in result.output
    assert "Traceback" not in result.output


def test_a_missing_tshark_says_how_to_install_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pcap = tmp_path / "x.pcap"
    pcap.write_bytes(b"\xd4\xc3\xb2\xa1" + b"\x00" * 20)
    monkeypatch.setattr("edscan.capture.tshark.shutil.which", lambda name: None)
    with pytest.raises(CaptureError, match="apt-get install tshark"):
        list(open_source(pcap))
    result = CliRunner().invoke(cli, ["info", str(pcap)])
    assert result.exit_code == 2 and "tshark" in result.output


def test_a_key_log_for_a_har_is_refused(tmp_path: Path) -> None:
    har = tmp_path / "x.har"
    har.write_text('{"log": {"version": "1.2", "entries": []}}')
    keys = tmp_path / "keys.txt"
    keys.write_text("")
    result = CliRunner().invoke(cli, ["info", str(har), "--tls-keylog", str(keys)])
    assert result.exit_code == 2
    assert "applies to packet captures" in result.output


def _summary(index: int, host: str, **kw: object) -> FlowSummary:
    base: dict[str, object] = dict(
        index=index,
        host=host,
        method="GET",
        url=f"https://{host}/",
        scheme="https",
        status=200,
        phase=None,
        time=None,
        request_bytes=0,
        response_bytes=0,
        tls_intercepted=True,
        error=None,
    )
    base.update(kw)
    return FlowSummary(**base)  # type: ignore[arg-type]


def test_proxy_coverage_comes_from_the_flows() -> None:
    flows = [
        _summary(0, "app.example"),
        _summary(1, "app.example"),
        _summary(
            2,
            "pinned.example",
            method="CONNECT",
            status=None,
            error="Client TLS handshake failed: the client does not trust the proxy's certificate",
        ),
        _summary(
            3,
            "pinned.example",
            method="CONNECT",
            status=None,
            error="Client TLS handshake failed: certificate unknown",
        ),
        _summary(4, "passthrough.example", tls_intercepted=False, status=None, method="CONNECT"),
    ]
    cov = coverage(flows)
    assert cov.hosts_inspected == 1
    gaps = {(g.host, g.reason, g.connections, g.bytes) for g in cov.gaps}
    assert gaps == {
        ("pinned.example", "certificate-refused", 2, None),
        ("passthrough.example", "not-intercepted", 1, None),
    }
    assert cov.line() == (
        "1 host inspected; 2 not inspected: certificate-refused 1, not-intercepted 1"
    )


@needs_tshark
def test_http2_exchanges_are_rebuilt_into_flows(tmp_path: Path) -> None:
    body = json.dumps({"user": {"email": EMAIL}}).encode()
    made = make_h2_capture(tmp_path / "h2", [("/v1/events", body), ("/v1/ping?sid=7", b"{}")])
    flows = list(open_source(made.pcapng, tls_keylog=made.keys))
    assert [(f.method, f.url, f.http_version) for f in flows] == [
        ("POST", f"https://{HOST}/v1/events", "HTTP/2.0"),
        ("POST", f"https://{HOST}/v1/ping?sid=7", "HTTP/2.0"),
    ]
    first = flows[0]
    assert first.request_body is not None and first.request_body.content == body
    assert first.status == 200 and first.response_body is not None
    assert first.response_body.content == b'{"ok":true}'
    assert ("content-type", "application/json") in first.request_headers
    assert all(not k.startswith(":") for k, _ in first.request_headers)

    doc = scan_json(tmp_path, EMAIL, str(made.pcapng), "--tls-keylog", str(made.keys))
    obs = doc["observations"]
    assert isinstance(obs, list)
    assert any(o["persona_field"] == "student.email" for o in obs)


@needs_tshark
def test_plain_http_is_read_and_other_tcp_is_listed_by_its_dns_name(tmp_path: Path) -> None:
    made = make_plain_capture(tmp_path / "plain", "chat.example", b'{"name":"Ivo"}')
    source = open_source(made.pcapng)
    flows = list(source)
    assert [(f.method, f.url, f.scheme) for f in flows] == [
        ("POST", "http://plain.example/plain?x=1", "http")
    ]
    assert flows[0].request_body is not None and flows[0].request_body.content == b'{"name":"Ivo"}'
    assert flows[0].tls_intercepted is None
    assert source.skipped.get("tcp") == 1
    assert isinstance(source, PcapSource)
    [gap] = source.gaps
    # the connection went to 127.0.0.1, which the DNS answer in the capture names
    assert (gap.host, gap.reason, gap.connections) == ("chat.example", "not-http", 1)
    assert gap.bytes == len(b"HELO not-http\x00") + len(b"\x00\x01binary-protocol\xff")


BINARY = b"\x00\x01\x08\x96\x01" + EMAIL.encode() + bytes(range(256)) * 24


@needs_tshark
def test_binary_bodies_are_read_byte_for_byte(tmp_path: Path) -> None:
    """tshark's text of a body stops at its first NUL; the body comes from the message bytes
    tshark reassembled: over TLS in many records, and plain HTTP in one segment."""
    tls = make_tls_capture(tmp_path / "tls", [("/upload", BINARY)])
    [flow] = list(open_source(tls.pcapng, tls_keylog=tls.keys))
    assert flow.request_body is not None and flow.request_body.content == BINARY
    assert flow.request_body.decoded is False  # as sent: the decoders undo Content-Encoding
    plain = make_plain_capture(tmp_path / "plain", "chat.example", BINARY[:200])
    flows = [f for f in open_source(plain.pcapng) if f.method == "POST"]
    assert flows[0].request_body is not None and flows[0].request_body.content == BINARY[:200]


def test_message_bodies_are_parsed_as_a_peer_would() -> None:
    import gzip

    from edscan.capture import pcap_http1

    chunked = (
        b"POST /e HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"5\r\n\x00abcd\r\n3\r\nefg\r\n0\r\n\r\n"
    )
    assert pcap_http1.request_body(chunked) == b"\x00abcdefg"
    packed = gzip.compress(b'{"email":"x"}')
    response = b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: %d\r\n\r\n" % len(
        packed
    )
    assert pcap_http1.response_body(response + packed, "POST") == packed  # still as sent
    assert pcap_http1.response_body(response, "HEAD") == b""  # no body follows a HEAD
    assert pcap_http1.response_body(b"HTTP/1.1 200 OK\r\n\r\nuntil close", "GET") == b"until close"
    assert pcap_http1.request_body(b"\x16\x03\x01 not http") is None
    # a capture that stops inside the body keeps what arrived
    cut = b"PUT / HTTP/1.1\r\nHost: a\r\nContent-Length: 9\r\n\r\nabc"
    assert pcap_http1.request_body(cut) == b"abc"
    hexed = {"tcp_payload": [(b"GET / HTTP/1.1\r\n\r\n").hex()], "tls_reassembled_data": ["zz"]}
    assert pcap_http1.message(hexed, "GET") == b"GET / HTTP/1.1\r\n\r\n"
    assert pcap_http1.message(hexed, "POST") is None
