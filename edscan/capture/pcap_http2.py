"""HTTP/2 exchanges rebuilt from tshark's per-packet HTTP/2 fields.

tshark prints, for each packet, one entry per HTTP/2 frame in ``http2.streamid``, ``http2.type``,
``http2.length`` and ``http2.flags``, but the header names and values of all the
frames in one flat list, and the DATA payloads in another. The frames are put back together
here: every header block starts with its pseudo-headers (``:method`` for a request, ``:status``
for a response, RFC 9113 section 8.3), so the flat list splits at them, one block per HEADERS
frame; the payloads go to the DATA frames that carry bytes, in order.
"""

from __future__ import annotations

from dataclasses import dataclass, field

_DATA = "0"
_HEADERS = "1"


@dataclass(slots=True)
class Exchange:
    """One HTTP/2 or HTTP/3 stream: the request, and the response once it came."""

    stream_id: int
    frame: int
    time: float
    request_headers: list[tuple[str, str]] = field(default_factory=list)
    request_body: bytearray = field(default_factory=bytearray)
    response_headers: list[tuple[str, str]] | None = None
    response_body: bytearray = field(default_factory=bytearray)
    end: float | None = None
    # set where a body was cut (HTTP/3 streams are capped): the declared size, and the flag
    request_size: int | None = None
    response_size: int | None = None
    request_truncated: bool = False
    response_truncated: bool = False

    def pseudo(self, name: str, response: bool = False) -> str | None:
        headers = self.response_headers if response else self.request_headers
        return next((v for k, v in headers or () if k == name), None)


def _blocks(names: list[str], values: list[str]) -> list[list[tuple[str, str]]]:
    blocks: list[list[tuple[str, str]]] = []
    previous_pseudo = False
    for name, value in zip(names, values, strict=False):
        pseudo = name.startswith(":")
        if not blocks or (pseudo and not previous_pseudo):
            blocks.append([])
        blocks[-1].append((name, value))
        previous_pseudo = pseudo
    return blocks


def _int(text: str) -> int:
    try:
        return int(text, 0)
    except ValueError:
        return 0


def _hex(data: str) -> bytes:
    try:
        return bytes.fromhex(data.replace(":", ""))
    except ValueError:
        return data.encode("utf-8", "surrogateescape")


class Http2Connection:
    """The HTTP/2 streams of one TCP connection, fed one packet at a time."""

    def __init__(self) -> None:
        self.open: dict[int, Exchange] = {}

    def packet(
        self, p: dict[str, list[str]], *, from_client: bool, time: float, frame: int
    ) -> list[Exchange]:
        """Read one packet's frames; return the exchanges whose response just ended."""
        ids = p.get("http2_streamid") or []
        types = p.get("http2_type") or []
        lengths = p.get("http2_length") or []
        # one flags byte per frame (the named flag fields appear only on some frames, unaligned);
        # END_STREAM is bit 0x1 on HEADERS and DATA frames
        flags = p.get("http2_flags") or []
        blocks = _blocks(p.get("http2_header_name") or [], p.get("http2_header_value") or [])
        payloads = p.get("http2_data_data") or []
        done: list[Exchange] = []
        for i, (sid_text, kind) in enumerate(zip(ids, types, strict=False)):
            try:
                sid = int(sid_text)
            except ValueError:
                continue
            if sid == 0 or kind not in (_DATA, _HEADERS):
                continue
            if kind == _HEADERS:
                block = blocks.pop(0) if blocks else []
                ex = self.open.get(sid)
                if from_client and ex is None:
                    ex = self.open[sid] = Exchange(stream_id=sid, frame=frame, time=time)
                if ex is None:
                    continue  # a response to a request the capture does not hold
                if from_client:
                    ex.request_headers.extend(block)  # the request, or its trailers
                elif ex.response_headers is None:
                    ex.response_headers = block
                else:
                    ex.response_headers.extend(block)  # trailers
            else:
                length = int(lengths[i]) if i < len(lengths) and lengths[i].isdigit() else 0
                chunk = _hex(payloads.pop(0)) if length and payloads else b""
                ex = self.open.get(sid)
                if ex is None:
                    continue
                (ex.request_body if from_client else ex.response_body).extend(chunk)
            ended = i < len(flags) and _int(flags[i]) & 0x1 == 0x1
            ex = self.open.get(sid)
            if ended and not from_client and ex is not None:
                ex.end = time
                done.append(self.open.pop(sid))
        return done

    def rest(self) -> list[Exchange]:
        """The exchanges still open when the capture ended (no response, or cut short)."""
        left = sorted(self.open.values(), key=lambda e: e.frame)
        self.open.clear()
        return left
