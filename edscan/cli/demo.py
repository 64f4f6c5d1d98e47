"""``edscan demo``: the simulated classroom app, audited end to end."""

from __future__ import annotations

import click


@click.command("demo")
@click.option(
    "--out",
    "out",
    type=click.Path(file_okay=False, writable=True),
    default=None,
    help="Directory for the capture, persona and report (default: a new edscan-demo-* directory).",
)
@click.option("--open", "open_report", is_flag=True, help="Open the report in the default browser.")
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=0,
    show_default=True,
    help="Loopback port for the proxy (0: any free port).",
)
def demo_command(out: str | None, open_report: bool, port: int) -> None:
    """Audit a simulated classroom app end to end, without internet or a phone.

    Starts "Brindlewick Classroom" (a fictional app) on loopback, a real mitmdump with the
    recorder, and a scripted student session through it: single sign-on, roster, assignment,
    quiz, essay, video, logout, with the third-party SDK traffic such apps send (answered on
    this machine: nothing leaves it). Then scans the capture with a fresh test persona and
    writes report.html, result.json and CSV tables.

    \b
    Example:
        edscan demo --out demo-out --open
    """
    import time
    import webbrowser
    from pathlib import Path

    from edscan.demo import runner

    target = Path(out) if out else Path(time.strftime("edscan-demo-%Y%m%d-%H%M%S"))

    def progress(line: str) -> None:
        click.echo(line, err=True)

    run = runner.record_session(target, echo=progress, port=port or None, pause=runner.PAUSE)
    progress(f"recorded {run.requests} requests in {run.seconds:.1f} s; scanning")
    runner.scan_and_report(run)
    click.echo(runner.summary(run))
    if open_report:
        webbrowser.open(run.files["report"].resolve().as_uri())
