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
def capture_command(
    output: str,
    listen_host: str,
    listen_port: int,
    phase: str | None,
    max_body: int,
    confdir: str,
    grace: float,
) -> None:
    """Record a session: run a proxy that records every request into a capture file.

    Point the device under test at the proxy, install its CA certificate (the file it prints,
    or http://mitm.it through the proxy), and use the app as a student would. Type a phase
    label and Enter (or open http://edscan.mark/LABEL on the device) to mark what you are
    doing. Stop with Ctrl-C: requests still in flight get --grace seconds to finish and the
    rest are recorded as sent, marked cut off (Ctrl-C again: at once). Then run
    `edscan report FILE -o report.html`.

    \b
    Example:
        edscan capture -o session.edscan.jsonl --phase login
        edscan capture -o phone.edscan.jsonl --listen-host 0.0.0.0 --listen-port 8080
    """
    import sys
    from pathlib import Path

    from edscan.capture.session import CaptureOptions, run_capture, summary_text

    summary = run_capture(
        CaptureOptions(
            output=Path(output),
            listen_host=listen_host,
            listen_port=listen_port,
            phase=phase,
            max_body=max_body,
            confdir=Path(confdir).expanduser(),
            grace=grace,
        ),
        out=sys.stderr,
        stdin=sys.stdin,
    )
    click.echo(summary_text(summary), err=True)
