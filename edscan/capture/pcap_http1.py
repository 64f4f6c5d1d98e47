"""An HTTP/1.x message's body exactly as sent, from the bytes tshark reassembled.

tshark's own body field (``http.file_data``) is text: it stops at the first NUL byte and is
lossy for any binary body (protobuf, MessagePack, images). The message's bytes are there too:
``tls.reassembled.data`` (decrypted TLS), ``tcp.reassembled.data`` (plain HTTP over several
segments) or ``tcp.payload`` (plain HTTP in one segment). h11 parses them as a peer would, which
undoes chunking; Content-Encoding stays as sent, for the decoders. Where the bytes are not
there (a decrypted message in a single TLS record) or do not parse, the caller falls back to
tshark's text.
"""

from __future__ import annotations

import h11

# where tshark puts a message's bytes, most specific first
_FIELDS = ("tls_reassembled_data", "tcp_reassembled_data", "tcp_payload")


def message(p: dict[str, list[str]], start: str) -> bytes | None:
    """The bytes of the message in packet ``p`` that starts with ``start`` (its method, or
    ``HTTP/`` for a response)."""
    head = start.encode("ascii", "replace")
    for key in _FIELDS:
        for text in p.get(key) or ():
            try:
                data = bytes.fromhex(text.replace(":", ""))
            except ValueError:
                continue
            if data.startswith(head):
                return data
    return None


def request_body(data: bytes) -> bytes | None:
    """The body of the request in ``data``; None when it does not parse as one."""
    conn = h11.Connection(h11.SERVER)
    return _body(conn, data, h11.Request)


def response_body(data: bytes, method: str) -> bytes | None:
    """The body of the response in ``data`` to a ``method`` request; None when it does not
    parse as one."""
    conn = h11.Connection(h11.CLIENT)
    try:
        conn.send(h11.Request(method=method, target="/", headers=[("Host", "x")]))
        conn.send(h11.EndOfMessage())
    except h11.LocalProtocolError:
        return None
    return _body(conn, data, h11.Response)


def _body(conn: h11.Connection, data: bytes, kind: type) -> bytes | None:
    conn.receive_data(data)
    conn.receive_data(b"")  # the capture holds no more: a body without a length ends here
    out = bytearray()
    seen = False
    try:
        while True:
            event = conn.next_event()
            if isinstance(event, kind):
                seen = True
            elif isinstance(event, h11.InformationalResponse):
                continue  # 100 Continue before the answer
            elif isinstance(event, h11.Data):
                out += event.data
            elif isinstance(event, h11.EndOfMessage):
                return bytes(out) if seen else None
            else:  # PAUSED, ConnectionClosed
                return bytes(out) if seen and out else None
    except h11.RemoteProtocolError:  # not HTTP, or the capture stops inside the body
        return bytes(out) if seen and out else None
