"""HTTP/3 exchanges rebuilt from the decrypted QUIC STREAM frames tshark prints.

tshark 4.0 decrypts QUIC with the key log, but its HTTP/3 dissector does not decode QPACK header
blocks: it prints each frame's type, length and payload only. Decoding them needs the QPACK
encoder streams' bytes in order as well, which its HTTP/3 fields do not give. So edscan asks for
the STREAM frames themselves (``quic.frame_type``, ``quic.stream.stream_id``, ``quic.stream.offset``,
``quic.stream_data``), puts each stream's bytes back in order by offset, reads the HTTP/3 frames
of each request stream (RFC 9114 section 7) and decodes their header blocks with pylsqpack,
fed each side's QPACK encoder stream and the decoding side's SETTINGS (RFC 9204), so that
references to the dynamic table decode.

Every stream is capped at ``MAX_STREAM_BYTES``; what goes past it is dropped and the body marked
truncated. Damaged bytes never raise out of a connection: a message that cannot be read is
counted in ``Http3Connection.unread``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pylsqpack

from edscan.capture.pcap_http2 import Exchange
from edscan.decode.context import MAX_BODY_BYTES
from edscan.errors import CaptureError

MAX_STREAM_BYTES = MAX_BODY_BYTES  # one QUIC stream's bytes kept, one direction
MAX_AHEAD = 4096  # out-of-order pieces waiting for the bytes before them, per stream

# HTTP/3 frame types (RFC 9114 section 7.2) and unidirectional stream types (6.2)
DATA = 0x0
HEADERS = 0x1
SETTINGS = 0x4
CONTROL_STREAM = 0x0
ENCODER_STREAM = 0x2
# SETTINGS identifiers of QPACK (RFC 9204 section 5)
QPACK_MAX_TABLE_CAPACITY = 0x1
QPACK_BLOCKED_STREAMS = 0x7

_QPACK_ERRORS = (
    pylsqpack.DecompressionFailed,
    pylsqpack.DecoderStreamError,
    pylsqpack.EncoderStreamError,
    pylsqpack.StreamBlocked,
)


def varint(data: bytes, pos: int) -> tuple[int, int]:
    """The QUIC variable-length integer at ``pos`` (RFC 9000 section 16), and the next pos."""
    if pos >= len(data):
        raise CaptureError("HTTP/3: cut short inside a number")
    first = data[pos]
    size = 1 << (first >> 6)
    if pos + size > len(data):
        raise CaptureError("HTTP/3: cut short inside a number")
    value = first & 0x3F
    for b in data[pos + 1 : pos + size]:
        value = (value << 8) | b
    return value, pos + size


@dataclass(slots=True)
class Frame:
    type: int
    length: int  # as declared; ``payload`` is shorter when the stream was cut
    payload: bytes


def frames(data: bytes) -> list[Frame]:
    """The HTTP/3 frames of a stream's bytes; the last one may be cut short."""
    out: list[Frame] = []
    pos = 0
    while pos < len(data):
        kind, pos = varint(data, pos)
        length, pos = varint(data, pos)
        out.append(Frame(kind, length, data[pos : pos + length]))
        pos += length
    return out


def settings(payload: bytes) -> dict[int, int]:
    out: dict[int, int] = {}
    pos = 0
    while pos < len(payload):
        key, pos = varint(payload, pos)
        value, pos = varint(payload, pos)
        out[key] = value
    return out


class Qpack:
    """The QPACK decoder for the header blocks one side sends."""

    def __init__(self) -> None:
        self.decoder: pylsqpack.Decoder | None = None
        self.fed = 0

    def decode(
        self, stream_id: int, block: bytes, *, encoder: bytes, peer_settings: dict[int, int]
    ) -> list[tuple[str, str]]:
        """Decode ``block``; ``encoder`` is the sender's encoder stream since the last call
        (fed first, so the block's table references resolve), ``peer_settings`` what the
        decoding side announced (the table size the sender used)."""
        try:
            if self.decoder is None:
                # the limits pylsqpack accepts; a hostile capture may announce any number
                capacity = min(peer_settings.get(QPACK_MAX_TABLE_CAPACITY, 0), 1 << 30)
                blocked = min(peer_settings.get(QPACK_BLOCKED_STREAMS, 0), 1 << 16)
                self.decoder = pylsqpack.Decoder(capacity, blocked)
            if encoder:
                self.fed += len(encoder)
                self.decoder.feed_encoder(encoder)
            _, headers = self.decoder.feed_header(stream_id, block)
        except _QPACK_ERRORS as e:
            raise CaptureError(f"HTTP/3: header block unreadable ({type(e).__name__})") from e
        except (ValueError, OverflowError) as e:
            raise CaptureError(f"HTTP/3: header block unreadable ({e})") from e
        return [(k.decode("utf-8", "replace"), v.decode("utf-8", "replace")) for k, v in headers]


@dataclass(slots=True)
class Message:
    headers: list[tuple[str, str]]
    body: bytes
    body_size: int  # the declared DATA lengths: more than len(body) when the stream was cut
    trailers: list[tuple[str, str]] = field(default_factory=list)


def read_message(
    data: bytes,
    stream_id: int,
    qpack: Qpack,
    *,
    encoder: bytes = b"",
    peer_settings: dict[int, int] | None = None,
) -> Message:
    """One request or response: the frames of one direction of a request stream."""
    headers: list[tuple[str, str]] | None = None
    trailers: list[tuple[str, str]] = []
    body = bytearray()
    size = 0
    for frame in frames(data):
        if frame.type == HEADERS:
            if len(frame.payload) < frame.length:
                break  # cut at the cap: the block cannot be decoded
            block = qpack.decode(
                stream_id, frame.payload, encoder=encoder, peer_settings=peer_settings or {}
            )
            if headers is None:
                headers = block
            else:
                trailers.extend(block)
        elif frame.type == DATA and headers is not None:
            body.extend(frame.payload)
            size += frame.length
        # other frame types (reserved, unknown) are ignored, as RFC 9114 section 9 asks
    if headers is None:
        raise CaptureError("HTTP/3: a request stream without a header block")
    return Message(headers=headers, body=bytes(body), body_size=size, trailers=trailers)


class Reassembly:
    """One direction of one QUIC stream, its bytes put in order by offset."""

    __slots__ = ("ahead", "ahead_bytes", "data", "final", "truncated")

    def __init__(self) -> None:
        self.data = bytearray()
        self.ahead: dict[int, bytes] = {}
        self.ahead_bytes = 0
        self.final: int | None = None  # the stream's length, once its FIN was seen
        self.truncated = False

    def add(self, offset: int, chunk: bytes, fin: bool) -> None:
        if fin:
            self.final = offset + len(chunk)
        if offset + len(chunk) > MAX_STREAM_BYTES:
            self.truncated = True
            chunk = chunk[: max(0, MAX_STREAM_BYTES - offset)]
        if not chunk:
            return
        if offset <= len(self.data):
            self.data += chunk[len(self.data) - offset :]
            self._drain()
        elif len(self.ahead) < MAX_AHEAD and self.ahead_bytes + len(chunk) <= MAX_STREAM_BYTES:
            if len(chunk) > len(self.ahead.get(offset, b"")):
                self.ahead_bytes += len(chunk) - len(self.ahead.get(offset, b""))
                self.ahead[offset] = chunk
        else:
            self.truncated = True

    def _drain(self) -> None:
        for offset in sorted(self.ahead):
            if offset > len(self.data):
                break
            chunk = self.ahead.pop(offset)
            self.ahead_bytes -= len(chunk)
            self.data += chunk[len(self.data) - offset :]

    @property
    def done(self) -> bool:
        return self.final is not None and (self.truncated or len(self.data) >= self.final)


@dataclass(slots=True)
class _Side:
    """What one endpoint sent on its unidirectional streams."""

    uni: dict[int, Reassembly] = field(default_factory=dict)
    qpack: Qpack = field(default_factory=Qpack)

    def stream_of_type(self, kind: int, skip: int = 0) -> bytes:
        """The bytes after the type of the sender's stream of type ``kind``, from ``skip`` on."""
        for r in self.uni.values():
            try:
                found, pos = varint(bytes(r.data[:8]), 0)
            except CaptureError:
                continue
            if found == kind:
                return bytes(r.data[pos + skip :])
        return b""

    def settings(self) -> dict[int, int]:
        try:
            for frame in frames(self.stream_of_type(CONTROL_STREAM)):
                if frame.type == SETTINGS:
                    return settings(frame.payload)
        except CaptureError:
            pass  # a control stream cut short after its SETTINGS
        return {}


@dataclass(slots=True)
class _Request:
    frame: int
    time: float
    request: Reassembly = field(default_factory=Reassembly)
    response: Reassembly = field(default_factory=Reassembly)


def _int(text: str) -> int | None:
    try:
        value = int(text, 0)
    except ValueError:
        return None
    return value if value >= 0 else None


def _hex(text: str) -> bytes:
    try:
        return bytes.fromhex(text.replace(":", ""))
    except ValueError:
        return b""


@dataclass(slots=True)
class _StreamFrame:
    stream_id: int
    offset: int
    data: bytes
    fin: bool


def stream_frames(p: dict[str, list[str]]) -> list[_StreamFrame]:
    """The STREAM frames (types 0x08-0x0f, RFC 9000 section 19.8) of one packet's record.

    tshark lists every frame's type, but the offset only of frames with the OFF bit and the
    length only of those with the LEN bit: the type's bits say which entry belongs to which.
    """
    types = [t for t in (_int(x) for x in p.get("quic_frame_type") or ()) if t is not None]
    kinds = [t for t in types if 0x08 <= t <= 0x0F]
    ids = p.get("quic_stream_stream_id") or []
    offsets = p.get("quic_stream_offset") or []
    lengths = p.get("quic_stream_length") or []
    payloads = p.get("quic_stream_data") or []
    # an empty STREAM frame (a bare FIN) may print no data: then data goes to the non-empty ones
    one_each = len(payloads) == len(kinds)
    out: list[_StreamFrame] = []
    for kind, sid_text in zip(kinds, ids, strict=False):
        offset = _int(offsets.pop(0)) if kind & 0x04 and offsets else 0
        length = _int(lengths.pop(0)) if kind & 0x02 and lengths else None
        data = b""
        if payloads and (one_each or length != 0):
            data = _hex(payloads.pop(0))
        sid = _int(sid_text)
        if sid is None or offset is None:
            continue
        out.append(_StreamFrame(sid, offset, data, bool(kind & 0x01)))
    return out


class Http3Connection:
    """The HTTP/3 streams of one QUIC connection, fed one decrypted packet at a time."""

    def __init__(self) -> None:
        self.open: dict[int, _Request] = {}
        self.sides = {True: _Side(), False: _Side()}  # by from_client
        self.unread = 0  # messages whose frames or header blocks could not be read
        self.truncated = 0  # streams cut at MAX_STREAM_BYTES

    def packet(
        self, p: dict[str, list[str]], *, from_client: bool, time: float, frame: int
    ) -> list[Exchange]:
        """Read one packet's STREAM frames; return the exchanges whose response just ended."""
        ended: list[int] = []
        for sf in stream_frames(p):
            if sf.stream_id & 0x2:  # unidirectional: control, QPACK encoder and decoder, push
                if bool(sf.stream_id & 0x1) != from_client:  # sent by the stream's initiator
                    side = self.sides[from_client]
                    side.uni.setdefault(sf.stream_id, Reassembly()).add(sf.offset, sf.data, sf.fin)
                continue
            if sf.stream_id & 0x1:
                continue  # a bidirectional stream the server opened: not a request (RFC 9114 6.1)
            req = self.open.get(sf.stream_id)
            if req is None:
                if not from_client:
                    continue  # the answer to a request the capture does not hold
                req = self.open[sf.stream_id] = _Request(frame=frame, time=time)
            half = req.request if from_client else req.response
            half.add(sf.offset, sf.data, sf.fin)
            if not from_client and half.done and sf.stream_id not in ended:
                ended.append(sf.stream_id)
        done: list[Exchange] = []
        for sid in sorted(ended):
            ex = self._exchange(sid, self.open.pop(sid), end=time)
            if ex is not None:
                done.append(ex)
        return done

    def rest(self) -> list[Exchange]:
        """The exchanges still open when the capture ended (no response, or cut short)."""
        left = sorted(self.open.items(), key=lambda kv: kv[1].frame)
        self.open.clear()
        out = [self._exchange(sid, req, end=None) for sid, req in left if req.request.data]
        return [ex for ex in out if ex is not None]

    def _message(self, sid: int, half: Reassembly, *, from_client: bool) -> Message:
        sender = self.sides[from_client]
        return read_message(
            bytes(half.data),
            sid,
            sender.qpack,
            # only what the decoder has not had yet: a long connection is not copied per message
            encoder=sender.stream_of_type(ENCODER_STREAM, skip=sender.qpack.fed),
            peer_settings=self.sides[not from_client].settings(),
        )

    def _exchange(self, sid: int, req: _Request, *, end: float | None) -> Exchange | None:
        self.truncated += req.request.truncated + req.response.truncated
        try:
            request = self._message(sid, req.request, from_client=True)
        except CaptureError:
            self.unread += 1
            return None
        ex = Exchange(stream_id=sid, frame=req.frame, time=req.time)
        ex.request_headers = request.headers + request.trailers
        ex.request_body.extend(request.body)
        ex.request_size = request.body_size
        ex.request_truncated = req.request.truncated or request.body_size > len(request.body)
        if req.response.data:
            try:
                response = self._message(sid, req.response, from_client=False)
            except CaptureError:
                self.unread += 1
                return ex  # the request stands; its answer could not be read
            ex.response_headers = response.headers + response.trailers
            ex.response_body.extend(response.body)
            ex.response_size = response.body_size
            ex.response_truncated = req.response.truncated or response.body_size > len(
                response.body
            )
            ex.end = end
        return ex
