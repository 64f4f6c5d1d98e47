"""Reading a HAR file: size caps, zlib-compressed HARs, and the checks that it is a HAR at all
(see ``har`` for what HAR writers disagree on)."""

from __future__ import annotations

import json
import zlib
from pathlib import Path
from typing import Any

import orjson

from edscan.errors import CaptureError

# A HAR is parsed whole; Python needs several times the file size in memory to do so.
MAX_HAR_BYTES = 1 << 30


def _is_zlib(head: bytes) -> bool:
    # mitmproxy's `save.har` writes `.zhar` files: the HAR, zlib-compressed
    return len(head) >= 2 and head[0] == 0x78 and (head[0] << 8 | head[1]) % 31 == 0


def _inflate(raw: bytes, path: Path, limit: int) -> bytes:
    d = zlib.decompressobj()
    try:
        out = d.decompress(raw, limit + 1)
    except zlib.error as e:
        raise CaptureError(f"{path}: a compressed HAR (.zhar) that cannot be read ({e})") from e
    if len(out) > limit:
        raise CaptureError(_too_big(path, "uncompressed ", limit))
    if not d.eof:
        raise CaptureError(f"{path}: the compressed HAR (.zhar) is cut off (the file is truncated)")
    return out


def _too_big(path: Path, what: str, limit: int) -> str:
    return (
        f"{path}: the {what}HAR is larger than {limit >> 20} MiB, the most edscan reads "
        "(a HAR is read whole); export fewer pages per HAR, or record with `edscan capture`"
    )


def _nested_log(doc: dict[str, Any]) -> str | None:
    for key, value in doc.items():
        if isinstance(value, dict) and isinstance(value.get("log"), dict):
            return str(key)
    return None


def _looks_like_mitmproxy_json(doc: list[Any]) -> bool:
    return bool(doc) and isinstance(doc[0], dict) and "request" in doc[0] and "type" in doc[0]


def load_har(path: Path, *, limit: int | None = None) -> dict[str, Any]:
    """Read and check a HAR (or a zlib-compressed ``.zhar``); returns its ``log`` object.

    Raises CaptureError, saying what is wrong, for anything that is not a readable HAR.
    """
    limit = MAX_HAR_BYTES if limit is None else limit
    try:
        size = path.stat().st_size
        if size > limit:
            raise CaptureError(_too_big(path, "", limit))
        raw = path.read_bytes()
    except IsADirectoryError as e:
        raise CaptureError(f"{path}: is a directory, not a capture file") from e
    except OSError as e:
        raise CaptureError(f"{path}: cannot read ({e.strerror})") from e
    if _is_zlib(raw[:2]):
        raw = _inflate(raw, path, limit)
    if raw.startswith(b"\xef\xbb\xbf"):  # Fiddler and some Windows tools write a UTF-8 BOM
        raw = raw[3:]
    try:
        # orjson reads the bytes at once (UTF-8 checked), ~3x json's speed; anything it refuses
        # (bad input, or what only json accepts: NaN, integers past 64 bits) takes json's way,
        # which says exactly what is wrong
        return _check_har(orjson.loads(raw), path)
    except orjson.JSONDecodeError:
        pass
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise CaptureError(
            f"{path}: not a HAR (not UTF-8 text: bad byte at offset {e.start})"
        ) from e
    if not text.strip():
        raise CaptureError(f"{path}: the file is empty")
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as e:
        if not text[e.pos :].strip():
            raise CaptureError(
                f"{path}: the JSON ends early (the file is truncated); export the HAR again"
            ) from e
        raise CaptureError(
            f"{path}: not valid JSON (line {e.lineno}, column {e.colno}: {e.msg}); "
            "expected a HAR file"
        ) from e
    return _check_har(doc, path)


def _check_har(doc: Any, path: Path) -> dict[str, Any]:
    if isinstance(doc, list):
        if _looks_like_mitmproxy_json(doc):
            raise CaptureError(
                f"{path}: this is mitmproxy's JSON flow export, not a HAR; save the flows "
                "as a .mitm dump (mitmdump -w) or as HAR (save.har) and import that"
            )
        raise CaptureError(
            f"{path}: JSON but not a HAR (the top level is a list; a HAR is an object "
            "with a 'log' key)"
        )
    if not isinstance(doc, dict):
        raise CaptureError(f"{path}: JSON but not a HAR (the top level is not an object)")
    log = doc.get("log")
    if log is None:
        nested = _nested_log(doc)
        if nested is not None:
            raise CaptureError(
                f"{path}: the HAR log is nested under '{nested}' instead of at the top level; "
                f"extract it first, e.g. jq '.{nested}' {path.name} > fixed.har"
                if nested.isidentifier()
                else f"{path}: the HAR log is nested under '{nested}' instead of at the top "
                "level; move it to the top level first"
            )
        keys = ", ".join(sorted(map(str, doc))[:5]) or "none"
        raise CaptureError(
            f"{path}: JSON but not a HAR (no top-level 'log' object; keys found: {keys})"
        )
    if not isinstance(log, dict) or not isinstance(log.get("entries"), list):
        raise CaptureError(f"{path}: not a valid HAR (the 'log' object has no 'entries' list)")
    return log
