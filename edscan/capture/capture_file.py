"""The capture file format (``*.edscan.jsonl``): write, read, validate.

A header line, then one JSON object per flow, one line each. Writers flush after every flow so
a recording cut by ``kill -9`` loses at most the flow being written; readers report and skip a
torn line. Files are created readable by the owner only: they hold children's data.
"""

from __future__ import annotations

import binascii
import dataclasses
import io
import json
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import orjson

from edscan import __version__
from edscan.errors import CaptureError
from edscan.models import Body, Flow, WebSocketMessage

FORMAT_NAME = "edscan-capture"
# 1.1: optional "decoded" on bodies (HAR imports); 1.2: record lines, "cut_off";
# 1.3: optional settings.tls_check in the header (edscan capture --tls-check)
FORMAT_VERSION = "1.3"
SUFFIX = ".edscan.jsonl"


def open_private(path: str | os.PathLike[str], *, binary: bool = False) -> IO[Any]:
    """Create (or truncate) ``path`` for writing with mode 0600, never through a symlink."""
    from edscan.files import open_private_stream

    fh = open_private_stream(path)
    if binary:
        return fh
    return io.TextIOWrapper(fh, encoding="utf-8", newline="\n")


def make_header(settings: dict[str, Any] | None = None) -> dict[str, Any]:
    from mitmproxy.version import VERSION as mitmproxy_version

    return {
        "format": FORMAT_NAME,
        "version": FORMAT_VERSION,
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "edscan": __version__,
        "mitmproxy": mitmproxy_version,
        "settings": settings or {},
    }


class CaptureWriter:
    """Appends flows to a capture file, one flushed line each.

    Lines are serialised with orjson (compact, UTF-8, like ``json.dumps(ensure_ascii=False)``):
    escaping a large body is most of what recording a flow costs, and orjson does it ~30x
    faster, which keeps the live recorder off the proxy's hot path. A string that is not valid
    UTF-8 (a lone surrogate) raises ``TypeError`` before anything is written.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        settings: dict[str, Any] | None = None,
        *,
        file: IO[bytes] | None = None,
    ):
        # file: an already open file to write into (``edscan.files.atomic_writer`` for a
        # converted capture, renamed into place when complete); closing it is then the caller's
        self.path = Path(path)
        self._owned = file is None
        self._file = open_private(self.path, binary=True) if file is None else file
        self.flows = 0
        self._write_line(make_header(settings))

    def _write_line(self, obj: dict[str, Any]) -> None:
        self._file.write(orjson.dumps(obj, option=orjson.OPT_APPEND_NEWLINE))
        self._file.flush()

    def write(self, flow: Flow) -> None:
        self.write_record(flow.to_dict())

    def write_record(self, record: dict[str, Any]) -> None:
        """Append one flow already in the capture's shape (what ``Flow.to_dict`` gives).

        The live recorder's path: it builds the record straight from the mitmproxy flow.
        """
        # _write_line inlined: one call less on the proxy's hot path
        self._file.write(orjson.dumps(record, option=orjson.OPT_APPEND_NEWLINE))
        self._file.flush()
        self.flows += 1

    def close(self) -> None:
        if self._owned:
            self._file.close()
        else:
            self._file.flush()

    def __enter__(self) -> CaptureWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# --------------------------------------------------------------------------- reading


# Reading is on the path of every scan: these functions avoid per-field overhead (bound
# dict.get, map(tuple) for header pairs, binascii for base64) and, with orjson parsing the
# lines, keep reading a capture about as fast as a bare json.loads loop over its lines
# (benchmarks/read_capture.py).
#
# Flow and Body are frozen dataclasses, whose __init__ sets each of Flow's 22 slots through
# object.__setattr__: more than half of what building a Flow from a parsed line costs. The
# slot descriptors set them directly at less than half the price. This shortcut is used only
# while the classes have exactly the fields it sets (``_FAST``); otherwise the ordinary
# constructors run (tests/test_capture.py checks that the shortcut is in use and that both
# build equal objects).

_FLOW_FIELDS = (
    "index",
    "id",
    "method",
    "url",
    "scheme",
    "http_version",
    "request_start",
    "response_end",
    "client_address",
    "server_address",
    "sni",
    "tls_version",
    "tls_intercepted",
    "request_headers",
    "request_body",
    "status",
    "reason",
    "response_headers",
    "response_body",
    "error",
    "websocket",
    "phase",
    "cut_off",
)
_BODY_FIELDS = ("content", "size", "truncated", "decoded")
_FAST = (
    tuple(f.name for f in dataclasses.fields(Flow)) == _FLOW_FIELDS
    and tuple(f.name for f in dataclasses.fields(Body)) == _BODY_FIELDS
)
_new = object.__new__


def _setter(cls: type, name: str) -> Callable[[object, object], None]:
    setter: Callable[[object, object], None] = cls.__dict__[name].__set__
    return setter


(
    _f_index,
    _f_id,
    _f_method,
    _f_url,
    _f_scheme,
    _f_http_version,
    _f_request_start,
    _f_response_end,
    _f_client_address,
    _f_server_address,
    _f_sni,
    _f_tls_version,
    _f_tls_intercepted,
    _f_request_headers,
    _f_request_body,
    _f_status,
    _f_reason,
    _f_response_headers,
    _f_response_body,
    _f_error,
    _f_websocket,
    _f_phase,
    _f_cut_off,
) = (_setter(Flow, n) for n in _FLOW_FIELDS)
_b_content, _b_size, _b_truncated, _b_decoded = (_setter(Body, n) for n in _BODY_FIELDS)


def _body(d: dict[str, Any] | None) -> Body | None:
    if d is None:
        return None
    data = d["data"]
    content = binascii.a2b_base64(data) if d["encoding"] == "base64" else data.encode("utf-8")
    get = d.get
    if not _FAST:
        return Body(
            content=content,
            size=get("size", len(content)),
            truncated=get("truncated", False),
            decoded=get("decoded", False),
        )
    b: Body = _new(Body)
    _b_content(b, content)
    _b_size(b, get("size", len(content)))
    _b_truncated(b, get("truncated", False))
    _b_decoded(b, get("decoded", False))
    return b


def _address(v: list[Any] | None) -> tuple[str, int] | None:
    return (str(v[0]), int(v[1])) if v else None


def _websocket(messages: list[dict[str, Any]]) -> tuple[WebSocketMessage, ...]:
    return tuple(
        WebSocketMessage(
            from_client=m["from_client"],
            timestamp=m.get("time"),
            is_text=m.get("type") == "text",
            content=binascii.a2b_base64(m["data"])
            if m.get("encoding") == "base64"
            else m["data"].encode("utf-8"),
        )
        for m in messages
    )


def flow_from_dict(d: dict[str, Any]) -> Flow:
    """A Flow from one capture line (the inverse of ``Flow.to_dict``)."""
    if not isinstance(d, dict):  # a line of valid JSON that is not an object (null, 3, [])
        raise TypeError(f"a flow line is a JSON object, not {type(d).__name__}")
    get = d.get
    tls = get("tls") or {}
    ws = get("websocket")
    request_headers = get("request_headers")
    response_headers = get("response_headers")
    if not _FAST:
        return Flow(
            index=d["index"],
            id=d["id"],
            request_start=get("request_start"),
            response_end=get("response_end"),
            client_address=_address(get("client_address")),
            server_address=_address(get("server_address")),
            sni=get("sni"),
            tls_version=tls.get("version"),
            tls_intercepted=tls.get("intercepted"),
            scheme=get("scheme", ""),
            method=d["method"],
            url=d["url"],
            http_version=get("http_version", ""),
            request_headers=tuple(map(tuple, request_headers)) if request_headers else (),
            request_body=_body(get("request_body")),
            status=get("status"),
            reason=get("reason"),
            response_headers=tuple(map(tuple, response_headers)) if response_headers else (),
            response_body=_body(get("response_body")),
            error=get("error"),
            websocket=_websocket(ws) if ws else (),
            phase=get("phase"),
            cut_off=get("cut_off"),
        )
    f: Flow = _new(Flow)
    # the required keys first: a line without them raises KeyError before any other work
    _f_index(f, d["index"])
    _f_id(f, d["id"])
    _f_method(f, d["method"])
    _f_url(f, d["url"])
    _f_scheme(f, get("scheme", ""))
    _f_http_version(f, get("http_version", ""))
    _f_request_start(f, get("request_start"))
    _f_response_end(f, get("response_end"))
    address = get("client_address")
    _f_client_address(f, _address(address) if address else None)
    address = get("server_address")
    _f_server_address(f, _address(address) if address else None)
    _f_sni(f, get("sni"))
    _f_tls_version(f, tls.get("version"))
    _f_tls_intercepted(f, tls.get("intercepted"))
    _f_request_headers(f, tuple(map(tuple, request_headers)) if request_headers else ())
    _f_request_body(f, _body(get("request_body")))
    _f_status(f, get("status"))
    _f_reason(f, get("reason"))
    _f_response_headers(f, tuple(map(tuple, response_headers)) if response_headers else ())
    _f_response_body(f, _body(get("response_body")))
    _f_error(f, get("error"))
    _f_websocket(f, _websocket(ws) if ws else ())
    _f_phase(f, get("phase"))
    _f_cut_off(f, get("cut_off"))
    return f


def append_record(path: str | os.PathLike[str], record: dict[str, Any]) -> None:
    """Append one non-flow record (a line with a ``record`` key, e.g. ``browser_storage``).

    Records other than flows are additive: readers collect them in ``CaptureReader.records``
    and never count them as flows.
    """
    with open(path, "ab") as f:
        f.write(orjson.dumps(record, option=orjson.OPT_APPEND_NEWLINE))


@dataclass
class CaptureReader:
    """Reads a capture lazily. Iterate for flows; ``warnings`` fills as lines are skipped."""

    path: Path
    header: dict[str, Any]
    warnings: list[str] = field(default_factory=list)
    records: list[dict[str, Any]] = field(default_factory=list)  # non-flow lines, once read

    def __iter__(self) -> Iterator[Flow]:
        with self.path.open("rb") as f:
            f.readline()  # the header, already validated
            lineno = 1
            loads = orjson.loads  # ~3x json.loads on lines that are mostly body text
            for raw in f:
                lineno += 1
                if raw.isspace():  # no copy, unlike strip(): lines hold whole bodies
                    continue
                try:
                    d = loads(raw)
                    if isinstance(d, dict) and "record" in d:  # not a flow (browser_storage)
                        self.records.append(d)
                        continue
                    yield flow_from_dict(d)
                # AttributeError: a value of the wrong JSON type where an object belongs
                except (ValueError, KeyError, TypeError, IndexError, AttributeError) as e:
                    torn = not raw.endswith(b"\n")
                    what = "torn last line (the recording was cut off)" if torn else "bad line"
                    self.warnings.append(f"{self.path.name}:{lineno}: skipped a {what}: {e}")


def parse_header(line: bytes, path: Path) -> dict[str, Any]:
    try:
        header = json.loads(line)
    except ValueError as e:
        raise CaptureError(f"{path}: not an edscan capture (bad header line: {e})") from e
    if not isinstance(header, dict) or header.get("format") != FORMAT_NAME:
        raise CaptureError(f"{path}: not an edscan capture (no '{FORMAT_NAME}' header)")
    version = str(header.get("version", ""))
    major = version.split(".", 1)[0]
    if major != FORMAT_VERSION.split(".", 1)[0]:
        raise CaptureError(
            f"{path}: capture format version {version or '?'} is not supported by this edscan "
            f"(reads {FORMAT_VERSION.split('.', 1)[0]}.x); upgrade edscan to read it"
        )
    return header


def read_capture(path: str | os.PathLike[str]) -> CaptureReader:
    """Open a capture for reading; raises CaptureError for anything that is not one."""
    p = Path(path)
    try:
        with p.open("rb") as f:
            first = f.readline()
    except IsADirectoryError as e:
        raise CaptureError(f"{p}: is a directory, not a capture file") from e
    except OSError as e:
        raise CaptureError(f"{p}: cannot read ({e.strerror})") from e
    if not first.strip():
        raise CaptureError(f"{p}: the file is empty")
    return CaptureReader(path=p, header=parse_header(first, p))
