"""mitmproxy flows into edscan Flows: live (the recorder) and from ``.mitm`` dumps alike."""

from __future__ import annotations

from typing import Any

from edscan.models import Body, Flow, Headers, WebSocketMessage


def _text(b: bytes) -> str:
    return b.decode("utf-8", "replace")


def _headers(headers: Any) -> Headers:
    # .fields keeps order and duplicates, as sent
    return tuple((_text(k), _text(v)) for k, v in headers.fields)


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
        sni=server.sni or client.sni,
        tls_version=(server.tls_version or client.tls_version) if https else None,
        tls_intercepted=bool(client.tls_established) if https else False,
        scheme=req.scheme,
        method=req.method,
        url=req.url,
        http_version=req.http_version,
        request_headers=_headers(req.headers),
        request_body=_body(req.raw_content, max_body),
        status=resp.status_code if resp is not None else None,
        reason=resp.reason if resp is not None else None,
        response_headers=_headers(resp.headers) if resp is not None else (),
        response_body=_body(resp.raw_content, max_body) if resp is not None else None,
        error=f.error.msg if f.error is not None else None,
        websocket=_websocket(f),
        phase=phase,
    )
