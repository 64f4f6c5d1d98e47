"""Options and helpers shared by the commands: -f/-o, the analysis options, emit, run_scan."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import click

if TYPE_CHECKING:
    from edscan.models import ScanResult


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


def emit(text: str, output: str | None) -> None:
    """Results go to ``-o`` when given (a clear error if it cannot be written), else stdout."""
    if output is None:
        click.echo(text, nl=False)
    else:
        from edscan.report import save_text

        save_text(output, text)


def data_dir_option(func: F) -> F:
    """``--data-dir`` (or ``$EDSCAN_DATA_DIR``): where upstream lists and overrides.toml live."""
    return click.option(
        "--data-dir",
        type=click.Path(file_okay=False),
        envvar="EDSCAN_DATA_DIR",
        default=None,
        help="Where upstream lists and overrides.toml are kept "
        "(default: $EDSCAN_DATA_DIR, else the per-user data directory).",
    )(func)


def noncommercial_option(func: F) -> F:
    return click.option(
        "--accept-noncommercial",
        is_flag=True,
        help="Also use the lists licensed for non-commercial use only (DuckDuckGo, "
        "Disconnect, Ghostery; CC BY-NC-SA 4.0). Their licence is shown wherever they "
        "decided an attribution.",
    )(func)


def analysis_options(func: F) -> F:
    """The options every command that analyses a capture shares (scan, report)."""
    for option in reversed(
        (
            click.option(
                "--persona",
                type=click.Path(exists=True, dir_okay=False),
                default=None,
                help="The test student's persona file (edscan persona new): its values are "
                "found in any encoding, with high confidence.",
            ),
            click.option(
                "--first-party",
                "first_party",
                multiple=True,
                metavar="DOMAIN",
                help="A domain of the audited app (repeatable). Without it, the first party is "
                "inferred from the traffic and the output says so.",
            ),
            click.option(
                "--reveal",
                is_flag=True,
                help="Show detected values as sent instead of labels. The output then holds "
                "personal data and is written readable by you only; credentials, cookies and "
                "tokens are never shown.",
            ),
            noncommercial_option,
            data_dir_option,
            declared_option,
        )
    ):
        func = option(func)
    return func


def declared_option(func: F) -> F:
    """``--declared FILE``: the vendor's agreement, compared with what the capture shows."""
    return click.option(
        "--declared",
        type=click.Path(exists=True, dir_okay=False),
        default=None,
        metavar="VENDOR.TOML",
        help="What the vendor's signed agreement declares: Exhibit B data elements and "
        "subprocessors (edscan declared new). Adds a declared-vs-observed comparison and "
        "findings for what the agreement does not list.",
    )(func)


def tls_keylog_option(func: F) -> F:
    """``--tls-keylog KEYS``: the TLS keys for a packet capture (SSLKEYLOGFILE format)."""
    return click.option(
        "--tls-keylog",
        type=click.Path(exists=True, dir_okay=False),
        default=None,
        metavar="KEYS.txt",
        help="For a packet capture (.pcap, .pcapng): the TLS key log (SSLKEYLOGFILE format) "
        "that decrypts its TLS. Keys inside the pcapng (a Decryption Secrets Block) are used "
        "without it. Connections without keys are listed as not inspected.",
    )(func)


def run_scan(
    capture: str,
    persona: str | None,
    first_party: tuple[str, ...],
    accept_noncommercial: bool,
    data_dir: str | None,
    declared: str | None = None,
    tls_keylog: str | None = None,
) -> ScanResult:
    from pathlib import Path

    from edscan.detect.persona import load_persona
    from edscan.pipeline import scan

    vendor = None
    if declared:  # its module and TOML schema load only when asked for (~20 ms)
        from edscan.declared.declaration import load_declaration

        vendor = load_declaration(declared)
    return scan(
        capture,
        persona=load_persona(persona) if persona else None,
        first_party=first_party,
        data_dir=Path(data_dir) if data_dir else None,
        accept_noncommercial=accept_noncommercial,
        declared=vendor,
        tls_keylog=Path(tls_keylog) if tls_keylog else None,
    )


FAIL_ON = ("critical", "high", "medium", "low", "info", "never")
