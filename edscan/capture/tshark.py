"""Running tshark (Wireshark's dissector) over a packet capture, one packet at a time.

edscan does not parse TCP, TLS or HTTP itself: tshark reassembles the streams, decrypts TLS with
the keys (a key log file, or the Decryption Secrets Block inside a pcapng) and dissects HTTP.
We ask for the fields we need in its Elasticsearch line format (``-T ek``): one JSON object per
packet, so a large capture is read as a stream. ``-n`` keeps tshark from resolving any address:
reading a capture never touches the network.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from edscan.errors import CaptureError

INSTALL_HINT = (
    "install Wireshark's command-line dissector: 'apt-get install tshark' (Debian, Ubuntu), "
    "'dnf install wireshark-cli' (Fedora), 'brew install wireshark' (macOS)"
)

# The fields read from each packet; tshark names them with dots, the ek format with underscores.
FIELDS = (
    "frame.number",
    "frame.time_epoch",
    "frame.protocols",
    "ip.src",
    "ip.dst",
    "ipv6.src",
    "ipv6.dst",
    "tcp.stream",
    "tcp.srcport",
    "tcp.dstport",
    "tcp.len",
    "tcp.payload",
    "tcp.reassembled.data",
    "udp.stream",
    "udp.srcport",
    "udp.dstport",
    "udp.length",
    "tls.handshake.type",
    "tls.handshake.extensions_server_name",
    "tls.handshake.extensions.supported_version",
    "tls.record.version",
    "tls.reassembled.data",
    "http.request.method",
    "http.request.uri",
    "http.request.version",
    "http.request.line",
    "http.response.code",
    "http.response.phrase",
    "http.response.version",
    "http.response.line",
    "http.file_data",
    "http.request_in",
    "http2.streamid",
    "http2.type",
    "http2.length",
    "http2.flags",
    "http2.header.name",
    "http2.header.value",
    "http2.data.data",
    # decrypted QUIC STREAM frames, for HTTP/3 (edscan.capture.pcap_http3)
    "quic.frame_type",
    "quic.stream.stream_id",
    "quic.stream.offset",
    "quic.stream.length",
    "quic.stream_data",
    "dns.flags.response",
    "dns.qry.name",
    "dns.a",
    "dns.aaaa",
)


def find_tshark() -> str:
    path = shutil.which("tshark")
    if path is None:
        raise CaptureError(
            f"reading a packet capture needs tshark, which is not installed: {INSTALL_HINT}"
        )
    return path


def packets(
    path: Path, *, keylog: Path | None, warnings: list[str]
) -> Iterator[dict[str, list[str]]]:
    """The fields of every packet in ``path``, in file order (a dict of field -> values).

    A file tshark cannot read at all raises CaptureError; one cut short after some packets adds
    a warning, as the other importers do for a cut-off last flow.
    """
    cmd = [find_tshark(), "-r", str(path), "-n", "-T", "ek"]
    if keylog is not None:
        cmd += ["-o", f"tls.keylog_file:{keylog}"]
    for name in FIELDS:
        cmd += ["-e", name]
    try:
        proc = subprocess.Popen(
            cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL
        )
    except OSError as e:
        raise CaptureError(f"{path}: cannot run tshark ({e.strerror}); {INSTALL_HINT}") from e
    assert proc.stdout is not None and proc.stderr is not None
    read = 0
    try:
        for line in proc.stdout:
            record = packet_record(line)
            if record is None:
                continue
            read += 1
            yield record
    finally:
        proc.stdout.close()
        err = proc.stderr.read().decode("utf-8", "replace")
        proc.stderr.close()
        code = proc.wait()
    problem = _problem(err)
    if code != 0 or problem:
        message = problem or f"tshark stopped with exit code {code}"
        if read == 0:
            raise CaptureError(f"{path}: not a packet capture tshark can read: {message}")
        warnings.append(f"{path.name}: read {read} packets, then: {message}")


def packet_record(line: bytes) -> dict[str, list[str]] | None:
    try:
        obj: Any = json.loads(line)
    except ValueError:
        return None
    layers = obj.get("layers") if isinstance(obj, dict) else None
    if not isinstance(layers, dict):
        return None  # the index lines between packets
    out: dict[str, list[str]] = {}
    for key, value in layers.items():
        if isinstance(value, list):
            out[key] = [str(v) for v in value]
        elif value is not None:
            out[key] = [str(value)]
    return out


def _problem(stderr: str) -> str:
    """tshark's complaint, without the banner it prints when run as root."""
    lines = [
        ln.strip()
        for ln in stderr.splitlines()
        if ln.strip() and "could be dangerous" not in ln and not ln.startswith("Running as user")
    ]
    return " ".join(lines)[:400]
