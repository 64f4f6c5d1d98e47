"""What a capture could and could not see, stated: the hosts whose HTTP content was read, and
every host with connections that were not (certificate refused, no TLS keys, QUIC, not HTTP).

A proxy capture knows its gaps from the flows (refused handshakes are recorded as failed CONNECT
flows); a packet capture also knows the byte counts, and hands its own gaps over.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from edscan.models import Coverage, CoverageGap, FlowSummary

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
