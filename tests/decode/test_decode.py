"""decode_flow: every location, every encoding, chains of them, negatives and hostile input."""

from __future__ import annotations

import base64
import gzip
import json
import os
import random
import struct
import time
import tracemalloc
import zlib
from collections.abc import Callable
from dataclasses import dataclass

import brotli
import msgpack
import pytest
import zstandard
from conftest import shared_path

from edscan.capture.source import open_source
from edscan.decode.context import MAX_FIELDS
from edscan.decode.flow import Decoded, decode_flow
from edscan.models import Body, Field, Flow, WebSocketMessage

# --------------------------------------------------------------------------- helpers


def make_flow(
    url: str = "https://collector.example/p",
    *,
    headers: tuple[tuple[str, str], ...] = (),
    body: bytes | None = None,
    ctype: str | None = None,
    cenc: str | None = None,
    truncated: bool = False,
    response_headers: tuple[tuple[str, str], ...] = (),
    response: bytes | None = None,
    websocket: tuple[WebSocketMessage, ...] = (),
) -> Flow:
    h = list(headers)
    if ctype:
        h.append(("Content-Type", ctype))
    if cenc:
        h.append(("Content-Encoding", cenc))
    return Flow(
        index=0,
        id="t",
        method="POST" if body is not None else "GET",
        url=url,
        request_headers=tuple(h),
        request_body=Body(content=body, size=len(body), truncated=truncated)
        if body is not None
        else None,
        response_headers=response_headers,
        response_body=Body(content=response, size=len(response)) if response is not None else None,
        websocket=websocket,
    )


def b64(data: bytes | str, *, url: bool = False, pad: bool = True) -> str:
    raw = data.encode() if isinstance(data, str) else data
    out = (base64.urlsafe_b64encode(raw) if url else base64.b64encode(raw)).decode()
    return out if pad else out.rstrip("=")


def jwt(payload: dict[str, object]) -> str:
    header = b64(json.dumps({"alg": "HS256", "typ": "JWT"}), url=True, pad=False)
    return f"{header}.{b64(json.dumps(payload), url=True, pad=False)}.c2lnbmF0dXJl"


def pb_varint(n: int) -> bytes:
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def pb_field(number: int, value: bytes | str | int) -> bytes:
    if isinstance(value, int):
        return pb_varint(number << 3) + pb_varint(value)
    raw = value.encode() if isinstance(value, str) else value
    return pb_varint(number << 3 | 2) + pb_varint(len(raw)) + raw


def find(d: Decoded | list[Field], location: str, value: str | None = None) -> list[Field]:
    fields = d.fields if isinstance(d, Decoded) else d
    return [f for f in fields if f.location == location and (value is None or f.value == value)]


def one(d: Decoded | list[Field], location: str, value: str | None = None) -> Field:
    found = find(d, location, value)
    assert found, f"no field {location!r} = {value!r}; have:\n" + "\n".join(
        f"  {f.location} = {f.value[:60]!r} {f.encodings}"
        for f in (d.fields if isinstance(d, Decoded) else d)
    )
    return found[0]


# --------------------------------------------------------------------------- table of cases

EMAIL = "ada.lovelace@student.example.edu"


@dataclass(frozen=True)
class Case:
    name: str
    flow: Callable[[], Flow]
    expect: tuple[tuple[str, str, tuple[str, ...]], ...]  # location, value, encodings
    key: str | None = None  # the key of the first expected field, when it matters


def _sentry_envelope() -> bytes:
    header = {
        "event_id": "9ec79c33ec9942ab8353589fcb2e04dc",
        "dsn": "https://k@o1.ingest.sentry.io/1",
    }
    event = {"user": {"email": EMAIL, "id": "s-1"}, "request": {"url": "https://app.example/?q=1"}}
    attachment = b"line one\nline two with " + EMAIL.encode()
    return b"\n".join(
        [
            json.dumps(header).encode(),
            json.dumps({"type": "event"}).encode(),
            json.dumps(event).encode(),
            json.dumps({"type": "attachment", "length": len(attachment)}).encode(),
            attachment,
            b"",
        ]
    )


def _multipart() -> tuple[bytes, str]:
    boundary = "----edscanBoundary7MA4YWxk"
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="email"\r\n\r\n{EMAIL}\r\n',
        f'--{boundary}\r\nContent-Disposition: form-data; name="meta"\r\n'
        f'Content-Type: application/json\r\n\r\n{{"student": {{"id": "s-42"}}}}\r\n',
        f'--{boundary}\r\nContent-Disposition: form-data; name="photo"; filename="ada_lovelace.jpg"'
        f"\r\nContent-Type: image/jpeg\r\n\r\n\xff\xd8\xff\xe0binary\r\n",
        f"--{boundary}--\r\n",
    ]
    return "".join(parts).encode("latin-1"), f"multipart/form-data; boundary={boundary}"


MULTIPART_BODY, MULTIPART_TYPE = _multipart()

FIREBASE_PB = pb_field(
    1,
    pb_field(1, 1)
    + pb_field(2, pb_field(1, pb_field(1, "_id") + pb_field(2, EMAIL)) + pb_field(2, "login"))
    + pb_field(8, "android")
    + pb_field(14, "com.example.classroom"),
)

CASES = [
    # ---------------------------------------------------------------- URL
    Case(
        "path segments",
        lambda: make_flow("https://api.example/students/12345/grades/"),
        (("path[0]", "students", ()), ("path[1]", "12345", ()), ("path[2]", "grades", ())),
    ),
    Case(
        "percent-encoded path segment",
        lambda: make_flow("https://api.example/u/ada%40example.org"),
        (("path[1]", "ada@example.org", ()),),
    ),
    Case(
        "matrix parameters",
        lambda: make_flow("https://ad.doubleclick.example/activity;src=123;u1=grade5;ord=1?"),
        (("path[0];u1", "grade5", ()), ("path[0]", "activity", ())),
    ),
    Case(
        "query parameter",
        lambda: make_flow(f"https://x.example/c?uid=s-1&email={EMAIL.replace('@', '%40')}"),
        (("query:uid", "s-1", ()), ("query:email", EMAIL, ())),
        key="uid",
    ),
    Case(
        "bracketed query name keeps innermost key",
        lambda: make_flow("https://www.facebook.example/tr?ud[em]=abc123def456"),
        (("query:ud[em]", "abc123def456", ()),),
        key="em",
    ),
    Case(
        "plus is a space in a query",
        lambda: make_flow("https://x.example/c?dt=Grade+5+Math"),
        (("query:dt", "Grade 5 Math", ()),),
    ),
    Case(
        "bare query token",
        lambda: make_flow(f"https://x.example/c?{EMAIL}"),
        (("query", EMAIL, ()),),
    ),
    Case(
        "fragment with parameters (OAuth implicit flow)",
        lambda: make_flow(
            "https://app.example/cb#access_token=tok123456&id_token=" + jwt({"email": EMAIL})
        ),
        (
            ("fragment:access_token", "tok123456", ()),
            ("fragment:id_token>$.payload.email", EMAIL, ("jwt",)),
        ),
    ),
    Case(
        "fragment route",
        lambda: make_flow("https://app.example/#/students/ada"),
        (("fragment", "/students/ada", ()),),
    ),
    Case(
        "URL inside a query value (GA4 dl)",
        lambda: make_flow(
            "https://www.google-analytics.com/g/collect?v=2&dl="
            + "https%3A%2F%2Fschool.example%2Fstudents%2F987%3Femail%3Dada%2540x.org"
        ),
        (("query:dl>query:email", "ada@x.org", ()),),
    ),
    Case(
        "encoded path segment of a URL inside a value (LaunchDarkly context)",
        lambda: make_flow(
            "https://x.example/c?u=%2Fsdk%2Fevalx%2Fenv%2Fcontexts%2F"
            + b64(json.dumps({"kind": "user", "key": EMAIL}), url=True, pad=False)
        ),
        (("query:u>path[4]>$.key", EMAIL, ("base64*", "json")),),
    ),
    Case(
        "double percent-encoding",
        lambda: make_flow("https://x.example/c?e=ada%2540x.org"),
        (("query:e", "ada%40x.org", ()), ("query:e", "ada@x.org", ("url",))),
    ),
    # ---------------------------------------------------------------- headers and cookies
    Case(
        "header",
        lambda: make_flow(headers=(("X-User", "ada-9"),)),
        (("header:x-user", "ada-9", ()),),
        key="x-user",
    ),
    Case(
        "Referer header recurses into the URL",
        lambda: make_flow(headers=(("Referer", "https://app.example/s/1?name=Ada%20L"),)),
        (("header:referer>query:name", "Ada L", ()),),
    ),
    Case(
        "Bearer JWT",
        lambda: make_flow(headers=(("Authorization", "Bearer " + jwt({"email": EMAIL})),)),
        (
            ("header:authorization>$.payload.email", EMAIL, ("jwt",)),
            ("header:authorization>$.header.alg", "HS256", ("jwt",)),
        ),
    ),
    Case(
        "Basic credentials",
        lambda: make_flow(headers=(("Authorization", "Basic " + b64("ada:s3cret!")),)),
        (
            ("header:authorization", "ada:s3cret!", ("base64",)),
            ("header:authorization>$.password", "s3cret!", ("base64", "basic")),
        ),
    ),
    Case(
        "cookies, one field each",
        lambda: make_flow(headers=(("Cookie", "_ga=GA1.1.123.456; _fbp=fb.1.1700000000000.42"),)),
        (("cookie:_ga", "GA1.1.123.456", ()), ("cookie:_fbp", "fb.1.1700000000000.42", ())),
        key="_ga",
    ),
    Case(
        "JWT in a cookie",
        lambda: make_flow(headers=(("Cookie", "session=" + jwt({"sub": "s-77", "email": EMAIL})),)),
        (("cookie:session>$.payload.email", EMAIL, ("jwt",)),),
    ),
    Case(
        "percent-encoded JSON cookie (Segment ajs_user_traits)",
        lambda: make_flow(
            headers=(("Cookie", "ajs_user_traits=%7B%22email%22%3A%22ada%40x.org%22%7D"),)
        ),
        (("cookie:ajs_user_traits>$.email", "ada@x.org", ("url", "json")),),
    ),
    Case(
        "base64 JSON cookie (Klaviyo __kla_id)",
        lambda: make_flow(headers=(("Cookie", "__kla_id=" + b64(json.dumps({"$email": EMAIL}))),)),
        (("cookie:__kla_id>$.$email", EMAIL, ("base64", "json")),),
    ),
    # ---------------------------------------------------------------- bodies
    Case(
        "nested JSON body",
        lambda: make_flow(
            body=json.dumps(
                {"events": [{"user": {"email": EMAIL, "age": 11, "iep": True}}]}
            ).encode(),
            ctype="application/json",
        ),
        (
            ("body:$.events[0].user.email", EMAIL, ("json",)),
            ("body:$.events[0].user.age", "11", ("json",)),
            ("body:$.events[0].user.iep", "true", ("json",)),
        ),
        key="email",
    ),
    Case(
        "JSON sent as text/plain (sendBeacon) is sniffed",
        lambda: make_flow(body=json.dumps({"uid": "s-5"}).encode(), ctype="text/plain"),
        (("body:$.uid", "s-5", ("json",)),),
    ),
    Case(
        "odd JSON keys are quoted",
        lambda: make_flow(body=json.dumps({"[Amplitude] Page": {"a.b": "v1"}}).encode()),
        (("body:$['[Amplitude] Page']['a.b']", "v1", ("json",)),),
    ),
    Case(
        "JSON inside a JSON string",
        lambda: make_flow(body=json.dumps({"payload": json.dumps({"email": EMAIL})}).encode()),
        (("body:$.payload>$.email", EMAIL, ("json", "json")),),
    ),
    Case(
        "form-urlencoded",
        lambda: make_flow(
            body=b"uid=s-1&name=Ada+Lovelace", ctype="application/x-www-form-urlencoded"
        ),
        (("body:$.uid", "s-1", ("form",)), ("body:$.name", "Ada Lovelace", ("form",))),
    ),
    Case(
        "Mixpanel data= base64 JSON",
        lambda: make_flow(
            "https://api-js.mixpanel.com/track/?verbose=1",
            body=(
                "data="
                + b64(json.dumps([{"event": "login", "properties": {"$email": EMAIL}}])).replace(
                    "=", "%3D"
                )
            ).encode(),
            ctype="application/x-www-form-urlencoded",
        ),
        (("body:$.data>$[0].properties.$email", EMAIL, ("form", "base64", "json")),),
    ),
    Case(
        "Mixpanel data= in a GET query, unpadded, '+' mangled into spaces",
        lambda: make_flow(
            "https://api.mixpanel.example/track/?data="
            + b64(json.dumps({"event": "e>>>?", "properties": {"distinct_id": EMAIL}}), pad=False)
        ),
        (("query:data>$.properties.distinct_id", EMAIL, ("base64", "json")),),
    ),
    Case(
        "Amplitude e= form field with a JSON array",
        lambda: make_flow(
            "https://api.amplitude.example/",
            body=(
                "client=abc&v=2&e="
                + json.dumps([{"user_id": EMAIL, "event_type": "quiz"}]).replace('"', "%22")
            ).encode(),
            ctype="application/x-www-form-urlencoded; charset=UTF-8",
        ),
        (("body:$.e>$[0].user_id", EMAIL, ("form", "json")),),
    ),
    Case(
        "Segment batch, gzip",
        lambda: make_flow(
            "https://api.segment.example/v1/batch",
            body=gzip.compress(
                json.dumps(
                    {"batch": [{"type": "identify", "traits": {"email": EMAIL}}], "writeKey": "k"}
                ).encode()
            ),
            ctype="application/json",
            cenc="gzip",
        ),
        (("body:$.batch[0].traits.email", EMAIL, ("gzip", "json")),),
    ),
    Case(
        "gzip -> json -> base64 -> json",
        lambda: make_flow(
            body=gzip.compress(json.dumps({"ctx": b64(json.dumps({"email": EMAIL}))}).encode()),
            ctype="application/json",
            cenc="gzip",
        ),
        (("body:$.ctx>$.email", EMAIL, ("gzip", "json", "base64", "json")),),
    ),
    Case(
        "base64(zlib(json)) in a query (Pendo jzb)",
        lambda: make_flow(
            "https://app.pendo.example/data/ptm.gif/key?jzb="
            + b64(zlib.compress(json.dumps([{"visitor_id": EMAIL}]).encode()), url=True, pad=False)
        ),
        (("query:jzb>$[0].visitor_id", EMAIL, ("base64*", "zlib", "json")),),
    ),
    Case(
        "base64(gzip(json)) (H4sI...)",
        lambda: make_flow(
            "https://x.example/c?p=" + b64(gzip.compress(b'{"email": "' + EMAIL.encode() + b'"}'))
        ),
        (("query:p>$.email", EMAIL, ("base64", "gzip", "json")),),
    ),
    Case(
        "base64(raw deflate(json))",
        lambda: make_flow(
            "https://x.example/c?p="
            + b64(
                (lambda c: c.compress(json.dumps({"student": EMAIL}).encode()) + c.flush())(
                    zlib.compressobj(9, zlib.DEFLATED, -15)
                ),
                url=True,
            )
        ),
        (("query:p>$.student", EMAIL, ("base64*", "deflate", "json")),),
    ),
    Case(
        "base64 text",
        lambda: make_flow("https://x.example/c?n=" + b64("Ada Lovelace, grade 5")),
        (("query:n", "Ada Lovelace, grade 5", ("base64",)),),
    ),
    Case(
        "hex text",
        lambda: make_flow("https://x.example/c?n=" + b"Ada Lovelace".hex()),
        (("query:n", "Ada Lovelace", ("hex",)),),
    ),
    Case(
        "Sentry envelope (NDJSON with a length-delimited item)",
        lambda: make_flow(
            "https://o1.ingest.sentry.example/api/1/envelope/?sentry_key=abc",
            body=_sentry_envelope(),
            ctype="text/plain;charset=UTF-8",
        ),
        (
            ("body:$[2].user.email", EMAIL, ("ndjson",)),
            ("body:$[2].request.url>query:q", "1", ("ndjson",)),
            ("body:$[4]", "line one\nline two with " + EMAIL, ("ndjson",)),
        ),
    ),
    Case(
        "NDJSON by content type",
        lambda: make_flow(
            body=b'{"type":"view","usr":{"id":"s-1"}}\n{"type":"action","usr":{"email":"a@b.co"}}\n',
            ctype="application/x-ndjson",
        ),
        (("body:$[1].usr.email", "a@b.co", ("ndjson",)), ("body:$[0].usr.id", "s-1", ("ndjson",))),
    ),
    Case(
        "GA4 newline-batched events",
        lambda: make_flow(
            "https://www.google-analytics.com/g/collect?v=2&tid=G-ABC",
            body=b"en=page_view&ep.student=ada\r\nen=scroll&epn.percent_scrolled=90",
            ctype="text/plain",
        ),
        (
            ("body:$[0]['ep.student']", "ada", ("lines", "form")),
            ("body:$[1]['epn.percent_scrolled']", "90", ("lines", "form")),
        ),
    ),
    Case(
        "multipart: fields, JSON part and file name",
        lambda: make_flow(body=MULTIPART_BODY, ctype=MULTIPART_TYPE),
        (
            ("body:$.email", EMAIL, ("multipart",)),
            ("body:$.meta>$.student.id", "s-42", ("multipart", "json")),
            ("body:$.photo;filename", "ada_lovelace.jpg", ("multipart",)),
        ),
    ),
    Case(
        "GraphQL variables and literals",
        lambda: make_flow(
            body=json.dumps(
                {
                    "query": 'mutation Login($e: String!) { login(email: $e, school: "Lincoln Elementary") { id } }',
                    "variables": {"e": EMAIL},
                }
            ).encode(),
            ctype="application/json",
        ),
        (
            ("body:$.variables.e", EMAIL, ("json",)),
            ("body:$.query>$.school", "Lincoln Elementary", ("json", "graphql")),
        ),
    ),
    Case(
        "GraphQL in a GET query",
        lambda: make_flow(
            "https://api.example/graphql?query="
            + 'query{student(email:"ada@x.org"){grade}}'.replace('"', "%22")
            + "&variables=%7B%22id%22%3A%22s-1%22%7D"
        ),
        (
            ("query:query>$.email", "ada@x.org", ("graphql",)),
            ("query:variables>$.id", "s-1", ("json",)),
        ),
    ),
    Case(
        "a '>' in a key is escaped",
        lambda: make_flow(body=json.dumps({"a>b": "v1"}).encode()),
        (("body:$['a%3Eb']", "v1", ("json",)),),
    ),
    Case(
        "GraphQL document body",
        lambda: make_flow(
            body=b'{ student(email: "ada@x.org") { grade } }', ctype="application/graphql"
        ),
        (("body:$.email", "ada@x.org", ("graphql",)),),
    ),
    Case(
        "text beacon",
        lambda: make_flow(body=b"bel.7;1,'/api/students/ada,2,3", ctype="text/plain"),
        (("body", "bel.7;1,'/api/students/ada,2,3", ()),),
    ),
    Case(
        "MessagePack",
        lambda: make_flow(
            body=msgpack.packb({"user": {"email": EMAIL, "grade": 5}, "tags": ["a", b"bin"]}),
            ctype="application/msgpack",
        ),
        (("body:$.user.email", EMAIL, ("msgpack",)), ("body:$.user.grade", "5", ("msgpack",))),
    ),
    Case(
        "MessagePack sniffed",
        lambda: make_flow(
            body=msgpack.packb({"student_email": EMAIL}), ctype="application/octet-stream"
        ),
        (("body:$.student_email", EMAIL, ("msgpack",)),),
    ),
    Case(
        "protobuf with nested messages (Firebase-like), gzip, sniffed",
        lambda: make_flow(
            "https://app-measurement.example/a",
            body=gzip.compress(FIREBASE_PB),
            ctype="application/x-www-form-urlencoded",  # what the SDK really declares
        ),
        (
            ("body:$.1.2.1.2", EMAIL, ("gzip", "protobuf")),
            ("body:$.1.14", "com.example.classroom", ("gzip", "protobuf")),
            ("body:$.1.1", "1", ("gzip", "protobuf")),
        ),
    ),
    Case(
        "protobuf by content type, repeated field",
        lambda: make_flow(
            body=pb_field(3, "ada") + pb_field(3, "lovelace") + pb_field(4, 7),
            ctype="application/x-protobuf",
        ),
        (("body:$.3[0]", "ada", ("protobuf",)), ("body:$.3[1]", "lovelace", ("protobuf",))),
    ),
    Case(
        "gRPC framing",
        lambda: make_flow(
            body=b"\x00" + struct.pack(">I", len(pb_field(1, EMAIL))) + pb_field(1, EMAIL),
            ctype="application/grpc-web+proto",
        ),
        (("body:$[0].1", EMAIL, ("protobuf",)),),
    ),
    Case(
        "base64 protobuf inside JSON (FireLog sourceExtension)",
        lambda: make_flow(
            body=json.dumps(
                {"logEvent": [{"sourceExtension": b64(pb_field(2, pb_field(1, EMAIL)))}]}
            ).encode(),
            ctype="application/json",
        ),
        (("body:$.logEvent[0].sourceExtension>$.2.1", EMAIL, ("json", "base64", "protobuf")),),
    ),
    Case(
        "deflate body (zlib)",
        lambda: make_flow(
            body=zlib.compress(b'{"uid": "s-9"}'), ctype="application/json", cenc="deflate"
        ),
        (("body:$.uid", "s-9", ("deflate", "json")),),
    ),
    Case(
        "deflate body (raw)",
        lambda: make_flow(
            body=(lambda c: c.compress(b'{"uid": "s-9"}') + c.flush())(
                zlib.compressobj(6, zlib.DEFLATED, -15)
            ),
            ctype="application/json",
            cenc="deflate",
        ),
        (("body:$.uid", "s-9", ("deflate", "json")),),
    ),
    Case(
        "brotli body",
        lambda: make_flow(
            body=brotli.compress(b'{"uid": "s-9"}'), ctype="application/json", cenc="br"
        ),
        (("body:$.uid", "s-9", ("br", "json")),),
    ),
    Case(
        "zstd body",
        lambda: make_flow(
            body=zstandard.ZstdCompressor().compress(b'{"uid": "s-9"}'),
            ctype="application/json",
            cenc="zstd",
        ),
        (("body:$.uid", "s-9", ("zstd", "json")),),
    ),
    Case(
        "stacked Content-Encoding (gzip, br)",
        lambda: make_flow(
            body=brotli.compress(gzip.compress(b'{"uid": "s-9"}')),
            ctype="application/json",
            cenc="gzip, br",
        ),
        (("body:$.uid", "s-9", ("br", "gzip", "json")),),
    ),
    Case(
        "gzip body without a header (Clarity) is sniffed",
        lambda: make_flow(
            body=gzip.compress(json.dumps({"e": [1, 2], "a": [[0, 1, EMAIL]]}).encode()),
            headers=(("Accept", "application/x-clarity-gzip"),),
        ),
        (("body:$.a[0][2]", EMAIL, ("gzip", "json")),),
    ),
    Case(
        "HAR: body already decoded although Content-Encoding says gzip",
        lambda: make_flow(body=b'{"uid": "s-9"}', ctype="application/json", cenc="gzip"),
        (("body:$.uid", "s-9", ("json",)),),
    ),
    Case(
        "HAR: body already decoded although Content-Encoding says br",
        lambda: make_flow(
            body=b"uid=s-9&grade=5", ctype="application/x-www-form-urlencoded", cenc="br"
        ),
        (("body:$.uid", "s-9", ("form",)),),
    ),
    Case(
        "WebSocket client message (Socket.IO frame)",
        lambda: make_flow(
            "wss://ws.example/socket.io/?EIO=4",
            websocket=(
                WebSocketMessage(
                    from_client=True,
                    timestamp=1.0,
                    is_text=True,
                    content=b'42["identify",{"email":"' + EMAIL.encode() + b'"}]',
                ),
            ),
        ),
        (("ws[0]:$[1].email", EMAIL, ("json",)),),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_decodes(case: Case) -> None:
    d = decode_flow(case.flow())
    assert d.limits == []
    for location, value, encodings in case.expect:
        f = one(d, location, value)
        # "base64*": the alphabet is told by its - and _; data without them is plain base64
        got = tuple("base64*" if e.startswith("base64") else e for e in f.encodings)
        want = tuple("base64*" if e == "base64*" else e for e in encodings)
        assert (got if "base64*" in want else f.encodings) == want, (location, f.encodings)
    if case.key is not None:
        assert one(d, case.expect[0][0], case.expect[0][1]).key == case.key


def test_raw_values_are_kept_next_to_decoded_ones() -> None:
    raw = b64(json.dumps({"email": EMAIL}))
    d = decode_flow(make_flow("https://x.example/c?data=" + raw.replace("=", "%3D")))
    assert one(d, "query:data", raw).encodings == ()
    assert one(d, "query:data>$.email", EMAIL).key == "email"


def test_three_layers_deep_and_no_deeper() -> None:
    inner = {"email": EMAIL}
    layer3 = b64(json.dumps(inner))
    layer2 = b64(json.dumps({"c": layer3}))
    layer1 = b64(json.dumps({"b": layer2}))
    d = decode_flow(make_flow(f"https://x.example/c?a={layer1}"))
    f = one(d, "query:a>$.b>$.c>$.email", EMAIL)
    assert f.encodings == ("base64", "json") * 3
    layer0 = b64(json.dumps({"a": layer1}))
    d = decode_flow(make_flow(f"https://x.example/c?z={layer0}"))
    assert not find(d, "query:z>$.a>$.b>$.c>$.email")
    assert find(d, "query:z>$.a>$.b>$.c", layer3)  # kept as sent
    assert any("layer" in m for m in d.limits)
    again = decode_flow(make_flow(f"https://x.example/c?z={layer0}"))
    assert again.limits == d.limits  # reported for every flow, not only the first


def test_results_do_not_depend_on_earlier_flows() -> None:
    """The decoder remembers plain values and page URLs across flows; that must not show."""
    flows = [c.flow() for c in CASES]
    forward = [decode_flow(f) for f in flows]
    backward = [decode_flow(f) for f in reversed(flows)][::-1]
    assert [(d.fields, d.inbound, d.limits) for d in forward] == [
        (d.fields, d.inbound, d.limits) for d in backward
    ]


# --------------------------------------------------------------------------- inbound


def test_response_set_cookie_and_headers_are_inbound_only() -> None:
    d = decode_flow(
        make_flow(
            response_headers=(
                ("Set-Cookie", "sid=" + jwt({"uid": "u-555"}) + "; Path=/; HttpOnly"),
                ("X-User-Id", "u-555"),
                ("Content-Type", "application/json"),
            ),
            response=json.dumps({"user": {"id": "u-555", "email": EMAIL}}).encode(),
        )
    )
    assert one(d.inbound, "set-cookie:sid>$.payload.uid", "u-555").encodings == ("jwt",)
    assert one(d.inbound, "response-header:x-user-id", "u-555")
    assert one(d.inbound, "response-body:$.user.email", EMAIL).encodings == ("json",)
    assert not [f for f in d.fields if "u-555" in f.value or f.value == EMAIL]


def test_inbound_skips_non_structured_bodies_and_decodes_compressed_json() -> None:
    page = b"<html><body>" + EMAIL.encode() + b"</body></html>"
    d = decode_flow(make_flow(response_headers=(("Content-Type", "text/html"),), response=page))
    assert d.inbound == []
    d = decode_flow(
        make_flow(
            response_headers=(("Content-Type", "application/json"), ("Content-Encoding", "br")),
            response=brotli.compress(json.dumps({"id": "u-1"}).encode()),
        )
    )
    assert one(d.inbound, "response-body:$.id", "u-1").encodings == ("br", "json")


def test_websocket_directions() -> None:
    msgs = (
        WebSocketMessage(from_client=True, timestamp=1.0, is_text=True, content=b'{"to":"server"}'),
        WebSocketMessage(
            from_client=False, timestamp=2.0, is_text=True, content=b'{"to":"client"}'
        ),
        WebSocketMessage(
            from_client=True, timestamp=3.0, is_text=False, content=msgpack.packb({"bin": "client"})
        ),
    )
    d = decode_flow(make_flow("wss://ws.example/x", websocket=msgs))
    assert one(d, "ws[0]:$.to", "server")
    assert one(d, "ws[2]:$.bin", "client").encodings == ("msgpack",)
    assert one(d.inbound, "ws[1]:$.to", "client")
    assert not find(d, "ws[1]:$.to")


# --------------------------------------------------------------------------- negatives

PLAIN_VALUES = [
    "5d41402abc4b2a76b9719d911017c592",  # MD5
    "2fd4e1c67a2d28fced849ee1bb76e7391b93eb12",  # SHA-1
    "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",  # SHA-256 hex
    "n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg=",  # SHA-256 base64
    "n4bQgYhMfWWaL-qgxVrQFaO_TxsrC4Is0V1sFbDwCgg",  # SHA-256 base64url
    "550e8400-e29b-41d4-a716-446655440000",  # UUID
    "6D92078A-8246-4BA4-AE5B-76104861E7DC",  # IDFA
    "deadbeefcafebabe",
    "assignment",
    "dashboard",
    "Pagination",
    "StudentDashboard",
    "teacherView",
    "1700000000000",
    "G-ABCD123456",
    "fb.1.1700000000000.1234567890",
    "GA1.1.1234567890.1700000000",
    "K3mZ9qLp2Xv8Rt5W",  # a random session id
    "cR2lYtKvQ0e-F0sD_xZ0-_",  # a Firebase installation id
]


@pytest.mark.parametrize("value", PLAIN_VALUES)
def test_plain_values_are_not_decoded(value: str) -> None:
    d = decode_flow(make_flow("https://x.example/c?v=" + value.replace("+", "%2B")))
    assert [(f.location, f.value, f.encodings) for f in d.fields] == [
        ("path[0]", "c", ()),
        ("query:v", value, ()),
    ]


def test_random_tokens_rarely_decode_to_anything() -> None:
    """Session ids, API keys and hashes in every alphabet: almost none read as text."""
    rng = random.Random(3)
    letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
    alphabets = [letters + "-_", letters + "+/", letters, "0123456789abcdef"]
    decoded = 0
    for i in range(8000):
        alphabet = alphabets[i % 4]
        token = "".join(rng.choice(alphabet) for _ in range(rng.randrange(8, 64)))
        d = decode_flow(make_flow("https://x.example/c?t=" + token.replace("+", "%2B")))
        decoded += any(f.encodings for f in d.fields)
    assert decoded <= 2


def test_ordinary_text_bodies_stay_text() -> None:
    d = decode_flow(make_flow(body=b"Hello teacher, my essay is attached.", ctype="text/plain"))
    assert [(f.location, f.encodings) for f in d.fields] == [("path[0]", ()), ("body", ())]


# --------------------------------------------------------------------------- hostile input


def _bounded(flow: Flow, seconds: float = 5.0, megabytes: float = 100.0) -> Decoded:
    tracemalloc.start()
    t0 = time.perf_counter()
    try:
        d = decode_flow(flow)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert time.perf_counter() - t0 < seconds
    assert peak < megabytes * 2**20, f"peak {peak / 2**20:.0f} MiB"
    assert not [m for m in d.limits if "stopped early" in m], d.limits
    return d


def test_gzip_bomb() -> None:
    bomb = gzip.compress(b"\0" * (64 << 20), 9)
    d = _bounded(make_flow(body=bomb, ctype="application/json", cenc="gzip"))
    assert any("decompressed size cap" in m for m in d.limits)


def test_gzip_bomb_ratio_below_the_size_cap() -> None:
    bomb = gzip.compress(b"a" * (8 << 20), 9)  # ~8 KiB -> 8 MiB: 1000:1
    d = _bounded(make_flow(body=bomb, cenc="gzip"))
    assert any("decompressed size cap" in m for m in d.limits)
    assert sum(len(f.value) for f in d.fields if f.location.startswith("body")) <= 1 << 20


def test_brotli_bomb() -> None:
    bomb = brotli.compress(b"\0" * (256 << 20), quality=5)
    d = _bounded(make_flow(body=bomb, ctype="application/json", cenc="br"))
    assert any("decompressed size cap" in m for m in d.limits)


def test_zstd_bomb() -> None:
    bomb = zstandard.ZstdCompressor(level=19).compress(b"\0" * (256 << 20))
    d = _bounded(make_flow(body=bomb, ctype="application/json", cenc="zstd"))
    assert any("decompressed size cap" in m for m in d.limits)


def test_gzip_bomb_inside_base64_value() -> None:
    bomb = b64(gzip.compress(b"{" + b" " * (64 << 20) + b"}", 9))
    d = _bounded(make_flow("https://x.example/c?p=" + bomb))
    assert any("decompressed size cap" in m for m in d.limits)


def test_deeply_nested_json() -> None:
    body = b"[" * 100_000 + b"]" * 100_000
    d = _bounded(make_flow(body=body, ctype="application/json"))
    assert any("nested too deep" in m for m in d.limits)
    body = json.dumps(json.loads("[" * 500 + '"deep"' + "]" * 500)).encode()
    d = _bounded(make_flow(body=body, ctype="application/json"))
    assert any("nesting depth cap" in m for m in d.limits)


def test_deeply_nested_msgpack_and_protobuf() -> None:
    packed = b"\x91" * 5000 + b"\xa1x"  # 5000 nested one-element arrays
    _bounded(make_flow(body=packed, ctype="application/msgpack"))
    message = pb_field(1, "innermost text")
    for _ in range(200):
        message = pb_field(1, message)
    d = _bounded(make_flow(body=message, ctype="application/x-protobuf"))
    assert not find(d, "body:" + "$" + ".1" * 201)


def test_invalid_utf8() -> None:
    body = b'{"name": "Ada \xff\xfe Lovelace", "ok": "' + EMAIL.encode() + b'"}'
    d = _bounded(make_flow(body=body, ctype="application/json"))
    assert one(d, "body:$.ok", EMAIL)
    _bounded(make_flow("https://x.example/%ff%fe?q=%ff", headers=(("X-Bad", "\udcff"),)))


@pytest.mark.parametrize("charset", ["undefined", "rot13", "zlib", "no-such-codec", "utf-16"])
def test_odd_charsets(charset: str) -> None:
    body = "name=Ad\xe9le".encode("latin-1")
    _bounded(make_flow(body=body, ctype=f"application/x-www-form-urlencoded; charset={charset}"))
    _bounded(make_flow(body=body, ctype=f"text/plain; charset={charset}"))


def test_latin1_form_by_its_charset() -> None:
    body = "name=Ad\xe9le".encode("latin-1")
    d = decode_flow(
        make_flow(body=body, ctype="application/x-www-form-urlencoded; charset=latin-1")
    )
    assert one(d, "body:$.name", "Ad\xe9le")


def test_truncated_gzip_keeps_the_part_present() -> None:
    rng = random.Random(1)
    form = "uid=s-1&" + "&".join(f"k{i}={rng.random()}" for i in range(500))
    whole = gzip.compress(form.encode())
    d = _bounded(make_flow(body=whole[: len(whole) // 2], cenc="gzip"))
    assert one(d, "body:$.uid", "s-1").encodings == ("gzip", "form")
    assert any("ended early" in m for m in d.limits)


def test_random_bytes() -> None:
    rng = random.Random(11)
    for size in (1, 7, 64, 1000, 100_000):
        data = rng.randbytes(size)
        for ctype in (None, "application/json", "application/x-protobuf", "application/msgpack"):
            _bounded(make_flow(body=data, ctype=ctype, cenc="gzip"))
            _bounded(make_flow(body=data, ctype=ctype))
        _bounded(make_flow(websocket=(WebSocketMessage(from_client=True, timestamp=None,
                                                        is_text=False, content=data),)))  # fmt: skip


def test_huge_number_of_keys() -> None:
    body = json.dumps({f"k{i}": i for i in range(200_000)}).encode()
    d = _bounded(make_flow(body=body, ctype="application/json"))
    assert len(d.fields) == MAX_FIELDS
    assert any("field cap" in m for m in d.limits)
    form = "&".join(f"k{i}=v" for i in range(200_000)).encode()
    d = _bounded(make_flow(body=form, ctype="application/x-www-form-urlencoded"))
    assert len(d.fields) == MAX_FIELDS


def test_long_values_are_cut() -> None:
    d = _bounded(make_flow(body=json.dumps({"essay": "word " * 100_000}).encode()))
    f = one(d, "body:$.essay")
    assert len(f.value) == 64 << 10
    assert any("value length cap" in m for m in d.limits)


def test_fuzz_mutated_payloads() -> None:
    """Flip bytes of real-shaped payloads: whatever comes out, nothing raises or runs long."""
    rng = random.Random(5)
    seeds = [
        _sentry_envelope(),
        MULTIPART_BODY,
        gzip.compress(FIREBASE_PB),
        msgpack.packb({"a": [1, {"b": "c"}]}),
        json.dumps({"x": b64(zlib.compress(b'{"y": "z"}'))}).encode(),
    ]
    types = [None, MULTIPART_TYPE, "application/x-protobuf", "application/msgpack", "text/plain"]
    for _ in range(300):
        i = rng.randrange(len(seeds))
        data = bytearray(seeds[i])
        for _ in range(rng.randrange(1, 8)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        d = decode_flow(make_flow(body=bytes(data), ctype=types[i]))
        assert not [m for m in d.limits if "stopped early" in m], d.limits


@pytest.mark.skipif(os.environ.get("EDSCAN_SLOW") is None, reason="slow; set EDSCAN_SLOW=1")
def test_field_cap_over_many_decoded_values() -> None:
    value = b64(json.dumps({f"k{i}": "v" for i in range(100)}))
    url = "https://x.example/c?" + "&".join(f"p{i}={value}" for i in range(500))
    d = _bounded(make_flow(url))
    assert len(d.fields) == MAX_FIELDS


def test_text_websocket_message_given_as_str() -> None:
    """Old mitmproxy dumps hand text WebSocket messages over as str; decode them all the same."""
    message = WebSocketMessage(from_client=True, timestamp=None, is_text=True, content=b"")
    object.__setattr__(message, "content", '{"email": "' + EMAIL + '"}')
    d = decode_flow(make_flow("wss://ws.example/", websocket=(message,)))
    assert one(d, "ws[0]:$.email", EMAIL)
    assert d.limits == []


def test_inbound_layer_limit_is_by_design_not_reported() -> None:
    nested = b64(json.dumps({"inner": b64(json.dumps({"id": "u-1"}))}))
    d = decode_flow(make_flow(response_headers=(("X-Ctx", nested),)))
    assert one(d.inbound, "response-header:x-ctx>$.inner")
    assert not find(d.inbound, "response-header:x-ctx>$.inner>$.id")
    assert d.limits == []


# --------------------------------------------------------------------------- real captures


def test_real_captures_decode_without_errors() -> None:
    corpus = shared_path("corpus")
    paths = sorted(corpus.glob("har-tools/*.har")) + sorted(corpus.glob("mitmproxy/flows/*.mitm"))
    paths.append(corpus / "mitmproxy" / "dumpfile-7-websocket.mitm")
    decoded = 0
    for path in paths:
        for flow in open_source(path):
            d = decode_flow(flow)
            assert not [m for m in d.limits if "stopped early" in m], (path.name, d.limits)
            decoded += 1
    assert decoded > 900


def test_real_capture_classdojo_login_email_at_its_own_api() -> None:
    path = shared_path("corpus", "edtech", "teacher-login-www.classdojo.com.har")
    hits = [
        (flow.host, f.location, f.encodings)
        for flow in open_source(path)
        for f in decode_flow(flow).fields
        if "bob@bob.com" in f.value
    ]
    assert hits == [("api.classdojo.com", "body:$.email", ("json",))]


def test_real_capture_cookie_sync_protobuf_cookie() -> None:
    """A DSP cookie is base64 protobuf: its partner names come out by field number."""
    path = shared_path("corpus", "har-tools", "www-theverge-com.har")
    values = {
        f.value
        for flow in open_source(path)
        for f in decode_flow(flow).fields
        if f.location.startswith("cookie:TDCPM>$.2") and f.encodings == ("base64", "protobuf")
    }
    assert {"casale", "sonobi"} <= values


def test_data_uris_text_decoded_media_left_alone() -> None:
    text = "data:text/plain;base64," + b64("Ada Lovelace's essay")
    image = "data:image/png;base64," + b64(b"\x89PNG\r\n\x1a\n" + b"ada@x.org" * 4)
    jpeg = "/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAMCAgICAgMCAgIDAwMDBAYEBAQE"
    d = decode_flow(
        make_flow(
            body=json.dumps({"t": text, "i": image, "j": jpeg}).encode(), ctype="application/json"
        )
    )
    assert one(d, "body:$.t", "Ada Lovelace's essay").encodings == ("json", "base64")
    assert [f.location for f in d.fields if f.location.startswith("body")] == [
        "body:$.t",
        "body:$.t",
        "body:$.i",
        "body:$.j",
    ]


def test_byte_order_mark_before_json() -> None:
    d = decode_flow(make_flow(body=b"\xef\xbb\xbf" + json.dumps({"uid": "s-3"}).encode()))
    assert one(d, "body:$.uid", "s-3").encodings == ("json",)


def test_double_slashes_in_a_path() -> None:
    d = decode_flow(make_flow("https://x.example//students//ada/?q=1"))
    assert [(f.location, f.value) for f in d.fields] == [
        ("path[0]", "students"),
        ("path[1]", "ada"),
        ("query:q", "1"),
    ]


@pytest.mark.parametrize(
    ("body", "ctype", "message"),
    [
        (b"[" + b"{}," * 2_000_000 + b"{}]", "application/json", "elements not parsed"),
        (b"&" * 4_000_000, "application/x-www-form-urlencoded", "split cap"),
        (b"\n" * 4_000_000 + b"{}", "application/x-ndjson", "split cap"),
        (b"\xdd\x00\x40\x00\x00" + b"\x90" * (4 << 20), "application/msgpack", "MessagePack"),
        (b"--b\r\n" * 1_000_000, "multipart/form-data; boundary=b", "multipart part cap"),
    ],
    ids=[
        "million-dicts JSON",
        "million ampersands",
        "million newlines",
        "msgpack of empty arrays",
        "million parts",
    ],
)
def test_bodies_of_many_tiny_objects(body: bytes, ctype: str, message: str) -> None:
    """Each byte or two would be a Python object: bounded, reported, and the scan goes on."""
    d = _bounded(make_flow(body=body, ctype=ctype), megabytes=120)
    assert any(message in m for m in d.limits), d.limits


def test_json_in_a_string_too_large_to_parse() -> None:
    value = "[" + "{}," * 600_000 + "{}]"
    d = _bounded(make_flow(body=json.dumps({"blob": value}).encode(), ctype="application/json"))
    assert any("elements not parsed" in m for m in d.limits)


def test_protobuf_work_is_bounded() -> None:
    """A million fields, nested in messages that all fail at their last byte: the parse gives
    up after a bounded number of fields, declared or sniffed."""
    message = b"\x08\x01" * 1_000_000 + b"\xff"
    for _ in range(16):
        message = pb_field(1, message) + b"\xff"
    for ctype in ("application/x-protobuf", None):
        d = _bounded(make_flow(body=message, ctype=ctype), seconds=2)
        assert not find(d, "body:$.1")


def test_websocket_message_cap() -> None:
    msg = WebSocketMessage(from_client=True, timestamp=None, is_text=True, content=b'{"a":"b"}')
    d = _bounded(make_flow("wss://ws.example/", websocket=(msg,) * 12_000))
    assert len(find(d, "ws[9999]:$.a")) == 1
    assert not find(d, "ws[10000]:$.a")
    assert any("WebSocket message cap" in m for m in d.limits)


def test_forms_inside_values_and_prose_that_is_not_one() -> None:
    value = "name=Ada Lovelace&grade=5&email=ada%40x.org"
    d = decode_flow(make_flow(body=json.dumps({"f": value, "t": "Tom & Jerry = fun"}).encode()))
    assert one(d, "body:$.f>$.name", "Ada Lovelace").encodings == ("json", "form")
    assert one(d, "body:$.f>$.email", "ada@x.org").encodings == ("json", "form")
    assert [f.location for f in d.fields if f.location.startswith("body:$.t")] == ["body:$.t"]


# ---------------------------------------------------------------- the Decoded views


def test_fields_are_built_from_the_rows_the_detectors_read(monkeypatch: pytest.MonkeyPatch) -> None:
    """Decoding keeps plain rows; ``fields``/``inbound`` are Field objects equal to them, built
    through Field's slots (the shortcut) or its constructor alike."""
    from edscan.decode import flow as decode

    flow = make_flow(
        "https://x.example/a/b?email=ada%40example.net",
        headers=(("Cookie", "sid=abc123def456"), ("X-Id", "42")),
        body=json.dumps({"user": {"name": "Ada"}}).encode(),
        ctype="application/json",
        response_headers=(("Content-Type", "application/json"),),
        response=b'{"id": "u_1", "email": "ada@example.net"}',
    )
    d = decode_flow(flow)
    assert decode._FIELD_FAST, "Field gained an attribute: update decode._FIELD_FAST"
    expected = [Field(location=r[0], key=r[1], value=r[2], encodings=r[3]) for r in d.rows]
    assert d.fields == expected and len(expected) >= 6
    assert d.inbound == [
        Field(location=r[0], key=r[1], value=r[2], encodings=r[3]) for r in d.inbound_rows
    ]
    assert d.fields is d.fields  # built once
    one(d, "body:$.user.name", "Ada")
    one(d, "query:email", "ada@example.net")
    monkeypatch.setattr(decode, "_FIELD_FAST", False)
    slow = decode_flow(flow)
    assert slow.fields == expected and slow == d


def test_decoded_from_fields_exposes_the_same_rows() -> None:
    from edscan.decode.flow import inbound_rows_of, rows_of

    f = Field(location="query:a", key="a", value="1", encodings=("url",))
    g = Field(location="response-body:$.id", key="id", value="u_1", encodings=("json",))
    d = Decoded(fields=[f], inbound=[g], limits=["x"])
    assert d.rows == [("query:a", "a", "1", ("url",))]
    assert d.fields == [f] and d.inbound == [g] and d.limits == ["x"]

    @dataclass
    class StandIn:
        fields: list[Field]
        inbound: list[Field]

    assert rows_of(StandIn([f], [g])) == d.rows
    assert inbound_rows_of(StandIn([f], [g])) == d.inbound_rows


def test_a_path_sent_again_yields_the_same_fields() -> None:
    """The fields of a flow's own URL path are remembered and reused for the next flow that
    calls the same path: equal fields, and the same query and body fields around them."""
    from edscan.decode import url

    token = base64.urlsafe_b64encode(b'{"email": "ada@example.net"}').decode().rstrip("=")
    path = f"/v1/users/{token}/events;u1=abc%40x.example"
    first = decode_flow(
        make_flow(
            f"https://x.example{path}?a=1", body=b"x=1", ctype="application/x-www-form-urlencoded"
        )
    )
    assert path in url._PATH_ROWS
    second = decode_flow(
        make_flow(
            f"https://x.example{path}?b=2", body=b"y=2", ctype="application/x-www-form-urlencoded"
        )
    )
    one(second, "path[2]>$.email", "ada@example.net")
    one(second, "query:b", "2")
    one(second, "body:$.y", "2")
    rows = [r for r in second.rows if r[0].startswith("path[")]
    assert rows == [r for r in first.rows if r[0].startswith("path[")] and len(rows) >= 5
    assert all(a is b for a, b in zip(rows, first.rows, strict=False))  # shared, not rebuilt


def test_headers_sent_again_yield_the_same_fields() -> None:
    """Request headers are remembered by location and value and reused by later flows, within
    the flow's caps: the same fields as decoding them anew, also next to the field cap."""
    from edscan.decode import flow as decode

    token = "Bearer " + base64.b64encode(b'{"sub": "ada@example.net"}').decode()
    basic = "Basic " + base64.b64encode(b"ada:s3cret").decode()
    headers = (
        ("Referer", "https://app.example/c/1?student=ada%40example.net"),
        ("Cookie", "sid=abc123def456; _ga=GA1.1.1234.5678"),
        ("Authorization", token),
        ("Proxy-Authorization", basic),
        ("X-Track", "eyJ1c2VyIjogImFkYSJ9"),
    )
    first = decode_flow(make_flow(headers=headers))
    second = decode_flow(make_flow(headers=headers))
    assert first.rows == second.rows and len(first.rows) >= 10
    one(second, "header:referer>query:student", "ada@example.net")
    one(second, "header:proxy-authorization>$.password", "s3cret")
    one(second, "cookie:sid", "abc123def456")
    assert ("header:referer", headers[0][1]) in decode._HEADER_ROWS
    # near the field cap: reused only while the fields fit, so the cap falls where it would
    many = "https://x.example/p?" + "&".join(f"k{i}=v" for i in range(MAX_FIELDS - 3))
    cached = decode_flow(make_flow(many, headers=headers))
    decode._HEADER_ROWS.clear()
    decode._HEADER_ROWS_OLD.clear()
    fresh = decode_flow(make_flow(many, headers=headers))
    assert cached == fresh and len(fresh.rows) == MAX_FIELDS
    assert any("field cap" in m for m in fresh.limits)


def test_single_case_values_skipped_are_values_nothing_decodes_out_of() -> None:
    """One-off ids and slugs in one case are not handed to the decoders; every value so skipped
    is one that decoding would have found nothing in (no field, no limit)."""
    from edscan.decode import walk
    from edscan.decode.context import Ctx

    assert walk._single_case_text("stu_b4c1364fe5")
    assert walk._single_case_text("53a000dc-94e2-4f77-9936-578308aca106")
    assert walk._single_case_text("PAGE_VIEW")
    assert not walk._single_case_text("eyJhbGciOiJIUzI1NiJ9")  # mixed case: maybe base64
    assert not walk._single_case_text("a1b2c3d4e5f6a7b8")  # hex
    rng = random.Random(5)
    alphabet = "abcdefxyz0123456789-_.:/+=%& {[]}@!?,;~*'\"\\\t\nñßİ"
    skipped = 0
    for _ in range(20_000):
        s = "".join(rng.choice(alphabet) for _ in range(rng.randint(8, 40)))
        if rng.random() < 0.3:
            s = s.upper()
        if not walk._single_case_text(s):
            continue
        skipped += 1
        ctx = Ctx(limits=[], seen=set())
        walk.decode_str(ctx, s, "query:x", "x", (), 1)
        assert ctx.out == [] and ctx.hits == 0, s
    assert skipped > 1000


def test_the_response_body_is_decoded_only_when_asked_for() -> None:
    """Only a persona's detector learns from response bodies; a scan without one skips them,
    and keeps what the headers hand out (cookies, redirects: the ID-sync evidence)."""
    from edscan.detect.detector import Detector
    from edscan.detect.persona import Persona

    f = make_flow(
        response_headers=(("Set-Cookie", "uid=7f3a9c2e1b4d; Max-Age=60"),),
        response=b'{"student": {"id": "s-4411", "name": "Ann"}}',
    )
    full = {r[0] for r in decode_flow(f).inbound_rows}
    lean = {r[0] for r in decode_flow(f, response_body=False).inbound_rows}
    assert "response-body:$.student.id" in full and "response-body:$.student.id" not in lean
    assert any(loc.startswith("set-cookie:uid") for loc in lean)
    assert decode_flow(f, response_body=False).rows == decode_flow(f).rows
    assert not Detector(None).learns
    assert Detector(Persona(values={"student.email": "ann@school.test"})).learns
