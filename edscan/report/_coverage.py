"""The report's view of the coverage: each host not inspected, with the reason in words; the
hosts that may have moved to HTTP/3, the bodies cut by ``--max-body``, the flows that hit
decoding limits and, for a ``--tls-check`` capture, the hosts that accepted or refused the
forged certificate."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from edscan.models import ScanResult
from edscan.report.redact import Redactor

MAX_GAPS = 30


GAP_REASONS = {
    "no-keys": "TLS without keys",
    "http3": "HTTP/3 (QUIC), not decrypted",
    "http2-unread": "HTTP/2, decrypted but not read",
    "http3-unread": "HTTP/3 (QUIC), decrypted but not read",
    "not-http": "not HTTP",
    "certificate-refused": "certificate refused",
    "not-intercepted": "TLS passed through unread",
    "upstream-tls-failed": "the server's TLS failed (its certificate did not verify)",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class Hosts:
    """Hosts for one line of the limits, redacted and capped."""

    names: tuple[str, ...]
    more: int  # beyond the cap

    @property
    def count(self) -> int:
        return len(self.names) + self.more


@dataclass(frozen=True, slots=True, kw_only=True)
class CoverageItems:
    """What else the capture could not fully see (each empty when there is nothing to say)."""

    http3_quiet: Hosts | None = None
    truncated_flows: int = 0
    truncated_bodies: int = 0
    truncated_first: tuple[int, ...] = ()  # flow indices, the first ones
    decoding_flows: int = 0
    decoding_first: tuple[int, ...] = ()
    tls_accepted: Hosts | None = None  # only for a --tls-check capture
    tls_validated: Hosts | None = None

    @property
    def tls_check(self) -> bool:
        return self.tls_accepted is not None


def _hosts(hosts: Sequence[str], red: Redactor) -> Hosts:
    return Hosts(
        names=tuple(red.text(h) for h in hosts[:MAX_GAPS]), more=max(0, len(hosts) - MAX_GAPS)
    )


def items(result: ScanResult, red: Redactor) -> CoverageItems | None:
    """The limits' coverage items; None when there is none of them to tell."""
    cov = result.coverage
    if cov is None:
        return None
    if not (cov.http3_quiet or cov.truncated.bodies or cov.decoding_limits.flows or cov.tls_check):
        return None
    quiet = [q.host for q in cov.http3_quiet]
    return CoverageItems(
        http3_quiet=_hosts(quiet, red) if quiet else None,
        truncated_flows=cov.truncated.flows,
        truncated_bodies=cov.truncated.bodies,
        truncated_first=cov.truncated.first,
        decoding_flows=cov.decoding_limits.flows,
        decoding_first=cov.decoding_limits.first,
        tls_accepted=_hosts(cov.tls_check.accepted, red) if cov.tls_check else None,
        tls_validated=_hosts(cov.tls_check.validated, red) if cov.tls_check else None,
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class Gap:
    """One host the capture could not see into, and why (``Coverage`` in the result)."""

    host: str
    reason: str  # in words
    connections: int
    bytes: int | None


def gaps(result: ScanResult, red: Redactor) -> tuple[Gap, ...]:
    if result.coverage is None:
        return ()
    return tuple(
        Gap(
            host=red.text(g.host),
            reason=GAP_REASONS.get(g.reason, g.reason),
            connections=g.connections,
            bytes=g.bytes,
        )
        for g in result.coverage.gaps[:MAX_GAPS]
    )
