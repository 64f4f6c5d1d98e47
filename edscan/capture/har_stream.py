"""Reading a large HAR as a stream: its entries one at a time, in flat memory.

A HAR is one JSON document; parsed whole, Python needs several times the file's size (a 197 MB
HAR peaked at 640 MB). Above ``STREAM_FROM_BYTES`` the file is read with ijson (its C backend,
yajl2_c) in two passes over the file, never holding more than one entry:

1. the head: ``log.creator`` and ``log.pages`` (small, and needed before the first entry, as
   pages name the phases; a HAR may list them after its entries). This pass reads every byte,
   so a HAR that is cut off or is not JSON fails here, before any flow is produced, as a
   whole read would;
2. the entries, each built as an object, handed on, and dropped.

Smaller HARs are read whole (``har_file.load_har``), with its more detailed messages. There is
no whole-file cap on a streamed HAR; the per-body caps apply to each entry as before.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from edscan.errors import CaptureError

# above this size a plain HAR is streamed (below it, a whole read is faster and says more)
STREAM_FROM_BYTES = 32 << 20


@dataclass(frozen=True, slots=True, kw_only=True)
class HarHead:
    """What a streamed HAR says before (or beside) its entries."""

    creator: Any = None
    pages: Any = None


def _open(path: Path) -> IO[bytes]:
    try:
        f = path.open("rb")
    except IsADirectoryError as e:
        raise CaptureError(f"{path}: is a directory, not a capture file") from e
    except OSError as e:
        raise CaptureError(f"{path}: cannot read ({e.strerror})") from e
    if f.read(3) != b"\xef\xbb\xbf":  # Fiddler and some Windows tools write a UTF-8 BOM
        f.seek(0)
    return f


def _json_error(path: Path, exc: Exception) -> CaptureError:
    # yajl's message is several lines with a caret drawing; its first line says enough
    said = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    if "premature eof" in said.lower() or "incomplete" in said.lower():
        return CaptureError(
            f"{path}: the JSON ends early (the file is truncated); export the HAR again"
        )
    return CaptureError(f"{path}: not valid JSON ({said}); expected a HAR file")


def read_head(path: Path) -> HarHead:
    """Pass 1: the creator and pages, and a check that the whole file is a HAR's JSON."""
    import ijson

    creator: Any = None
    pages: Any = None
    builder: Any = None
    target = ""
    first = True
    has_log = has_entries = False
    with _open(path) as f:
        try:
            for prefix, event, value in ijson.parse(f, use_float=True):
                if first:
                    first = False
                    if event != "start_map":
                        raise CaptureError(
                            f"{path}: JSON but not a HAR (the top level is not an object "
                            "with a 'log' key)"
                        )
                if builder is not None:
                    if prefix == target and event in ("end_map", "end_array"):
                        builder.event(event, value)
                        if target == "log.creator":
                            creator = builder.value
                        else:
                            pages = builder.value
                        builder = None
                    else:
                        builder.event(event, value)
                    continue
                if prefix == "log" and event == "start_map":
                    has_log = True
                elif prefix == "log.entries" and event == "start_array":
                    has_entries = True
                elif prefix in ("log.creator", "log.pages") and event in (
                    "start_map",
                    "start_array",
                ):
                    builder, target = ijson.ObjectBuilder(), prefix
                    builder.event(event, value)
        except ijson.JSONError as e:
            if first:
                raise CaptureError(f"{path}: the file is empty") from e
            raise _json_error(path, e) from e
    if first:
        raise CaptureError(f"{path}: the file is empty")
    if not has_log:
        raise CaptureError(f"{path}: JSON but not a HAR (no top-level 'log' object)")
    if not has_entries:
        raise CaptureError(f"{path}: not a valid HAR (the 'log' object has no 'entries' list)")
    return HarHead(creator=creator, pages=pages)


def iter_entries(path: Path) -> Iterator[Any]:
    """Pass 2: every entry of ``log.entries``, one object at a time."""
    import ijson

    with _open(path) as f:
        try:
            yield from ijson.items(f, "log.entries.item", use_float=True)
        except ijson.JSONError as e:  # the file changed since pass 1
            raise _json_error(path, e) from e


def should_stream(path: Path) -> bool:
    """A plain (not zlib-compressed) HAR larger than ``STREAM_FROM_BYTES``."""
    from edscan.capture.har_file import _is_zlib

    with contextlib.suppress(OSError):
        if path.is_file() and path.stat().st_size > STREAM_FROM_BYTES:
            with path.open("rb") as f:
                return not _is_zlib(f.read(2))
    return False
