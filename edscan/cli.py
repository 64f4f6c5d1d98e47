"""The ``edscan`` command line: argument parsing, I/O and exit codes only.

Heavy modules (mitmproxy, pandas, jinja2) are imported inside commands so ``--help`` stays fast.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

from edscan import __version__
from edscan.errors import EXIT_USAGE

F = TypeVar("F", bound=Callable[..., Any])


def output_options(formats: tuple[str, ...], default: str) -> Callable[[F], F]:
    """The ``-f/--format`` and ``-o/--output`` pair shared by every command that emits results."""

    def decorate(func: F) -> F:
        func = click.option(
            "-o",
            "--output",
            type=click.Path(dir_okay=False, writable=True),
            default=None,
            help="Write the result to this file (default: standard output).",
        )(func)
        func = click.option(
            "-f",
            "--format",
            "fmt",
            type=click.Choice(formats),
            default=default,
            show_default=True,
            help="Output format.",
        )(func)
        return func

    return decorate


@click.group(
    context_settings={"auto_envvar_prefix": "EDSCAN", "help_option_names": ["-h", "--help"]}
)
@click.version_option(__version__, prog_name="edscan")
def cli() -> None:
    """edscan: find the student data an ed-tech app sends, and who receives it.

    Record a session with `edscan capture`, or bring a HAR or .mitm file, then run
    `edscan report CAPTURE -o report.html`.

    \b
    Exit codes: 0 clean, 1 findings at or above --fail-on, 2 usage or input error.
    """


# --- demo


@cli.command("demo")
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

    run = runner.record_session(target, echo=progress, port=port or None)
    progress(f"recorded {run.requests} requests in {run.seconds:.1f} s; scanning")
    runner.scan_and_report(run)
    click.echo(runner.summary(run))
    if open_report:
        webbrowser.open(run.files["report"].resolve().as_uri())


# --- capture


def _size(ctx: click.Context, param: click.Parameter, value: str) -> int:
    from edscan.capture_session import parse_size

    try:
        return parse_size(value)
    except ValueError as e:
        raise click.BadParameter(str(e)) from e


@cli.command("capture")
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
def capture_command(
    output: str, listen_host: str, listen_port: int, phase: str | None, max_body: int, confdir: str
) -> None:
    """Record a session: run a proxy that records every request into a capture file.

    Point the device under test at the proxy, install its CA certificate (the file it prints,
    or http://mitm.it through the proxy), and use the app as a student would. Type a phase
    label and Enter (or open http://edscan.mark/LABEL on the device) to mark what you are
    doing. Stop with Ctrl-C; then run `edscan report FILE -o report.html`.

    \b
    Example:
        edscan capture -o session.edscan.jsonl --phase login
        edscan capture -o phone.edscan.jsonl --listen-host 0.0.0.0 --listen-port 8080
    """
    import sys
    from pathlib import Path

    from edscan.capture_session import CaptureOptions, run_capture, summary_text

    summary = run_capture(
        CaptureOptions(
            output=Path(output),
            listen_host=listen_host,
            listen_port=listen_port,
            phase=phase,
            max_body=max_body,
            confdir=Path(confdir).expanduser(),
        ),
        out=sys.stderr,
        stdin=sys.stdin,
    )
    click.echo(summary_text(summary), err=True)


# --- import


def _import_report(warnings: tuple[str, ...] | list[str]) -> None:
    for w in warnings:
        click.echo(f"warning: {w}", err=True)


@cli.command("convert")
@click.argument("source", metavar="CAPTURE", type=click.Path(dir_okay=True))
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(dir_okay=False),
    help="The file to write: *.har or *.edscan.jsonl (the name picks the format).",
)
def convert_command(source: str, output: str) -> None:
    """Convert a capture, HAR or .mitm dump into a HAR or an edscan capture.

    The input format is recognised from the content, the output format from the output's name.
    The output is created readable by you only (it holds children's data), and only once the
    whole input was read.

    \b
    Example:
        edscan convert session.edscan.jsonl -o session.har
        edscan convert devtools-export.har -o session.edscan.jsonl
        edscan convert dump.mitm -o dump.har
    """
    from pathlib import Path

    from edscan.importers import open_source
    from edscan.importers.convert import convert, target_format

    target_format(Path(output))  # a bad output name fails before any reading
    result = convert(open_source(source), Path(output))
    _import_report(result.warnings)
    skipped = ", ".join(f"{n} {kind}" for kind, n in sorted(result.skipped.items()))
    click.echo(
        f"wrote {result.flows} flow{'' if result.flows == 1 else 's'} to {output} "
        f"({result.target_format}, from "
        f"{result.source_format})" + (f"; skipped {skipped}" if skipped else ""),
        err=True,
    )


@cli.command("info")
@click.argument("capture", type=click.Path(dir_okay=True))
@output_options(("text", "json"), "text")
def info_command(capture: str, fmt: str, output: str | None) -> None:
    """Show what a capture, HAR or .mitm dump holds: flows, time span, hosts, phases.

    Also lists the flows that were skipped (TCP, UDP, DNS, browser-cache hits) and anything
    wrong with the file (a cut-off last flow, unreadable entries).

    \b
    Example:
        edscan info session.edscan.jsonl
        edscan info devtools-export.har -f json | jq .hosts
    """
    import json
    from pathlib import Path

    from edscan.importers import open_source
    from edscan.importers.overview import overview, render_text

    o = overview(open_source(capture))
    text = render_text(o) if fmt == "text" else json.dumps(o.to_dict(), indent=2) + "\n"
    if output is None:
        click.echo(text, nl=False)
    else:
        Path(output).write_text(text, encoding="utf-8")


# --- rules


@cli.command("rules")
@output_options(("text", "json"), "text")
def rules_command(fmt: str, output: str | None) -> None:
    """List every rule edscan applies: id, base severity and title.

    With `-f json`, each rule also has its plain-language explanation, escalations, the
    concerns it touches, the provisions it may implicate, and the questions to ask the vendor.

    \b
    Example:
        edscan rules
        edscan rules -f json | jq '.rules[] | select(.severity == "critical") | .id'
    """
    from pathlib import Path

    from edscan.rules.listing import rules_json, rules_text

    text = rules_json() if fmt == "json" else rules_text()
    if output is None:
        click.echo(text, nl=False)
    else:
        Path(output).write_text(text, encoding="utf-8")


def main() -> None:
    try:
        cli.main(prog_name="edscan", standalone_mode=True)
    except KeyboardInterrupt:  # pragma: no cover - interactive
        raise SystemExit(EXIT_USAGE) from None
