"""The report's view of the coverage: each host not inspected, with the reason in words."""

from __future__ import annotations

from edscan.models import ScanResult
from edscan.report._view_model import Gap
from edscan.report.redact import Redactor

MAX_GAPS = 30


GAP_REASONS = {
    "no-keys": "TLS without keys",
    "http3": "HTTP/3 (QUIC), not decrypted",
    "http2-unread": "HTTP/2, decrypted but not read",
    "not-http": "not HTTP",
    "certificate-refused": "certificate refused",
    "not-intercepted": "TLS passed through unread",
}


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
