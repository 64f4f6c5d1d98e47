"""mitmproxy flows into edscan Flows: live (the recorder) and from ``.mitm`` dumps alike."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from edscan.errors import CaptureError
from edscan.models import Body, Flow, Headers, WebSocketMessage


def _text(b: bytes) -> str:
    return b.decode("utf-8", "replace")


_SURROGATE = re.compile("[\udc80-\udcff]")


def _clean(s: str) -> str:
    """A string that can be written as UTF-8.

    mitmproxy decodes raw bytes of a URL, a method or an HTTP version with surrogateescape, so
    bytes that are not UTF-8 arrive as lone surrogates, which no UTF-8 file can hold (and a
    hostile request must not stop a recording). Each such byte becomes ``%XX``, as in a URL.
    """
    if s.isascii():
        return s
    return _SURROGATE.sub(lambda m: f"%{ord(m.group()) - 0xDC00:02X}", s)


def _clean_opt(s: str | None) -> str | None:
    return None if s is None else _clean(s)


def _headers(headers: Any) -> Headers:
    # .fields keeps order and duplicates, as sent (decoded inline: this runs on the live
    # proxy for every flow, and a call per header costs a third more)
    return tuple(
        [(k.decode("utf-8", "replace"), v.decode("utf-8", "replace")) for k, v in headers.fields]
    )


def _body(raw: bytes | None, max_body: int | None) -> Body | None:
    if not raw:
        return None
    if max_body is not None and len(raw) > max_body:
        return Body(content=raw[:max_body], size=len(raw), truncated=True)
    return Body(content=raw, size=len(raw))


def _address(addr: Any) -> tuple[str, int] | None:
    if not addr:
        return None
    return (str(addr[0]), int(addr[1]))


def _websocket(f: Any) -> tuple[WebSocketMessage, ...]:
    ws = getattr(f, "websocket", None)
    if ws is None:
        return ()
    return tuple(
        WebSocketMessage(
            from_client=m.from_client,
            timestamp=m.timestamp,
            is_text=m.is_text,
            content=m.content,
        )
        for m in ws.messages
    )


def _url(req: Any) -> str:
    # A CONNECT request names only "host:port" (authority form); give it a real URL so that
    # Flow.host works for it like for any other flow.
    if req.method == "CONNECT" and req.first_line_format == "authority":
        from mitmproxy.net.http.url import unparse

        return _clean(str(unparse("http" if req.port == 80 else "https", req.host, req.port, "/")))
    # pretty_url prefers the Host header / :authority: in transparent and WireGuard modes (and
    # in some dumps) req.url names only the server's IP, which no tracker list can attribute.
    # mitmproxy's own HAR export uses pretty_url too, so both import paths agree.
    # Fast path (this runs on the live proxy for every flow): when the Host header names the
    # host and port the URL already has, pretty_url is req.url, at a fifth of the cost.
    host_header = req.host_header
    if not host_header or host_header == f"{req.host}:{req.port}":
        return _clean(str(req.url))
    if host_header == req.host and req.port == {"http": 80, "https": 443}.get(req.scheme):
        return _clean(str(req.url))
    return _clean(str(req.pretty_url))


def flow_from_mitmproxy(
    f: Any, *, index: int, max_body: int | None = None, phase: str | None = None
) -> Flow:
    """Convert one ``mitmproxy.http.HTTPFlow``. Bodies stay as sent (compressed stays compressed)."""
    req = f.request
    resp = f.response
    client, server = f.client_conn, f.server_conn
    https = req.scheme == "https"
    return Flow(
        index=index,
        id=f.id,
        request_start=req.timestamp_start,
        response_end=resp.timestamp_end if resp is not None else None,
        client_address=_address(client.peername),
        server_address=_address(server.address),
        sni=_clean_opt(server.sni or client.sni),
        tls_version=(server.tls_version or client.tls_version) if https else None,
        tls_intercepted=bool(client.tls_established) if https else False,
        scheme=req.scheme,
        method=_clean(req.method),
        url=_url(req),
        http_version=_clean(req.http_version),
        request_headers=_headers(req.headers),
        request_body=_body(req.raw_content, max_body),
        status=resp.status_code if resp is not None else None,
        reason=_clean(resp.reason) if resp is not None else None,
        response_headers=_headers(resp.headers) if resp is not None else (),
        response_body=_body(resp.raw_content, max_body) if resp is not None else None,
        error=_clean(f.error.msg) if f.error is not None else None,
        websocket=_websocket(f),
        phase=phase,
    )


# --------------------------------------------------------------------------- .mitm dumps

_FORMAT_VERSION = re.compile(r"flow format version (\(\d+, ?\d+\)|\d+)")
# where the recorder keeps a flow's phase (edscan.recorder.PHASE_KEY); saved in .mitm dumps
_PHASE_KEY = "edscan.phase"


def _unreadable(path: Path, e: Exception) -> CaptureError:
    """The one message for a dump whose flow format this mitmproxy cannot read."""
    from mitmproxy.version import VERSION

    text = str(e)
    m = _FORMAT_VERSION.search(text)
    version = m.group(1).strip("()").replace(", ", ".").replace(",", ".") if m else "?"
    if "please update" in text:
        return CaptureError(
            f"{path}: this .mitm dump was written by a newer mitmproxy (flow format {version}) "
            f"than the mitmproxy {VERSION} edscan uses; upgrade mitmproxy in edscan's environment"
        )
    return CaptureError(
        f"{path}: this .mitm dump was written by an old mitmproxy (flow format {version}) that "
        f"mitmproxy {VERSION} can no longer read; open it in an older mitmproxy and save it "
        "again (or export it as HAR), then import that"
    )


class MitmSource:
    """A mitmproxy flow dump (``mitmdump -w``) as a stream of Flows.

    HTTP flows (HTTP/1, 2 and 3, WebSocket included) become Flows; TCP, UDP and DNS flows are
    counted in ``skipped``. A dump cut off mid-flow keeps every flow before the cut and warns.
    """

    format = "mitm"

    def __init__(self, path: Path):
        self.path = path
        self.warnings: list[str] = []
        self.skipped: dict[str, int] = {}
        self._check_first()

    def _check_first(self) -> None:
        # Read one flow now, so a dump that cannot be read at all fails before any work starts.
        from mitmproxy.exceptions import FlowReadException
        from mitmproxy.io import FlowReader

        try:
            fo = self.path.open("rb")
        except OSError as e:
            raise CaptureError(f"{self.path}: cannot read ({e.strerror})") from e
        with fo:
            size = os.fstat(fo.fileno()).st_size
            try:
                next(iter(FlowReader(fo).stream()), None)
            except FlowReadException as e:
                if _FORMAT_VERSION.search(str(e)):
                    raise _unreadable(self.path, e) from None
                if fo.tell() >= size:
                    raise CaptureError(
                        f"{self.path}: the .mitm dump is cut off before its first complete "
                        "flow (the file is truncated)"
                    ) from None
                raise CaptureError(
                    f"{self.path}: not a mitmproxy dump edscan can read (invalid data at the "
                    "start of the file)"
                ) from None

    def __iter__(self) -> Iterator[Flow]:
        from mitmproxy import http
        from mitmproxy.exceptions import FlowReadException
        from mitmproxy.io import FlowReader

        self.warnings.clear()
        self.skipped.clear()
        index = 0
        read = 0
        with self.path.open("rb") as fo:
            size = os.fstat(fo.fileno()).st_size
            stream = iter(FlowReader(fo).stream())
            while True:
                try:
                    f = next(stream)
                except StopIteration:
                    break
                except FlowReadException as e:
                    self.warnings.append(self._stopped(e, read, fo.tell() >= size, fo.tell()))
                    break
                read += 1
                if isinstance(f, http.HTTPFlow):
                    phase = f.metadata.get(_PHASE_KEY)
                    yield flow_from_mitmproxy(
                        f, index=index, phase=phase if isinstance(phase, str) else None
                    )
                    index += 1
                else:
                    kind = str(getattr(f, "type", type(f).__name__.lower()))
                    self.skipped[kind] = self.skipped.get(kind, 0) + 1

    def _stopped(self, e: Exception, read: int, at_end: bool, offset: int) -> str:
        kept = f"kept the {read} flows before it"
        if _FORMAT_VERSION.search(str(e)):
            return f"{self.path.name}: a flow in a format this mitmproxy cannot read; {kept}"
        if at_end:
            return (
                f"{self.path.name}: the dump is cut off in the middle of a flow "
                f"(the recording was interrupted); {kept}"
            )
        return f"{self.path.name}: invalid data near byte {offset}; stopped reading, {kept}"
