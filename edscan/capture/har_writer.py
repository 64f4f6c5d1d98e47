"""Flows into HAR 1.2, streamed: one entry at a time, so memory stays flat.

HAR stores bodies decoded, so compressed bodies (gzip, deflate, br, zstd) are decompressed here
(bounded, so a small compressed body cannot expand without limit); a body that will not decode is
written as it was, base64. Headers are written as they were, ``Content-Encoding`` included.

Text follows what mitmproxy's HAR reader expects, so that mitmproxy reads back the same bytes:
the declared charset, UTF-8 for JSON, and otherwise latin-1. Response bodies that would need the
latin-1 fallback (non-ASCII without a declared charset) are written base64 instead, which every
reader takes byte for byte; request bodies have no base64 form in HAR and are written as latin-1
text, which is what mitmproxy itself does.

Each entry carries an ``_edscan`` object with what HAR has no field for (flow id, exact
timestamps, addresses, SNI, TLS facts, phase, body caps), and phases become HAR pages.
"""

from __future__ import annotations

import base64
import json
import zlib
from datetime import UTC, datetime
from typing import IO, Any
from urllib.parse import parse_qsl, urlsplit

from edscan import __version__
from edscan.models import Body, Flow, Headers

# The largest body (after decompression) written to a HAR; larger ones stay compressed, base64.
MAX_DECODED_BODY = 64 << 20
_CHUNK = 1 << 12


class _TooLarge(Exception):
    pass


def _inflate(data: bytes, wbits: int, limit: int) -> bytes:
    d = zlib.decompressobj(wbits)
    out = d.decompress(data, limit + 1)
    if len(out) > limit:
        raise _TooLarge
    if not d.eof:
        raise ValueError("incomplete stream")
    return out


def _unbrotli(data: bytes, limit: int) -> bytes:
    import brotli

    d = brotli.Decompressor()
    out = bytearray()
    # brotli cannot cap its output, so feed it small pieces and stop once past the limit
    for i in range(0, len(data), _CHUNK):
        out += d.process(data[i : i + _CHUNK])
        if len(out) > limit:
            raise _TooLarge
    if not d.is_finished():
        raise ValueError("incomplete stream")
    return bytes(out)


def _unzstd(data: bytes, limit: int) -> bytes:
    import io

    import zstandard

    with zstandard.ZstdDecompressor().stream_reader(io.BytesIO(data)) as r:
        out = r.read(limit + 1)
    if len(out) > limit:
        raise _TooLarge
    return out


def decode_content(content: bytes, content_encoding: str, limit: int = MAX_DECODED_BODY) -> bytes:
    """``content`` with its Content-Encoding removed; raises ValueError when it will not decode."""
    codings = [c.strip().lower() for c in content_encoding.split(",") if c.strip()]
    out = content
    for coding in reversed(codings):  # the last coding listed was applied last
        try:
            if coding in ("gzip", "x-gzip"):
                out = _inflate(out, 16 + zlib.MAX_WBITS, limit)
            elif coding == "deflate":
                try:
                    out = _inflate(out, zlib.MAX_WBITS, limit)
                except zlib.error:  # servers send raw deflate as often as zlib
                    out = _inflate(out, -zlib.MAX_WBITS, limit)
            elif coding == "br":
                out = _unbrotli(out, limit)
            elif coding == "zstd":
                out = _unzstd(out, limit)
            elif coding not in ("identity", "none"):
                raise ValueError(f"unknown content-encoding {coding!r}")
        except _TooLarge:
            raise ValueError(f"larger than {limit} bytes once decompressed") from None
        except ValueError as e:
            raise ValueError(f"{coding}: {e}") from e
        except Exception as e:  # zlib.error, brotli.error, zstandard.ZstdError
            raise ValueError(f"{coding}: {e}") from e
    return out


def _header(headers: Headers, name: str) -> str:
    for k, v in headers:
        if k.lower() == name:
            return v
    return ""


def text_charset(content_type: str) -> str:
    """The charset a HAR reader of mitmproxy's kind uses for text bodies of this type."""
    for part in content_type.split(";")[1:]:
        key, _, value = part.partition("=")
        if key.strip().lower() == "charset" and value.strip():
            return value.strip().strip("\"'")
    return "utf-8" if "json" in content_type.lower() else "latin-1"


def _decoded(body: Body, headers: Headers) -> tuple[bytes, bool]:
    """The body's content with Content-Encoding removed, and whether that was done."""
    ce = _header(headers, "content-encoding")
    if body.decoded or not ce.strip() or body.truncated:
        return body.content, body.decoded
    try:
        return decode_content(body.content, ce), True
    except ValueError:
        return body.content, False  # written as it was; decoders fall back to the raw bytes


def _as_text(data: bytes, content_type: str) -> str | None:
    charset = text_charset(content_type)
    try:
        text = data.decode(charset)
        if text.encode(charset) != data:
            return None
        return text
    except (LookupError, UnicodeError):
        return None


def _body_meta(body: Body, content: bytes, decoded: bool) -> dict[str, Any]:
    return {
        "size": body.size if body.truncated or not decoded else len(content),
        "truncated": body.truncated,
        "decoded": decoded,
    }


def _cookies(headers: Headers) -> list[dict[str, str]]:
    out: list[dict[str, str]] = []
    for k, v in headers:
        if k.lower() == "cookie":
            for part in v.split(";"):
                name, eq, value = part.strip().partition("=")
                if name and eq:
                    out.append({"name": name, "value": value})
    return out


def _set_cookies(headers: Headers) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for k, v in headers:
        if k.lower() != "set-cookie":
            continue
        first, *attrs = v.split(";")
        name, eq, value = first.strip().partition("=")
        if not (name and eq):
            continue
        cookie: dict[str, Any] = {"name": name, "value": value}
        for attr in attrs:
            key, _, val = attr.strip().partition("=")
            low = key.lower()
            if low in ("path", "domain", "expires", "samesite"):
                cookie[{"samesite": "sameSite"}.get(low, low)] = val
            elif low == "httponly":
                cookie["httpOnly"] = True
            elif low == "secure":
                cookie["secure"] = True
        out.append(cookie)
    return out


def _pairs(headers: Headers) -> list[dict[str, str]]:
    return [{"name": k, "value": v} for k, v in headers]


def _iso(ts: float | None) -> str:
    return datetime.fromtimestamp(ts or 0.0, UTC).isoformat()


def _post_data(flow: Flow) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    body = flow.request_body
    if body is None:
        return None, None
    content, decoded = _decoded(body, flow.request_headers)
    ctype = _header(flow.request_headers, "content-type")
    text = _as_text(content, ctype)
    post: dict[str, Any] = {"mimeType": ctype}
    if text is None:
        # no base64 for request bodies in HAR: latin-1 keeps every byte, as mitmproxy does
        text = content.decode("latin-1")
        post["_encoding"] = "latin-1"
    post["text"] = text
    if "x-www-form-urlencoded" in ctype.lower():
        post["params"] = [{"name": k, "value": v} for k, v in parse_qsl(text, True)]
    return post, _body_meta(body, content, decoded)


def _content(flow: Flow) -> tuple[dict[str, Any], dict[str, Any] | None]:
    ctype = _header(flow.response_headers, "content-type")
    body = flow.response_body
    if body is None:
        return {"size": 0, "mimeType": ctype}, None
    content, decoded = _decoded(body, flow.response_headers)
    out: dict[str, Any] = {"size": len(content), "mimeType": ctype}
    text = _as_text(content, ctype)
    if text is not None and (text.isascii() or text_charset(ctype) != "latin-1"):
        out["text"] = text
    else:
        out["text"] = base64.b64encode(content).decode("ascii")
        out["encoding"] = "base64"
    return out, _body_meta(body, content, decoded)


def _websocket(flow: Flow) -> list[dict[str, Any]]:
    out = []
    for m in flow.websocket:
        if m.is_text:
            data = m.content.decode("utf-8", "surrogateescape")
        else:
            data = base64.b64encode(m.content).decode("ascii")
        out.append(
            {
                "type": "send" if m.from_client else "receive",
                "time": m.timestamp,
                "opcode": 1 if m.is_text else 2,
                "data": data,
            }
        )
    return out


def har_entry(flow: Flow, *, pageref: str | None = None) -> dict[str, Any]:
    """One HAR 1.2 entry for ``flow``."""
    elapsed = 0.0
    if flow.request_start is not None and flow.response_end is not None:
        elapsed = max(0.0, (flow.response_end - flow.request_start) * 1000.0)
    post, request_meta = _post_data(flow)
    request: dict[str, Any] = {
        "method": flow.method,
        "url": flow.url,
        "httpVersion": flow.http_version,
        "cookies": _cookies(flow.request_headers),
        "headers": _pairs(flow.request_headers),
        "queryString": [
            {"name": k, "value": v} for k, v in parse_qsl(urlsplit(flow.url).query, True)
        ],
        "headersSize": -1,
        "bodySize": flow.request_body.size if flow.request_body else 0,
    }
    if post is not None:
        request["postData"] = post
    content, response_meta = _content(flow)
    has_response = flow.status is not None
    response: dict[str, Any] = {
        "status": flow.status if has_response else 0,
        "statusText": flow.reason or "",
        "httpVersion": flow.http_version if has_response else "",
        "cookies": _set_cookies(flow.response_headers),
        "headers": _pairs(flow.response_headers),
        "content": content,
        "redirectURL": _header(flow.response_headers, "location"),
        "headersSize": -1,
        "bodySize": -1 if flow.response_body is None else flow.response_body.size,
    }
    if flow.error:
        response["_error"] = flow.error
    entry: dict[str, Any] = {
        "startedDateTime": _iso(flow.request_start),
        "time": elapsed,
        "request": request,
        "response": response,
        "cache": {},
        "timings": {"send": 0, "wait": elapsed, "receive": 0},
    }
    if pageref is not None:
        entry["pageref"] = pageref
    if flow.server_address:
        entry["serverIPAddress"] = flow.server_address[0]
    if flow.websocket:
        entry["_resourceType"] = "websocket"
        entry["_webSocketMessages"] = _websocket(flow)
    entry["_edscan"] = {
        "id": flow.id,
        "request_start": flow.request_start,
        "response_end": flow.response_end,
        "client_address": list(flow.client_address) if flow.client_address else None,
        "server_address": list(flow.server_address) if flow.server_address else None,
        "sni": flow.sni,
        "tls": {"version": flow.tls_version, "intercepted": flow.tls_intercepted},
        "phase": flow.phase,
        "reason": flow.reason,
        "request_body": request_meta,
        "response_body": response_meta,
    }
    if flow.cut_off:  # only when set, as in the capture format
        entry["_edscan"]["cut_off"] = flow.cut_off
    return entry


def _dumps(obj: Any) -> str:
    text = json.dumps(obj, ensure_ascii=False)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates (undecodable bytes) only survive escaped
        text = json.dumps(obj)
    return text


class HarWriter:
    """Writes a HAR 1.2 file one entry at a time; ``close()`` finishes the document.

    Phases become pages (``pageref``), listed after the entries: JSON objects have no order,
    and so the pages need not be known before the first entry is written.
    """

    def __init__(self, fo: IO[str], *, comment: str = "", tls_check: bool = False):
        self._fo = fo
        self._pages: dict[str, tuple[str, float | None]] = {}  # phase -> (page id, start)
        self.flows = 0
        creator: dict[str, Any] = {"name": "edscan", "version": __version__, "comment": comment}
        if tls_check:  # a --tls-check capture: the rule EDS031 applies to the HAR as well
            creator["_edscan"] = {"tls_check": True}
        head = json.dumps({"version": "1.2", "creator": creator}, ensure_ascii=False)
        self._fo.write('{"log": ' + head[:-1] + ', "entries": [\n')

    def write(self, flow: Flow) -> None:
        pageref = None
        if flow.phase is not None:
            if flow.phase not in self._pages:
                self._pages[flow.phase] = (f"phase_{len(self._pages) + 1}", flow.request_start)
            pageref = self._pages[flow.phase][0]
        if self.flows:
            self._fo.write(",\n")
        self._fo.write(_dumps(har_entry(flow, pageref=pageref)))
        self.flows += 1

    def close(self) -> None:
        pages = [
            {"startedDateTime": _iso(start), "id": page_id, "title": phase, "pageTimings": {}}
            for phase, (page_id, start) in self._pages.items()
        ]
        self._fo.write('\n], "pages": ' + _dumps(pages) + "}}\n")
