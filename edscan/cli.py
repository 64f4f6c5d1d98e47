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


def main() -> None:
    try:
        cli.main(prog_name="edscan", standalone_mode=True)
    except KeyboardInterrupt:  # pragma: no cover - interactive
        raise SystemExit(EXIT_USAGE) from None
