"""Every input, one Flow model: edscan captures, HAR files and mitmproxy dumps.

``open_source(path)`` sniffs the file (whatever its name) and returns a ``Source``: iterate it
for Flows (streamed, one at a time, ``index`` counting from 0 in file order), then read
``warnings`` (lines or entries skipped, a cut-off file) and ``skipped`` (flows of other kinds,
e.g. ``{"tcp": 3}``). Anything that cannot be read raises ``CaptureError`` with one clear message.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

from edscan.capture.capture_file import FORMAT_NAME, read_capture
from edscan.errors import CaptureError
from edscan.models import Flow

# the first four bytes of a packet capture (read by edscan.capture.pcap_source)
PCAP_MAGICS = (
    b"\x0a\x0d\x0d\x0a",  # pcapng section header block
    b"\xd4\xc3\xb2\xa1",  # pcap, microseconds, little-endian
    b"\xa1\xb2\xc3\xd4",
    b"\x4d\x3c\xb2\xa1",  # pcap, nanoseconds
    b"\xa1\xb2\x3c\x4d",
)

FORMATS = ("edscan", "har", "mitm", "pcap")

# A mitmproxy dump is a series of tnetstrings: "<length>:<data><type>", the first a dict.
_TNETSTRING = re.compile(rb"\d{1,12}:")
_SNIFF_BYTES = 1 << 16


class Source(Protocol):
    path: Path
    format: str  # "edscan" | "har" | "mitm" | "pcap"
    warnings: list[str]
    skipped: dict[str, int]

    def __iter__(self) -> Iterator[Flow]: ...


class _EdscanSource:
    format = "edscan"

    def __init__(self, path: Path):
        self.path = path
        self._reader = read_capture(path)
        self.header = self._reader.header
        settings = self.header.get("settings")
        # recorded with edscan capture --tls-check (format 1.3): the device did not trust the CA
        self.tls_check = isinstance(settings, dict) and settings.get("tls_check") is True
        self.warnings = self._reader.warnings
        self.skipped: dict[str, int] = {}
        self.records = self._reader.records  # non-flow records (browser_storage), once read

    def __iter__(self) -> Iterator[Flow]:
        self.warnings.clear()  # each pass reports what it found, not what earlier passes did
        return iter(self._reader)


def _head(path: Path) -> bytes:
    try:
        with path.open("rb") as f:
            return f.read(_SNIFF_BYTES)
    except FileNotFoundError as e:
        raise CaptureError(f"{path}: no such file") from e
    except IsADirectoryError as e:
        raise CaptureError(f"{path}: is a directory, not a capture file") from e
    except OSError as e:
        raise CaptureError(f"{path}: cannot read ({e.strerror})") from e


def _json_first_line(head: bytes) -> tuple[object, bool]:
    """The first line parsed as JSON (or None), and whether more text follows it."""
    line, newline, rest = head.partition(b"\n")
    if not newline:
        return None, False
    try:
        return json.loads(line), bool(rest.strip())
    except ValueError:
        return None, bool(rest.strip())


def sniff(path: str | Path) -> str:
    """Which format ``path`` holds: "edscan", "har", "mitm" or "pcap" (by content, not name)."""
    p = Path(path)
    head = _head(p)
    if head[:4] in PCAP_MAGICS:
        return "pcap"
    text = head[3:] if head.startswith(b"\xef\xbb\xbf") else head
    text = text.lstrip()
    if not text:
        raise CaptureError(f"{p}: the file is empty")
    if text.startswith(b"{"):
        first, more = _json_first_line(text)
        if isinstance(first, dict):
            if "format" in first:
                return "edscan"  # the capture reader judges the header (name, version)
            if "log" not in first and more:
                raise CaptureError(
                    f"{p}: JSON lines but not an edscan capture (the first line has no "
                    "'format' header)"
                )
        elif first is None and f'"{FORMAT_NAME}"'.encode() in text[:200]:
            return "edscan"  # a header line cut short: the capture reader says so
        return "har"
    if text.startswith(b"["):
        return "har"  # JSON: the HAR reader explains what it is instead
    if len(head) >= 2 and head[0] == 0x78 and (head[0] << 8 | head[1]) % 31 == 0:
        return "har"  # zlib: mitmproxy's compressed HAR (.zhar)
    if _TNETSTRING.match(head):
        return "mitm"
    hint = ""
    if head.startswith(b"\x1f\x8b"):
        hint = " (it is gzip-compressed: decompress it first, e.g. with gunzip)"
    raise CaptureError(
        f"{p}: not a format edscan reads{hint}; expected an edscan capture (.edscan.jsonl), "
        "a HAR file (.har), a mitmproxy dump (.mitm) or a packet capture (.pcap, .pcapng)"
    )


def open_source(path: str | Path, *, tls_keylog: str | Path | None = None) -> Source:
    """Open any supported capture; raises CaptureError with a clear message otherwise.

    ``tls_keylog``: a TLS key log (SSLKEYLOGFILE format) for a packet capture's TLS; only packet
    captures have encrypted content, so it is refused for the other formats.
    """
    p = Path(path)
    kind = sniff(p)
    if kind == "pcap":
        from edscan.capture.pcap_source import PcapSource

        return PcapSource(p, tls_keylog=Path(tls_keylog) if tls_keylog else None)
    if tls_keylog is not None:
        raise CaptureError(
            f"{p}: --tls-keylog applies to packet captures (.pcap, .pcapng); this is a "
            f"{kind} file, whose content is already decrypted"
        )
    if kind == "edscan":
        return _EdscanSource(p)
    if kind == "har":
        from edscan.capture.har_source import HarSource

        return HarSource(p)
    from edscan.capture.mitm import MitmSource

    return MitmSource(p)
