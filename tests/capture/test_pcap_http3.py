"""HTTP/3 in packet captures: real QUIC made on the loopback interface at test time (aioquic on
both ends, dumpcap recording), read with the client's key log and without; and the HTTP/3 frame
and QPACK reading on bytes built here, including damaged ones."""

from __future__ import annotations

import contextlib
import json
import shutil
import subprocess
from pathlib import Path

import pylsqpack
import pytest
from h3capture import make_h3_capture
from hypothesis import given
from hypothesis import strategies as st
from pcapcapture import (
    HOST,
    Made,
    assert_persona_found_and_every_host_read,
    needs_tshark,
    scan_json,
)

from edscan.capture import pcap_http3
from edscan.capture.pcap_http3 import Http3Connection, Qpack, read_message
from edscan.capture.pcap_source import HTTP3, HTTP3_UNREAD, PcapSource
from edscan.capture.source import open_source
from edscan.errors import CaptureError

EMAIL = "ivo.quillfeather@example.org"
BODY = json.dumps({"student": {"email": EMAIL, "grade": 4}}).encode()


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> Made:
    if shutil.which("dumpcap") is None or shutil.which("tshark") is None:
        pytest.skip("tshark/dumpcap are not installed")
    return make_h3_capture(
        tmp_path_factory.mktemp("h3"), [("/api/students", BODY), ("/track?uid=42", b"{}")]
    )


# ---------------------------------------------------------------- real captures


@needs_tshark
def test_with_the_key_log_every_http3_request_is_a_flow(made: Made) -> None:
    source = open_source(made.pcapng, tls_keylog=made.keys)
    flows = list(source)
    assert [(f.method, f.url, f.http_version) for f in flows] == [
        ("POST", f"https://{HOST}/api/students", "HTTP/3"),
        ("POST", f"https://{HOST}/track?uid=42", "HTTP/3"),  # its headers use the dynamic table
    ]
    assert [f.index for f in flows] == [0, 1]
    first = flows[0]
    assert first.request_body is not None and first.request_body.content == BODY
    assert EMAIL.encode() in first.request_body.content
    assert ("x-client", "edscan-test") in first.request_headers
    assert ("content-type", "application/json") in first.request_headers
    assert all(not k.startswith(":") for k, _ in first.request_headers)
    assert first.status == 200 and first.response_body is not None
    assert json.loads(first.response_body.content) == {"ok": True}
    assert ("content-type", "application/json") in first.response_headers
    assert first.scheme == "https" and first.sni == HOST and first.tls_intercepted is True
    assert first.server_address == ("127.0.0.1", made.port)
    assert first.client_address[0] == "127.0.0.1"
    assert first.request_start is not None and first.response_end is not None
    assert first.request_start <= first.response_end
    assert first.error is None
    assert isinstance(source, PcapSource) and source.gaps == [] and source.warnings == []


@needs_tshark
def test_scan_with_keys_finds_the_persona_value_sent_over_http3(made: Made, tmp_path: Path) -> None:
    doc = scan_json(tmp_path, EMAIL, str(made.pcapng), "--tls-keylog", str(made.keys))
    assert_persona_found_and_every_host_read(doc)


@needs_tshark
def test_without_keys_http3_is_listed_not_inspected(made: Made, tmp_path: Path) -> None:
    source = open_source(made.pcapng)
    [flow] = list(source)
    assert (flow.method, flow.http_version, flow.tls_intercepted) == ("CONNECT", "HTTP/3", False)
    assert flow.sni == HOST and flow.error and "not decrypted" in flow.error
    assert isinstance(source, PcapSource)
    [gap] = source.gaps
    assert (gap.host, gap.reason, gap.connections) == (HOST, HTTP3, 1)

    doc = scan_json(tmp_path, EMAIL, str(made.pcapng))
    assert doc["observations"] == []
    cov = doc["coverage"]
    assert isinstance(cov, dict)
    assert cov["hosts_inspected"] == 0
    [g] = cov["gaps"]
    assert g["host"] == HOST and g["reason"] == "http3" and g["bytes"] > 1000


@needs_tshark
def test_keys_injected_into_the_pcapng_decrypt_quic(made: Made, tmp_path: Path) -> None:
    editcap = shutil.which("editcap")
    if editcap is None:
        pytest.skip("editcap is not installed")
    out = tmp_path / "with-keys.pcapng"
    subprocess.run(
        [editcap, "--inject-secrets", f"tls,{made.keys}", str(made.pcapng), str(out)],
        check=True,
        capture_output=True,
    )
    flows = list(open_source(out))
    assert [f.url for f in flows] == [
        f"https://{HOST}/api/students",
        f"https://{HOST}/track?uid=42",
    ]


@needs_tshark
@pytest.mark.parametrize(
    "cipher", ["AES_128_GCM_SHA256", "AES_256_GCM_SHA384", "CHACHA20_POLY1305_SHA256"]
)
def test_each_tls13_cipher_suite_is_decrypted(cipher: str, tmp_path: Path) -> None:
    made = make_h3_capture(tmp_path, [("/c", BODY)], cipher=cipher)
    [flow] = list(open_source(made.pcapng, tls_keylog=made.keys))
    assert flow.url == f"https://{HOST}/c" and flow.status == 200
    assert flow.request_body is not None and flow.request_body.content == BODY


@needs_tshark
def test_a_body_over_many_packets_is_put_back_together(tmp_path: Path) -> None:
    body = json.dumps({"email": EMAIL, "notes": "n" * 300_000}).encode()
    made = make_h3_capture(tmp_path, [("/upload", body)])
    [flow] = list(open_source(made.pcapng, tls_keylog=made.keys))
    assert flow.request_body is not None and flow.request_body.content == body
    assert not flow.request_body.truncated and flow.status == 200


# ---------------------------------------------------------------- bytes built here


def _varint(n: int) -> bytes:
    if n < 0x40:
        return bytes([n])
    if n < 0x4000:
        return (n | 0x4000).to_bytes(2, "big")
    return (n | 0x80000000).to_bytes(4, "big")


def _frame(kind: int, payload: bytes) -> bytes:
    return _varint(kind) + _varint(len(payload)) + payload


REQUEST = [(b":method", b"POST"), (b":scheme", b"https"), (b":authority", b"a.example")]


def _encoded() -> tuple[bytes, bytes, bytes]:
    """Two header blocks from one encoder: the second refers to its dynamic table."""
    enc = pylsqpack.Encoder()
    stream = enc.apply_settings(4096, 16)
    more, first = enc.encode(0, [*REQUEST, (b":path", b"/one"), (b"x-id", b"7")])
    stream += more
    more, second = enc.encode(4, [*REQUEST, (b":path", b"/two"), (b"x-id", b"7")])
    return stream + more, first, second


PEER = {pcap_http3.QPACK_MAX_TABLE_CAPACITY: 4096, pcap_http3.QPACK_BLOCKED_STREAMS: 16}


def test_header_blocks_decode_with_the_static_and_dynamic_tables() -> None:
    encoder, first, second = _encoded()
    assert encoder  # the second block's entries went into the dynamic table
    qpack = Qpack()
    data = _frame(0x1, first) + _frame(0x21, b"grease") + _frame(0x0, b'{"a":') + _frame(0, b"1}")
    one = read_message(data, 0, qpack, encoder=encoder, peer_settings=PEER)
    assert one.headers[-2:] == [(":path", "/one"), ("x-id", "7")]
    assert one.body == b'{"a":1}' and one.body_size == 7
    two = read_message(_frame(0x1, second), 4, qpack, peer_settings=PEER)
    assert (":path", "/two") in two.headers and ("x-id", "7") in two.headers
    # without the encoder stream, the block that refers to the table cannot be read
    with pytest.raises(CaptureError, match="QPACK entries not captured"):
        read_message(_frame(0x1, second), 4, Qpack(), peer_settings=PEER)


def _record(
    frame: int, src: int, frames: list[tuple[int, int, bytes, bool]]
) -> dict[str, list[str]]:
    """A tshark record of one decrypted QUIC packet carrying ``frames`` (id, offset, data, fin)."""
    return {
        "frame_number": [str(frame)],
        "frame_time_epoch": [str(1000.0 + frame)],
        "frame_protocols": ["eth:ethertype:ip:udp:quic"],
        "ip_src": ["10.0.0.1" if src == 1 else "10.0.0.2"],
        "ip_dst": ["10.0.0.2" if src == 1 else "10.0.0.1"],
        "udp_stream": ["0"],
        "udp_srcport": ["50000" if src == 1 else "443"],
        "udp_dstport": ["443" if src == 1 else "50000"],
        "udp_length": ["100"],
        "quic_frame_type": [str(0x08 | 0x04 | 0x02 | int(fin)) for _, _, _, fin in frames],
        "quic_stream_stream_id": [str(sid) for sid, _, _, _ in frames],
        "quic_stream_offset": [str(off) for _, off, _, _ in frames],
        "quic_stream_length": [str(len(d)) for _, _, d, _ in frames],
        "quic_stream_data": [d.hex() for _, _, d, _ in frames],
    }


def _server_settings() -> bytes:
    payload = _varint(0x1) + _varint(4096) + _varint(0x7) + _varint(16)
    return _varint(0x0) + _frame(0x4, payload)


def test_streams_are_put_back_in_order_by_offset() -> None:
    encoder, first, second = _encoded()
    request = _frame(0x1, first) + _frame(0x0, b"hello world")
    response_block = pylsqpack.Encoder().encode(0, [(b":status", b"201")])[1]
    response = _frame(0x1, response_block)
    hello = _record(0, 1, []) | {
        "tls_handshake_type": ["1"],
        "tls_handshake_extensions_server_name": ["a.example"],
    }
    records = [
        hello,
        _record(1, 2, [(3, 0, _server_settings(), False)]),
        # the client's encoder stream, and its request sent in two pieces, the last one first
        _record(2, 1, [(2, 0, b"\x02" + encoder, False), (0, 10, request[10:], True)]),
        _record(3, 1, [(0, 0, request[:10], False), (0, 0, request[:4], False)]),
        _record(4, 2, [(0, 0, response, True)]),
        _record(5, 1, [(4, 0, _frame(0x1, second), True)]),  # never answered
    ]
    source = PcapSource(Path("x.pcapng"))
    flows = list(source.flows(records))
    assert [(f.method, f.url, f.status, f.http_version) for f in flows] == [
        ("POST", "https://a.example/one", 201, "HTTP/3"),
        ("POST", "https://a.example/two", None, "HTTP/3"),
    ]
    assert flows[0].request_body is not None and flows[0].request_body.content == b"hello world"
    assert flows[0].client_address == ("10.0.0.1", 50000) and flows[0].sni == "a.example"
    assert flows[1].error == "no response in the capture"
    assert source.gaps == []


def test_header_blocks_read_with_the_table_as_it_stood_when_sent() -> None:
    """Later inserts evict the entries earlier blocks referred to (once acknowledged): each
    block is read when it arrives, so all twelve answers coming last does not matter. Every
    other block arrives before the encoder instructions it needs, and waits for them."""
    enc = pylsqpack.Encoder()
    encoder = bytearray(b"\x02" + enc.apply_settings(256, 16))
    peer = pylsqpack.Decoder(256, 16)  # the server, acknowledging, so that entries are evicted
    peer.feed_encoder(bytes(encoder[1:]))
    hello = _record(0, 1, []) | {"tls_handshake_type": ["1"]}
    settings = _varint(0x1) + _varint(256) + _varint(0x7) + _varint(16)
    records = [hello, _record(1, 2, [(3, 0, _varint(0x0) + _frame(0x4, settings), False)])]
    records.append(_record(2, 1, [(2, 0, bytes(encoder), False)]))
    for i in range(12):
        sid = 4 * i
        headers = [*REQUEST, (b":path", b"/%d" % i), (b"x-session", b"%02d" % (i // 3) * 20)]
        more, block = enc.encode(sid, headers)
        peer.feed_encoder(more)
        ack, _ = peer.feed_header(sid, block)
        enc.feed_decoder(ack)
        instructions = _record(10 + 2 * i, 1, [(2, len(encoder), more, False)])
        request = _record(11 + 2 * i, 1, [(sid, 0, _frame(0x1, block), True)])
        records += [request, instructions] if i % 2 else [instructions, request]
        encoder += more
    answer = _frame(0x1, pylsqpack.Encoder().encode(0, [(b":status", b"204")])[1])
    records += [_record(100 + i, 2, [(4 * i, 0, answer, True)]) for i in range(12)]
    source = PcapSource(Path("x.pcapng"))
    flows = list(source.flows(records))
    assert [f.url for f in flows] == [f"https://a.example/{i}" for i in range(12)]
    assert [dict(f.request_headers)["x-session"] for f in flows] == [
        f"{i // 3:02d}" * 20 for i in range(12)
    ]
    assert all(f.status == 204 for f in flows) and source.warnings == []


def test_a_stream_past_the_cap_is_cut_and_marked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pcap_http3, "MAX_STREAM_BYTES", 64)
    block = pylsqpack.Encoder().encode(0, [*REQUEST, (b":path", b"/big")])[1]
    request = _frame(0x1, block) + _frame(0x0, b"x" * 200)
    source = PcapSource(Path("x.pcapng"))
    [flow] = list(source.flows([_record(1, 1, [(0, 0, request, True)])]))
    assert flow.url == "https://a.example/big"
    body = flow.request_body
    assert body is not None and body.truncated and body.size == 200 and len(body.content) < 64
    assert any("cut at 64 bytes" in w for w in source.warnings)


def test_decrypted_quic_without_a_readable_request_is_a_gap() -> None:
    source = PcapSource(Path("x.pcapng"))
    damaged = _frame(0x1, b"\xff\xff\xff")  # not a QPACK header block
    [flow] = list(source.flows([_record(1, 1, [(0, 0, damaged, True)])]))
    assert flow.method == "CONNECT" and flow.tls_intercepted is False
    [gap] = source.gaps
    assert gap.reason == HTTP3_UNREAD
    assert any("1 HTTP/3 message(s) to 10.0.0.2 could not be read" in w for w in source.warnings)


# ---------------------------------------------------------------- damaged input


def _valid_stream() -> tuple[bytes, bytes]:
    encoder, first, _ = _encoded()
    return encoder, _frame(0x1, first) + _frame(0x0, b'{"email":"x@y.z"}')


@given(st.binary(max_size=300))
def test_random_stream_bytes_raise_only_capture_errors(data: bytes) -> None:
    with contextlib.suppress(CaptureError):
        read_message(data, 0, Qpack(), encoder=data[:20], peer_settings=PEER)


@given(st.lists(st.tuples(st.integers(0, 200), st.integers(0, 255)), max_size=8), st.booleans())
def test_mutated_stream_bytes_raise_only_capture_errors(
    edits: list[tuple[int, int]], cut: bool
) -> None:
    encoder, data = _valid_stream()
    buf = bytearray(data)
    enc = bytearray(encoder)
    for pos, value in edits:
        target = buf if pos % 2 else enc
        if target:
            target[pos % len(target)] = value
    if cut:
        buf = buf[: len(buf) // 2]
    with contextlib.suppress(CaptureError):
        read_message(bytes(buf), 0, Qpack(), encoder=bytes(enc), peer_settings=PEER)


@given(
    st.lists(
        st.tuples(
            st.sampled_from([0, 2, 3, 4, 7]),
            st.integers(0, 1 << 40),
            st.binary(max_size=40),
            st.booleans(),
            st.integers(1, 2),
        ),
        max_size=12,
    )
)
def test_random_stream_frames_never_raise(frames: list[tuple[int, int, bytes, bool, int]]) -> None:
    conn = Http3Connection()
    for i, (sid, offset, data, fin, src) in enumerate(frames):
        record = _record(i, src, [(sid, offset % 300, data, fin)])
        conn.packet(record, from_client=src == 1, time=float(i), frame=i)
    conn.rest()


@needs_tshark
def test_a_capture_without_keys_is_inconclusive(made: Made, tmp_path: Path) -> None:
    """Nothing of the capture could be read: the verdict says so instead of approving."""
    doc = scan_json(tmp_path, EMAIL, str(made.pcapng))
    score = doc["score"]
    assert isinstance(score, dict)
    assert score["verdict"] == "inconclusive: no host could be inspected"
