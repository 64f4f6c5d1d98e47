"""A HAR file as a stream of Flows: its entries one at a time through ``har.flow_from_har``,
with the counts of what was skipped and why."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from edscan.capture.har import (
    _NETWORK_SCHEMES,
    HarEntryError,
    flow_from_har,
    is_cached,
    is_mitmproxy_style,
    parse_har_time,
)
from edscan.capture.har_file import load_har
from edscan.capture.har_stream import iter_entries, read_head, should_stream
from edscan.models import Flow


class HarSource:
    """A HAR file as a stream of Flows (see ``edscan.capture.source.Source``)."""

    format = "har"

    def __init__(self, path: Path, *, limit: int | None = None):
        self.path = path
        self._limit = limit
        # a large HAR is streamed (har_stream): only its head is held, entries are read as used
        self._streamed = limit is None and should_stream(path)
        self._head: dict[str, Any] = {}
        self._log: dict[str, Any] | None = None
        if self._streamed:
            head = read_head(path)
            self._head = {"creator": head.creator, "pages": head.pages}
        else:
            self._log = load_har(path, limit=limit)
        self.warnings: list[str] = []
        self.skipped: dict[str, int] = {}
        self.creator = _creator(self._head if self._streamed else self._log or {})
        # a HAR edscan wrote from a --tls-check capture says so in its creator (_edscan)
        self.tls_check = _tls_check(self._head if self._streamed else self._log or {})

    def _entries(self) -> tuple[dict[str, Any], Iterator[Any]]:
        if self._streamed:
            return self._head, iter_entries(self.path)
        # The parsed document is released as it is read; a second pass reads the file again.
        log = self._log if self._log is not None else load_har(self.path, limit=self._limit)
        self._log = None
        entries: list[Any] = log["entries"]

        def release() -> Iterator[Any]:
            for position in range(len(entries)):
                entry = entries[position]
                entries[position] = None  # memory is returned as the file is read
                yield entry

        return log, release()

    def __iter__(self) -> Iterator[Flow]:
        log, entries = self._entries()
        self.warnings.clear()
        self.skipped.clear()
        pages = _page_titles(log.get("pages"))
        mitmproxy_style = is_mitmproxy_style(log)
        naive = bad_time = 0
        index = 0
        for position, entry in enumerate(entries):
            kind = _skip_kind(entry)
            if kind is not None:
                self._skip(kind)
                continue
            ref = entry.get("pageref") if isinstance(entry, dict) else None
            phase = pages.get(ref) if isinstance(ref, str) else None
            try:
                flow = flow_from_har(
                    entry,
                    index=index,
                    phase=phase,
                    position=position,
                    mitmproxy_style=mitmproxy_style,
                )
            except HarEntryError as e:
                self.warnings.append(f"{self.path.name}: entry {position} skipped: {e}")
                continue
            if flow.request_start is None:
                bad_time += 1
            elif _is_naive(entry.get("startedDateTime")):
                naive += 1
            index += 1
            yield flow
        if naive:
            self.warnings.append(
                f"{self.path.name}: {naive} entries have a start time without a UTC offset; "
                "taken as UTC"
            )
        if bad_time:
            self.warnings.append(
                f"{self.path.name}: {bad_time} entries have no readable start time"
            )

    def _skip(self, kind: str) -> None:
        self.skipped[kind] = self.skipped.get(kind, 0) + 1


def _skip_kind(entry: Any) -> str | None:
    if not isinstance(entry, dict):
        return None
    if is_cached(entry):
        return "cached"
    req = entry.get("request")
    url = req.get("url") if isinstance(req, dict) else None
    if isinstance(url, str) and urlsplit(url).scheme.lower() not in _NETWORK_SCHEMES:
        return "not-http"  # data:, blob:, chrome-extension: ... never reach the network
    return None


def _is_naive(value: Any) -> bool:
    if not isinstance(value, str) or value.rstrip().upper().endswith("Z"):
        return False
    return parse_har_time(value)[1]


def _creator(log: dict[str, Any]) -> str:
    c = log.get("creator")
    if not isinstance(c, dict):
        return ""
    return " ".join(str(c[k]) for k in ("name", "version") if c.get(k))


def _tls_check(log: dict[str, Any]) -> bool:
    c = log.get("creator")
    extra = c.get("_edscan") if isinstance(c, dict) else None
    return isinstance(extra, dict) and extra.get("tls_check") is True


def _page_titles(pages: Any) -> dict[str, str]:
    titles: dict[str, str] = {}
    if isinstance(pages, list):
        for p in pages:
            if isinstance(p, dict) and isinstance(p.get("id"), str):
                title = p.get("title")
                if isinstance(title, str) and title.strip():
                    titles[p["id"]] = title.strip()
    return titles
