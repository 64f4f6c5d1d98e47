"""What a capture holds, at a glance: the data behind ``edscan info``.

One streamed pass over the flows; only counters are kept, never bodies.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from edscan.capture.source import Source

FORMAT_NAMES = {"edscan": "edscan capture", "har": "HAR", "mitm": "mitmproxy dump"}
SKIPPED_NAMES = {
    "cached": "served from the browser cache (never sent)",
    "not-http": "data:, blob: and other non-network URLs",
    "tcp": "TCP connections (not HTTP)",
    "udp": "UDP datagrams (not HTTP)",
    "dns": "DNS lookups",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class CaptureOverview:
    path: str
    format: str  # "edscan" | "har" | "mitm"
    size: int  # bytes on disk
    sha256: str
    flows: int
    failed: int  # flows with an error
    websocket: int  # flows carrying WebSocket messages
    start: float | None  # earliest request start (epoch seconds)
    end: float | None  # latest response end (or request start)
    hosts: tuple[tuple[str, int], ...]  # (host, flows), most flows first
    phases: tuple[tuple[str, int], ...]  # (label, flows), in order of first appearance
    unphased: int  # flows without a phase
    skipped: tuple[tuple[str, int], ...]
    warnings: tuple[str, ...]
    about: tuple[tuple[str, str], ...] = ()  # who wrote it, when, with what settings
    cut_off: int = 0  # flows the stop of the recording cut off (part of failed)

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "format": self.format,
            "size": self.size,
            "sha256": self.sha256,
            "flows": self.flows,
            "failed": self.failed,
            "cut_off": self.cut_off,
            "websocket": self.websocket,
            "start": self.start,
            "end": self.end,
            "hosts": [{"host": h, "flows": n} for h, n in self.hosts],
            "phases": [{"phase": p, "flows": n} for p, n in self.phases],
            "unphased": self.unphased,
            "skipped": dict(self.skipped),
            "warnings": list(self.warnings),
            "about": dict(self.about),
        }


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def _about(source: Source) -> tuple[tuple[str, str], ...]:
    out: list[tuple[str, str]] = []
    header = getattr(source, "header", None)
    if isinstance(header, dict):
        for key in ("version", "created", "edscan", "mitmproxy"):
            if header.get(key):
                out.append((key, str(header[key])))
        settings = header.get("settings")
        if isinstance(settings, dict):
            out.extend((f"settings.{k}", str(v)) for k, v in settings.items())
    creator = getattr(source, "creator", None)
    if isinstance(creator, str) and creator:
        out.append(("creator", creator))
    return tuple(out)


def overview(source: Source) -> CaptureOverview:
    """Read every flow of ``source`` once and count what is there."""
    hosts: Counter[str] = Counter()
    phases: Counter[str] = Counter()
    flows = failed = websocket = unphased = cut_off = 0
    start: float | None = None
    end: float | None = None
    for flow in source:
        flows += 1
        hosts[flow.host or "(no host)"] += 1
        if flow.phase is None:
            unphased += 1
        else:
            phases[flow.phase] += 1  # Counter keeps first-insertion order
        failed += flow.error is not None
        cut_off += flow.cut_off is not None
        websocket += bool(flow.websocket)
        t0 = flow.request_start
        t1 = flow.response_end if flow.response_end is not None else t0
        if t0 is not None and (start is None or t0 < start):
            start = t0
        if t1 is not None and (end is None or t1 > end):
            end = t1
    return CaptureOverview(
        path=str(source.path),
        format=source.format,
        size=source.path.stat().st_size,
        sha256=file_sha256(source.path),
        flows=flows,
        failed=failed,
        websocket=websocket,
        start=start,
        end=end,
        hosts=tuple(sorted(hosts.items(), key=lambda kv: (-kv[1], kv[0]))),
        phases=tuple(phases.items()),
        unphased=unphased,
        skipped=tuple(sorted(source.skipped.items())),
        warnings=tuple(source.warnings),
        about=_about(source),
        cut_off=cut_off,
    )


def _when(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {secs} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min"


def _size(n: int) -> str:
    if n < 1 << 10:
        return f"{n} bytes"
    if n < 1 << 20:
        return f"{n / (1 << 10):.1f} KiB"
    if n < 1 << 30:
        return f"{n / (1 << 20):.1f} MiB"
    return f"{n / (1 << 30):.1f} GiB"


def render_text(o: CaptureOverview) -> str:
    """The overview as plain text, one fact per line."""
    lines = [
        f"capture   {o.path}",
        f"format    {FORMAT_NAMES.get(o.format, o.format)}, {_size(o.size)}, sha256 {o.sha256}",
    ]
    lines.extend(f"{key:<9} {value}" for key, value in o.about)
    extra = []
    if o.failed:
        extra.append(f"{o.failed} failed")
    if o.cut_off:
        extra.append(f"{o.cut_off} of them cut off by the stop of the recording")
    if o.websocket:
        extra.append(f"{o.websocket} with WebSocket messages")
    lines.append(f"flows     {o.flows}" + (f" ({', '.join(extra)})" if extra else ""))
    if o.start is not None and o.end is not None:
        lines.append(f"time      {_when(o.start)} to {_when(o.end)} ({_duration(o.end - o.start)})")
    else:
        lines.append("time      unknown (no timestamps)")
    if o.phases:
        marks = ", ".join(f"{label} ({n})" for label, n in o.phases)
        lines.append(
            f"phases    {marks}" + (f"; {o.unphased} without a phase" if o.unphased else "")
        )
    else:
        lines.append("phases    none marked")
    for kind, n in o.skipped:
        lines.append(f"skipped   {n} {kind}: {SKIPPED_NAMES.get(kind, 'not HTTP')}")
    lines.append(f"hosts     {len(o.hosts)}")
    width = len(str(o.hosts[0][1])) if o.hosts else 1
    lines.extend(f"  {n:>{width}}  {host}" for host, n in o.hosts)
    if o.warnings:
        lines.append("warnings")
        lines.extend(f"  {w}" for w in o.warnings)
    return "\n".join(lines) + "\n"
