"""``edscan scan``, ``report``, ``info`` and ``convert``: read a capture and analyse it."""

from __future__ import annotations

import click

from edscan.cli.options import (
    FAIL_ON,
    analysis_options,
    data_dir_option,
    declared_option,
    emit,
    noncommercial_option,
    output_options,
    run_scan,
)
from edscan.errors import EXIT_FINDINGS


def _import_report(warnings: tuple[str, ...] | list[str]) -> None:
    for w in warnings:
        click.echo(f"warning: {w}", err=True)


@click.command("convert")
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

    from edscan.capture.convert import convert, target_format
    from edscan.capture.source import open_source

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


@click.command("info")
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

    from edscan.capture.overview import overview, render_text
    from edscan.capture.source import open_source

    o = overview(open_source(capture))
    text = render_text(o) if fmt == "text" else json.dumps(o.to_dict(), indent=2) + "\n"
    emit(text, output)


@click.command("scan")
@click.argument("capture", type=click.Path(exists=True))
@analysis_options
@output_options(("text", "json", "csv", "sarif", "html"), "text")
@click.option(
    "--fail-on",
    type=click.Choice(FAIL_ON),
    default="never",
    show_default=True,
    help="Exit with code 1 when a finding has this severity or higher (for CI).",
)
def scan_command(
    capture: str,
    persona: str | None,
    first_party: tuple[str, ...],
    reveal: bool,
    accept_noncommercial: bool,
    data_dir: str | None,
    declared: str | None,
    fmt: str,
    output: str | None,
    fail_on: str,
) -> None:
    """Scan CAPTURE (an edscan capture, a HAR or a .mitm dump) and print what it found.

    The student data that left the device (observations), who received it (recipients),
    the findings and the risk score. Data goes to standard output or -o; progress and the
    one-line summary go to standard error, so `-f json | jq` works. With `-f csv -o x.csv`
    the three tables are written as x.findings.csv, x.recipients.csv and x.observations.csv.

    \b
    Example:
        edscan scan seesaw.edscan.jsonl --persona maya.toml
        edscan scan teacher-login.har -f json | jq '.recipients[].organization'
        edscan scan app.edscan.jsonl -f sarif -o app.sarif --fail-on high
        edscan scan app.edscan.jsonl --declared vendor.toml
    """
    from edscan import report
    from edscan.models import Severity

    result = run_scan(capture, persona, first_party, accept_noncommercial, data_dir, declared)
    written = report.write(result, fmt, output, reveal=reveal)
    for path in written:
        click.echo(f"wrote {path}", err=True)
    for warning in result.capture.warnings[:5]:
        click.echo(f"warning: {warning}", err=True)
    grade = f"grade {result.score.grade}, risk {result.score.value}/100; " if result.score else ""
    third = sum(1 for r in result.recipients if r.party.value == "third")
    click.echo(
        f"{result.capture.flows} flows, {len(result.observations)} observations, "
        f"{third} third-party recipients, {len(result.findings)} findings ({grade.rstrip('; ')})",
        err=True,
    )
    if fail_on != "never":
        threshold = Severity(fail_on)
        if any(f.severity >= threshold for f in result.findings):
            raise SystemExit(EXIT_FINDINGS)


# --- report


@click.command("report")
@click.argument("capture", type=click.Path(exists=True))
@click.option(
    "--persona",
    type=click.Path(exists=True, dir_okay=False),
    default=None,
    help="The test student's persona file (edscan persona new): its values are found in any "
    "encoding, with high confidence.",
)
@click.option(
    "--first-party",
    "first_party",
    multiple=True,
    metavar="DOMAIN",
    help="A domain of the audited app (repeatable). Without it, the first party is inferred "
    "from the traffic and the report says so.",
)
@click.option(
    "--reveal",
    is_flag=True,
    help="Show detected values as sent instead of labels. The report then holds personal data "
    "and is written readable by you only; credentials, cookies and tokens are never shown.",
)
@click.option(
    "--json",
    "json_sidecar",
    type=click.Path(dir_okay=False, writable=True),
    default=None,
    metavar="SIDECAR",
    help="Also write the whole result as JSON (schema edscan-result/1) to this file.",
)
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(dir_okay=False, writable=True),
    help="Where to write the HTML report.",
)
@click.option(
    "--brief",
    is_flag=True,
    help="Write only the first page (grade, decision, coverage, the most serious findings, the "
    "companies by kind) and the questions for the vendor: a page to attach to a memo.",
)
@noncommercial_option
@data_dir_option
@declared_option
def report_command(
    capture: str,
    persona: str | None,
    first_party: tuple[str, ...],
    reveal: bool,
    json_sidecar: str | None,
    output: str,
    accept_noncommercial: bool,
    data_dir: str | None,
    declared: str | None,
    brief: bool,
) -> None:
    """Write the HTML risk report for CAPTURE (an edscan capture, a HAR or a .mitm dump).

    One self-contained file: the grade and verdict, what leaves the device and to whom, the
    findings with their evidence, questions to ask the vendor, and how the report was made.
    It opens offline in any browser and prints cleanly to PDF. Values are redacted unless
    --reveal is given.

    \b
    Example:
        edscan report seesaw.edscan.jsonl --persona maya.toml -o seesaw.html
        edscan report teacher-login.har --first-party classdojo.com \\
            -o dojo.html --json dojo.json
        edscan report seesaw.edscan.jsonl --declared vendor.toml -o seesaw.html
        edscan report seesaw.edscan.jsonl --brief -o seesaw-brief.html
    """
    from edscan import report
    from edscan.report import html as html_report

    result = run_scan(capture, persona, first_party, accept_noncommercial, data_dir, declared)
    # render everything before opening any file: a failure leaves nothing half-written
    html = html_report.render(result, reveal=reveal, brief=brief)
    sidecar = report.render(result, "json", reveal=reveal) if json_sidecar else None
    report.save_text(output, html, private=reveal)
    if json_sidecar and sidecar is not None:
        report.save_text(json_sidecar, sidecar, private=reveal)
    grade = f"grade {result.score.grade}, risk {result.score.value}/100, " if result.score else ""
    mode = "REVEALED: holds personal data, readable by you only" if reveal else "redacted"
    from edscan.report._grouping import group_findings

    shown = len(group_findings(result.findings, result.recipients))
    counted = f"{len(result.findings)} findings" + (
        f", {shown} by rule and company" if shown != len(result.findings) else ""
    )
    click.echo(f"wrote {output} ({grade}{counted}; {mode})", err=True)
    if json_sidecar:
        click.echo(f"wrote {json_sidecar}", err=True)
