"""``edscan diff``, ``bundle`` and ``letter``: results to publish and compare."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from edscan.cli.options import (
    FAIL_ON,
    analysis_options,
    output_options,
    run_scan,
)
from edscan.errors import EXIT_FINDINGS

if TYPE_CHECKING:
    from edscan.models import ScanResult


@click.command("diff")
@click.argument("old", type=click.Path(exists=True, dir_okay=False))
@click.argument("new", type=click.Path(exists=True, dir_okay=False))
@analysis_options
@output_options(("text", "json", "html"), "text")
@click.option(
    "--fail-on-new",
    type=click.Choice(FAIL_ON),
    default="never",
    show_default=True,
    help="Exit with code 1 when a new finding has this severity or higher (for CI).",
)
def diff_command(
    old: str,
    new: str,
    persona: str | None,
    first_party: tuple[str, ...],
    reveal: bool,
    accept_noncommercial: bool,
    data_dir: str | None,
    declared: str | None,
    fmt: str,
    output: str | None,
    fail_on_new: str,
) -> None:
    """Compare two results for one app: grade, findings, recipients, data sent.

    OLD and NEW are each a result (`edscan scan -f json`, `edscan report --json`) or a
    capture, which is scanned first with the options given (as `edscan scan` would). Findings
    are matched by fingerprint: new, resolved, unchanged. Recipients are compared by domain,
    and data elements by whether they reach third parties.

    \b
    Example:
        edscan diff before.json after.json
        edscan diff v1.har v2.har --first-party example-app.com -f html -o diff.html
        edscan diff main.json branch.edscan.jsonl --fail-on-new high
    """
    from edscan.models import Severity
    from edscan.publish.diff import diff as compare_results
    from edscan.publish.diff_page import render
    from edscan.report import save_text

    options = (persona, first_party, reveal, accept_noncommercial, data_dir, declared)
    sides = [_diff_side(p, options) for p in (old, new)]
    if not any(scanned for _, scanned in sides) and any(options):
        click.echo("warning: both inputs are results; the scan options were not used", err=True)
    d = compare_results(sides[0][0], sides[1][0])
    text = render(d, fmt)
    if output is None:
        click.echo(text, nl=False)
    else:
        save_text(output, text, private=bool(reveal))  # revealed values: owner-only
        click.echo(f"wrote {output}", err=True)
    change = d.score_change
    click.echo(
        f"{len(d.new_findings)} new, {len(d.resolved_findings)} resolved, "
        f"{len(d.unchanged_findings)} unchanged findings; grade {d.old.grade or '?'} → "
        f"{d.new.grade or '?'}" + (f", risk {change:+d}" if change is not None else ""),
        err=True,
    )
    if fail_on_new != "never" and d.new_at_or_above(Severity(fail_on_new)):
        raise SystemExit(EXIT_FINDINGS)


def _diff_side(path: str, options: tuple[Any, ...]) -> tuple[Any, bool]:
    """A diff side from a result JSON, or from a capture scanned with ``options``."""
    import json
    from pathlib import Path

    from edscan.errors import EdscanError
    from edscan.publish.diff import looks_like_result, side_from_document

    p = Path(path)
    try:
        with p.open("rb") as f:
            head = f.read(4096)
        if looks_like_result(head):
            try:
                doc = json.loads(p.read_bytes().decode("utf-8-sig"))
            except (UnicodeDecodeError, ValueError) as e:
                raise EdscanError(f"{path}: not a valid result JSON ({e})") from None
            return side_from_document(doc, path), False
    except OSError as e:
        raise EdscanError(f"{path}: cannot read ({e.strerror or e})") from None
    from edscan.report.json import document

    persona, first_party, reveal, accept_noncommercial, data_dir, declared = options
    result = run_scan(path, persona, first_party, accept_noncommercial, data_dir, declared)
    return side_from_document(document(result, reveal=reveal), path), True


# --- publish


def _published_scan(command: str, capture: str, analysis: dict[str, Any]) -> ScanResult:
    """Scan for a publishing command: always redacted, so ``--reveal`` is refused."""
    from edscan.errors import EdscanError

    if analysis.pop("reveal", False):
        raise EdscanError(
            f"edscan {command} makes something to publish, so it is always redacted and "
            "--reveal is refused. Leave --reveal out (for a private copy with the values, use "
            "`edscan report --reveal`)."
        )
    return run_scan(capture, **analysis)


def _persona_of(analysis: dict[str, Any]) -> Any:
    from edscan.detect.persona import load_persona

    path = analysis.get("persona")
    return load_persona(path) if path else None


@click.command("bundle")
@click.argument("capture", type=click.Path(exists=True))
@analysis_options
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(dir_okay=False, writable=True),
    help="The evidence package to write (a .zip).",
)
@click.option(
    "--created",
    metavar="WHEN",
    envvar="SOURCE_DATE_EPOCH",
    default=None,
    help="The creation time recorded in MANIFEST.json: ISO 8601 (2026-03-01T14:00:00Z) or "
    "Unix seconds (default: $SOURCE_DATE_EPOCH, else now). Give the one in a published "
    "MANIFEST.json to rebuild that bundle byte for byte.",
)
def bundle_command(capture: str, output: str, created: str | None, **analysis: Any) -> None:
    """Write the redacted evidence package to publish, as one reproducible zip.

    It holds the HTML report, result.json, the three CSV tables, evidence.json (every request
    a finding cites, as it was sent but redacted: method, URL, headers with credentials and
    cookies replaced, where the data was and how it was encoded; never a body), a
    MANIFEST.json (the SHA-256 of every file and of the capture, tool and list versions,
    options, creation time) and a README.txt on how to verify it. Never the capture or the
    persona file. Always redacted: --reveal is refused. The same input gives the same bytes.

    \b
    Example:
        edscan bundle seesaw.edscan.jsonl --persona maya.toml -o seesaw-evidence.zip
        edscan bundle app.har --first-party app.example --created 2026-03-01 -o evidence.zip
    """
    import time

    from edscan.publish import bundle

    when = bundle.parse_created(created) if created else float(int(time.time()))
    result = _published_scan("bundle", capture, analysis)
    extra = {
        k: bool(v)
        for k, v in analysis.items()
        if k not in ("persona", "first_party", "accept_noncommercial", "data_dir")
    }
    options = bundle.Options(
        persona=bool(analysis.get("persona")),
        first_party=tuple(analysis.get("first_party") or ()),
        accept_noncommercial=bool(analysis.get("accept_noncommercial")),
        created=when,
        extra=extra,
    )
    members = bundle.build(capture, result, _persona_of(analysis), options)
    bundle.write(output, members)
    grade = f"grade {result.score.grade}, " if result.score else ""
    click.echo(
        f"wrote {output} ({len(members)} files, {grade}{len(result.findings)} findings; "
        "redacted, without the capture or persona)",
        err=True,
    )


@click.command("letter")
@click.argument("capture", type=click.Path(exists=True))
@analysis_options
@click.option(
    "--vendor",
    metavar="NAME",
    default=None,
    help="Who the letter is addressed to (default: the app's maker when the lists know it, "
    "else a placeholder to fill in).",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, writable=True),
    default=None,
    help="Write the letter to this file, e.g. letter.md (default: standard output).",
)
def letter_command(capture: str, vendor: str | None, output: str | None, **analysis: Any) -> None:
    """Write a right-of-reply letter to the vendor, in Markdown that reads as plain text.

    What was tested (the app, the date, the capture's SHA-256, the method), each finding in
    neutral words ("we observed …; this may be inconsistent with …") with its fingerprint and
    request numbers, the questions the findings raise, and placeholders for your name and the
    reply deadline. Always redacted: --reveal is refused.

    \b
    Example:
        edscan letter seesaw.edscan.jsonl --persona maya.toml --vendor "Seesaw Learning" -o letter.md
        edscan letter app.har --first-party app.example
    """
    from edscan import report
    from edscan.publish import letter

    result = _published_scan("letter", capture, analysis)
    text = letter.render(result, persona=_persona_of(analysis), vendor=vendor)
    if output is None:
        click.echo(text, nl=False)
    else:
        report.save_text(output, text)
        click.echo(f"wrote {output} ({len(result.findings)} findings; redacted)", err=True)
