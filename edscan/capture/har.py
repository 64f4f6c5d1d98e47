"""HAR 1.2 files (browser devtools, Charles, Insomnia, mitmproxy) into edscan Flows.

HAR is one JSON document, so a HAR is read whole (with a size cap) and its entries are converted
one at a time by ``flow_from_har``, the one conversion from a HAR entry to a ``Flow``.

What HAR writers disagree on, and what this module does about it:

- Bodies are stored *decoded* (no gzip/br) while the headers still say ``Content-Encoding: gzip``.
  Headers are kept as they were; response bodies are marked ``Body.decoded`` so decoders do not
  try to decompress them again. Request bodies from browsers are left unmarked: a browser
  records what the page handed it (which the page may have compressed itself), so decoders try
  the encoding and fall back to the bytes; mitmproxy and edscan write them decoded (marked).
- Text without a declared charset: UTF-8 from browsers (the text they decoded); latin-1 from
  mitmproxy and edscan, which write it so any bytes survive (``is_mitmproxy_style``).
- Binary response bodies are base64 (``content.encoding``); request bodies may come as
  ``postData.text`` or only as ``postData.params`` (rebuilt into a body here).
- Chrome lists HTTP/2 pseudo-headers (``:authority`` ...): dropped, as mitmproxy keeps them out of
  its headers too. WebSocket frames are in ``_webSocketMessages`` (Chrome, mitmproxy).
- Entries served from the browser's cache (Chrome ``_fromCache``, Safari ``_fetchType``) never
  reached the network: skipped and counted as ``cached``; ``data:``/``blob:`` URLs likewise
  (``not-http``).
- ``pages``: an entry's page title becomes its phase (what the user was doing at the time).
- Timestamps come with any ISO 8601 offset; a time without an offset is taken as UTC (warned).
- ``-1``, ``null`` or missing sizes, versions and timings mean "unknown".
- A HAR written by edscan carries an ``_edscan`` object per entry with what HAR cannot hold
  (flow id, addresses, TLS facts, phase, body caps), so edscan → HAR → edscan loses nothing but
  the compression of bodies.
- A JSON document whose ``log`` sits under another key (mitmproxy's ``har_extractor`` test data)
  is refused with a message naming the key: guessing which nested log is meant is not safe.
"""

from __future__ import annotations

import base64
import binascii
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlsplit

from edscan.models import CUT_OFF_STAGES, Body, Flow, WebSocketMessage

_DEFAULT_PORTS = {"http": 80, "https": 443}
_WS_SCHEMES = {"ws": "http", "wss": "https"}
_NETWORK_SCHEMES = {"http", "https", "ws", "wss"}
_CACHE_FETCH_TYPES = {"memory cache", "disk cache"}  # Safari's _fetchType for cache hits

_HTTP_VERSIONS = {
    "http/1.0": "HTTP/1.0",
    "http/1.1": "HTTP/1.1",
    "http/2": "HTTP/2.0",
    "http/2.0": "HTTP/2.0",
    "h2": "HTTP/2.0",
    "h2c": "HTTP/2.0",
    "http/3": "HTTP/3",
    "http/3.0": "HTTP/3",
    "h3": "HTTP/3",
}


class HarEntryError(ValueError):
    """An entry that cannot become a Flow (no request, no URL ...)."""


def parse_har_time(value: Any) -> tuple[float | None, bool]:
    """A HAR ``startedDateTime`` as epoch seconds, and whether it lacked a UTC offset.

    Accepts any ISO 8601 form (``Z``, ``+02:00``, ``+0200``, a space for ``T``, nanoseconds) and
    epoch numbers (seconds or milliseconds) that some tools write; a time without an offset is
    taken as UTC. Unreadable values give ``(None, False)``.
    """
    if isinstance(value, bool):
        return None, False
    if isinstance(value, int | float):
        return (value / 1000.0 if value > 1e11 else float(value)), False
    if not isinstance(value, str) or not value.strip():
        return None, False
    s = value.strip().upper()
    try:
        dt = datetime.fromisoformat(s)
    except ValueError:
        return None, False
    if dt.tzinfo is None:
        return dt.replace(tzinfo=UTC).timestamp(), True
    return dt.timestamp(), False


def _number(v: Any) -> float | None:
    if isinstance(v, bool) or not isinstance(v, int | float):
        return None
    return float(v)


def _headers(raw: Any) -> tuple[tuple[str, str], ...]:
    out: list[tuple[str, str]] = []
    if not isinstance(raw, list):
        return ()
    for h in raw:
        if isinstance(h, dict):
            name, value = h.get("name"), h.get("value")
        elif isinstance(h, list | tuple) and len(h) == 2:  # [name, value] pairs (Slack)
            name, value = h
        else:
            continue
        if not isinstance(name, str) or not name or name.startswith(":"):
            continue  # HTTP/2 pseudo-headers repeat the method and URL
        out.append((valid_text(name), "" if value is None else valid_text(str(value))))
    return tuple(out)


def valid_text(s: str) -> str:
    """``s`` without lone surrogates (JSON can escape them; UTF-8 cannot hold them)."""
    if s.isascii():
        return s
    try:
        s.encode("utf-8")
        return s
    except UnicodeEncodeError:
        return _utf8(s).decode("utf-8", "replace")


def _header(headers: tuple[tuple[str, str], ...], name: str) -> str:
    for k, v in headers:
        if k.lower() == name:
            return v
    return ""


def _charset(content_type: str) -> str | None:
    for part in content_type.split(";")[1:]:
        key, _, value = part.partition("=")
        if key.strip().lower() == "charset" and value.strip():
            return value.strip().strip("\"'")
    return None


def _encode_text(text: str, content_type: str, default: str = "utf-8") -> bytes:
    """Text back into the bytes that were sent: the declared charset, UTF-8 for JSON, else
    ``default`` (UTF-8 for browsers; latin-1 for mitmproxy and edscan, which write it so)."""
    charset = _charset(content_type) or ("utf-8" if "json" in content_type.lower() else default)
    if charset:
        try:
            return text.encode(charset)
        except (LookupError, UnicodeError):
            pass
    return _utf8(text)


def _utf8(text: str) -> bytes:
    try:
        # undecodable bytes are written as lone surrogates (surrogateescape): give them back
        return text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogatepass")


def _b64(text: str) -> bytes | None:
    try:
        return base64.b64decode(text, validate=False)
    except (binascii.Error, ValueError):
        return None


def _form_from_params(params: list[Any], mime: str) -> bytes:
    """Rebuild a body from ``postData.params`` when a HAR writer left out ``text``."""
    pairs = [
        (str(p.get("name", "")), p)
        for p in params
        if isinstance(p, dict) and p.get("name") is not None
    ]
    boundary = ""
    if mime.lower().startswith("multipart/"):
        for part in mime.split(";")[1:]:
            key, _, value = part.partition("=")
            if key.strip().lower() == "boundary":
                boundary = value.strip().strip('"')
    if boundary:
        chunks: list[str] = []
        for name, p in pairs:
            disp = f'form-data; name="{name}"'
            if p.get("fileName"):
                disp += f'; filename="{p["fileName"]}"'
            head = f"--{boundary}\r\nContent-Disposition: {disp}\r\n"
            if p.get("contentType"):
                head += f"Content-Type: {p['contentType']}\r\n"
            chunks.append(f"{head}\r\n{p.get('value') or ''}\r\n")
        chunks.append(f"--{boundary}--\r\n")
        return "".join(chunks).encode("utf-8", "surrogatepass")
    # HAR writers disagree on whether params are still percent-encoded; keep existing %XX
    # escapes and encode only what cannot stand in a form body, so neither form is garbled
    safe = "%!$'()*,/:;@?~-._"
    return "&".join(
        f"{quote(name, safe=safe)}={quote(str(p.get('value') or ''), safe=safe)}"
        for name, p in pairs
    ).encode("ascii")


def _request_body(
    req: dict[str, Any], headers: tuple[tuple[str, str], ...], text_default: str
) -> Body | None:
    pd = req.get("postData")
    if not isinstance(pd, dict):
        return None
    mime = pd.get("mimeType") or _header(headers, "content-type") or ""
    if not isinstance(mime, str):
        mime = ""
    text = pd.get("text")
    params = pd.get("params")
    content: bytes | None = None
    if isinstance(text, str) and text:
        # not in HAR 1.2, but written by some tools (and by edscan for bytes that are not text)
        encoding = pd.get("_encoding") or pd.get("encoding")
        if encoding == "base64":
            content = _b64(text)
        elif isinstance(encoding, str) and encoding:
            try:
                content = text.encode(encoding)
            except (LookupError, UnicodeError):
                content = None
        if content is None:
            content = _encode_text(text, _header(headers, "content-type") or mime, text_default)
    elif isinstance(params, list) and params:
        content = _form_from_params(params, mime)
    if not content:
        return None
    return Body(content=content, size=len(content))


def _response_body(
    content: Any, headers: tuple[tuple[str, str], ...], text_default: str
) -> Body | None:
    if not isinstance(content, dict):
        return None
    text = content.get("text")
    if not isinstance(text, str) or not text:
        return None  # Firefox leaves images out; Chrome leaves out what it did not keep
    data: bytes | None = None
    if content.get("encoding") == "base64":
        data = _b64(text)
    if data is None:
        ctype = _header(headers, "content-type") or str(content.get("mimeType") or "")
        data = _encode_text(text, ctype, text_default)
    return Body(content=data, size=len(data), decoded=True)


def _websocket(raw: Any) -> tuple[WebSocketMessage, ...]:
    if not isinstance(raw, list):
        return ()
    out: list[WebSocketMessage] = []
    for m in raw:
        if not isinstance(m, dict):
            continue
        opcode = m.get("opcode", 1)
        if opcode not in (1, 2):
            continue  # control frames (close, ping, pong) carry no application data
        data = m.get("data")
        if not isinstance(data, str):
            data = ""
        content: bytes | None = _b64(data) if opcode == 2 else None
        if content is None:
            content = _utf8(data)
        out.append(
            WebSocketMessage(
                from_client=m.get("type") == "send",
                timestamp=_number(m.get("time")),
                is_text=opcode == 1,
                content=content,
            )
        )
    return tuple(out)


def _server_address(entry: dict[str, Any], scheme: str, port: int | None) -> tuple[str, int] | None:
    ip = entry.get("serverIPAddress")
    if not isinstance(ip, str) or not ip.strip():
        return None
    ip = ip.strip()
    if ip.startswith("[") and ip.endswith("]"):
        ip = ip[1:-1]
    server_port = entry.get("_serverPort")  # Safari
    if isinstance(server_port, int) and not isinstance(server_port, bool) and server_port > 0:
        port = server_port
    if port is None:
        port = _DEFAULT_PORTS.get(scheme, 0)
    return (ip, port)


def _http_version(v: Any) -> str:
    if not isinstance(v, str) or not v.strip() or v.strip().lower() == "unknown":
        return ""
    s = v.strip()
    low = s.lower()
    if low.startswith("h3-"):  # draft QUIC versions (h3-29)
        return "HTTP/3"
    return _HTTP_VERSIONS.get(low, s.upper())


def _address(v: Any) -> tuple[str, int] | None:
    if isinstance(v, list | tuple) and len(v) == 2:
        return (str(v[0]), int(v[1]))
    return None


def _apply_body_meta(body: Body | None, meta: Any) -> Body | None:
    if body is None or not isinstance(meta, dict):
        return body
    size = meta.get("size")
    return Body(
        content=body.content,
        size=size if isinstance(size, int) and size >= 0 else body.size,
        truncated=bool(meta.get("truncated", False)),
        decoded=bool(meta.get("decoded", body.decoded)),
    )


def is_cached(entry: dict[str, Any]) -> bool:
    """Whether the browser served this entry from its cache (nothing went over the network)."""
    if entry.get("_fromCache"):  # Chrome: "memory" or "disk"
        return True
    fetch = entry.get("_fetchType")  # Safari: "Network Load", "Memory Cache", "Disk Cache"
    return isinstance(fetch, str) and fetch.lower() in _CACHE_FETCH_TYPES


def flow_from_har(
    entry: Any,
    *,
    index: int,
    phase: str | None = None,
    position: int = -1,
    mitmproxy_style: bool = False,
) -> Flow:
    """Convert one HAR entry. ``position`` is its place in ``log.entries`` (names the flow);
    ``mitmproxy_style`` says the HAR was written by mitmproxy or edscan (see ``is_mitmproxy_style``).

    Raises HarEntryError for an entry without a request method and URL.
    """
    if not isinstance(entry, dict):
        raise HarEntryError("not an object")
    req = entry.get("request")
    if not isinstance(req, dict):
        raise HarEntryError("no request")
    method, url = req.get("method"), req.get("url")
    if not isinstance(method, str) or not method or not isinstance(url, str) or not url:
        raise HarEntryError("no request method or URL")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as e:
        raise HarEntryError(f"bad URL ({e})") from e
    scheme = parts.scheme.lower()
    if scheme in _WS_SCHEMES:
        # the Flow is the HTTP upgrade request, as mitmproxy records a WebSocket
        scheme = _WS_SCHEMES[scheme]
        url = scheme + url[len(parts.scheme) :]
    resp = entry.get("response")
    if not isinstance(resp, dict):
        resp = {}
    status_raw = resp.get("status")
    if isinstance(status_raw, str) and status_raw.strip().isdigit():
        status_raw = int(status_raw)  # some exporters write "200"
    status = status_raw if isinstance(status_raw, int) and not isinstance(status_raw, bool) else 0
    has_response = status > 0  # status 0: no response (failed, blocked or cancelled)
    request_headers = _headers(req.get("headers"))
    response_headers = _headers(resp.get("headers"))
    start, _ = parse_har_time(entry.get("startedDateTime"))
    total = _number(entry.get("time"))
    end = start + total / 1000.0 if start is not None and total is not None and total >= 0 else None
    error = resp.get("_error")
    reason = resp.get("statusText")
    extra = entry.get("_edscan")
    if not isinstance(extra, dict):
        extra = {}
    tls_raw = extra.get("tls")
    tls: dict[str, Any] = tls_raw if isinstance(tls_raw, dict) else {}
    # Browsers write text without a declared charset as UTF-8 (the text they decoded), and
    # record request bodies as the page handed them over (possibly compressed by the page);
    # mitmproxy and edscan write such text as latin-1 (any bytes survive) and decode bodies.
    text_default = "latin-1" if mitmproxy_style else "utf-8"
    request_body = _request_body(req, request_headers, text_default)
    if request_body is not None and mitmproxy_style:
        request_body = Body(content=request_body.content, size=request_body.size, decoded=True)
    response_body = (
        _response_body(resp.get("content"), response_headers, text_default)
        if has_response
        else None
    )
    response_end = end if has_response else None
    reason = (reason if isinstance(reason, str) else "") if has_response else None
    cut_off = extra.get("cut_off")
    if extra:  # written by edscan: what HAR has no field for, exactly as it was
        request_body = _apply_body_meta(request_body, extra.get("request_body"))
        response_body = _apply_body_meta(response_body, extra.get("response_body"))
        if "phase" in extra:
            phase = extra["phase"] if isinstance(extra["phase"], str) else None
        if "request_start" in extra:
            start = _number(extra["request_start"])
        if "response_end" in extra:
            response_end = _number(extra["response_end"])
        if "reason" in extra:
            reason = extra["reason"] if isinstance(extra["reason"], str) else None
    return Flow(
        index=index,
        id=str(extra.get("id") or f"har-{position if position >= 0 else index}"),
        method=valid_text(method),
        url=valid_text(url),
        scheme=scheme,
        http_version=_http_version(req.get("httpVersion")),
        request_start=start,
        response_end=response_end,
        client_address=_address(extra.get("client_address")),
        server_address=_address(extra.get("server_address"))
        or _server_address(entry, scheme, port),
        sni=extra.get("sni") if isinstance(extra.get("sni"), str) else None,
        tls_version=tls.get("version") if isinstance(tls.get("version"), str) else None,
        tls_intercepted=tls.get("intercepted")
        if isinstance(tls.get("intercepted"), bool)
        else None,
        request_headers=request_headers,
        request_body=request_body,
        status=status if has_response else None,
        reason=valid_text(reason) if reason is not None else None,
        response_headers=response_headers,
        response_body=response_body,
        error=valid_text(error) if isinstance(error, str) and error else None,
        websocket=_websocket(entry.get("_webSocketMessages")),
        phase=valid_text(phase) if phase is not None else None,
        cut_off=cut_off if cut_off in CUT_OFF_STAGES else None,
    )


def is_mitmproxy_style(log: dict[str, Any]) -> bool:
    """Whether mitmproxy (or edscan, which writes what mitmproxy's reader expects) wrote it."""
    creator = log.get("creator")
    name = creator.get("name") if isinstance(creator, dict) else None
    return isinstance(name, str) and name.strip().lower() in ("mitmproxy", "edscan")
