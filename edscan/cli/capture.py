"""``edscan capture``: record a session through the proxy."""

from __future__ import annotations

import click


def _size(ctx: click.Context, param: click.Parameter, value: str) -> int:
    from edscan.capture.session import parse_size

    try:
        return parse_size(value)
    except ValueError as e:
        raise click.BadParameter(str(e)) from e


@click.command("capture")
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(dir_okay=False, writable=True),
    help="The capture file to create (*.edscan.jsonl; readable by you only).",
)
@click.option(
    "--listen-host",
    default="127.0.0.1",
    show_default=True,
    help="Address the proxy listens on; 0.0.0.0 for a phone on the same (trusted) network.",
)
@click.option(
    "--listen-port", type=click.IntRange(0, 65535), default=8080, show_default=True,
    help="Port the proxy listens on (0: any free port).",
)  # fmt: skip
@click.option("--phase", default=None, help="The phase label to start with, e.g. login.")
@click.option(
    "--max-body",
    callback=_size,
    default="8m",
    metavar="SIZE",
    show_default=True,
    help="Keep at most this much of each body (bytes, or with k/m/g); longer ones are cut "
    "and marked truncated.",
)
@click.option(
    "--confdir",
    type=click.Path(file_okay=False),
    default="~/.mitmproxy",
    show_default=True,
    help="mitmproxy's folder: its CA certificate is created and kept here.",
)
@click.option(
    "--grace", type=click.FloatRange(min=0), default=3.0, show_default=True, metavar="SECONDS",
    help="At the stop, how long requests in flight get to finish; the rest are recorded as "
    "sent and marked cut off.",
)  # fmt: skip
@click.option(
    "--persona",
    type=click.Path(dir_okay=False, exists=True),
    default=None,
    help="The test student's persona file (edscan persona new): live alerts name its values.",
)
@click.option(
    "--first-party",
    "first_party",
    multiple=True,
    metavar="DOMAIN",
    help="A domain of the audited app (repeatable); else the first non-service domain seen.",
)
@click.option(
    "--alerts",
    type=click.Choice(["all", "high", "none"]),
    default="all",
    show_default=True,
    help="Live alerts as student data leaves: all third-party findings, high (persona "
    "values only), or none.",
)
@click.option(
    "--browser",
    "browser_url",
    is_flag=False,
    flag_value="about:blank",
    default=None,
    metavar="[URL]",
    help="Open Chromium in a fresh profile that uses the proxy and trusts its CA (that "
    "profile only), at URL; recording stops when its window closes (as with Ctrl-C). Needs "
    "edscan[browser].",
)
@click.option(
    "--tls-check",
    is_flag=True,
    help="Check certificate validation: for a device NOT told to trust the proxy's CA. Every "
    "host whose TLS handshake still completes accepted a forged certificate (a critical "
    "finding, EDS031); hosts that refuse it validate correctly.",
)
@click.option("--headless", is_flag=True, hidden=True, help="Run --browser headless (tests).")
def capture_command(
    output: str,
    listen_host: str,
    listen_port: int,
    phase: str | None,
    max_body: int,
    confdir: str,
    grace: float,
    persona: str | None,
    first_party: tuple[str, ...],
    alerts: str,
    browser_url: str | None,
    tls_check: bool,
    headless: bool,
) -> None:
    """Record a session: run a proxy that records every request into a capture file.

    Point the device under test at the proxy, install its CA certificate (the file it prints,
    or http://mitm.it through the proxy), and use the app as a student would. Type a phase
    label and Enter (or open http://edscan.mark/LABEL on the device) to mark what you are
    doing. Stop with Ctrl-C: requests still in flight get --grace seconds to finish and the
    rest are recorded as sent, marked cut off (Ctrl-C again: at once). Then run
    `edscan report FILE -o report.html`.

    With --tls-check, do NOT install the CA: the capture then shows which hosts accept a
    forged certificate. Run it once so, then once more with the CA installed (without
    --tls-check) to see the content.

    With --browser, edscan opens Chromium itself, set up for the proxy, and records its
    cookies and local storage when it closes. Each new finding (a student-data element
    reaching a third party) is printed as it happens: --alerts, --persona.

    \b
    Example:
        edscan capture -o session.edscan.jsonl --phase login
        edscan capture -o phone.edscan.jsonl --listen-host 0.0.0.0 --listen-port 8080
        edscan capture -o app.edscan.jsonl --browser https://app.example --persona maya.toml
        edscan capture -o tls-check.edscan.jsonl --listen-host 0.0.0.0 --tls-check
    """
    import sys
    from pathlib import Path

    from edscan.capture.session import CaptureOptions, run_capture, summary_text
    from edscan.errors import EdscanError

    if tls_check and browser_url is not None:
        raise EdscanError(
            "--tls-check cannot be used with --browser: that browser is set up to trust the "
            "proxy's CA, so every handshake would complete; use a device or browser without it"
        )
    browser = None
    if browser_url is not None:
        from edscan.capture.browser import BrowserLaunch

        browser = BrowserLaunch.prepare(browser_url, headless=headless)
        if not first_party and browser.host:
            first_party = (browser.host,)  # the app the auditor opened is the first party

    summary = run_capture(
        CaptureOptions(
            output=Path(output),
            listen_host=listen_host,
            listen_port=listen_port,
            phase=phase,
            max_body=max_body,
            confdir=Path(confdir).expanduser(),
            grace=grace,
            alerts=alerts,
            persona=Path(persona) if persona else None,
            first_party=first_party,
            browser=browser,
            tls_check=tls_check,
        ),
        out=sys.stderr,
        stdin=sys.stdin,
    )
    click.echo(summary_text(summary), err=True)
    from edscan.cli import process_exit

    process_exit.request()  # the capture is closed and the summary out: no slow teardown
