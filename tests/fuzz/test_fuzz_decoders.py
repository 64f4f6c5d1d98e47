"""Every decoder, fed hostile bytes: nothing escapes, and each input is bounded in time
(the profile's deadline) and memory (a tracemalloc peak per example)."""

from __future__ import annotations

import contextlib
import tracemalloc

from fuzzstrategies import compressed, flows, payloads, protobuf_like, texty
from hypothesis import given
from hypothesis import strategies as st

from edscan.decode import compress, protobuf, sniff
from edscan.decode.body import content_type, text_of
from edscan.decode.flow import decode_flow, rows_of
from edscan.decode.url import url_parts
from edscan.models import Flow

MEMORY_PER_INPUT = 64 * 1024 * 1024  # far above any input here (< 1 MB decoded): a leak or bomb


def _bounded_decode(flow: Flow) -> None:
    tracemalloc.start()
    try:
        decoded = decode_flow(flow)
        rows_of(decoded)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < MEMORY_PER_INPUT, f"decoding one flow peaked at {peak} bytes"


@given(flows())
def test_decode_flow_never_raises(flow: Flow) -> None:
    _bounded_decode(flow)


@given(protobuf_like() | st.binary(max_size=300), st.booleans())
def test_protobuf_parse(data: bytes, strict: bool) -> None:
    result = protobuf.parse(data, strict=strict)
    assert result is None or isinstance(result, dict)


@given(compressed(), st.sampled_from(["gzip", "zlib", "deflate", "br", "zstd"]))
def test_decompress_is_capped(pair: tuple[bytes, str], name: str) -> None:
    data, _ = pair
    cap = 4096
    out = compress.decompress(name, data, cap)
    assert out is None or len(out.data) <= cap
    compress.sniff(data)
    compress.maybe_raw_deflate(data)


def test_decompression_bomb_is_capped() -> None:
    import gzip

    bomb = gzip.compress(b"\0" * (64 * 1024 * 1024))
    out = compress.decompress("gzip", bomb, 1 << 20)
    assert out is not None and len(out.data) <= 1 << 20


@given(texty | st.binary(max_size=200).map(lambda b: b.decode("latin-1")))
def test_string_sniffers(s: str) -> None:
    # the documented ways parse_json refuses; its callers report them
    with contextlib.suppress(ValueError, RecursionError, sniff.JsonTooLarge):
        sniff.parse_json(s)
    assert sniff.jwt(s) is None or isinstance(sniff.jwt(s), dict)
    if sniff.b64_candidate(s):
        sniff.b64decode(s)
    sniff.looks_like_form(s)
    list(sniff.iter_pairs(s))
    sniff.split_url(s)
    if sniff.looks_graphql(s):
        list(sniff.graphql_literals(s))
    sniff.is_texty(s)


@given(st.text(max_size=120), st.booleans())
def test_url_parts(query: str, inner: bool) -> None:
    url_parts("https://h.example/p?" + query, inner=inner)
    url_parts(query, inner=inner)


@given(st.text(max_size=80), payloads)
def test_content_type_and_charset(value: str, data: bytes) -> None:
    _, params = content_type(value)
    text_of(data, params)
