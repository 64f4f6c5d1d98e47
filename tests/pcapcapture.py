"""Real packet captures made at test time: dumpcap on the loopback interface while a local TLS
server (Python ssl, a self-signed certificate made here) answers HTTP/1.1 requests from a client
that writes its TLS keys (``SSLContext.keylog_filename``, the SSLKEYLOGFILE format).

Nothing leaves the machine: the server listens on 127.0.0.1 and the client connects there.
"""

from __future__ import annotations

import datetime as dt
import http.client
import http.server
import os
import shutil
import signal
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

DUMPCAP = shutil.which("dumpcap")
TSHARK = shutil.which("tshark")
HOST = "school.example"  # the SNI and Host the client sends; it resolves nowhere, we dial 127.0.0.1

needs_tshark = pytest.mark.skipif(
    DUMPCAP is None or TSHARK is None, reason="tshark/dumpcap are not installed"
)


@dataclass(frozen=True, slots=True, kw_only=True)
class Made:
    pcapng: Path
    keys: Path
    port: int


def self_signed(directory: Path, host: str) -> tuple[Path, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=2))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(host)]), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_path = directory / "cert.pem"
    key_path = directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        self.rfile.read(length)
        body = b'{"ok":true}'
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST

    def log_message(self, format: str, *args: object) -> None:  # quiet
        pass


@contextmanager
def _tls_server(directory: Path) -> Iterator[int]:
    cert, key = self_signed(directory, HOST)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.socket = ctx.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def dumpcap(out: Path, port: int | str) -> Iterator[None]:
    """dumpcap on lo for ``port`` (or a whole capture filter, given as a string)."""
    assert DUMPCAP is not None
    bpf = port if isinstance(port, str) else f"tcp port {port}"
    proc = subprocess.Popen(
        [DUMPCAP, "-q", "-i", "lo", "-f", bpf, "-w", str(out)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    # dumpcap creates the file once it is capturing
    deadline = time.monotonic() + 10
    while not (out.exists() and out.stat().st_size > 0):
        if proc.poll() is not None or time.monotonic() > deadline:
            err = proc.stderr.read().decode() if proc.stderr else ""
            proc.kill()
            pytest.skip(f"dumpcap cannot capture on lo here: {err.strip()[:200]}")
        time.sleep(0.05)
    time.sleep(0.3)
    try:
        yield
    finally:
        time.sleep(0.3)  # the last packets reach the ring buffer
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stderr:
            proc.stderr.close()


def post(port: int, keys: Path, path: str, body: bytes) -> int:
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE  # the server's certificate is self-signed, made above
    ctx.keylog_filename = str(keys)
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    conn = http.client.HTTPSConnection(HOST, port, context=ctx, timeout=10)
    conn.sock = ctx.wrap_socket(sock, server_hostname=HOST)
    conn.request(
        "POST", path, body=body, headers={"content-type": "application/json", "host": HOST}
    )
    resp = conn.getresponse()
    resp.read()
    conn.close()
    return resp.status


# --- HTTP/2, with the h2 library (a mitmproxy dependency) on both ends


def _h2_serve(sock: ssl.SSLSocket) -> None:
    import h2.config
    import h2.connection
    import h2.events

    conn = h2.connection.H2Connection(config=h2.config.H2Configuration(client_side=False))
    conn.initiate_connection()
    sock.sendall(conn.data_to_send())
    with sock:
        while data := sock.recv(65535):
            for event in conn.receive_data(data):
                if isinstance(event, h2.events.DataReceived):
                    conn.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
                elif isinstance(event, h2.events.StreamEnded):
                    body = b'{"ok":true}'
                    conn.send_headers(
                        event.stream_id,
                        [(":status", "200"), ("content-type", "application/json")],
                    )
                    conn.send_data(event.stream_id, body, end_stream=True)
            sock.sendall(conn.data_to_send())


@contextmanager
def _h2_server(directory: Path) -> Iterator[int]:
    cert, key = self_signed(directory, HOST)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    ctx.set_alpn_protocols(["h2"])
    listener = socket.create_server(("127.0.0.1", 0))

    def accept() -> None:
        while True:
            try:
                raw, _ = listener.accept()
            except OSError:
                return
            tls = ctx.wrap_socket(raw, server_side=True)
            threading.Thread(target=_h2_serve, args=(tls,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    try:
        yield listener.getsockname()[1]
    finally:
        listener.close()


def h2_post(port: int, keys: Path, path: str, body: bytes) -> int:
    import h2.config
    import h2.connection
    import h2.events

    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.keylog_filename = str(keys)
    ctx.set_alpn_protocols(["h2"])
    sock = ctx.wrap_socket(
        socket.create_connection(("127.0.0.1", port), timeout=10), server_hostname=HOST
    )
    assert sock.selected_alpn_protocol() == "h2"
    conn = h2.connection.H2Connection(config=h2.config.H2Configuration(client_side=True))
    conn.initiate_connection()
    headers = [(":method", "POST"), (":path", path), (":scheme", "https"), (":authority", HOST)]
    conn.send_headers(1, [*headers, ("content-type", "application/json")])
    conn.send_data(1, body, end_stream=True)
    sock.sendall(conn.data_to_send())
    status = 0
    with sock:
        while True:
            data = sock.recv(65535)
            if not data:
                break
            for event in conn.receive_data(data):
                if isinstance(event, h2.events.ResponseReceived):
                    status = int(dict(event.headers)[b":status"])
                elif isinstance(event, h2.events.StreamEnded):
                    conn.close_connection()
                    sock.sendall(conn.data_to_send())
                    return status
            sock.sendall(conn.data_to_send())
    return status


def make_h2_capture(directory: Path, requests: Sequence[tuple[str, bytes]]) -> Made:
    """A pcapng of ``requests`` POSTed over HTTP/2 in TLS, and the TLS key log."""
    directory.mkdir(parents=True, exist_ok=True)
    out = directory / "h2.pcapng"
    keys = directory / "h2keys.txt"
    with _h2_server(directory) as port, dumpcap(out, port):
        for path, body in requests:
            assert h2_post(port, keys, path, body) == 200
    os.chmod(out, 0o644)
    return Made(pcapng=out, keys=keys, port=port)


def make_tls_capture(directory: Path, requests: Sequence[tuple[str, bytes]]) -> Made:
    """A pcapng of ``requests`` (path, JSON body) POSTed over TLS 1.3, and the TLS key log."""
    directory.mkdir(parents=True, exist_ok=True)
    out = directory / "capture.pcapng"
    keys = directory / "keys.txt"
    with _tls_server(directory) as port, dumpcap(out, port):
        for path, body in requests:
            assert post(port, keys, path, body) == 200
    os.chmod(out, 0o644)
    return Made(pcapng=out, keys=keys, port=port)


# --- plain HTTP, a TCP connection that is not HTTP, and a DNS answer naming its address


def dns_answer(name: str, address: str) -> bytes:
    """A DNS response (RFC 1035) saying ``name`` has the A record ``address``."""
    qname = b"".join(bytes([len(part)]) + part.encode() for part in name.split(".")) + b"\0"
    header = bytes.fromhex("1234 8180 0001 0001 0000 0000".replace(" ", ""))
    question = qname + bytes.fromhex("00010001")
    answer = bytes.fromhex("c00c 0001 0001 0000003c 0004".replace(" ", ""))
    return header + question + answer + socket.inet_aton(address)


@contextmanager
def _plain_server() -> Iterator[int]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def _sink() -> Iterator[int]:
    """A TCP server that reads what it is sent and answers with bytes that are not HTTP."""
    listener = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        try:
            conn, _ = listener.accept()
        except OSError:
            return
        with conn:
            conn.recv(4096)
            conn.sendall(b"\x00\x01binary-protocol\xff")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        listener.close()
        thread.join(timeout=5)


def make_plain_capture(directory: Path, name: str, body: bytes) -> Made:
    """Plain HTTP POSTs ``body``; a non-HTTP TCP exchange follows a DNS answer for ``name``."""
    directory.mkdir(parents=True, exist_ok=True)
    out = directory / "plain.pcapng"
    with _plain_server() as web, _sink() as other:
        dns = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        dns.bind(("127.0.0.1", 0))
        dns_port = dns.getsockname()[1]
        bpf = f"tcp port {web} or tcp port {other} or udp port 53 or udp port {dns_port}"
        with dns, dumpcap(out, bpf):
            # the answer goes from "port 53" so tshark reads it as DNS; nothing listens there
            dns.close()
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as answer:
                answer.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                try:
                    answer.bind(("127.0.0.1", 53))
                except OSError as e:  # not root, or a resolver listens there
                    pytest.skip(f"cannot send from 127.0.0.1:53 here: {e}")
                answer.sendto(dns_answer(name, "127.0.0.1"), ("127.0.0.1", dns_port))
            conn = http.client.HTTPConnection("127.0.0.1", web, timeout=10)
            conn.request("POST", "/plain?x=1", body=body, headers={"host": "plain.example"})
            assert conn.getresponse().status == 200
            conn.close()
            with socket.create_connection(("127.0.0.1", other), timeout=10) as raw:
                raw.sendall(b"HELO not-http\x00")
                raw.recv(4096)
    os.chmod(out, 0o644)
    return Made(pcapng=out, keys=directory / "none.txt", port=web)


def scan_json(tmp_path: Path, email: str, *args: str) -> dict[str, object]:
    """``edscan scan ARGS -f json`` with a persona holding ``email``: the result, checked
    against the published schema."""
    import json

    import jsonschema
    from click.testing import CliRunner

    from edscan.cli import cli
    from edscan.resources import read_text

    persona = tmp_path / "p.toml"
    persona.write_text(f'[student]\nemail = "{email}"\n')
    result = CliRunner().invoke(
        cli,
        ["scan", *args, "--persona", str(persona), "--data-dir", str(tmp_path / "d"), "-f", "json"],
    )
    assert result.exit_code == 0, result.output
    doc: dict[str, object] = json.loads(result.stdout)
    jsonschema.validate(doc, json.loads(read_text("reports", "edscan-result-1.schema.json")))
    return doc


def assert_persona_found_and_every_host_read(doc: dict[str, object]) -> None:
    """The persona's e-mail was found at ``HOST``, the one host, and nothing went unread."""
    obs = doc["observations"]
    assert isinstance(obs, list)
    assert any(o["persona_field"] == "student.email" and o["host"] == HOST for o in obs)
    cov = doc["coverage"]
    assert isinstance(cov, dict)
    assert cov["gaps"] == [] and cov["hosts_inspected"] == 1
