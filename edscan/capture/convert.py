"""``edscan convert``: any capture edscan reads into a HAR or an edscan capture.

The output is written to a private temporary file next to it and renamed into place only once
the whole input was read: a failed conversion leaves no half-written output behind, and never
replaces an existing file with one.
"""

from __future__ import annotations

import dataclasses
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from edscan.capture.capture_file import SUFFIX, CaptureWriter
from edscan.capture.har import valid_text
from edscan.capture.har_writer import HarWriter
from edscan.capture.source import Source
from edscan.errors import CaptureError, EdscanError
from edscan.files import atomic_writer
from edscan.models import Flow


@dataclass(frozen=True, slots=True, kw_only=True)
class Converted:
    source_format: str
    target_format: str
    flows: int
    skipped: dict[str, int]
    warnings: tuple[str, ...]


def target_format(path: Path) -> str:
    """The output format named by ``path``'s suffix: "har" or "edscan"."""
    name = path.name.lower()
    if name.endswith(".har"):
        return "har"
    if name.endswith(SUFFIX):
        return "edscan"
    raise EdscanError(
        f"{path}: cannot tell the output format from the file name; name it *.har or *{SUFFIX}"
    )


def _clean(value: Any) -> Any:
    if isinstance(value, str):
        return valid_text(value)
    if isinstance(value, tuple) and all(isinstance(v, str | tuple | int) for v in value):
        return tuple(_clean(v) for v in value)
    return value


def utf8_safe(flow: Flow) -> Flow:
    """``flow`` with every text field valid UTF-8 (mitmproxy keeps undecodable URL bytes as
    lone surrogates, which a UTF-8 file cannot hold)."""
    changes = {
        f.name: _clean(getattr(flow, f.name))
        for f in dataclasses.fields(flow)
        if f.name not in ("request_body", "response_body", "websocket")
    }
    return dataclasses.replace(flow, **changes)


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.samefile(b)
    except OSError:
        return False


def convert(source: Source, output: Path) -> Converted:
    """Write every flow of ``source`` to ``output`` in the format its name asks for."""
    fmt = target_format(output)
    if _same_file(source.path, output):
        raise EdscanError(f"{output}: the output is the input; choose another output file")
    if output.is_dir():
        raise EdscanError(f"{output}: is a directory; give a file name")
    if not output.parent.is_dir():
        raise EdscanError(f"{output.parent}: no such directory for the output")
    flows = 0
    tls_check = bool(getattr(source, "tls_check", False))  # kept: scans of OUT apply EDS031
    try:
        # whole or not at all: a failure or a kill leaves the old output (if any) untouched
        with atomic_writer(output, private=True) as fh:
            if fmt == "edscan":
                settings: dict[str, Any] = {
                    "converted_from": {"format": source.format, "file": source.path.name}
                }
                if tls_check:
                    settings["tls_check"] = True
                with CaptureWriter(output, settings, file=fh) as writer:
                    for flow in source:
                        try:
                            writer.write(flow)
                        except (TypeError, UnicodeEncodeError):  # nothing written: retry clean
                            writer.write(utf8_safe(flow))
                        flows += 1
            else:
                fo = io.TextIOWrapper(fh, encoding="utf-8", newline="\n")
                har = HarWriter(
                    fo, comment=f"converted from {source.path.name}", tls_check=tls_check
                )
                for flow in source:
                    har.write(flow)
                    flows += 1
                har.close()
                fo.flush()
                fo.detach()  # the atomic writer closes the file
    except OSError as e:
        raise CaptureError(f"{output}: cannot write ({e.strerror})") from e
    return Converted(
        source_format=source.format,
        target_format=fmt,
        flows=flows,
        skipped=dict(source.skipped),
        warnings=tuple(source.warnings),
    )
