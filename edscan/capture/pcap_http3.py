"""HTTP/3 exchanges rebuilt from the decrypted QUIC STREAM frames tshark prints.

tshark 4.0 decrypts QUIC with the key log, but its HTTP/3 dissector does not decode QPACK header
blocks: it prints each frame's type, length and payload only. Decoding them needs the QPACK
encoder streams' bytes in order as well, which its HTTP/3 fields do not give. So edscan asks for
the STREAM frames themselves (``quic.frame_type``, ``quic.stream.stream_id``,
``quic.stream.offset``, ``quic.stream_data``), puts each stream's bytes back in order by offset,
reads the HTTP/3 frames of each request stream (RFC 9114 section 7) and decodes their header
blocks with pylsqpack as they arrive, fed each side's QPACK encoder stream and the decoding
side's SETTINGS (RFC 9204), so that references to the dynamic table decode.

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


def varint(data: bytes | bytearray, pos: int) -> tuple[int, int]:
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


def frames(data: bytes | bytearray) -> list[Frame]:
    """The HTTP/3 frames of a stream's bytes; the last one may be cut short (its payload)."""
    out: list[Frame] = []
    pos = 0
    while pos < len(data):
        try:
            kind, at = varint(data, pos)
            length, at = varint(data, at)
        except CaptureError:
            break  # the stream was cut inside a frame's type or length
        out.append(Frame(kind, length, bytes(data[at : at + length])))
        pos = at + length
    return out


def settings(payload: bytes) -> dict[int, int]:
    out: dict[int, int] = {}
    pos = 0
    while pos < len(payload):
        key, pos = varint(payload, pos)
        value, pos = varint(payload, pos)
        out[key] = value
    return out


def _text(headers: list[tuple[bytes, bytes]]) -> list[tuple[str, str]]:
    return [(k.decode("utf-8", "replace"), v.decode("utf-8", "replace")) for k, v in headers]


class Qpack:
    """The QPACK decoder for the header blocks one side sends, fed that side's encoder stream.

    Blocks are decoded as they arrive, in capture order, with the encoder stream as far as it
    had come: that is the table the sender meant, before later inserts evict the entries a
    block refers to. A block that refers to entries not yet seen waits for them (``waiting``).
    """

    def __init__(self) -> None:
        self.decoder: pylsqpack.Decoder | None = None
        self.pending = bytearray()  # encoder stream bytes seen before the decoder's limits
        self.waiting: dict[int, MessageReader] = {}
        self.error: str | None = None

    def start(self, peer_settings: dict[int, int]) -> None:
        """Make the decoder with the limits the decoding side announced (the sender used them)."""
        if self.decoder is not None:
            return
        # within what pylsqpack accepts; a hostile capture may announce any number
        capacity = min(peer_settings.get(QPACK_MAX_TABLE_CAPACITY, 0), 1 << 30)
        blocked = min(peer_settings.get(QPACK_BLOCKED_STREAMS, 0), 1 << 16)
        self.decoder = pylsqpack.Decoder(capacity, blocked)
        pending, self.pending = bytes(self.pending), bytearray()
        self.feed_encoder(pending)

    def feed_encoder(self, data: bytes) -> None:
        if not data or self.error is not None:
            return
        if self.decoder is None:
            if len(self.pending) + len(data) <= MAX_STREAM_BYTES:
                self.pending += data
            return
        try:
            unblocked = self.decoder.feed_encoder(data)
        except (*_QPACK_ERRORS, ValueError, OverflowError) as e:
            self.error = f"HTTP/3: QPACK encoder stream unreadable ({type(e).__name__})"
            return
        for sid in unblocked:
            reader = self.waiting.pop(sid, None)
            if reader is not None:
                reader.resume(self)

    def header(self, stream_id: int, block: bytes) -> list[tuple[str, str]] | None:
        """The headers of ``block``; None while it waits for table entries."""
        if self.error is not None:
            raise CaptureError(self.error)
        # before the decoding side's SETTINGS, the sender may not use the dynamic table: a
        # decoder without one reads the block (and fails on a table reference, as it should)
        decoder = self.decoder or pylsqpack.Decoder(0, 0)
        try:
            _, headers = decoder.feed_header(stream_id, block)
        except pylsqpack.StreamBlocked:
            if self.decoder is None:
                raise CaptureError(
                    "HTTP/3: a header block refers to a table not announced"
                ) from None
            return None
        except (*_QPACK_ERRORS, ValueError, OverflowError) as e:
            raise CaptureError(f"HTTP/3: header block unreadable ({type(e).__name__})") from e
        return _text(headers)

    def resume(self, stream_id: int) -> list[tuple[str, str]]:
        assert self.decoder is not None
        try:
            _, headers = self.decoder.resume_header(stream_id)
        except (*_QPACK_ERRORS, ValueError, OverflowError) as e:
            raise CaptureError(f"HTTP/3: header block unreadable ({type(e).__name__})") from e
        return _text(headers)


@dataclass(slots=True)
class Message:
    headers: list[tuple[str, str]]
    body: bytes
    body_size: int  # the declared DATA lengths: more than len(body) when the stream was cut
    trailers: list[tuple[str, str]] = field(default_factory=list)


class MessageReader:
    """One direction of a request stream: its bytes, and its header blocks decoded as they
    became whole."""

    def __init__(self, stream_id: int) -> None:
        self.stream_id = stream_id
        self.stream = Reassembly()
        self.pos = 0  # where the next frame not yet looked at starts
        self.blocks: list[list[tuple[str, str]]] = []
        self.blocked = False
        self.error: str | None = None

    def advance(self, qpack: Qpack) -> None:
        """Decode the header blocks that are now whole (DATA frames are read at the end)."""
        data = self.stream.data
        while not self.blocked and self.error is None:
            try:
                kind, at = varint(data, self.pos)
                length, at = varint(data, at)
            except CaptureError:
                return  # the frame's start has not come yet
            if at + length > len(data):
                return
            self.pos = at + length
            if kind != HEADERS:
                continue
            try:
                headers = qpack.header(self.stream_id, bytes(data[at : at + length]))
            except CaptureError as e:
                self.error = str(e)
                return
            if headers is None:
                self.blocked = True
                qpack.waiting[self.stream_id] = self
            else:
                self.blocks.append(headers)

    def resume(self, qpack: Qpack) -> None:
        self.blocked = False
        try:
            self.blocks.append(qpack.resume(self.stream_id))
        except CaptureError as e:
            self.error = str(e)
            return
        self.advance(qpack)

    def message(self) -> Message:
        """The message as far as the capture holds it; CaptureError if it has no headers."""
        if self.error is not None:
            raise CaptureError(self.error)
        blocks = iter(self.blocks)
        headers: list[tuple[str, str]] | None = None
        trailers: list[tuple[str, str]] = []
        body = bytearray()
        size = 0
        for frame in frames(self.stream.data):
            if frame.type == HEADERS:
                block = next(blocks, None)
                if block is None:
                    break  # cut at the cap, or waiting for table entries the capture lacks
                if headers is None:
                    headers = block
                else:
                    trailers.extend(block)
            elif frame.type == DATA and headers is not None:
                body.extend(frame.payload)
                size += frame.length
            # other frame types (reserved, unknown) are ignored, as RFC 9114 section 9 asks
        if headers is None:
            if self.blocked:
                raise CaptureError("HTTP/3: a header block refers to QPACK entries not captured")
            raise CaptureError("HTTP/3: a request stream without a header block")
        return Message(headers=headers, body=bytes(body), body_size=size, trailers=trailers)


def read_message(
    data: bytes,
    stream_id: int,
    qpack: Qpack,
    *,
    encoder: bytes = b"",
    peer_settings: dict[int, int] | None = None,
) -> Message:
    """One whole request or response, after ``encoder`` (more of the sender's encoder stream)."""
    qpack.start(peer_settings or {})
    qpack.feed_encoder(encoder)
    reader = MessageReader(stream_id)
    reader.stream.add(0, data, True)
    reader.advance(qpack)
    return reader.message()


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


def _after_type(stream: Reassembly, kind: int) -> int | None:
    """Where a unidirectional stream's content starts, when its type (its first varint) is
    ``kind``; None for another type, or a type not yet seen."""
    try:
        found, at = varint(stream.data, 0)
    except CaptureError:
        return None
    return at if found == kind else None


class _Side:
    """What one endpoint sent on its unidirectional streams, and the decoder of its headers."""

    def __init__(self) -> None:
        self.uni: dict[int, Reassembly] = {}
        self.qpack = Qpack()
        self.encoder: tuple[int, int] | None = None  # its encoder stream: id, bytes fed
        self._settings: dict[int, int] | None = None

    def receive(self, sid: int, offset: int, data: bytes, fin: bool) -> None:
        stream = self.uni.setdefault(sid, Reassembly())
        stream.add(offset, data, fin)
        if self.encoder is None:
            at = _after_type(stream, ENCODER_STREAM)
            if at is None:
                return
            self.encoder = (sid, at)
        enc_id, fed = self.encoder
        if enc_id == sid and len(stream.data) > fed:
            self.encoder = (sid, len(stream.data))
            self.qpack.feed_encoder(bytes(stream.data[fed:]))

    def settings(self) -> dict[int, int] | None:
        """The SETTINGS this side announced (the first frame of its control stream); None
        until the capture has shown them."""
        if self._settings is not None:
            return self._settings
        for stream in self.uni.values():
            at = _after_type(stream, CONTROL_STREAM)
            if at is None:
                continue
            first = frames(stream.data[at:])[:1]
            if first and len(first[0].payload) == first[0].length:
                try:
                    found = settings(first[0].payload) if first[0].type == SETTINGS else {}
                except CaptureError:
                    found = {}
                self._settings = found
                return found
        return None


@dataclass(slots=True)
class _Request:
    frame: int
    time: float
    request: MessageReader
    response: MessageReader


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
                    self.sides[from_client].receive(sf.stream_id, sf.offset, sf.data, sf.fin)
                continue
            if sf.stream_id & 0x1:
                continue  # a bidirectional stream the server opened: not a request (RFC 9114 6.1)
            req = self.open.get(sf.stream_id)
            if req is None:
                if not from_client:
                    continue  # the answer to a request the capture does not hold
                req = self.open[sf.stream_id] = _Request(
                    frame, time, MessageReader(sf.stream_id), MessageReader(sf.stream_id)
                )
            half = req.request if from_client else req.response
            half.stream.add(sf.offset, sf.data, sf.fin)
            qpack = self.sides[from_client].qpack
            peer = self.sides[not from_client].settings()
            if peer is not None:
                qpack.start(peer)
            half.advance(qpack)
            if not from_client and half.stream.done and sf.stream_id not in ended:
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
        out = [self._exchange(sid, req, end=None) for sid, req in left if req.request.stream.data]
        return [ex for ex in out if ex is not None]

    def _exchange(self, sid: int, req: _Request, *, end: float | None) -> Exchange | None:
        for side in self.sides.values():
            side.qpack.waiting.pop(sid, None)
        self.truncated += req.request.stream.truncated + req.response.stream.truncated
        try:
            request = req.request.message()
        except CaptureError:
            self.unread += 1
            return None
        ex = Exchange(stream_id=sid, frame=req.frame, time=req.time)
        ex.request_headers = request.headers + request.trailers
        ex.request_body.extend(request.body)
        ex.request_size = request.body_size
        ex.request_truncated = req.request.stream.truncated or request.body_size > len(request.body)
        if req.response.stream.data:
            try:
                response = req.response.message()
            except CaptureError:
                self.unread += 1
                return ex  # the request stands; its answer could not be read
            ex.response_headers = response.headers + response.trailers
            ex.response_body.extend(response.body)
            ex.response_size = response.body_size
            ex.response_truncated = req.response.stream.truncated or response.body_size > len(
                response.body
            )
            ex.end = end
        return ex
