"""Every value a flow carries, with where it was and how it was encoded: ``decode_flow(flow)``.

``Decoded.fields`` holds what the device sent (URL, request headers and cookies, request body,
client-to-server WebSocket messages); ``Decoded.inbound`` what it received (response headers,
Set-Cookie, response body, server-to-client messages), used only to learn ids the app assigns;
``Decoded.limits`` the limits hit while decoding (empty normally). Nothing is ever raised.

Locations
---------
A location is a *base* naming where in the flow a value sits, followed by one ``>``-separated
step for each value that was itself decoded into a structure::

    path[1]                       2nd non-empty segment of the URL path, 0-based, percent-decoded
                                  (``/students/123`` -> ``path[0]`` = students, ``path[1]`` = 123)
    path[0];u1                    a matrix parameter of a segment (``/activity;u1=x``)
    query:uid                     a query parameter, by its name as sent (``query:ud[em]``)
    query                         a query token without ``=`` (``?bob@example.com``)
    fragment  /  fragment:token   the URL fragment; its parameters when it has ``name=value``
    header:x-user                 a request header, name lower-cased
    cookie:_ga                    one cookie of the Cookie header
    body                          the request body as text (when it is not a structure)
    body:$.events[0].user.email   a path into the parsed body (JSON, form, msgpack, protobuf,
                                  NDJSON and GA4 lines as a list ``$[2]``, multipart by part name)
    body:$.photo;filename         the file name of a multipart part
    ws[3]  /  ws[3]:$.x           WebSocket message 3 (index among all messages of the flow)
    response-header:x-user-id     inbound only: a response header
    set-cookie:sid                inbound only: a cookie the server set
    response-body  /  response-body:$.user.id   inbound only: the response body

Paths are JSONPath-ish: ``$`` the root, ``.key`` (or ``['odd key']`` when the key is not
made of letters, digits, ``_$@-``), ``[i]`` a list index, ``.7`` a protobuf field number. A
step after ``>`` is a path into a decoded value (``query:data>$.properties.email``: the ``data``
parameter held base64 JSON) or, for a URL inside a value, the same URL bases
(``header:referer>query:email``, ``query:dl>fragment``). The path segments of a URL inside a
value are not fields of their own (the URL is, whole); what decodes out of one is
(``query:u>path[4]>$.key``). JWTs decode to ``>$.header.alg`` / ``>$.payload.email``; Basic
credentials to ``>$.username`` / ``>$.password``; GraphQL literal arguments to
``body:$.query>$.email``. A ``>`` inside a name is written ``%3E``.

Where one value is decoded without a new structure (base64 or hex text, percent-decoding,
decompression), the decoded value keeps the location and only the encodings grow.

``Field.key`` is the innermost key name (``email``; ``em`` for ``ud[em]``; the cookie, header or
parameter name), or "" where there is none (path segments, text bodies).

``Field.encodings`` is the decoding chain from the bytes on the wire to the value, outermost
first: ``("gzip", "json", "base64", "json")``. Names: gzip, deflate, zlib, br, zstd (compression,
by header or magic number); json, ndjson, form, lines (newline-batched form records), multipart,
msgpack, protobuf, graphql, jwt (structures); base64, base64url, hex, url (percent-decoding
beyond the container's own), basic (an Authorization: Basic credential), strings (printable runs
of an undecodable binary body). The containers of the location itself (query string, cookie,
header, URL inside a value) add nothing. Every value is emitted as found *and* decoded: a base64
parameter yields its raw string and the fields inside it.

Limits
------
Up to 3 layers of values inside values (1 for inbound data); 16 MiB decompressed per body and
no more than 100:1 beyond 1 MiB; 64 MiB of decompression per flow; nesting 64 deep; 20,000
outbound and 5,000 inbound fields per flow; 64 Ki characters per value (1 Mi for a text body);
bodies of many tiny objects (JSON over 200,000 elements, 200,000 form pairs or lines, 10,000
multipart parts, MessagePack over 1 MiB, protobuf over 100,000 fields); 10,000 WebSocket
messages. Each limit hit adds one message to ``Decoded.limits`` and decoding goes on with the
rest of the flow (``edscan.decode.context`` holds the numbers).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import Protocol

from edscan.decode.body import decode_body
from edscan.decode.context import MAX_FLOW_CHARS, MAX_WS_MESSAGES, Ctx, FieldCap, Row
from edscan.decode.sniff import b64decode, name_part
from edscan.decode.walk import decode_plain_cached, emit_str, emit_url
from edscan.models import Field, Flow

__all__ = ["Decoded", "Row", "decode_flow", "inbound_rows_of", "rows_of"]


class Decoded:
    """What one flow carries: ``fields`` (outbound), ``inbound`` and ``limits`` (see above).

    Decoding produces plain rows, ``(location, key, value, encodings)`` tuples in the order of
    Field's attributes (``rows``, ``inbound_rows``): the detectors and ``signals`` read those,
    and ``fields`` / ``inbound`` build the Field objects only when first asked for. Read-only:
    changing a list it hands out does not change the other view.
    """

    __slots__ = ("_fields", "_inbound", "inbound_rows", "limits", "rows")

    def __init__(
        self,
        *,
        fields: Sequence[Field] = (),
        inbound: Sequence[Field] = (),
        limits: Sequence[str] = (),
    ) -> None:
        self._fields: list[Field] | None = list(fields)
        self._inbound: list[Field] | None = list(inbound)
        self.rows: list[Row] = [_row(f) for f in self._fields]
        self.inbound_rows: list[Row] = [_row(f) for f in self._inbound]
        self.limits: list[str] = list(limits)

    @classmethod
    def of_rows(cls, rows: list[Row], inbound_rows: list[Row], limits: list[str]) -> Decoded:
        d = cls.__new__(cls)
        d.rows = rows
        d.inbound_rows = inbound_rows
        d.limits = limits
        d._fields = d._inbound = None
        return d

    @property
    def fields(self) -> list[Field]:
        """Outbound fields: URL, request headers and cookies, request body, client messages."""
        if self._fields is None:
            self._fields = [_field(*r) for r in self.rows]
        return self._fields

    @property
    def inbound(self) -> list[Field]:
        """Response headers, Set-Cookie, response body, server messages (derived ids only)."""
        if self._inbound is None:
            self._inbound = [_field(*r) for r in self.inbound_rows]
        return self._inbound

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Decoded):
            return NotImplemented
        return (self.rows, self.inbound_rows, self.limits) == (
            other.rows,
            other.inbound_rows,
            other.limits,
        )

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Decoded(fields={self.fields!r}, inbound={self.inbound!r}, limits={self.limits!r})"


def _row(f: Field) -> Row:
    return (f.location, f.key, f.value, f.encodings)


# Field is a frozen dataclass, whose __init__ sets each slot through object.__setattr__; the
# slot descriptors set them directly at less than half the cost (used while Field has exactly
# these attributes; tests/test_decode.py checks that both ways build equal fields).
_FIELD_FAST = tuple(f.name for f in dataclasses.fields(Field)) == (
    "location",
    "key",
    "value",
    "encodings",
)
_set_location = Field.__dict__["location"].__set__
_set_key = Field.__dict__["key"].__set__
_set_value = Field.__dict__["value"].__set__
_set_encodings = Field.__dict__["encodings"].__set__


def _field(location: str, key: str, value: str, encodings: tuple[str, ...]) -> Field:
    if not _FIELD_FAST:
        return Field(location=location, key=key, value=value, encodings=encodings)
    f: Field = object.__new__(Field)
    _set_location(f, location)
    _set_key(f, key)
    _set_value(f, value)
    _set_encodings(f, encodings)
    return f


class HasFields(Protocol):
    """Anything with outbound ``fields`` (``Decoded``, or a stand-in built by a test)."""

    @property
    def fields(self) -> Sequence[Field]: ...


class HasInbound(Protocol):
    @property
    def inbound(self) -> Sequence[Field]: ...


def rows_of(decoded: HasFields) -> Sequence[Row]:
    """The outbound rows of ``decoded``: its ``rows`` when it is a ``Decoded``, else built from
    its ``fields``."""
    rows: Sequence[Row] | None = getattr(decoded, "rows", None)
    if rows is None:
        rows = [_row(f) for f in decoded.fields]
    return rows


def inbound_rows_of(decoded: HasInbound) -> Sequence[Row]:
    """The inbound rows of ``decoded`` (as ``rows_of``)."""
    rows: Sequence[Row] | None = getattr(decoded, "inbound_rows", None)
    if rows is None:
        rows = [_row(f) for f in decoded.inbound]
    return rows


# Headers that carry protocol mechanics, never data about a person.
_SKIP_REQUEST_HEADERS = frozenset(
    {
        "host",
        "content-length",
        "content-type",
        "content-encoding",
        "connection",
        "keep-alive",
        "transfer-encoding",
        "te",
        "trailer",
        "upgrade",
        "accept",
        "accept-encoding",
        "cache-control",
        "pragma",
        "priority",
        "upgrade-insecure-requests",
        "sec-fetch-dest",
        "sec-fetch-mode",
        "sec-fetch-site",
        "sec-fetch-user",
        "sec-websocket-key",
        "sec-websocket-version",
        "sec-websocket-extensions",
        "if-modified-since",
        "range",
    }
)
_SKIP_RESPONSE_HEADERS = _SKIP_REQUEST_HEADERS | {
    "date",
    "expires",
    "last-modified",
    "age",
    "vary",
    "server",
    "content-security-policy",
    "content-security-policy-report-only",
    "strict-transport-security",
    "access-control-allow-headers",
    "access-control-allow-methods",
    "access-control-expose-headers",
    "alt-svc",
    "accept-ranges",
    "via",
    "x-content-type-options",
    "x-frame-options",
    "x-xss-protection",
    "referrer-policy",
    "permissions-policy",
    "report-to",
    "nel",
    "set-cookie",  # decoded on its own
}
_HEADER_LOC: dict[str, str] = {}


def decode_flow(flow: Flow, *, response_body: bool = True) -> Decoded:
    """Every outbound and inbound field of ``flow``; never raises.

    Without ``response_body`` the response's body is not decoded: only a persona's detector
    learns from it (the ids a server assigns the student), and it is often most of a flow."""
    limits: list[str] = []
    seen: set[str] = set()
    out = Ctx(limits=limits, seen=seen)
    inbound = Ctx(limits=limits, seen=seen, inbound=True)

    # the URL and the request headers, guarded as in _guarded, inline: they are in every flow
    try:
        emit_url(out, flow.url, "", (), 0)
    except FieldCap:
        pass  # the cap was recorded where it was hit
    except Exception as e:  # hostile input must never stop a scan
        out.limit(f"URL: decoding stopped early ({type(e).__name__})")
    body_headers: list[str | None] = [None, None]  # Content-Type, Content-Encoding
    try:
        _request_headers(out, flow, body_headers)
    except FieldCap:
        pass
    except Exception as e:
        out.limit(f"request headers: decoding stopped early ({type(e).__name__})")
    body = flow.request_body
    if body is not None and body.content:
        _guarded(out, "request body", _request_body, flow, body_headers)
    for i, message in enumerate(flow.websocket):
        if i >= MAX_WS_MESSAGES:
            out.limit(f"WebSocket message cap ({MAX_WS_MESSAGES} per flow) hit; later skipped")
            break
        target = out if message.from_client else inbound
        _guarded(target, f"WebSocket message {i}", _ws_message, flow, i)
    _guarded(inbound, "response headers", _response_headers, flow)
    body = flow.response_body
    if response_body and body is not None and body.content:
        _guarded(inbound, "response body", _response_body, flow)
    return Decoded.of_rows(out.out, inbound.out, limits)


def _guarded(ctx: Ctx, part: str, fn: Callable[..., None], flow: Flow, *args: object) -> None:
    try:
        fn(ctx, flow, *args)
    except FieldCap:
        pass  # the cap was recorded where it was hit
    except Exception as e:  # hostile input must never stop a scan
        ctx.limit(f"{part}: decoding stopped early ({type(e).__name__})")


def _header_loc(prefix: str, name: str) -> str:
    key = prefix + name
    loc = _HEADER_LOC.get(key)
    if loc is None:
        loc = prefix + name_part(name)
        if len(_HEADER_LOC) < 4096:
            _HEADER_LOC[key] = loc
    return loc


_SKIP, _PLAIN_HEADER, _COOKIE, _AUTH, _CTYPE, _CENC = range(6)
# header name as sent -> (lower-cased name, location, kind); names repeat on every flow
_REQUEST_HEADER: dict[str, tuple[str, str, int]] = {}


def _request_header_kind(name: str) -> tuple[str, str, int]:
    info = _REQUEST_HEADER.get(name)
    if info is None:
        lname = name.lower()
        if lname == "content-type":
            kind = _CTYPE
        elif lname == "content-encoding":
            kind = _CENC
        elif lname in _SKIP_REQUEST_HEADERS or lname.startswith(":"):
            kind = _SKIP
        elif lname == "cookie":
            kind = _COOKIE
        elif lname in ("authorization", "proxy-authorization"):
            kind = _AUTH
        else:
            kind = _PLAIN_HEADER
        info = (lname, "header:" + name_part(lname), kind)
        if len(_REQUEST_HEADER) < 4096:
            _REQUEST_HEADER[name] = info
    return info


# The fields of a request header, by (location, value): a session sends the same user agent,
# referrer, cookies and token on every call. Remembered the second time it is seen (the rows
# themselves, shared by the flows that send the header again, and the characters they count
# against the flow's text cap) when decoding it touched no decompression budget and hit no
# limit; reused while the flow's field and text caps have room for them, so the result is the
# same as decoding anew. Two generations, as for decoders.walk.PLAIN; bounded, so memory stays
# flat; a header seen once is kept only as a hash (one-off tokens and cookies).
_HEADER_ROWS: dict[tuple[str, str], tuple[tuple[Row, ...], int]] = {}
_HEADER_ROWS_OLD: dict[tuple[str, str], tuple[tuple[Row, ...], int]] = {}
_HEADER_CACHE_MAX = 2048
_HEADER_SEEN: set[int] = set()  # hashes of the headers seen once
_HEADER_CACHE_MAX_LEN = 1024


def _request_headers(ctx: Ctx, flow: Flow, body_headers: list[str | None]) -> None:
    out = ctx.out
    for name, value in flow.request_headers:
        lname, loc, kind = _REQUEST_HEADER.get(name) or _request_header_kind(name)
        if not value or kind == _SKIP:
            continue
        if kind <= _AUTH:  # _PLAIN_HEADER, _COOKIE, _AUTH: fields
            key = (loc, value)
            known = _HEADER_ROWS.get(key) or _HEADER_ROWS_OLD.get(key)
            if known is not None:
                rows, chars = known
                if len(out) + len(rows) <= ctx.max_fields and ctx.chars + chars <= MAX_FLOW_CHARS:
                    out.extend(rows)
                    ctx.chars += chars
                    continue
            before, hits, chars_before, budget = len(out), ctx.hits, ctx.chars, ctx.budget
            if kind == _PLAIN_HEADER:
                emit_str(ctx, value, loc, lname, (), 0)
            elif kind == _COOKIE:
                _cookies(ctx, value)
            else:
                _authorization(ctx, lname, value)
            if ctx.hits == hits and ctx.budget == budget and len(value) <= _HEADER_CACHE_MAX_LEN:
                h = hash(key)
                if h not in _HEADER_SEEN:  # kept the second time it is seen (one-off tokens)
                    if len(_HEADER_SEEN) >= 4 * _HEADER_CACHE_MAX:
                        _HEADER_SEEN.clear()
                    _HEADER_SEEN.add(h)
                    continue
                if len(_HEADER_ROWS) >= _HEADER_CACHE_MAX:
                    _HEADER_ROWS_OLD.clear()
                    _HEADER_ROWS_OLD.update(_HEADER_ROWS)
                    _HEADER_ROWS.clear()
                _HEADER_ROWS[key] = (tuple(out[before:]), ctx.chars - chars_before)
        elif kind == _CTYPE:
            if body_headers[0] is None:
                body_headers[0] = value
        elif body_headers[1] is None:  # _CENC
            body_headers[1] = value


def _cookies(ctx: Ctx, header: str) -> None:
    for part in ctx.split(header, ";"):
        name, eq, value = part.partition("=")
        name = name.strip()
        value = value.strip()
        if len(value) >= 2 and value[0] == '"' and value[-1] == '"':
            value = value[1:-1]
        if eq and value:
            emit_str(ctx, value, _header_loc("cookie:", name), name, (), 0)


def _authorization(ctx: Ctx, lname: str, value: str) -> None:
    loc = "header:" + lname
    ctx.emit(loc, lname, value, ())
    scheme, _, credentials = value.strip().partition(" ")
    credentials = credentials.strip()
    if not credentials:
        credentials, scheme = scheme, ""
    if scheme.lower() == "basic":
        decoded = b64decode(credentials)
        if decoded is not None:
            text = decoded[0].decode("utf-8", "replace")
            enc = (decoded[1],)
            ctx.emit(loc, lname, text, enc)
            username, sep, password = text.partition(":")
            if sep:
                emit_str(ctx, username, loc + ">$.username", "username", (*enc, "basic"), 1)
                emit_str(ctx, password, loc + ">$.password", "password", (*enc, "basic"), 1)
        return
    if len(credentials) >= 8:  # a session's token repeats on every call: remembered if plain
        decode_plain_cached(ctx, credentials, loc, lname, (), 1)


def _request_body(ctx: Ctx, flow: Flow, body_headers: list[str | None]) -> None:
    body = flow.request_body
    assert body is not None
    decode_body(
        ctx,
        _as_bytes(body.content),
        ctype=body_headers[0],
        cenc=body_headers[1],
        loc="body",
        tree="body:$",
        truncated=body.truncated,
    )


def _ws_message(ctx: Ctx, flow: Flow, i: int) -> None:
    message = flow.websocket[i]
    data = _as_bytes(message.content)
    if message.is_text and data[:1].isdigit():
        # Socket.IO / Engine.IO frames: a packet type number before the JSON ("42[...]")
        stripped = data.lstrip(b"0123456789")
        if stripped[:1] in (b"[", b"{"):
            data = stripped
    decode_body(ctx, data, ctype=None, cenc=None, loc=f"ws[{i}]", tree=f"ws[{i}]:$")


def _as_bytes(content: bytes | str) -> bytes:
    """Message content as bytes (old mitmproxy dumps give text WebSocket messages as str)."""
    if isinstance(content, str):
        return content.encode("utf-8", "surrogatepass")
    return content


def _response_headers(ctx: Ctx, flow: Flow) -> None:
    for name, value in flow.response_headers:
        lname = name.lower()
        if not value or lname.startswith(":"):
            continue
        if lname == "set-cookie":
            cookie = value.split(";", 1)[0]
            cname, eq, cvalue = cookie.partition("=")
            cname, cvalue = cname.strip(), cvalue.strip().strip('"')
            if eq and cvalue:
                emit_str(ctx, cvalue, _header_loc("set-cookie:", cname), cname, (), 0)
        elif lname not in _SKIP_RESPONSE_HEADERS:
            emit_str(ctx, value, _header_loc("response-header:", lname), lname, (), 0)


def _response_body(ctx: Ctx, flow: Flow) -> None:
    body = flow.response_body
    assert body is not None
    decode_body(
        ctx,
        _as_bytes(body.content),
        ctype=flow.response_header("content-type"),
        cenc=flow.response_header("content-encoding"),
        loc="response-body",
        tree="response-body:$",
        truncated=body.truncated,
    )
