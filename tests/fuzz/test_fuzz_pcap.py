"""The packet-capture reader fed hostile input at both of its edges: edscan's reading of tshark's
packet records (any field missing, repeated, out of range or of the wrong shape: tshark versions
and damaged captures differ), and whole pcap files mutated byte by byte, dissected by the
real tshark. Nothing escapes but edscan's own errors; every flow made is decoded too."""

from __future__ import annotations

import functools
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
from fuzzstrategies import mutated, read_all
from hypothesis import given, settings
from hypothesis import strategies as st

from edscan.capture.pcap_source import PcapSource
from edscan.capture.source import open_source
from edscan.capture.tshark import FIELDS
from edscan.decode.flow import decode_flow
from edscan.errors import EdscanError

KEYS = [f.replace(".", "_") for f in FIELDS]  # as tshark's ek format names them
PROTOCOLS = [
    "eth:ethertype:ip:tcp",
    "eth:ethertype:ip:tcp:http",
    "eth:ethertype:ip:tcp:tls",
    "eth:ethertype:ip:tcp:tls:http",
    "eth:ethertype:ip:tcp:tls:http2",
    "eth:ethertype:ipv6:tcp:http2",
    "eth:ethertype:ip:udp:quic",
    "eth:ethertype:ip:udp:dns",
    "",
    ":::",
]
_values = st.one_of(
    st.sampled_from(["0", "1", "2", "3", "80", "443", "True", "false", "GET", "POST", "-1"]),
    st.integers(-(2**40), 2**40).map(str),
    st.binary(max_size=24).map(bytes.hex),
    st.sampled_from(["127.0.0.1", "::1", "school.example", "1e309", "nan", "0x10"]),
    st.text(max_size=30),
)


@st.composite
def records(draw: st.DrawFn) -> dict[str, list[str]]:
    """One packet as tshark's ek line gives it, with the fields a reader must not trust."""
    fields = draw(st.dictionaries(st.sampled_from(KEYS), st.lists(_values, max_size=4)))
    fields["frame_protocols"] = [draw(st.sampled_from(PROTOCOLS))]
    # a few connections, so streams gather packets from both ends
    if draw(st.booleans()):
        fields["tcp_stream"] = [str(draw(st.integers(0, 3)))]
    return fields


@given(st.lists(records(), max_size=40))
def test_tshark_records(packets: list[dict[str, list[str]]]) -> None:
    source = PcapSource(Path("fuzz.pcapng"))
    try:
        flows = list(source.flows(packets))
    except EdscanError:
        return
    assert [f.index for f in flows] == list(range(len(flows)))
    for flow in flows:
        decode_flow(flow)
    assert all(gap.bytes >= 0 or gap.reason for gap in source.gaps)


# ------------------------------------------------------------------------------ real tshark


def _capture(tmp: Path) -> bytes:
    """A small capture made by Wireshark's text2pcap: one HTTP/1.1 exchange carrying an
    e-mail, over TCP."""
    request = (
        b"POST /v1/events?student=ann%40school.example HTTP/1.1\r\nHost: school.example\r\n"
        b"Content-Type: application/json\r\nContent-Length: 27\r\n\r\n"
        b'{"email":"ann@school.test"}'
    )
    response = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Type: application/json\r\n\r\n{}"

    def dump(data: bytes) -> str:
        return "".join(
            f"{i:06x} " + " ".join(f"{b:02x}" for b in data[i : i + 16]) + "\n"
            for i in range(0, len(data), 16)
        )

    text = tmp / "packets.txt"
    # fixed packet times (``-t ISO``) and the classic pcap format (a pcapng's header names the
    # machine and the input file): the same bytes on every run and machine, so CI's
    # derandomized examples mutate the same capture
    text.write_text(
        f"I 2026-03-01T09:00:00.000000Z\n{dump(request)}\n"
        f"O 2026-03-01T09:00:00.020000Z\n{dump(response)}\n"
    )
    out = tmp / "base.pcap"
    subprocess.run(
        ["text2pcap", "-q", "-F", "pcap", "-D", "-t", "ISO", "-4", "10.0.0.2,10.0.0.1", "-T", "50000,80",
         str(text), str(out)],
        check=True, capture_output=True,
    )  # fmt: skip
    return out.read_bytes()


needs_text2pcap = pytest.mark.skipif(
    shutil.which("text2pcap") is None or shutil.which("tshark") is None,
    reason="tshark/text2pcap are not installed",
)


@functools.cache
def _base() -> bytes:
    with tempfile.TemporaryDirectory() as tmp:
        return _capture(Path(tmp))


@needs_text2pcap
def test_the_unmutated_capture_reads() -> None:
    # the mutations start from a capture tshark reads whole: the fuzzing is not all refusals
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "base.pcap"
        path.write_bytes(_base())
        flows = list(open_source(path))
    assert [(f.method, f.status) for f in flows] == [("POST", 200)]
    assert "ann%40school.example" in flows[0].url


@needs_text2pcap
@settings(max_examples=60, deadline=10_000)  # one tshark process per example
@given(st.data())
def test_mutated_pcap_through_tshark(data: st.DataObject) -> None:
    read_all(data.draw(mutated(_base())), ".pcap")
