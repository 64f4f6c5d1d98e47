"""Real HTTP/3 captures made at test time: an aioquic HTTP/3 client POSTs to an aioquic HTTP/3
server on 127.0.0.1 while dumpcap records the UDP port on the loopback interface; the client
writes its TLS secrets in the SSLKEYLOGFILE format. Nothing leaves the machine."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Sequence
from pathlib import Path

from pcapcapture import HOST, Made, dumpcap, self_signed

RESPONSE = b'{"ok":true}'


def _protocols() -> tuple[type, type]:
    from aioquic.asyncio import QuicConnectionProtocol
    from aioquic.h3.connection import H3Connection
    from aioquic.h3.events import DataReceived, H3Event, HeadersReceived
    from aioquic.quic.events import ProtocolNegotiated, QuicEvent

    class Server(QuicConnectionProtocol):
        def __init__(self, *args: object, **kwargs: object) -> None:
            super().__init__(*args, **kwargs)  # type: ignore[arg-type]
            self.h3: H3Connection | None = None

        def quic_event_received(self, event: QuicEvent) -> None:
            if isinstance(event, ProtocolNegotiated):
                self.h3 = H3Connection(self._quic)
            if self.h3 is None:
                return
            for h3_event in self.h3.handle_event(event):
                if isinstance(h3_event, DataReceived | HeadersReceived) and h3_event.stream_ended:
                    self.h3.send_headers(
                        h3_event.stream_id,
                        [(b":status", b"200"), (b"content-type", b"application/json")],
                    )
                    self.h3.send_data(h3_event.stream_id, RESPONSE, end_stream=True)
            self.transmit()

    class Client(QuicConnectionProtocol):
        def __init__(self, *args: object, **kwargs: object) -> None:
            super().__init__(*args, **kwargs)  # type: ignore[arg-type]
            self.h3 = H3Connection(self._quic)
            self.waiting: dict[int, asyncio.Future[int]] = {}
            self.status: dict[int, int] = {}

        def quic_event_received(self, event: QuicEvent) -> None:
            for h3_event in self.h3.handle_event(event):
                self._h3(h3_event)

        def _h3(self, event: H3Event) -> None:
            if isinstance(event, HeadersReceived):
                self.status[event.stream_id] = int(dict(event.headers)[b":status"])
            if isinstance(event, DataReceived | HeadersReceived) and event.stream_ended:
                future = self.waiting.pop(event.stream_id, None)
                if future is not None and not future.done():
                    future.set_result(self.status.get(event.stream_id, 0))

        async def post(self, path: str, body: bytes) -> int:
            sid = self._quic.get_next_available_stream_id()
            headers = [
                (b":method", b"POST"),
                (b":scheme", b"https"),
                (b":authority", HOST.encode()),
                (b":path", path.encode()),
                (b"content-type", b"application/json"),
                (b"x-client", b"edscan-test"),
            ]
            self.h3.send_headers(sid, headers)
            self.h3.send_data(sid, body, end_stream=True)
            future: asyncio.Future[int] = asyncio.get_running_loop().create_future()
            self.waiting[sid] = future
            self.transmit()
            return await asyncio.wait_for(future, 10)

    return Server, Client


async def _exchange(
    directory: Path,
    port: int,
    keys: Path,
    requests: Sequence[tuple[str, bytes]],
    cipher: str | None,
) -> list[int]:
    from aioquic.asyncio import connect, serve
    from aioquic.h3.connection import H3_ALPN
    from aioquic.quic.configuration import QuicConfiguration
    from aioquic.tls import CipherSuite

    server_cls, client_cls = _protocols()
    cert, key = self_signed(directory, HOST)
    server_config = QuicConfiguration(is_client=False, alpn_protocols=H3_ALPN)
    server_config.load_cert_chain(cert, key)
    server = await serve("127.0.0.1", port, configuration=server_config, create_protocol=server_cls)
    try:
        with keys.open("a") as log:
            client_config = QuicConfiguration(
                is_client=True,
                alpn_protocols=H3_ALPN,
                server_name=HOST,
                verify_mode=0,  # ssl.CERT_NONE: the certificate is self-signed, made above
                secrets_log_file=log,
            )
            if cipher is not None:
                client_config.cipher_suites = [CipherSuite[cipher]]
            async with connect(
                "127.0.0.1", port, configuration=client_config, create_protocol=client_cls
            ) as client:
                return [await client.post(path, body) for path, body in requests]  # type: ignore[attr-defined]
    finally:
        server.close()


def _free_udp_port() -> int:
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def make_h3_capture(
    directory: Path, requests: Sequence[tuple[str, bytes]], cipher: str | None = None
) -> Made:
    """A pcapng of ``requests`` (path, JSON body) POSTed over HTTP/3, and the TLS key log;
    ``cipher`` names an aioquic ``CipherSuite`` (the default: aioquic's own preference)."""
    directory.mkdir(parents=True, exist_ok=True)
    out = directory / "h3.pcapng"
    keys = directory / "h3keys.txt"
    port = _free_udp_port()
    with dumpcap(out, f"udp port {port}"):
        statuses = asyncio.run(_exchange(directory, port, keys, requests, cipher))
    assert statuses == [200] * len(requests)
    os.chmod(out, 0o644)
    return Made(pcapng=out, keys=keys, port=port)
