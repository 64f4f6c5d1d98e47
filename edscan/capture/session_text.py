"""``edscan capture``'s texts: what to do once the proxy listens, the status line, and the
summary at the stop (plain functions of their inputs, tested without a proxy)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from edscan.capture.recorder import Recorder

CA_PEM = "mitmproxy-ca-cert.pem"
CA_CER = "mitmproxy-ca-cert.cer"


@dataclass(frozen=True, slots=True, kw_only=True)
class CaptureSummary:
    path: Path
    flows: int
    hosts: tuple[str, ...]
    bytes: int
    phases: tuple[str, ...]
    refused_hosts: tuple[str, ...]
    unrecorded: int
    cut_off: int = 0  # requests written unfinished at the stop (part of flows)
    report_command: str = ""
    live: tuple[str, ...] = ()  # the live-analysis lines of the summary (edscan.live.console)
    browser_storage: int = 0  # cookies and local-storage items recorded from --browser
    tls_check: bool = False  # recorded with --tls-check (the device does not trust the CA)
    tls_hosts: tuple[str, ...] = ()  # hosts whose TLS handshake with the proxy completed


def human_bytes(n: int) -> str:
    size = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    raise AssertionError("unreachable")


def is_loopback(host: str) -> bool:
    return host in ("localhost", "127.0.0.1", "::1") or host.startswith("127.")


# --tls-check: the device must NOT trust the proxy's CA, so a completed handshake means the
# app accepted a certificate no real authority issued
TLS_CHECK_STEPS = [
    "  2. TLS CHECK: do NOT install the proxy's CA certificate on the device (remove it if it",
    "     is there). Every host whose TLS handshake still completes accepts a forged",
    "     certificate: anyone on the network could read what the app sends it. Hosts that",
    "     refuse the handshake validate certificates correctly.",
    "     The procedure: run this once without the CA installed (now), use every part of the",
    "     app; then install the CA and record again without --tls-check, to see the content.",
]


def startup_text(
    *,
    output: Path,
    host: str,
    port: int,
    confdir: Path,
    phase: str | None,
    lan: list[str],
    interactive: bool,
    tls_check: bool = False,
) -> str:
    """What to do next, printed once the proxy listens."""
    lines = [f"edscan capture: recording to {output}", ""]
    if host in ("0.0.0.0", "::", ""):
        lines += [
            f"WARNING: the proxy listens on every network interface ({host or '*'}): anyone "
            "on this network can use it",
            "and have their traffic recorded. Use it only on a trusted network, and stop it "
            "when you are done.",
            "",
        ]
        where = " or ".join(lan) if lan else "this computer's address on the network"
        lines.append(f"  1. Set the HTTP and HTTPS proxy of the device to {where}, port {port}.")
    else:
        lines.append(f"  1. Set the HTTP and HTTPS proxy of the device to {host}, port {port}.")
        if is_loopback(host):
            lines.append(
                "     (Loopback: this computer only. For a phone, use --listen-host 0.0.0.0.)"
            )
    if tls_check:
        lines += TLS_CHECK_STEPS
    else:
        lines += [
            "  2. Install and trust the CA certificate on the device:",
            f"       {confdir / CA_PEM}",
            f"       (phones: {confdir / CA_CER}), or open http://mitm.it through the proxy.",
        ]
    how = "type a label and Enter here, or " if interactive else ""
    lines.append(f"  3. Mark phases ({how}open http://edscan.mark/LABEL through the proxy).")
    if phase:
        lines.append(f"     Current phase: {phase}")
    lines += [
        "Upstream certificates are verified. Stop with Ctrl-C (twice: without waiting for "
        "requests in flight).",
        "",
    ]
    return "\n".join(lines)


def summary_text(s: CaptureSummary) -> str:
    noun = "flow" if s.flows == 1 else "flows"
    hosts = "host" if len(s.hosts) == 1 else "hosts"
    lines = [
        f"Recorded {s.flows} {noun} from {len(s.hosts)} {hosts} ({human_bytes(s.bytes)}) "
        f"into {s.path}"
    ]
    lines.append(f"  Phases: {', '.join(s.phases) if s.phases else 'none marked'}")
    if s.tls_check:
        lines += _tls_check_lines(s)
    elif s.refused_hosts:
        lines.append(
            f"  {len(s.refused_hosts)} host(s) refused the proxy's certificate (likely pinned; "
            f"their traffic was not inspected): {', '.join(s.refused_hosts)}"
        )
    if s.cut_off:
        lines.append(
            f"  {s.cut_off} request(s) were still unanswered at the stop: recorded as sent, "
            "marked cut off"
        )
    if s.unrecorded:
        lines.append(f"  {s.unrecorded} flow(s) could not be recorded (see the messages above)")
    lines += list(s.live)
    lines.append(f"Next: {s.report_command or f'edscan report {s.path} -o report.html'}")
    return "\n".join(lines)


def _tls_check_lines(s: CaptureSummary) -> list[str]:
    lines = []
    if s.tls_hosts:
        lines.append(
            f"  TLS CHECK: {len(s.tls_hosts)} host(s) ACCEPTED the forged certificate (the app "
            f"does not validate it; critical): {', '.join(s.tls_hosts)}"
        )
    else:
        lines.append("  TLS CHECK: no host accepted the forged certificate")
    if s.refused_hosts:
        lines.append(
            f"  {len(s.refused_hosts)} host(s) refused it (validating correctly): "
            f"{', '.join(s.refused_hosts)}"
        )
    return lines


def status_text(rec: Recorder) -> str:
    st = rec.stats
    refused = f" · refused TLS: {len(st.refused_hosts)}" if st.refused_hosts else ""
    if rec.tls_check:
        refused = f" · TLS check: accepted {len(st.tls_hosts)}, refused {len(st.refused_hosts)}"
    return (
        f"recording · flows: {st.flows} · hosts: {len(st.hosts)} · {human_bytes(st.bytes)} · "
        f"phase: {rec.phase or '-'}{refused}"
    )
