"""Coverage-guided fuzzing with atheris, for runs longer than CI's property tests.

Not collected by pytest (the name does not start with ``test_``). One target per run::

    .venv/bin/pip install atheris
    .venv/bin/python tests/fuzz/atheris_harness.py decode -max_total_time=600 corpus-decode/
    .venv/bin/python tests/fuzz/atheris_harness.py har -max_total_time=600 corpus-har/

Targets: ``har``, ``mitm``, ``capture`` (the .edscan.jsonl capture format), ``pcap`` (a pcap or
pcapng file through the real tshark: slow, one process per input), ``tshark`` (lines of tshark's
``-T ek`` output, as the packet-capture reader reads them), ``decode`` (one flow's bodies,
content types and encodings through every decoder), ``protobuf``, ``decompress``. The
arguments after the target go to libFuzzer (``-max_total_time``, ``-rss_limit_mb``, a corpus
folder to keep what it finds). Anything raised that is not ``EdscanError`` is a crash: libFuzzer
saves the input as ``crash-*``; add it as a case to tests/fuzz so it stays fixed.
"""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

CONTENT_TYPES = (
    "application/json",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=b",
    "application/x-protobuf",
    "application/grpc",
    "application/msgpack",
    "text/plain; charset=utf-16",
    "text/html",
    "application/octet-stream",
)
ENCODINGS = ("", "gzip", "deflate", "br", "zstd", "gzip, br")
SUFFIXES = {"har": ".har", "mitm": ".mitm", "capture": ".edscan.jsonl", "pcap": ".pcapng"}


def _read_capture(suffix: str) -> Callable[[bytes], None]:
    from edscan.capture.source import open_source
    from edscan.decode.flow import decode_flow
    from edscan.errors import EdscanError

    folder = Path(tempfile.mkdtemp(prefix="edscan-atheris-"))
    path = folder / f"fuzz{suffix}"

    def one(data: bytes) -> None:
        path.write_bytes(data)
        try:
            for flow in open_source(path):
                decode_flow(flow)
        except EdscanError:
            pass  # edscan's own error: the clean end for hostile input

    return one


def _decode(fdp_class: Any) -> Callable[[bytes], None]:
    from edscan.decode.flow import decode_flow, rows_of
    from edscan.models import Body, Flow

    def one(data: bytes) -> None:
        fdp = fdp_class(data)
        ctype = CONTENT_TYPES[fdp.ConsumeIntInRange(0, len(CONTENT_TYPES) - 1)]
        enc = ENCODINGS[fdp.ConsumeIntInRange(0, len(ENCODINGS) - 1)]
        query = fdp.ConsumeUnicodeNoSurrogates(200).replace("#", "%23")
        header = fdp.ConsumeUnicodeNoSurrogates(60)
        req = fdp.ConsumeBytes(fdp.ConsumeIntInRange(0, 4096))
        resp = fdp.ConsumeBytes(fdp.remaining_bytes())
        headers: list[tuple[str, str]] = [("Content-Type", ctype), ("X-Fuzz", header)]
        if enc:
            headers.append(("Content-Encoding", enc))
        flow = Flow(
            index=0,
            id="fz",
            method="POST",
            url=f"https://api.example.com/v1/x?{query}",
            scheme="https",
            request_headers=tuple(headers),
            request_body=Body(content=req, size=len(req)),
            status=200,
            response_headers=tuple(headers),
            response_body=Body(content=resp, size=len(resp)),
        )
        rows_of(decode_flow(flow))

    return one


def _tshark_lines(data: bytes) -> None:
    from edscan.capture.pcap_source import PcapSource
    from edscan.capture.tshark import packet_record
    from edscan.decode.flow import decode_flow
    from edscan.errors import EdscanError

    records = [r for line in data.split(b"\n") if (r := packet_record(line)) is not None]
    try:
        for flow in PcapSource(Path("fuzz.pcapng")).flows(records):
            decode_flow(flow)
    except EdscanError:
        pass


def _protobuf(data: bytes) -> None:
    from edscan.decode import protobuf

    protobuf.parse(data, strict=False)
    protobuf.parse(data, strict=True)


def _decompress(data: bytes) -> None:
    from edscan.decode import compress

    for name in ("gzip", "zlib", "deflate", "br", "zstd"):
        out = compress.decompress(name, data, 1 << 20)
        assert out is None or len(out.data) <= 1 << 20, name
    compress.sniff(data)
    compress.maybe_raw_deflate(data)


def main() -> None:
    import atheris

    targets = ("har", "mitm", "capture", "pcap", "tshark", "decode", "protobuf", "decompress")
    if len(sys.argv) < 2 or sys.argv[1] not in targets:
        sys.exit(f"usage: atheris_harness.py {{{','.join(targets)}}} [libFuzzer options]")
    target = sys.argv.pop(1)
    with atheris.instrument_imports():
        import edscan.capture.source
        import edscan.decode.flow  # noqa: F401
    one: Callable[[bytes], None]
    if target in SUFFIXES:
        one = _read_capture(SUFFIXES[target])
    elif target == "decode":
        one = _decode(atheris.FuzzedDataProvider)
    elif target == "tshark":
        one = _tshark_lines
    else:
        one = _protobuf if target == "protobuf" else _decompress
    atheris.Setup(sys.argv, one)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
