"""What a capture could and could not see, stated: the hosts whose HTTP content was read, and
every host with connections that were not (certificate refused, no TLS keys, QUIC, not HTTP,
the upstream server's TLS failed); besides, the hosts that advertised HTTP/3 and then went
quiet, the bodies cut by ``--max-body``, the flows that hit decoding limits and, for a
``--tls-check`` capture, which hosts accepted the proxy's forged certificate.

A proxy capture knows its gaps from the flows (refused handshakes are recorded as failed CONNECT
flows); a packet capture also knows the byte counts, and hands its own gaps over. What needs the
whole flow (response headers, body caps) is tallied while the pipeline streams the flows.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from edscan.models import Flow, FlowSummary

# a host that advertised HTTP/3 and sent nothing more through the proxy for this long, while
# the capture went on at least as long, may have moved to QUIC (UDP), which a proxy never sees
QUIET_SECONDS = 10.0
MAX_LISTED = 20  # flow indices listed per item; the counts are always whole
_ALT_SVC_H3 = re.compile(r"(?:^|[\s,])h3(?:-\d+)?\s*=", re.IGNORECASE)
# the recorder's error texts for client handshakes (edscan.capture.recorder, which imports
# mitmproxy: not imported here)
_CLIENT_TLS = ("client refused the proxy's TLS certificate", "client TLS handshake failed")
_UPSTREAM_TLS = re.compile(
    r"certificate verify failed|tls|ssl|handshake|certificate", re.IGNORECASE
)


@dataclass(frozen=True, slots=True, kw_only=True)
class CoverageGap:
    """Connections to one host whose content the capture could not show, and why.

    ``reason``: "no-keys" (TLS without keys), "http3" (QUIC not decrypted), "http2-unread"
    (decrypted HTTP/2 from a packet capture, not yet read), "not-http" (TCP that carried no
    HTTP or TLS), "certificate-refused" (the client refused the proxy's certificate),
    "not-intercepted" (TLS the proxy passed through unread), "upstream-tls-failed" (the
    proxy's TLS connection to the server failed: its certificate did not verify, or the
    handshake broke; the request was seen, the server never got it and its answer is unknown).
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
class QuietHttp3:
    """A host that advertised HTTP/3 (``alt-svc: h3``) and then went quiet."""

    host: str
    advertised_in: int  # the flow whose response first advertised it
    flows_after: int  # flows to the host recorded after that one

    def to_dict(self) -> dict[str, Any]:
        return {
            "host": self.host,
            "advertised_in": self.advertised_in,
            "flows_after": self.flows_after,
            "note": "may have moved to HTTP/3, which the proxy cannot see",
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class FlowCount:
    """How many flows (and bodies) something happened to, with the first flow indices."""

    flows: int = 0
    bodies: int = 0
    first: tuple[int, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"flows": self.flows, "bodies": self.bodies, "flow_indices": list(self.first)}


@dataclass(frozen=True, slots=True, kw_only=True)
class TlsCheck:
    """A ``--tls-check`` capture's verdict by host: the device did not trust the proxy's CA."""

    accepted: tuple[str, ...] = ()  # handshakes completed: a forged certificate was accepted
    validated: tuple[str, ...] = ()  # every handshake refused the certificate

    def to_dict(self) -> dict[str, Any]:
        return {"accepted": list(self.accepted), "validated": list(self.validated)}


@dataclass(frozen=True, slots=True, kw_only=True)
class Coverage:
    """What the capture could and could not see: hosts inspected, and the gaps."""

    hosts_inspected: int
    gaps: tuple[CoverageGap, ...] = ()
    http3_quiet: tuple[QuietHttp3, ...] = ()
    truncated: FlowCount = FlowCount()  # bodies cut by --max-body (not by the stop)
    decoding_limits: FlowCount = FlowCount()  # flows a decoder gave up on part of
    tls_check: TlsCheck | None = None  # only for a --tls-check capture

    def line(self) -> str:
        """One sentence: "37 hosts inspected; 3 not inspected: no-keys 2, http3 1"."""
        hosts = {g.host for g in self.gaps}
        text = f"{self.hosts_inspected} host{'' if self.hosts_inspected == 1 else 's'} inspected"
        if not hosts:
            text += "; nothing the capture could not see"
        else:
            by_reason: dict[str, set[str]] = {}
            for g in self.gaps:
                by_reason.setdefault(g.reason, set()).add(g.host)
            reasons = ", ".join(f"{r} {len(h)}" for r, h in sorted(by_reason.items()))
            text += f"; {len(hosts)} not inspected: {reasons}"
        return text + "".join(f"; {part}" for part in self._more())

    def _more(self) -> list[str]:
        parts = []
        if self.http3_quiet:
            n = len(self.http3_quiet)
            parts.append(f"{n} host{'' if n == 1 else 's'} may have moved to HTTP/3")
        if self.truncated.bodies:
            n = self.truncated.bodies
            parts.append(f"{n} bod{'y' if n == 1 else 'ies'} truncated by --max-body")
        if self.decoding_limits.flows:
            n = self.decoding_limits.flows
            parts.append(f"{n} flow{'' if n == 1 else 's'} hit decoding limits")
        if self.tls_check is not None:
            a, v = len(self.tls_check.accepted), len(self.tls_check.validated)
            parts.append(
                f"TLS check: {a} host{'' if a == 1 else 's'} accepted a forged certificate, "
                f"{v} validated it"
            )
        return parts

    def to_dict(self) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "hosts_inspected": self.hosts_inspected,
            "summary": self.line(),
            "gaps": [g.to_dict() for g in self.gaps],
            "http3_quiet": [q.to_dict() for q in self.http3_quiet],
            "truncated_bodies": self.truncated.to_dict(),
            "decoding_limits": self.decoding_limits.to_dict(),
        }
        if self.tls_check is not None:  # only for --tls-check captures
            doc["tls_check"] = self.tls_check.to_dict()
        return doc


class CoverageTally:
    """What only whole flows show, tallied one flow at a time as the pipeline streams them."""

    def __init__(self) -> None:
        self._h3: dict[str, tuple[int, float | None]] = {}  # host -> first advertising flow
        self._last: dict[str, tuple[int, float | None]] = {}  # host -> its last flow
        self._after: dict[str, int] = {}
        self._end: float | None = None
        self._truncated: list[int] = []
        self._truncated_bodies = 0
        self._limited: list[int] = []

    def add(self, flow: Flow, decoding_limits: int = 0) -> None:
        host = flow.host
        t = flow.request_start
        if t is not None and (self._end is None or t > self._end):
            self._end = t
        if host in self._h3:
            self._after[host] = self._after.get(host, 0) + 1
        self._last[host] = (flow.index, t)
        if host not in self._h3 and any(
            k.lower() == "alt-svc" and _ALT_SVC_H3.search(v) for k, v in flow.response_headers
        ):
            self._h3[host] = (flow.index, t)
        if not flow.cut_off:  # a body cut by the stop is counted with the cut-off flows
            cut = [b for b in (flow.request_body, flow.response_body) if b and b.truncated]
            if cut:
                self._truncated.append(flow.index)
                self._truncated_bodies += len(cut)
        if decoding_limits:
            self._limited.append(flow.index)

    def http3_quiet(self) -> tuple[QuietHttp3, ...]:
        quiet = []
        for host, (index, advertised) in sorted(self._h3.items()):
            _, last = self._last[host]
            if advertised is None or last is None or self._end is None:
                continue  # without times, "went quiet" cannot be told from "was done"
            if last - advertised < QUIET_SECONDS and self._end - last >= QUIET_SECONDS:
                quiet.append(
                    QuietHttp3(host=host, advertised_in=index, flows_after=self._after.get(host, 0))
                )
        return tuple(quiet)

    def truncated(self) -> FlowCount:
        return FlowCount(
            flows=len(self._truncated),
            bodies=self._truncated_bodies,
            first=tuple(self._truncated[:MAX_LISTED]),
        )

    def decoding_limits(self) -> FlowCount:
        n = len(self._limited)
        return FlowCount(flows=n, bodies=0, first=tuple(self._limited[:MAX_LISTED]))


def handshake_completed(flow: FlowSummary) -> bool:
    """Whether the client finished a TLS handshake with the proxy for this flow: an HTTPS (or
    WSS) request was read through an intercepted connection."""
    if not flow.url.lower().startswith(("https://", "wss://")):
        return False
    if flow.tls_intercepted is False:
        return False
    error = flow.error or ""
    if error.startswith(_CLIENT_TLS):
        return False
    return flow.method != "CONNECT" or flow.status is not None


def tls_check(flows: Sequence[FlowSummary]) -> TlsCheck:
    """Which hosts accepted the proxy's certificate, and which always refused it."""
    accepted = {fl.host for fl in flows if fl.host and handshake_completed(fl)}
    refused = {fl.host for fl in flows if fl.host and (fl.error or "").startswith(_CLIENT_TLS[0])}
    return TlsCheck(accepted=tuple(sorted(accepted)), validated=tuple(sorted(refused - accepted)))


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
    if (
        flow.status is None
        and flow.scheme == "https"
        and not error.lower().startswith(("client", "cut off"))
        and _UPSTREAM_TLS.search(error)
    ):
        return "upstream-tls-failed"
    return None


def coverage(
    flows: Sequence[FlowSummary],
    source_gaps: Iterable[CoverageGap] = (),
    *,
    tally: CoverageTally | None = None,
    tls_checked: bool = False,
) -> Coverage:
    """The coverage of a capture from its flow summaries and the gaps its reader listed.

    Where the reader listed gaps (a packet capture), those are the truth, with byte counts; the
    failed CONNECT flows it also wrote for them are not counted twice. ``tally`` adds what the
    pipeline saw in the whole flows; ``tls_checked``: a ``--tls-check`` capture.
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
    tally = tally or CoverageTally()
    return Coverage(
        hosts_inspected=len(inspected),
        gaps=gaps,
        http3_quiet=tally.http3_quiet(),
        truncated=tally.truncated(),
        decoding_limits=tally.decoding_limits(),
        tls_check=tls_check(flows) if tls_checked else None,
    )
