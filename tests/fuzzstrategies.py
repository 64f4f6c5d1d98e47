"""Hypothesis strategies for hostile inputs (bodies that look almost like real formats), and
the reader every fuzzed capture is fed to."""

from __future__ import annotations

import base64
import gzip
import json
import tempfile
import zlib
from pathlib import Path

import brotli
import msgpack
from hypothesis import strategies as st

from edscan.models import Body, Flow

CONTENT_TYPES = (
    "application/json",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=XyZ",
    "multipart/form-data",
    "application/x-protobuf",
    "application/grpc",
    "application/grpc-web+proto",
    "application/msgpack",
    "application/x-ndjson",
    "text/plain; charset=utf-16",
    "text/plain; charset=bogus",
    "application/octet-stream",
    "text/html",
    "",
)
ENCODINGS = ("", "gzip", "deflate", "br", "zstd", "gzip, br", "identity", "x-unknown")

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63 - 1)
    | st.floats(allow_nan=False)
    | st.text(max_size=40),
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=12), children, max_size=5)
    ),
    max_leaves=25,
)


def _jwt(payload: object) -> str:
    def part(obj: object) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'HS256', 'typ': 'JWT'})}.{part(payload)}.c2ln"


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


@st.composite
def protobuf_like(draw: st.DrawFn) -> bytes:
    """Field records with random tags, wire types and lengths, some of them lying."""
    out = bytearray()
    for _ in range(draw(st.integers(0, 8))):
        field = draw(st.integers(0, 2**29))
        wire = draw(st.integers(0, 7))
        out += _varint((field << 3) | wire)
        if wire == 0:
            out += _varint(draw(st.integers(0, 2**64)))
        elif wire == 2:
            payload = draw(st.binary(max_size=40) | st.text(max_size=20).map(str.encode))
            out += _varint(draw(st.sampled_from([len(payload), len(payload) + 7, 2**40])))
            out += payload
        else:
            out += draw(st.binary(max_size=8))
    return bytes(out)


texty = st.one_of(
    json_values.map(lambda v: json.dumps(v)),
    st.dictionaries(st.text(max_size=10), st.text(max_size=20), max_size=6).map(
        lambda d: "&".join(f"{k}={v}" for k, v in d.items())
    ),
    json_values.map(_jwt),
    st.binary(max_size=60).map(lambda b: base64.b64encode(b).decode()),
    st.text(max_size=200),
    st.just('{"a":' * 3000),  # deep, unclosed
    st.just("[" * 5000 + "]" * 5000),
)

payloads = st.one_of(
    texty.map(lambda s: s.encode("utf-8", "surrogatepass")),
    st.binary(max_size=400),
    protobuf_like(),
    json_values.map(lambda v: msgpack.packb(v)),
    st.lists(json_values, max_size=5).map(
        lambda vs: b"\n".join(json.dumps(v).encode() for v in vs)
    ),
    st.tuples(st.text(max_size=10), st.binary(max_size=60)).map(
        lambda p: (
            f'--XyZ\r\nContent-Disposition: form-data; name="{p[0]}"\r\n\r\n'.encode()
            + p[1]
            + b"\r\n--XyZ--\r\n"
        )
    ),
)


@st.composite
def compressed(draw: st.DrawFn) -> tuple[bytes, str]:
    """A payload, possibly compressed (correctly, or cut short), and the encoding claimed."""
    data = draw(payloads)
    kind = draw(st.sampled_from(["", "gzip", "deflate", "br", "zlib-as-gzip", "garbage"]))
    if kind == "gzip":
        data = gzip.compress(data, mtime=0)
    elif kind == "deflate":
        data = zlib.compress(data)
    elif kind == "br":
        data = brotli.compress(data)
    elif kind == "zlib-as-gzip":
        data, kind = zlib.compress(data), "gzip"
    if draw(st.booleans()) and data:
        data = data[: draw(st.integers(0, len(data)))]
    encoding = draw(st.sampled_from(ENCODINGS)) if kind in ("", "garbage") else kind
    return data, encoding


header_text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=30)


@st.composite
def flows(draw: st.DrawFn) -> Flow:
    req, req_enc = draw(compressed())
    resp, resp_enc = draw(compressed())
    query = draw(texty)
    url = draw(
        st.sampled_from(
            ["https://api.example.com/v1/x?", "http://[::1]:80/a?", "https://xn--e1a.example/?"]
        )
    ) + query.replace("#", "%23")
    headers = [("Content-Type", draw(st.sampled_from(CONTENT_TYPES)))]
    if req_enc:
        headers.append(("Content-Encoding", req_enc))
    headers += draw(st.lists(st.tuples(header_text, header_text | texty), max_size=4))
    resp_headers = [("Content-Type", draw(st.sampled_from(CONTENT_TYPES)))]
    if resp_enc:
        resp_headers.append(("Content-Encoding", resp_enc))
    resp_headers.append(("Set-Cookie", f"sid={draw(texty)[:80]}; Path=/"))
    return Flow(
        index=0,
        id="fz",
        method=draw(st.sampled_from(["GET", "POST", "PUT"])),
        url=url,
        scheme=url.split(":")[0],
        request_headers=tuple(headers),
        request_body=Body(content=req, size=len(req)),
        status=200,
        response_headers=tuple(resp_headers),
        response_body=Body(content=resp, size=len(resp), truncated=draw(st.booleans())),
    )


@st.composite
def mutated(draw: st.DrawFn, base: bytes) -> bytes:
    """``base`` with a few bytes flipped, cut, duplicated or spliced in."""
    data = bytearray(base)
    for _ in range(draw(st.integers(0, 6))):
        if not data:
            break
        at = draw(st.integers(0, len(data) - 1))
        op = draw(st.sampled_from(["flip", "cut", "dup", "insert", "truncate"]))
        if op == "flip":
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif op == "cut":
            del data[at : at + draw(st.integers(1, 40))]
        elif op == "dup":
            data[at:at] = data[at : at + draw(st.integers(1, 80))]
        elif op == "insert":
            data[at:at] = draw(
                st.sampled_from([b"\xff", b'"', b"{", b"\n", b"\\u", b"null", b"9" * 40])
            )
        else:
            del data[at:]
    return bytes(data)


def read_all(data: bytes, suffix: str) -> int:
    """Read ``data`` as a capture file named ``*suffix`` and decode every flow; the flows read.
    Only edscan's own error may end it (a clear message, exit 2)."""
    from edscan.capture.source import open_source
    from edscan.decode.flow import decode_flow
    from edscan.errors import EdscanError

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"fuzz{suffix}"
        path.write_bytes(data)
        n = 0
        try:
            for flow in open_source(path):
                decode_flow(flow)
                n += 1
        except EdscanError:
            pass  # what hostile input is allowed to end with
        return n
