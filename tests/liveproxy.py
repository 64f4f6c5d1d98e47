"""Real servers on loopback for the end-to-end tests: origins (HTTP, HTTPS, WebSocket), a
throwaway CA, and a ``mitmdump`` running the recorder script."""

from __future__ import annotations

import datetime
import gzip
import json
import socket
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from conftest import ROOT
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

BIN = Path(sys.executable).parent
RECORDER_SCRIPT = ROOT / "addons" / "edscan_recorder.py"

GZIP_BODY = gzip.compress(b'{"students":[{"id":1,"name":"Ada"}]}' * 20, mtime=0)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_listening(port: int, proc: subprocess.Popen[bytes] | None, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode} before listening")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port} after {timeout} s")


# --------------------------------------------------------------------------- certificates


@dataclass(frozen=True)
class TestPKI:
    ca_pem: Path  # the only certificate mitmdump trusts upstream
    cert_pem: Path  # localhost / 127.0.0.1, signed by the CA
    key_pem: Path

    def server_context(self) -> ssl.SSLContext:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(self.cert_pem, self.key_pem)
        return ctx


def make_pki(folder: Path) -> TestPKI:
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "edscan test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                key_cert_sign=True,
                crl_sign=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    import ipaddress

    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    pki = TestPKI(
        ca_pem=folder / "test-ca.pem", cert_pem=folder / "origin.pem", key_pem=folder / "origin.key"
    )
    pki.ca_pem.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    pki.cert_pem.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    pki.key_pem.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return pki


# --------------------------------------------------------------------------- HTTP origins


@dataclass
class Origin:
    """A threaded HTTP(S) server that records what it received and sent."""

    server: ThreadingHTTPServer
    scheme: str
    host: str = "127.0.0.1"
    received: list[dict[str, object]] = field(default_factory=list)
    sent: dict[str, bytes] = field(default_factory=dict)  # path -> response body as sent

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])

    def url(self, path: str) -> str:
        return f"{self.scheme}://{self.host}:{self.port}{path}"


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    origin: Origin

    def log_message(self, format: str, *args: object) -> None:  # quiet
        pass

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        self.origin.received.append(
            {
                "method": self.command,
                "path": self.path,
                "headers": self.headers.items(),
                "body": body,
            }
        )
        path = self.path.split("?", 1)[0]
        if path == "/gzip":
            payload, extra = GZIP_BODY, [("Content-Encoding", "gzip")]
        elif path == "/big":
            payload, extra = (
                bytes(range(256)) * 1024,
                [("Content-Type", "application/octet-stream")],
            )
        else:
            payload = json.dumps({"ok": True, "path": self.path, "got": len(body)}).encode()
            extra = [("Content-Type", "application/json")]
        self.origin.sent[self.path] = payload
        self.send_response(200)
        for k, v in extra:
            self.send_header(k, v)
        # duplicates and order must survive the recording
        self.send_header("X-Dup", "one")
        self.send_header("Set-Cookie", "a=1; Path=/")
        self.send_header("X-Dup", "two")
        self.send_header("Set-Cookie", "b=2; Path=/")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = _handle
    do_POST = _handle
    do_PUT = _handle


@contextmanager
def http_origin(tls: ssl.SSLContext | None = None, host: str = "127.0.0.1") -> Iterator[Origin]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    if tls is not None:
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    origin = Origin(server=server, scheme="https" if tls else "http", host=host)
    server.RequestHandlerClass = type("H", (_Handler,), {"origin": origin})
    t = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    t.start()
    try:
        yield origin
    finally:
        server.shutdown()
        server.server_close()
        t.join(timeout=5)


# --------------------------------------------------------------------------- WebSocket


@contextmanager
def ws_origin() -> Iterator[int]:
    """A WebSocket echo server: text "x" → "echo: x", bytes reversed."""
    from wsproto import ConnectionType, WSConnection
    from wsproto.events import (
        AcceptConnection,
        BytesMessage,
        CloseConnection,
        Ping,
        Request,
        TextMessage,
    )

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    listener.settimeout(0.1)
    stop = threading.Event()

    def serve(conn: socket.socket) -> None:
        ws = WSConnection(ConnectionType.SERVER)
        conn.settimeout(10)
        with conn:
            while not stop.is_set():
                data = conn.recv(65536)
                ws.receive_data(data or None)
                for event in ws.events():
                    if isinstance(event, Request):
                        conn.sendall(ws.send(AcceptConnection()))
                    elif isinstance(event, TextMessage):
                        conn.sendall(ws.send(TextMessage(data="echo: " + event.data)))
                    elif isinstance(event, BytesMessage):
                        conn.sendall(ws.send(BytesMessage(data=bytes(event.data)[::-1])))
                    elif isinstance(event, Ping):
                        conn.sendall(ws.send(event.response()))
                    elif isinstance(event, CloseConnection):
                        conn.sendall(ws.send(event.response()))
                        return
                if not data:
                    return

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=serve, args=(conn,), daemon=True).start()

    t = threading.Thread(target=accept, daemon=True)
    t.start()
    try:
        yield int(listener.getsockname()[1])
    finally:
        stop.set()
        listener.close()
        t.join(timeout=5)


def websocket_exchange(proxy_port: int, ws_port: int) -> list[tuple[bool, bytes]]:
    """Talk to the echo server through the proxy; returns (from_client, content) as seen."""
    from wsproto import ConnectionType, WSConnection
    from wsproto.events import (
        AcceptConnection,
        BytesMessage,
        CloseConnection,
        Request,
        TextMessage,
    )

    seen: list[tuple[bool, bytes]] = []
    ws = WSConnection(ConnectionType.CLIENT)
    with socket.create_connection(("127.0.0.1", proxy_port), timeout=10) as s:
        host = f"127.0.0.1:{ws_port}"
        s.sendall(ws.send(Request(host=host, target=f"http://{host}/ws?room=7")))

        def wait_for(kind: type) -> object:
            while True:
                for event in ws.events():
                    if isinstance(event, kind):
                        return event
                data = s.recv(65536)
                if not data:
                    raise ConnectionError("proxy closed the WebSocket")
                ws.receive_data(data)

        wait_for(AcceptConnection)
        s.sendall(ws.send(TextMessage(data="hello")))
        seen.append((True, b"hello"))
        reply = wait_for(TextMessage)
        assert isinstance(reply, TextMessage)
        seen.append((False, reply.data.encode()))
        s.sendall(ws.send(BytesMessage(data=b"\x00\x01\x02\xff")))
        seen.append((True, b"\x00\x01\x02\xff"))
        breply = wait_for(BytesMessage)
        assert isinstance(breply, BytesMessage)
        seen.append((False, bytes(breply.data)))
        s.sendall(ws.send(CloseConnection(code=1000)))
        wait_for(CloseConnection)
    return seen


# --------------------------------------------------------------------------- mitmdump


@dataclass
class Mitmdump:
    proc: subprocess.Popen[bytes]
    port: int
    confdir: Path
    log: Path

    @property
    def proxy_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ca_pem(self) -> Path:
        return self.confdir / "mitmproxy-ca-cert.pem"

    def client_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.ca_pem))

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(2)  # SIGINT: a clean shutdown, as a user would
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        return self.proc.returncode


@contextmanager
def mitmdump(
    tmp: Path, capture: Path, *, trusted_ca: Path | None = None, extra: tuple[str, ...] = ()
) -> Iterator[Mitmdump]:
    port = free_port()
    confdir = tmp / "mitmproxy-conf"
    log = tmp / "mitmdump.log"
    args = [
        str(BIN / "mitmdump"),
        "--listen-host", "127.0.0.1",
        "--listen-port", str(port),
        "--set", f"confdir={confdir}",
        "-s", str(RECORDER_SCRIPT),
        "--set", f"edscan_capture={capture}",
    ]  # fmt: skip
    if trusted_ca is not None:
        args += ["--set", f"ssl_verify_upstream_trusted_ca={trusted_ca}"]
    args += list(extra)
    with log.open("wb") as out:
        proc = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT)
    m = Mitmdump(proc=proc, port=port, confdir=confdir, log=log)
    try:
        wait_listening(port, proc)
        yield m
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def analyser_processes(pid: int, timeout: float = 15) -> list[int]:
    """The live analyser's worker processes under the proxy ``pid`` (waits for the first)."""
    deadline = time.monotonic() + timeout
    while True:
        workers = [
            p for p in _children(pid)
            if "multiprocessing" in Path(f"/proc/{p}/cmdline").read_text(errors="replace")
        ]  # fmt: skip
        if workers or time.monotonic() > deadline:
            return workers
        time.sleep(0.05)


def running(pid: int) -> bool:
    """Alive and not a zombie waiting for whoever adopted it to reap it."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def wait_ended(pids: list[int], timeout: float = 10) -> bool:
    deadline = time.monotonic() + timeout
    while any(map(running, pids)) and time.monotonic() < deadline:
        time.sleep(0.05)
    return not any(map(running, pids))


# --------------------------------------------------------------------------- a busy app


STREAM_PART = b"partial-" * 128  # what /stream sends before it stalls (1 KB)


@dataclass
class SlowOrigin:
    """An HTTP origin that answers only after ``delay`` seconds; ``/stream`` sends its headers
    and ``STREAM_PART`` at once, then stalls. ``received`` lists the request targets."""

    port: int = 0
    received: list[str] = field(default_factory=list)
    tls: bool = False  # HTTPS, as localhost

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"


@contextmanager
def slow_origin(delay: float = 4.0, tls: ssl.SSLContext | None = None) -> Iterator[SlowOrigin]:
    import asyncio

    origin = SlowOrigin(tls=tls is not None)
    ready = threading.Event()
    loop = asyncio.new_event_loop()
    stop = asyncio.Event()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            target = head.split(b" ", 2)[1].decode()
            origin.received.append(target)
            if target.startswith("/stream"):
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n" + STREAM_PART)
                await writer.drain()
            try:  # a handler that ends normally at the stop: Python 3.11's start_server
                # reports a cancelled one as an error
                await asyncio.wait_for(stop.wait(), delay)
                return
            except TimeoutError:
                pass
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
            await writer.drain()
        except (OSError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    async def serve() -> None:
        server = await asyncio.start_server(handle, "127.0.0.1", 0, backlog=4096, ssl=tls)
        origin.port = int(server.sockets[0].getsockname()[1])
        ready.set()
        async with server:
            await stop.wait()
        tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        if tasks:
            await asyncio.wait(tasks, timeout=5)

    t = threading.Thread(target=loop.run_until_complete, args=(serve(),), daemon=True)
    t.start()
    ready.wait(10)
    try:
        yield origin
    finally:
        loop.call_soon_threadsafe(stop.set)
        t.join(timeout=10)
        loop.close()


@contextmanager
def h2_slow_origin(tls: ssl.SSLContext) -> Iterator[SlowOrigin]:
    """An HTTPS origin that speaks HTTP/2 only and never answers, except ``/hello`` (at once)
    and ``/stream``: its headers and ``STREAM_PART``, then a stall. ``received`` lists the
    request paths."""
    import asyncio

    from h2.config import H2Configuration
    from h2.connection import H2Connection
    from h2.events import RequestReceived

    tls.set_alpn_protocols(["h2"])
    origin = SlowOrigin(tls=True)
    ready = threading.Event()
    loop = asyncio.new_event_loop()
    stop = asyncio.Event()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        conn = H2Connection(H2Configuration(client_side=False))
        conn.initiate_connection()
        writer.write(conn.data_to_send())
        try:
            while data := await reader.read(65536):
                for event in conn.receive_data(data):
                    if isinstance(event, RequestReceived):
                        path = dict(event.headers)[b":path"].decode()
                        origin.received.append(path)
                        if path.startswith("/hello"):
                            conn.send_headers(event.stream_id, [(":status", "200")])
                            conn.send_data(event.stream_id, b"ok", end_stream=True)
                        elif path.startswith("/stream"):
                            conn.send_headers(event.stream_id, [(":status", "200")])
                            conn.send_data(event.stream_id, STREAM_PART)
                writer.write(conn.data_to_send())
                await writer.drain()
        except (OSError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    async def serve() -> None:
        server = await asyncio.start_server(handle, "127.0.0.1", 0, ssl=tls)
        origin.port = int(server.sockets[0].getsockname()[1])
        ready.set()
        async with server:
            await stop.wait()

    t = threading.Thread(target=loop.run_until_complete, args=(serve(),), daemon=True)
    t.start()
    ready.wait(10)
    try:
        yield origin
    finally:
        loop.call_soon_threadsafe(stop.set)
        t.join(timeout=10)
        loop.close()


class Crowd:
    """Many clients at once, each on its own connection through the proxy: each sends one raw
    request (bytes) and waits for the answer until ``close``.

    With ``tunnel`` (the origin's port and a context trusting the proxy's CA) each client
    first opens a CONNECT tunnel to ``localhost`` and TLS inside it, as an HTTPS client does.
    """

    def __init__(
        self,
        proxy_port: int,
        requests: list[bytes],
        tunnel: tuple[int, ssl.SSLContext] | None = None,
    ) -> None:
        import asyncio

        self._port = proxy_port
        self._requests = requests
        self._tunnel = tunnel
        self._loop = asyncio.new_event_loop()
        self._stop = asyncio.Event()
        self.sent = 0  # requests written to the proxy in full
        self._thread = threading.Thread(
            target=self._loop.run_until_complete, args=(self._main(),), daemon=True
        )
        self._thread.start()

    async def _one(self, raw: bytes) -> None:
        import asyncio

        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", self._port)
        except OSError:
            return
        try:
            if self._tunnel is not None:
                port, tls = self._tunnel
                writer.write(f"CONNECT localhost:{port} HTTP/1.1\r\n\r\n".encode())
                if b" 200 " not in await reader.readuntil(b"\r\n\r\n"):
                    return
                await writer.start_tls(tls, server_hostname="localhost")
            writer.write(raw)
            await writer.drain()
            self.sent += 1
            await reader.read()
        except OSError:
            pass
        finally:
            writer.close()

    async def _main(self) -> None:
        import asyncio

        tasks = [asyncio.create_task(self._one(r)) for r in self._requests]
        await self._stop.wait()
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await asyncio.sleep(0)  # let the transports close

    def close(self) -> None:
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(timeout=10)
        self._loop.close()


def _request_line(origin: SlowOrigin, method: str, target: str) -> str:
    # through a tunnel a request names its path only; to the proxy directly, the whole URL
    if origin.tls:
        host = f"localhost:{origin.port}"
        return f"{method} {target} HTTP/1.1\r\nHost: {host}\r\n"
    host = f"127.0.0.1:{origin.port}"
    return f"{method} http://{host}{target} HTTP/1.1\r\nHost: {host}\r\n"


def proxied_get(origin: SlowOrigin, target: str) -> bytes:
    return (_request_line(origin, "GET", target) + "\r\n").encode()


def proxied_upload(origin: SlowOrigin, target: str, part: bytes, length: int) -> bytes:
    """A POST whose body stops after ``part`` of ``length`` bytes (the client still sending)."""
    head = _request_line(origin, "POST", target) + f"Content-Length: {length}\r\n\r\n"
    return head.encode() + part
