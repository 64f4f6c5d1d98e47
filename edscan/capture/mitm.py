"""mitmproxy flows into edscan Flows: live (the recorder) and from ``.mitm`` dumps alike."""

from __future__ import annotations

import binascii
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from edscan.capture.capture_file import flow_from_dict
from edscan.errors import CaptureError
from edscan.models import Flow

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


def _body(raw: bytes | None, max_body: int | None) -> dict[str, Any] | None:
    """A body as the capture stores it (what ``Body.to_dict`` writes): text, else base64."""
    if not raw:
        return None
    size = len(raw)
    truncated = max_body is not None and size > max_body
    if truncated:
        raw = raw[:max_body]
    try:
        return {
            "encoding": "utf-8",
            "data": raw.decode("utf-8"),
            "size": size,
            "truncated": truncated,
        }
    except UnicodeDecodeError:
        # binascii directly: base64.b64encode is a wrapper around it that also copies
        data = binascii.b2a_base64(raw, newline=False).decode("ascii")
        return {"encoding": "base64", "data": data, "size": size, "truncated": truncated}


def _websocket(ws: Any) -> list[dict[str, Any]]:
    out = []
    for m in ws.messages:
        content = m.content
        if isinstance(content, str):  # text messages in some old .mitm dumps
            content = content.encode("utf-8", "replace")
        try:
            encoding, data = "utf-8", content.decode("utf-8")
        except UnicodeDecodeError:
            encoding, data = "base64", binascii.b2a_base64(content, newline=False).decode("ascii")
        out.append(
            {
                "from_client": m.from_client,
                "time": m.timestamp,
                "type": "text" if m.is_text else "binary",
                "encoding": encoding,
                "data": data,
            }
        )
    return out


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


def record_from_mitmproxy(
    f: Any, *, index: int, max_body: int | None = None, phase: str | None = None
) -> dict[str, Any]:
    """One ``mitmproxy.http.HTTPFlow`` as a capture record: what ``Flow.to_dict`` gives for it.

    The live recorder writes this record as it is, with no Flow in between (building a frozen
    Flow and then its dict cost the proxy more than everything else the recorder does); every
    other use goes through ``flow_from_mitmproxy``, which builds the Flow from this record, so
    both agree by construction. Bodies stay as sent (compressed stays compressed).
    """
    req = f.request
    resp = f.response
    client, server = f.client_conn, f.server_conn
    https = req.scheme == "https"
    method = req.method
    http_version = req.http_version
    sni = server.sni or client.sni
    client_address = client.peername
    server_address = server.address
    ws = f.websocket
    error = f.error
    # built in one expression, headers decoded inline: this runs on the live proxy for every
    # flow, where each helper call shows (.fields keeps header order and duplicates, as sent)
    return {
        "index": index,
        "id": f.id,
        "request_start": req.timestamp_start,
        "response_end": resp.timestamp_end if resp is not None else None,
        "client_address": [str(client_address[0]), int(client_address[1])]
        if client_address
        else None,
        "server_address": [str(server_address[0]), int(server_address[1])]
        if server_address
        else None,
        "sni": None if sni is None else sni if sni.isascii() else _clean(sni),
        "tls": {
            "version": (server.tls_version or client.tls_version) if https else None,
            "intercepted": bool(client.tls_established) if https else False,
        },
        "scheme": req.scheme,
        "method": method if method.isascii() else _clean(method),
        "url": _url(req),
        "http_version": http_version if http_version.isascii() else _clean(http_version),
        "request_headers": [
            [k.decode("utf-8", "replace"), v.decode("utf-8", "replace")]
            for k, v in req.headers.fields
        ],
        "request_body": _body(req.raw_content, max_body),
        "status": resp.status_code if resp is not None else None,
        "reason": _clean(resp.reason) if resp is not None else None,
        "response_headers": [
            [k.decode("utf-8", "replace"), v.decode("utf-8", "replace")]
            for k, v in resp.headers.fields
        ]
        if resp is not None
        else [],
        "response_body": _body(resp.raw_content, max_body) if resp is not None else None,
        "error": _clean(error.msg) if error is not None else None,
        "websocket": _websocket(ws) if ws is not None else [],
        "phase": phase,
    }


# The error a cut-off flow carries, so that a reader that does not know ``cut_off`` (format
# 1.1) still sees a flow that did not complete, and why.
CUT_OFF_ERRORS = {
    "request_incomplete": "cut off by the stop of the capture while the request was arriving",
    "no_response": "cut off by the stop of the capture before the response arrived",
    "response_incomplete": "cut off by the stop of the capture while the response was arriving",
}


def cut_off_stage(f: Any) -> str:
    """Where an unfinished ``HTTPFlow`` had got to: one of ``models.CUT_OFF_STAGES``."""
    if f.request.timestamp_end is None:
        return "request_incomplete"
    if f.response is None:
        return "no_response"
    return "response_incomplete"


def cut_off_record(
    f: Any,
    *,
    index: int,
    max_body: int | None = None,
    phase: str | None = None,
    request_part: bytes | None = None,
    response_part: bytes | None = None,
) -> dict[str, Any]:
    """The capture record of a flow the stop cut off, marked ``cut_off``.

    It is ``record_from_mitmproxy``'s record with what had arrived of an unfinished body
    (``request_part`` / ``response_part``: the bytes mitmproxy had buffered) in place of the
    missing one, marked truncated: its ``size`` is what had arrived, the whole is unknown.
    """
    stage = cut_off_stage(f)
    record = record_from_mitmproxy(f, index=index, max_body=max_body, phase=phase)
    if stage == "request_incomplete" and request_part:
        record["request_body"] = _partial_body(request_part, max_body)
    if stage == "response_incomplete" and response_part:
        record["response_body"] = _partial_body(response_part, max_body)
    if record["error"] is None:
        record["error"] = CUT_OFF_ERRORS[stage]
    record["cut_off"] = stage
    return record


def _partial_body(raw: bytes, max_body: int | None) -> dict[str, Any] | None:
    body = _body(raw, max_body)
    if body is not None:
        body["truncated"] = True  # the rest never arrived
    return body


def flow_from_mitmproxy(
    f: Any, *, index: int, max_body: int | None = None, phase: str | None = None
) -> Flow:
    """Convert one ``mitmproxy.http.HTTPFlow``: the Flow read back from its capture record."""
    return flow_from_dict(record_from_mitmproxy(f, index=index, max_body=max_body, phase=phase))


# --------------------------------------------------------------------------- .mitm dumps

_FORMAT_VERSION = re.compile(r"flow format version (\(\d+, ?\d+\)|\d+)")
# where the recorder keeps a flow's phase (edscan.capture.recorder.PHASE_KEY); saved in .mitm dumps
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


# What mitmproxy's FlowReader raises (besides FlowReadException) on a well-formed tnetstring
# whose fields are missing or of the wrong type: a damaged or hand-made dump. A field it does
# not know fails an ``assert`` in its ``set_state``.
_SHAPE_ERRORS = (KeyError, TypeError, ValueError, AttributeError, IndexError, AssertionError)


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
            except _SHAPE_ERRORS:
                raise CaptureError(
                    f"{self.path}: not a mitmproxy dump edscan can read (its first flow does "
                    "not have the fields mitmproxy writes)"
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
                except _SHAPE_ERRORS:  # valid tnetstring, but not a flow mitmproxy wrote
                    self.warnings.append(
                        f"{self.path.name}: a flow without the fields mitmproxy writes near byte "
                        f"{fo.tell()}; stopped reading, kept the {read} flows before it"
                    )
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
