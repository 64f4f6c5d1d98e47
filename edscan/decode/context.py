"""Hard limits and the per-flow emission context every decoder writes its fields through.

Captured traffic is hostile input: every limit here bounds time or memory. Hitting one adds a
message to ``Decoded.limits`` and decoding goes on with what it has; nothing is ever raised to
the caller (``FieldCap`` unwinds a walk internally and is caught in ``edscan.decode.flow``).
"""

from __future__ import annotations

from typing import AnyStr

MAX_BODY_BYTES = 16 << 20  # decompressed size of one body (or one decoded blob)
MAX_RATIO = 100  # decompressed:compressed, enforced once the output passes RATIO_FREE_BYTES
RATIO_FREE_BYTES = 1 << 20
MAX_FLOW_DECOMPRESSED = 64 << 20  # all decompression of one flow together
MAX_DEPTH = 64  # nesting inside one decoded structure (JSON, msgpack, protobuf)
MAX_LAYERS = 3  # a value decoded inside a value decoded inside a value
MAX_INBOUND_LAYERS = 1  # responses only feed derived ids: one layer (a JWT, JSON in a string)
MAX_FIELDS = 20_000  # outbound fields per flow
MAX_INBOUND_FIELDS = 5_000
MAX_VALUE_CHARS = 64 << 10  # characters kept of one value
MAX_TEXT_BODY_CHARS = 1 << 20  # characters kept of an undecodable text body
MAX_FLOW_CHARS = 32 << 20  # characters kept over all fields of one flow
MAX_INBOUND_BODY_BYTES = 4 << 20  # larger response bodies are not parsed
MAX_PARTS = 200_000  # pieces of one split (form pairs, lines, path segments, multipart parts)
MAX_MSGPACK_BYTES = 1 << 20  # MessagePack this large is not unpacked (1 byte per object)
MAX_WS_MESSAGES = 10_000  # WebSocket messages decoded per flow


class FieldCap(Exception):
    """Raised by ``Ctx.emit`` once the flow's field budget is spent; unwinds the current walk."""


# What decoders emit: one plain tuple per value, ``(location, key, value, encodings)``, in the
# order of ``edscan.models.Field``'s attributes. Building a frozen dataclass instance costs three
# times as much as a tuple, and decoding emits tens of values per flow at tens of thousands of
# flows per second; the detectors and signals read these rows directly, and ``Decoded.fields``
# turns them into Field objects only for callers that ask for them.
Row = tuple[str, str, str, tuple[str, ...]]


# Values up to this long may be emitted inline by the walkers' hot loops (``walk.py``,
# ``url.py``), which append the row themselves and skip the per-flow character budget: 20,000
# fields of 256 characters stay far below it.
INLINE_MAX_CHARS = 256


class Ctx:
    """Where one direction (outbound or inbound) of one flow's fields go, with its budgets."""

    __slots__ = (
        "budget",
        "chars",
        "hits",
        "inbound",
        "layers",
        "limits",
        "max_fields",
        "out",
        "seen",
    )

    def __init__(
        self,
        *,
        limits: list[str],
        seen: set[str],
        inbound: bool = False,
    ) -> None:
        self.out: list[Row] = []
        self.limits = limits  # shared by both directions of a flow
        self.seen = seen
        self.inbound = inbound
        self.max_fields = MAX_INBOUND_FIELDS if inbound else MAX_FIELDS
        self.layers = MAX_INBOUND_LAYERS if inbound else MAX_LAYERS
        self.chars = 0
        self.hits = 0  # limits hit, counted every time (``limits`` says each once)
        self.budget = MAX_FLOW_DECOMPRESSED  # bytes of decompression left (shared via decode)

    def limit(self, message: str) -> None:
        """Record that a limit was hit (once per message per flow)."""
        self.hits += 1
        if message not in self.seen:
            self.seen.add(message)
            self.limits.append(message)

    def emit(
        self,
        location: str,
        key: str,
        value: str,
        encodings: tuple[str, ...],
        max_chars: int = MAX_VALUE_CHARS,
    ) -> None:
        out = self.out
        n = len(value)
        chars = self.chars + n
        if n > max_chars or chars > MAX_FLOW_CHARS or len(out) >= self.max_fields:
            self._emit_capped(location, key, value, encodings, max_chars)
            return
        self.chars = chars
        out.append((location, key, value, encodings))

    def _emit_capped(
        self, location: str, key: str, value: str, encodings: tuple[str, ...], max_chars: int
    ) -> None:
        if len(self.out) >= self.max_fields:
            self.limit(
                f"{'inbound ' if self.inbound else ''}field cap ({self.max_fields} per flow) "
                "reached; later fields were dropped"
            )
            raise FieldCap
        if len(value) > max_chars:
            value = value[:max_chars]
            self.limit(f"value length cap ({max_chars} characters) hit; longer values were cut")
        self.chars += len(value)
        if self.chars > MAX_FLOW_CHARS:
            self.limit(f"text cap ({MAX_FLOW_CHARS} characters per flow) reached")
            raise FieldCap
        self.out.append((location, key, value, encodings))

    def split(self, s: AnyStr, sep: AnyStr) -> list[AnyStr]:
        """``s.split(sep)`` into at most ``MAX_PARTS`` pieces: a body of a million separators
        must not become a list of a million strings. The unsplit rest is dropped (reported)."""
        parts = s.split(sep, MAX_PARTS)
        if len(parts) > MAX_PARTS:
            parts.pop()
            self.limit(f"split cap ({MAX_PARTS} pieces) hit; the rest of a long value was skipped")
        return parts

    def decompress_cap(self, n_in: int, max_bytes: int = MAX_BODY_BYTES) -> int:
        """How many bytes a decompression of ``n_in`` input bytes may produce right now."""
        return max(0, min(max_bytes, max(RATIO_FREE_BYTES, MAX_RATIO * n_in), self.budget))
