"""What a capture could and could not see, stated: the hosts whose HTTP content was read, and
every host with connections that were not (certificate refused, no TLS keys, QUIC, not HTTP).

A proxy capture knows its gaps from the flows (refused handshakes are recorded as failed CONNECT
flows); a packet capture also knows the byte counts, and hands its own gaps over.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from edscan.models import FlowSummary


@dataclass(frozen=True, slots=True, kw_only=True)
class CoverageGap:
    """Connections to one host whose content the capture could not show, and why.

    ``reason``: "no-keys" (TLS without keys), "http3" (QUIC not decrypted), "http2-unread"
    (decrypted HTTP/2 from a packet capture, not yet read), "not-http" (TCP that carried no
    HTTP or TLS), "certificate-refused" (the client refused the proxy's certificate),
    "not-intercepted" (TLS the proxy passed through unread).
    """

    host: str
    reason: str
    connections: int
    bytes: int | None = None  # None where the source cannot say (a proxy capture)

    def to_dict(self) -> dict[str, Any]:
        return {
            "host": self.host,
            "reason": self.reason,
            "connections": self.connections,
            "bytes": self.bytes,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class Coverage:
    """What the capture could and could not see: hosts inspected, and the gaps."""

    hosts_inspected: int
    gaps: tuple[CoverageGap, ...] = ()

    def line(self) -> str:
        """One sentence: "37 hosts inspected; 3 not inspected: no-keys 2, http3 1"."""
        hosts = {g.host for g in self.gaps}
        text = f"{self.hosts_inspected} host{'' if self.hosts_inspected == 1 else 's'} inspected"
        if not hosts:
            return text + "; nothing the capture could not see"
        by_reason: dict[str, set[str]] = {}
        for g in self.gaps:
            by_reason.setdefault(g.reason, set()).add(g.host)
        reasons = ", ".join(f"{r} {len(h)}" for r, h in sorted(by_reason.items()))
        return f"{text}; {len(hosts)} not inspected: {reasons}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "hosts_inspected": self.hosts_inspected,
            "summary": self.line(),
            "gaps": [g.to_dict() for g in self.gaps],
        }


_REFUSED = re.compile(
    r"certificate|pinn|tls handshake|ssl handshake|unknown ca|bad cert|handshake fail|"
    r"does not trust|untrusted",
    re.IGNORECASE,
)


def _gap_reason(flow: FlowSummary) -> str | None:
    error = flow.error or ""
    if "client" in error.lower() and _REFUSED.search(error):
        return "certificate-refused"
    if flow.scheme == "https" and flow.tls_intercepted is False:
        return "not-intercepted"
    return None


def coverage(flows: Sequence[FlowSummary], source_gaps: Iterable[CoverageGap] = ()) -> Coverage:
    """The coverage of a capture from its flow summaries and the gaps its reader listed.

    Where the reader listed gaps (a packet capture), those are the truth, with byte counts; the
    failed CONNECT flows it also wrote for them are not counted twice.
    """
    listed = list(source_gaps)
    merged: dict[tuple[str, str], CoverageGap] = {}
    for gap in listed:
        key = (gap.host, gap.reason)
        old = merged.get(key)
        if old is None:
            merged[key] = gap
        else:
            merged[key] = CoverageGap(
                host=gap.host,
                reason=gap.reason,
                connections=old.connections + gap.connections,
                bytes=None if old.bytes is None or gap.bytes is None else old.bytes + gap.bytes,
            )
    if not listed:
        for fl in flows:
            reason = _gap_reason(fl)
            if reason is None:
                continue
            key = (fl.host, reason)
            old = merged.get(key)
            n = old.connections + 1 if old else 1
            merged[key] = CoverageGap(host=fl.host, reason=reason, connections=n, bytes=None)
    # a host counts as inspected when at least one HTTP exchange with it was read
    inspected = {
        fl.host
        for fl in flows
        if fl.host and _gap_reason(fl) is None and (fl.status is not None or fl.method != "CONNECT")
    }
    gaps = tuple(sorted(merged.values(), key=lambda g: (g.reason, g.host)))
    return Coverage(hosts_inspected=len(inspected), gaps=gaps)
